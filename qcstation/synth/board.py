"""Chessboard calibration photos through the same simulated camera: flat on the bench, or tilted."""

from __future__ import annotations

import logging

import numpy as np

from ..errors import DataError
from .bench import draw_bench, illumination, surface
from .camera import Camera, Pose, rotation
from .scene import Sensor, expose

logger = logging.getLogger(__name__)

CORNERS = (9, 6)  # inner corners, columns x rows
SQUARE_MM = 25.0
BORDER_MM = 30.0  # white paper around the 10 x 7 squares
SQUARES = (CORNERS[0] + 1, CORNERS[1] + 1)
CENTRE_MM = ((CORNERS[0] - 1) * SQUARE_MM / 2, (CORNERS[1] - 1) * SQUARE_MM / 2)
INK, PAPER = 0.07, 0.86  # reflectance of the print and the paper


def object_points() -> np.ndarray:
    """Inner corners in the board frame (mm), row by row, as OpenCV lists them: (54, 3)."""
    c, r = np.meshgrid(np.arange(CORNERS[0]), np.arange(CORNERS[1]))
    return np.column_stack([c.ravel() * SQUARE_MM, r.ravel() * SQUARE_MM, np.zeros(c.size)])


def _outline(extra_mm: float = 0.0, n: int = 12) -> np.ndarray:
    """Points along the outer edge of the squares (plus `extra_mm`), in the board frame."""
    x0, y0 = -SQUARE_MM - extra_mm, -SQUARE_MM - extra_mm
    x1 = SQUARES[0] * SQUARE_MM - SQUARE_MM + extra_mm
    y1 = SQUARES[1] * SQUARE_MM - SQUARE_MM + extra_mm
    s = np.linspace(0, 1, n)
    xs, ys = x0 + (x1 - x0) * s, y0 + (y1 - y0) * s
    pts = [
        np.column_stack([xs, np.full(n, y0)]),
        np.column_stack([xs, np.full(n, y1)]),
        np.column_stack([np.full(n, x0), ys]),
        np.column_stack([np.full(n, x1), ys]),
    ]
    return np.concatenate(pts)


def fits(camera: Camera, pose: Pose, margin_frac: float = 0.03) -> bool:
    """The squares lie in front of the camera and inside the frame with a margin."""
    pts = np.column_stack([_outline(), np.zeros(48)])
    if ((pts @ pose.R.T + pose.t)[:, 2] <= 0).any():
        return False
    px = camera.project(pts, pose)
    w, h = camera.size
    m = margin_frac * min(w, h)
    return bool(
        (px[:, 0] >= m).all()
        and (px[:, 0] <= w - 1 - m).all()
        and (px[:, 1] >= m).all()
        and (px[:, 1] <= h - 1 - m).all()
    )


def check_flat_board(camera: Camera) -> None:
    """Refuse a camera whose view cannot hold the flat board (the bench-plane photo)."""
    if not fits(camera, camera.bench):
        w, h = camera.size
        raise DataError(
            f"the {SQUARES[0] * SQUARE_MM:.0f} x {SQUARES[1] * SQUARE_MM:.0f} mm calibration "
            f"board does not fit in a {w}x{h} view at {camera.px_per_mm():.1f} px/mm; "
            "use a larger --size or a smaller --px-per-mm."
        )


def tilted_pose(rng: np.random.Generator, camera: Camera, attempts: int = 500) -> Pose:
    """The board held 10-35 deg off the image plane, anywhere it fits with a margin."""
    depth = float(camera.bench.t @ camera.bench.R[:, 2] / camera.bench.R[2, 2])
    Kinv = np.linalg.inv(camera.K)
    w, h = camera.size
    for _ in range(attempts):
        a = rng.uniform(0, 2 * np.pi)
        tilt = rotation(np.array([np.cos(a), np.sin(a), 0.0]), np.radians(rng.uniform(10, 35)))
        R = tilt @ rotation(np.array([0.0, 0.0, 1.0]), np.radians(rng.uniform(-30, 30)))
        ray = Kinv @ np.array([rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h, 1.0])
        centre = ray * depth * rng.uniform(0.8, 1.15)
        pose = Pose(R, centre - R @ np.array([*CENTRE_MM, 0.0]))
        if fits(camera, pose, 0.04):
            return pose
    raise DataError(
        "cannot place the tilted calibration board inside the view; "
        "use a larger --size or a smaller --px-per-mm."
    )


def render_board(camera: Camera, pose: Pose, rng: np.random.Generator) -> np.ndarray:
    """A photo (uint8 BGR) of the board at `pose` over a grey bench, ordinary light."""
    bench = draw_bench(rng, "light_table")
    bx, by = camera.pixel_to_plane(pose, cache=pose.key() == camera.bench.key())
    fp = _footprint(bx, by)
    fx, fy = (bx + SQUARE_MM) / SQUARE_MM, (by + SQUARE_MM) / SQUARE_MM
    w = fp / SQUARE_MM
    # clamped so the outer edge of the squares is drawn by `squares` alone
    cx, cy = np.clip(fx, 0.5, SQUARES[0] - 0.5), np.clip(fy, 0.5, SQUARES[1] - 0.5)
    checker = 0.5 - 0.5 * _square_wave(cx, w) * _square_wave(cy, w)
    squares = _box(fx, 0, SQUARES[0], w) * _box(fy, 0, SQUARES[1], w)
    border = BORDER_MM / SQUARE_MM
    paper = _box(fx, -border, SQUARES[0] + border, w) * _box(fy, -border, SQUARES[1] + border, w)
    board = PAPER - (PAPER - INK) * checker * squares
    tint = np.array([0.97, 0.99, 1.0], np.float32)  # paper a touch warm
    ground = surface(bench, rng, camera.size) * 0.6
    img = (paper * board)[..., None] * tint + (1 - paper)[..., None] * ground
    img *= (illumination(bench, camera.size) * bench.gain_dn)[..., None]
    sensor = Sensor(float(rng.uniform(0.4, 0.8)), float(rng.uniform(1, 2)), 0.015, 100)
    return expose(img.astype(np.float32), sensor, rng)


def _footprint(bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Per-pixel footprint side (mm) from the plane map's Jacobian."""
    gxr, gxc = np.gradient(bx)
    gyr, gyc = np.gradient(by)
    return np.sqrt(np.abs(gxc * gyr - gxr * gyc)).astype(np.float32)


def _square_wave(f: np.ndarray, w: np.ndarray) -> np.ndarray:
    """+1 on even cells, -1 on odd ones, box-filtered over a width w (in cells)."""
    cell = np.floor(f)
    d = f - cell
    dist = np.minimum(d, 1 - d)
    sign = 1 - 2 * (cell % 2)
    return sign * np.minimum(1.0, dist / (0.5 * w))


def _box(f: np.ndarray, lo: float, hi: float, w: np.ndarray) -> np.ndarray:
    """Coverage of lo <= f <= hi, box-filtered over a width w."""
    return np.clip((np.minimum(f - lo, hi - f)) / w + 0.5, 0, 1)

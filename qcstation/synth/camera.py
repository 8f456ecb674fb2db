"""The simulated camera: a pinhole with OpenCV's 5-coefficient lens distortion, and plane poses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np

from ..domain import Calibration

logger = logging.getLogger(__name__)

_CHUNK = 1 << 14  # pixels per undistortion chunk: small enough to stay in cache
_MAX_CACHED_POSES = 4


@dataclass(frozen=True)
class Pose:
    """A plane's frame in camera coordinates: X_cam = R @ X_plane + t (mm); the plane is z = 0."""

    R: np.ndarray  # (3, 3)
    t: np.ndarray  # (3,)

    @staticmethod
    def from_rvec(rvec: np.ndarray, tvec: np.ndarray) -> Pose:
        R, _ = cv2.Rodrigues(np.asarray(rvec, np.float64).reshape(3, 1))
        return Pose(R, np.asarray(tvec, np.float64).reshape(3))

    @property
    def rvec(self) -> np.ndarray:
        return cv2.Rodrigues(self.R)[0].reshape(3)

    def compose(self, R2: np.ndarray, t2: np.ndarray) -> Pose:
        """The pose of a frame given as X_this = R2 @ X_new + t2 inside this plane's frame."""
        return Pose(self.R @ R2, self.R @ np.asarray(t2, np.float64) + self.t)

    def key(self) -> bytes:
        return self.R.tobytes() + self.t.tobytes()

    def to_json(self) -> dict:
        return {"rvec": [float(v) for v in self.rvec], "tvec": [float(v) for v in self.t]}


def rotation(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotation matrix about `axis` (normalised here) by `angle_rad`."""
    a = np.asarray(axis, np.float64)
    return cv2.Rodrigues((a / np.linalg.norm(a) * angle_rad).reshape(3, 1))[0]


class Camera:
    """Pinhole camera, K and distortion (k1, k2, p1, p2, k3) exactly as `cv2.projectPoints`.

    `bench` is the pose of the bench plane (the frame of the calibration board lying flat on it).
    Pixel (col, row) has its centre at coordinates (col, row), as in OpenCV.
    """

    def __init__(self, size: tuple[int, int], K: np.ndarray, dist: np.ndarray, bench: Pose):
        self.size = (int(size[0]), int(size[1]))
        self.K = np.asarray(K, np.float64).reshape(3, 3)
        self.dist = np.asarray(dist, np.float64).reshape(5)
        self.bench = bench
        self._rays: tuple[np.ndarray, np.ndarray] | None = None
        self._maps: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def __reduce__(self):  # pickle the parameters only, never the cached maps
        return (Camera, (self.size, self.K, self.dist, self.bench))

    def to_json(self) -> dict:
        return {
            "image_size": list(self.size),
            "camera_matrix": self.K.tolist(),
            "dist_coeffs": self.dist.tolist(),
            "bench_pose": self.bench.to_json(),
            "px_per_mm": round(self.px_per_mm(), 5),
        }

    def project(self, points_mm: np.ndarray, pose: Pose | None = None) -> np.ndarray:
        """(N, 3) points in a plane's frame (mm) -> (N, 2) pixel coordinates."""
        pose = pose or self.bench
        p = np.asarray(points_mm, np.float64).reshape(-1, 3)
        xc = p @ pose.R.T + pose.t
        return self._distort(xc[:, 0] / xc[:, 2], xc[:, 1] / xc[:, 2])

    def project_plane(self, xy_mm: np.ndarray, pose: Pose | None = None) -> np.ndarray:
        """(..., 2) points on the plane z = 0 -> (..., 2) pixel coordinates."""
        xy = np.asarray(xy_mm, np.float64)
        flat = xy.reshape(-1, 2)
        pts = np.column_stack([flat, np.zeros(len(flat))])
        return self.project(pts, pose).reshape(xy.shape)

    def _distort(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        k1, k2, p1, p2, k3 = self.dist
        r2 = x * x + y * y
        radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        K = self.K
        return np.column_stack([K[0, 0] * xd + K[0, 1] * yd + K[0, 2], K[1, 1] * yd + K[1, 2]])

    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        """Undistorted normalised coordinates (x/z, y/z) of every pixel, float32 (H, W); cached."""
        if self._rays is None:
            self._rays = self._undistort_all()
        return self._rays

    def _undistort_all(self) -> tuple[np.ndarray, np.ndarray]:
        w, h = self.size
        K = self.K
        rows, cols = np.divmod(np.arange(w * h, dtype=np.int64), w)
        yd = (rows - K[1, 2]) / K[1, 1]
        xd = (cols - K[0, 2] - K[0, 1] * yd) / K[0, 0]
        x = np.empty(w * h, np.float32)
        y = np.empty(w * h, np.float32)
        for s in range(0, w * h, _CHUNK):
            x[s : s + _CHUNK], y[s : s + _CHUNK] = self._undistort(
                xd[s : s + _CHUNK], yd[s : s + _CHUNK]
            )
        return x.reshape(h, w), y.reshape(h, w)

    def _undistort(self, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fixed-point inversion of the distortion; converges for the mild lenses drawn here."""
        k1, k2, p1, p2, k3 = self.dist
        x, y = xd, yd
        for _ in range(60):
            r2 = x * x + y * y
            radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
            xn = (xd - 2 * p1 * x * y - p2 * (r2 + 2 * x * x)) / radial
            yn = (yd - p1 * (r2 + 2 * y * y) - 2 * p2 * x * y) / radial
            step = max(np.abs(xn - x).max(), np.abs(yn - y).max())
            x, y = xn, yn
            if step < 1e-13:
                break
        return x, y

    def pixel_to_plane(
        self, pose: Pose | None = None, cache: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Plane coordinates (mm) seen by each pixel: (map_x, map_y), float32 (H, W)."""
        pose = pose or self.bench
        key = pose.key()
        if key in self._maps:
            return self._maps[key]
        xn, yn = self.rays()
        Hi = np.linalg.inv(np.column_stack([pose.R[:, 0], pose.R[:, 1], pose.t]))
        h = [[float(v) for v in row] for row in Hi]
        den = h[2][0] * xn + h[2][1] * yn + h[2][2]
        mx = (h[0][0] * xn + h[0][1] * yn + h[0][2]) / den
        my = (h[1][0] * xn + h[1][1] * yn + h[1][2]) / den
        if cache:
            if len(self._maps) >= _MAX_CACHED_POSES:
                self._maps.pop(next(iter(self._maps)))
            self._maps[key] = (mx, my)
        return mx, my

    def calibration(self) -> Calibration:
        """This camera's exact calibration (what a perfect chessboard calibration would give):
        bench mm -> undistorted px is K [r1 r2 t]."""
        pose = self.bench
        h = np.linalg.inv(self.K @ np.column_stack([pose.R[:, 0], pose.R[:, 1], pose.t]))
        return Calibration(self.size, self.K, self.dist, h / h[2, 2], 1 / self.px_per_mm(), 0.0,
                           (9, 6), 25.0, 0, datetime.now(UTC).isoformat())

    def px_per_mm(self, pose: Pose | None = None) -> float:
        """Scale at the image centre: sqrt of the area ratio px^2 / mm^2 of a small patch there."""
        pose = pose or self.bench
        c = self.plane_at_pixel(np.array([[(self.size[0] - 1) / 2, (self.size[1] - 1) / 2]]), pose)[
            0
        ]
        d = 0.5  # mm
        p = self.project_plane(c + np.array([[0, 0], [d, 0], [0, d]]), pose)
        jac = np.column_stack([p[1] - p[0], p[2] - p[0]]) / d
        return float(np.sqrt(abs(np.linalg.det(jac))))

    def plane_at_pixel(self, px: np.ndarray, pose: Pose | None = None) -> np.ndarray:
        """(N, 2) pixel coordinates -> (N, 2) plane coordinates (mm), exact inverse of project."""
        pose = pose or self.bench
        px = np.asarray(px, np.float64).reshape(-1, 2)
        K = self.K
        yd = (px[:, 1] - K[1, 2]) / K[1, 1]
        xd = (px[:, 0] - K[0, 2] - K[0, 1] * yd) / K[0, 0]
        xn, yn = self._undistort(xd, yd)
        Hi = np.linalg.inv(np.column_stack([pose.R[:, 0], pose.R[:, 1], pose.t]))
        q = np.column_stack([xn, yn, np.ones(len(xn))]) @ Hi.T
        return q[:, :2] / q[:, 2:3]


def footprint_mm(mx: np.ndarray, my: np.ndarray, x: int, y: int) -> float:
    """Side of one pixel's footprint on the plane (mm) near pixel (x, y) of a plane map."""
    h, w = mx.shape
    x = min(max(x, 0), w - 2)
    y = min(max(y, 0), h - 2)
    ax, ay = mx[y, x + 1] - mx[y, x], my[y, x + 1] - my[y, x]
    bx, by = mx[y + 1, x] - mx[y, x], my[y + 1, x] - my[y, x]
    return float(np.sqrt(abs(ax * by - ay * bx)))


def draw_camera(
    rng: np.random.Generator,
    size: tuple[int, int] = (1600, 1200),
    px_per_mm: tuple[float, float] = (3.2, 4.8),
    board_centre_mm: tuple[float, float] = (100.0, 62.5),
) -> Camera:
    """A camera looking down at the bench, tilted 1-4 deg, with a mild barrel lens.

    The bench frame is that of the calibration board lying flat near the image centre, rotated
    by a few degrees: `board_centre_mm` (board frame) lands within 10 mm of the optical axis.
    """
    w, h = size
    f = w / 2 / np.tan(np.radians(rng.uniform(48, 62)) / 2)
    K = np.array(
        [
            [f * (1 + rng.uniform(-1e-3, 1e-3)), 0.0, (w - 1) / 2 + rng.uniform(-0.015, 0.015) * w],
            [0.0, f, (h - 1) / 2 + rng.uniform(-0.015, 0.015) * h],
            [0.0, 0.0, 1.0],
        ]
    )
    dist = np.array(
        [
            rng.uniform(-0.12, -0.03),
            rng.uniform(-0.02, 0.02),
            rng.uniform(-5e-4, 5e-4),
            rng.uniform(-5e-4, 5e-4),
            0.0,
        ]
    )
    distance = f / rng.uniform(*px_per_mm)
    a = rng.uniform(0, 2 * np.pi)
    tilt = rotation(np.array([np.cos(a), np.sin(a), 0.0]), np.radians(rng.uniform(1, 4)))
    level = Pose(tilt, np.array([0.0, 0.0, distance]))
    spin = rotation(np.array([0.0, 0.0, 1.0]), np.radians(rng.uniform(-4, 4)))
    centre = np.array([*board_centre_mm, 0.0])
    offset = np.array([*rng.uniform(-10, 10, 2), 0.0]) - spin @ centre
    return Camera(size, K, dist, level.compose(spin, offset))

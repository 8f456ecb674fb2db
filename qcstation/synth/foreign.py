"""Appearance defects: foreign matter (plastic, string, leaf), stains on the yarn, fibre tufts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from .bench import Bench
from .hairs import POINTS, Strokes, curves
from .scene import Canvas
from .texture import Look
from .view import Box, View

logger = logging.getLogger(__name__)

TOP_Z = 6.0
UNDER_Z = 0.5  # below the strands, above the bench
_SHIFT = 4
COLOURS = {  # saturated synthetic colours, BGR reflectance
    "blue": (0.78, 0.32, 0.08),
    "red": (0.10, 0.10, 0.78),
    "green": (0.18, 0.62, 0.10),
    "white": (0.88, 0.88, 0.86),
    "yellow": (0.08, 0.78, 0.88),
    "orange": (0.04, 0.38, 0.92),
}
LEAF = {"green": (0.12, 0.45, 0.20), "olive": (0.10, 0.38, 0.36), "dry": (0.10, 0.30, 0.46)}


@dataclass(frozen=True)
class Mark:
    """The visible part of one appearance defect: coverage `vis` over `box` of the image."""

    type: str
    kind: str
    box: Box
    vis: np.ndarray
    threshold: float  # vis at or above this counts as the defect's pixel


def on_strand(rng: np.random.Generator, view: View) -> tuple[str, int, np.ndarray]:
    """A random point on a strand centre line in the middle 80 % of the image."""
    w, h = view.size
    for _ in range(100):
        x, y = int(rng.uniform(0.1, 0.9) * w), int(rng.uniform(0.1, 0.9) * h)
        u, v = float(view.u[y, x]), float(view.v[y, x])
        net = view.net
        dv = np.abs(u - net.v.centre_at(np.arange(net.v.count), v))
        dh = np.abs(v - net.h.centre_at(np.arange(net.h.count), u))
        axis, k, t = (
            ("v", int(dv.argmin()), v) if dv.min() < dh.min() else ("h", int(dh.argmin()), u)
        )
        strands = net.strands(axis)
        c = float(strands.centre_at(k, t))
        if not any(cut.removes(np.array([t]), np.zeros(1))[0] for cut in net.cuts_on(axis, k)):
            return axis, k, np.array([c, t] if axis == "v" else [t, c])
    return "v", 0, np.array([u, v])


def _fill(view: View, outline_uv: np.ndarray, pad: float = 2.0) -> tuple[Box, np.ndarray] | None:
    """Anti-aliased coverage of a polygon given in net mm, in its image box."""
    px = view.to_px(outline_uv)
    box = view.box(px, pad)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((px - [x0, y0]) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, _SHIFT)
    return box, mask.astype(np.float32) * (1 / 255)


def _lines(box: Box, view: View, paths_uv: list[np.ndarray], thick_px: int) -> np.ndarray:
    y0, y1, x0, x1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = [np.round((view.to_px(p) - [x0, y0]) * (1 << _SHIFT)).astype(np.int32) for p in paths_uv]
    cv2.polylines(mask, pts, False, 255, max(int(thick_px), 1), cv2.LINE_AA, _SHIFT)
    return mask.astype(np.float32) * (1 / 255)


def plastic(rng: np.random.Generator, canvas: Canvas, view: View, bench: Bench) -> Mark | None:
    """An irregular flat scrap of coloured plastic film with a soft specular sheen."""
    centre = view_point(rng, view)
    n = int(rng.integers(6, 11))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(6, 22) * rng.uniform(0.5, 1.2, n)
    poly = centre + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
    filled = _fill(view, _densify(np.vstack([poly, poly[:1]])))
    if filled is None:
        return None
    box, cov = filled
    y0, y1, x0, x1 = box
    du, dv = view.u[y0:y1, x0:x1] - centre[0], view.v[y0:y1, x0:x1] - centre[1]
    g = rng.uniform(0, 2 * np.pi)
    shade = 1 + 0.15 * (du * np.cos(g) + dv * np.sin(g)) / max(rad.max(), 1)
    hx, hy = rng.uniform(-0.5, 0.5, 2) * rad.mean()
    spec = 0.35 * np.exp(-((du - hx) ** 2 + (dv - hy) ** 2) / (2 * (0.3 * rad.mean()) ** 2))
    colour = np.asarray(COLOURS[str(rng.choice(list(COLOURS)))], np.float32)
    if bench.backlit:  # thin film: coloured light comes through it
        alpha = rng.uniform(0.55, 0.8)
        rgb = colour[None, None, :] * (0.55 * shade)[..., None]
    else:
        alpha = 0.97
        rgb = colour[None, None, :] * shade[..., None] + spec[..., None]
    vis = canvas.add(box, (cov * alpha).astype(np.float32), rgb.astype(np.float32), TOP_Z)
    return Mark("foreign_matter", "plastic", box, vis / alpha, 0.5)


def string(rng: np.random.Generator, canvas: Canvas, view: View, bench: Bench) -> Mark | None:
    """Synthetic twine: smooth, uniform, saturated, 1.5-3 mm thick, curving over openings."""
    n = int(rng.uniform(60, 220) / 1.5)
    bend = np.convolve(rng.normal(0, 1, n + 20), np.ones(21) / np.sqrt(21), "valid")[:n]
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(bend * 0.02 * 1.5)
    step = np.column_stack([np.cos(heading), np.sin(heading)]) * 1.5
    path = view_point(rng, view) + np.cumsum(step, axis=0) - step.sum(axis=0) / 2
    width = rng.uniform(1.5, 3.0)
    scale = 1 / view.footprint(path[n // 2])
    px = view.to_px(path)
    box = view.box(px, width * scale + 3)
    if box is None:
        return None
    cov = _lines(box, view, [path], int(round(width * scale)))
    core = _lines(box, view, [path], max(int(round(width * scale / 3)), 1))
    colour = np.asarray(COLOURS[str(rng.choice(list(COLOURS)))], np.float32)
    rgb = colour[None, None, :] * (bench.yarn_light * (0.8 + 0.35 * core))[..., None]
    z = UNDER_Z if rng.random() < 0.3 else TOP_Z
    vis = canvas.add(box, cov, rgb.astype(np.float32), z)
    return Mark("foreign_matter", "string" if z == TOP_Z else "string under net", box, vis, 0.5)


def leaf(rng: np.random.Generator, canvas: Canvas, view: View, bench: Bench) -> Mark | None:
    """A leaf: pointed ellipse with a midrib and veins, green to dry brown."""
    outline, rib, veins = _leaf_shape(rng)
    rot = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    centre = view_point(rng, view)
    filled = _fill(view, outline @ R.T + centre)
    if filled is None:
        return None
    box, cov = filled
    scale = 1 / view.footprint(centre)
    rib_cov = _lines(box, view, [rib @ R.T + centre], max(int(round(0.7 * scale)), 1))
    vein_cov = _lines(box, view, [v @ R.T + centre for v in veins], 1) * cov
    colour = np.asarray(LEAF[str(rng.choice(list(LEAF)))], np.float32)
    light = bench.yarn_light * (0.6 if bench.backlit else 1.0)
    h, w = cov.shape
    coarse = rng.normal(0, 1, (max(h // 5, 2), max(w // 5, 2))).astype(np.float32)
    mottle = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    edge = cv2.distanceTransform((cov > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    rim = 0.25 * np.exp(-edge / (1.5 * scale))  # the margin curls and looks darker
    shade = light * (0.9 + 0.08 * mottle - rim) * (1 + 0.35 * np.maximum(rib_cov, 0.5 * vein_cov))
    rgb = colour[None, None, :] * shade[..., None]
    vis = canvas.add(box, np.maximum(cov, rib_cov), rgb.astype(np.float32), TOP_Z)
    return Mark("foreign_matter", "leaf", box, vis, 0.5)


def _leaf_shape(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Outline, midrib with stalk, and vein lines of a leaf along x, centred at 0 (mm)."""
    length = rng.uniform(20, 50)
    width = length * rng.uniform(0.3, 0.5)
    s = np.linspace(0, 1, 40)
    half = width / 2 * np.sin(np.pi * s) ** 0.75
    x = (s - 0.5) * length
    outline = np.concatenate([np.column_stack([x, half]), np.column_stack([x, -half])[::-1]])
    rib = np.array([[-0.5 * length - rng.uniform(3, 8), 0], [0.5 * length, 0]])
    veins = []
    for xv in np.linspace(-0.35, 0.3, 5) * length:
        reach = 0.42 * width * np.sin(np.pi * (xv / length + 0.5)) ** 0.75
        veins += [np.array([[xv, 0], [xv + 0.3 * width, sgn * reach]]) for sgn in (-1, 1)]
    return outline, rib, veins


def stain(rng: np.random.Generator, canvas: Canvas, view: View, look: Look) -> Mark | None:
    """Mould (dark green-grey blotches) or oil (dark brown, glossy) soaked into the yarn only."""
    _, _, centre = on_strand(rng, view)
    radius = rng.uniform(4, 12)
    scale = 1 / view.footprint(centre)
    box = view.box(view.to_px(centre[None, :]), radius * 1.6 * scale + 3)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    du, dv = view.u[y0:y1, x0:x1] - centre[0], view.v[y0:y1, x0:x1] - centre[1]
    blob = soft_blob(rng, du, dv, radius, 1.5)
    mould = rng.random() < 0.5
    if mould:
        spots = cv2.resize(
            rng.random((max((y1 - y0) // 6, 2), max((x1 - x0) // 6, 2))),
            (x1 - x0, y1 - y0),
            interpolation=cv2.INTER_CUBIC,
        )
        blob = blob * np.clip(0.2 + 1.2 * spots, 0, 1)
        colour = np.array([0.09, 0.12, 0.10] if rng.random() < 0.6 else [0.04, 0.045, 0.04])
    else:
        colour = np.array([0.04, 0.07, 0.12])
    strength = (blob * rng.uniform(0.75, 0.95) * canvas.body[y0:y1, x0:x1]).astype(np.float32)
    rgb = canvas.rgb[y0:y1, x0:x1]
    lum = rgb.mean(axis=-1, keepdims=True) / max(float(look.base.mean()), 1e-6)
    tint = (colour * look.base.mean() / 0.3)[None, None, :] * lum * (0.8 + 0.6 * (not mould))
    rgb[:] = rgb * (1 - strength[..., None]) + tint * strength[..., None]
    return Mark("stain", "mould" if mould else "oil", box, strength, 0.35)


def tuft(rng: np.random.Generator, view: View, backlit: bool) -> Strokes:
    """A clump of 30-80 long loose fibres (15-40 mm) sticking out from one point of a strand."""
    axis, _, root = on_strand(rng, view)
    n = int(rng.integers(30, 80))
    normal = (0.0 if axis == "v" else np.pi / 2) + (0 if rng.random() < 0.5 else np.pi)
    heading = normal + rng.normal(0, 0.35) + rng.normal(0, 0.3, n)
    spread = rng.normal(0, 1.5, (n, 2))
    pts = curves(root + spread, heading, rng.uniform(15, 40, n), rng.normal(0, 0.03, n))
    alpha = rng.uniform(0.45, 0.75, n) if backlit else rng.uniform(0.75, 1.0, n)
    tone = np.exp(rng.normal(-0.15, 0.25, n))  # a clump looks darker than single hairs
    return Strokes(pts.reshape(n, POINTS, 2), rng.uniform(0.25, 0.5, n), tone, alpha)


def soft_blob(rng: np.random.Generator, du: np.ndarray, dv: np.ndarray, radius: float,
              ramp: float) -> np.ndarray:
    """A soft irregular disc of `radius` around (0, 0) at offsets (du, dv), edge ramp `ramp`."""
    th = np.arctan2(dv, du)
    k = rng.uniform(-1, 1, 6)
    rb = radius * (
        1
        + 0.2 * k[0] * np.cos(2 * th + 3 * k[1])
        + 0.12 * k[2] * np.cos(3 * th + 3 * k[3])
        + 0.08 * k[4] * np.cos(5 * th + 3 * k[5])
    )
    return np.clip((rb - np.hypot(du, dv)) / ramp + 0.5, 0, 1)


def view_point(rng: np.random.Generator, view: View) -> np.ndarray:
    """Net mm of a random pixel in the middle 70 % of the image."""
    w, h = view.size
    x, y = int(rng.uniform(0.15, 0.85) * w), int(rng.uniform(0.15, 0.85) * h)
    return np.array([float(view.u[y, x]), float(view.v[y, x])])


def _densify(poly: np.ndarray, step: float = 1.0) -> np.ndarray:
    out = [poly[:1]]
    for a, b in zip(poly[:-1], poly[1:], strict=True):
        n = max(int(np.linalg.norm(b - a) / step), 1)
        out.append(a + (b - a) * np.linspace(0, 1, n + 1)[1:, None])
    return np.concatenate(out)

"""Thin fibres: stray hairs along strand edges, frayed ends, loose tufts; drawn as AA polylines."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from .net import Net
from .view import View

logger = logging.getLogger(__name__)

POINTS = 7  # points per fibre polyline
TONES = 8  # brightness levels a fibre can take
_SHIFT = 4  # sub-pixel bits for cv2.polylines


@dataclass(frozen=True)
class Strokes:
    """N fibres: polylines in net mm (N, P, 2), widths (mm), brightness factors and opacities."""

    points: np.ndarray
    width_mm: np.ndarray
    tone: np.ndarray
    alpha: np.ndarray

    @staticmethod
    def concat(items: list[Strokes]) -> Strokes:
        items = [s for s in items if len(s.width_mm)]
        if not items:
            return Strokes(np.zeros((0, POINTS, 2)), np.zeros(0), np.zeros(0), np.zeros(0))
        return Strokes(
            *(
                np.concatenate([getattr(s, f) for s in items])
                for f in ("points", "width_mm", "tone", "alpha")
            )
        )


def curves(
    start: np.ndarray, heading: np.ndarray, length: np.ndarray, bend: np.ndarray
) -> np.ndarray:
    """Constant-curvature arcs (N, POINTS, 2) from start (N, 2), heading (rad), length, bend."""
    s = length[:, None] * np.linspace(0, 1, POINTS)[None, :]
    k = np.where(np.abs(bend) < 1e-6, 1e-6, bend)[:, None]
    h0 = heading[:, None]
    x = (np.sin(h0 + k * s) - np.sin(h0)) / k
    y = (np.cos(h0) - np.cos(h0 + k * s)) / k
    return start[:, None, :] + np.stack([x, y], axis=-1)


def strand_hairs(
    rng: np.random.Generator,
    net: Net,
    lo: np.ndarray,
    hi: np.ndarray,
    density: float,
    backlit: bool,
) -> Strokes:
    """Hairs sticking out of both edges of every strand within the net box lo..hi (mm)."""
    out = []
    for axis in ("v", "h"):
        along_lo, along_hi = (lo[1], hi[1]) if axis == "v" else (lo[0], hi[0])
        out.append(_axis_hairs(rng, net, axis, along_lo - 15, along_hi + 15, density, backlit))
    return Strokes.concat(out)


def _axis_hairs(
    rng: np.random.Generator,
    net: Net,
    axis: str,
    t_lo: float,
    t_hi: float,
    density: float,
    backlit: bool,
) -> Strokes:
    strands = net.strands(axis)
    n = int(rng.poisson(density * 2 * strands.count * (t_hi - t_lo)))
    k = rng.integers(0, strands.count, n)
    t = rng.uniform(t_lo, t_hi, n)
    side = rng.choice([-1.0, 1.0], n)
    surface = rng.random(n) < 0.25  # fibres lying on the yarn's surface
    depth = np.where(surface, rng.uniform(-0.8, 0.8, n), rng.uniform(0.55, 1.0, n))
    across = strands.centre_at(k, t) + side * depth * strands.half_at(k, t)
    tilt = np.where(surface, rng.uniform(2, 15, n), rng.uniform(10, 75, n))
    forward = rng.random(n) < 0.5
    heading = side * np.where(forward, np.radians(tilt), np.pi - np.radians(tilt))
    length = np.clip(np.exp(rng.normal(np.log(3.5), 0.6, n)), 2.0, 12.0)
    length = np.where(surface, np.clip(length * 1.3, 3, 10), length)
    pts = curves(np.column_stack([t, across]), heading, length, rng.normal(0, 0.06, n))
    keep = np.ones(n, bool)
    for cut in net.cuts:
        if cut.axis == axis:
            keep &= ~((k == cut.strand) & cut.removes(t, np.clip(side * depth, -1, 1)))
    if axis == "v":
        pts = pts[..., ::-1]  # (along, across) -> (u, v)
    tone = np.where(surface, rng.uniform(1.05, 1.5, n), np.exp(rng.normal(-0.1, 0.3, n)))
    alpha = rng.uniform(0.35, 0.7, n) if backlit else rng.uniform(0.7, 1.0, n)
    width = rng.uniform(0.15, 0.4, n)
    return Strokes(pts[keep], width[keep], tone[keep], alpha[keep])


def long_fibres(
    rng: np.random.Generator,
    net: Net,
    lo: np.ndarray,
    hi: np.ndarray,
    per_mm: float,
    max_mm: float,
    backlit: bool,
) -> Strokes:
    """Long stiff stray fibres (4 mm up to `max_mm`) leaving both edges of every strand at a
    steep angle, nearly straight: dark silhouettes across the openings on a light panel."""
    out = []
    for axis in ("v", "h"):
        strands = net.strands(axis)
        t_lo, t_hi = ((lo[1], hi[1]) if axis == "v" else (lo[0], hi[0]))
        t_lo, t_hi = t_lo - max_mm, t_hi + max_mm
        n = int(rng.poisson(per_mm * 2 * strands.count * (t_hi - t_lo)))
        k = rng.integers(0, strands.count, n)
        t = rng.uniform(t_lo, t_hi, n)
        side = rng.choice([-1.0, 1.0], n)
        across = strands.centre_at(k, t) + side * rng.uniform(0.5, 0.95, n) * strands.half_at(k, t)
        tilt = np.radians(rng.uniform(25, 90, n))
        heading = side * np.where(rng.random(n) < 0.5, tilt, np.pi - tilt)
        length = rng.uniform(4.0, max_mm, n)
        pts = curves(np.column_stack([t, across]), heading, length, rng.normal(0, 0.02, n))
        keep = np.ones(n, bool)
        for cut in net.cuts:
            if cut.axis == axis:
                keep &= ~((k == cut.strand) & (t > cut.t0) & (t < cut.t1))
        if axis == "v":
            pts = pts[..., ::-1]
        alpha = rng.uniform(0.75, 1.0, n) if backlit else rng.uniform(0.7, 1.0, n)
        tone = np.exp(rng.normal(-0.2, 0.25, n))
        out.append(Strokes(pts[keep], rng.uniform(0.25, 0.45, n)[keep], tone[keep], alpha[keep]))
    return Strokes.concat(out)


def fray_hairs(rng: np.random.Generator, net: Net, backlit: bool) -> Strokes:
    """Loose fibres at the frayed stubs of cut strands, pointing into the gap."""
    out = []
    for cut in net.cuts:
        strands = net.strands(cut.axis)
        for end, direction in ((cut.t0, 1.0), (cut.t1, -1.0)):
            n = int(rng.integers(10, 24))
            a = rng.uniform(-0.9, 0.9, n)
            t = np.full(n, end) + direction * rng.uniform(0.0, 1.5, n)
            across = strands.centre_at(cut.strand, t) + a * strands.half_at(cut.strand, t)
            heading = np.where(direction > 0, 0.0, np.pi) + rng.normal(0, 0.45, n)
            length = rng.uniform(1.0, 5.0, n)
            pts = curves(np.column_stack([t, across]), heading, length, rng.normal(0, 0.2, n))
            if cut.axis == "v":
                pts = pts[..., ::-1]
            alpha = rng.uniform(0.3, 0.6, n) if backlit else rng.uniform(0.6, 0.95, n)
            out.append(
                Strokes(pts, rng.uniform(0.2, 0.45, n), np.exp(rng.normal(0, 0.2, n)), alpha)
            )
    return Strokes.concat(out)


def draw(view: View, strokes: Strokes, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Render fibres into a full-image (premultiplied BGR, alpha) pair of float32 layers."""
    w, h = view.size
    cov = np.zeros((h, w), np.uint8)
    tone = np.zeros((h, w), np.uint8)
    if len(strokes.width_mm):
        _draw_into(view, strokes, cov, tone)
    alpha = cov.astype(np.float32) * (1 / 255)
    levels = np.exp(np.linspace(np.log(0.55), np.log(1.55), TONES)).astype(np.float32)
    lut = np.concatenate([np.ones((1, 3), np.float32), levels[:, None] * base[None, :]])
    premult = lut[tone] * alpha[..., None]
    return premult, alpha


def _draw_into(view: View, strokes: Strokes, cov: np.ndarray, tone: np.ndarray) -> None:
    w, h = view.size
    px = view.to_px(strokes.points)
    inside = (
        (px[..., 0].max(1) > -5)
        & (px[..., 0].min(1) < w + 5)
        & (px[..., 1].max(1) > -5)
        & (px[..., 1].min(1) < h + 5)
    )
    px, idx = px[inside], np.flatnonzero(inside)
    scale = view.camera.px_per_mm()
    wpx = strokes.width_mm[idx] * scale
    thick = np.where(wpx < 1.6, 1, 2)
    opacity = np.clip(wpx / (thick + 0.5), 0.15, 1.0) * strokes.alpha[idx]
    level = np.clip(np.round(opacity * 8), 1, 8).astype(int)
    t_code = (
        np.clip(
            np.searchsorted(
                np.exp(np.linspace(np.log(0.55), np.log(1.55), TONES)), strokes.tone[idx]
            ),
            0,
            TONES - 1,
        )
        + 1
    )
    fixed = np.round(px * (1 << _SHIFT)).astype(np.int32)
    for th in (1, 2):
        for lv in range(1, 9):
            sel = (thick == th) & (level == lv)
            if sel.any():
                cv2.polylines(
                    cov, list(fixed[sel]), False, int(lv * 255 / 8), th, cv2.LINE_AA, _SHIFT
                )
        for code in range(1, TONES + 1):
            sel = (thick == th) & (t_code == code)
            if sel.any():
                cv2.polylines(tone, list(fixed[sel]), False, int(code), th + 2, cv2.LINE_8, _SHIFT)

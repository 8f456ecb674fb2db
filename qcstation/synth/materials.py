"""Procedural bench surfaces a net gets laid on: wood planks, woven fabric, concrete, tarpaulin,
and generic workshop surfaces for training (chipboard, painted board, kraft paper, rubber mat,
random multi-scale blotches). None of the workshop surfaces is woven: fabric and tarpaulin belong
to a held-out family (docs/families.md).

Each returns the surface's BGR reflectance, float32 (H, W, 3), built from whole-image numpy and
OpenCV operations; physical sizes (plank width, weave period) are in mm via `px_per_mm`.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

logger = logging.getLogger(__name__)

MATERIALS = ("wood", "fabric", "concrete", "tarpaulin", "chipboard", "painted", "kraft", "rubber",
             "blotches")  # fmt: skip


def _hue(rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float]) -> tuple:
    """RGB of a random hue with saturation and value drawn in these ranges."""
    hsv = np.float32([[[rng.uniform(0, 360), rng.uniform(*sat), rng.uniform(*val)]]])
    return tuple(float(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def colour(rng: np.random.Generator, kind: str) -> tuple[float, float, float]:
    """Mean BGR reflectance of one surface of this kind."""
    if kind == "wood":  # pale pine to oiled teak
        r = rng.uniform(0.35, 0.75)
        rgb = (r, r * rng.uniform(0.74, 0.84), r * rng.uniform(0.50, 0.64))
    elif kind == "fabric":  # hessian, or dyed cotton
        rgb = [(0.55, 0.45, 0.30), (0.22, 0.30, 0.50), (0.25, 0.42, 0.28), (0.55, 0.55, 0.55),
               (0.60, 0.22, 0.20)][int(rng.integers(0, 5))]  # fmt: skip
        rgb = tuple(c * rng.uniform(0.8, 1.15) for c in rgb)
    elif kind == "concrete":
        g = rng.uniform(0.30, 0.58)
        rgb = (g * rng.uniform(0.98, 1.06), g, g * rng.uniform(0.92, 1.0))
    elif kind == "tarpaulin":  # blue, green, orange or silver
        rgb = [(0.10, 0.30, 0.62), (0.16, 0.40, 0.22), (0.78, 0.38, 0.10), (0.62, 0.64, 0.66)][
            int(rng.integers(0, 4))
        ]
        rgb = tuple(c * rng.uniform(0.85, 1.1) for c in rgb)
    elif kind in ("chipboard", "kraft"):  # pale particle board, brown paper or grey card
        r = rng.uniform(0.40, 0.78)
        rgb = (r, r * rng.uniform(0.72, 0.95), r * rng.uniform(0.50, 0.92))
    elif kind == "painted":  # any paint, pale to dark, grey to strong
        rgb = _hue(rng, (0.0, 0.7), (0.25, 0.85))
    elif kind == "rubber":  # black or grey, sometimes a dark green, blue or red
        rgb = _hue(rng, (0.0, 0.1), (0.05, 0.3)) if rng.random() < 0.6 else _hue(
            rng, (0.3, 0.7), (0.15, 0.45))  # fmt: skip
    elif kind == "blotches":
        rgb = _hue(rng, (0.0, 0.6), (0.15, 0.85))
    else:
        raise ValueError(f"unknown bench surface {kind!r}; one of {', '.join(MATERIALS)}")
    return float(rgb[2]), float(rgb[1]), float(rgb[0])


def texture(
    kind: str,
    rng: np.random.Generator,
    size: tuple[int, int],
    px_per_mm: float,
    base_bgr: tuple[float, float, float],
) -> np.ndarray:
    """The surface, BGR reflectance float32 (H, W, 3), turned by a random angle."""
    w, h = size
    draw = {"wood": _wood, "fabric": _fabric, "concrete": _concrete, "tarpaulin": _tarpaulin,
            "chipboard": _chipboard, "painted": _painted, "kraft": _kraft, "rubber": _rubber,
            "blotches": _blotches}  # fmt: skip
    if kind not in draw:
        raise ValueError(f"unknown bench surface {kind!r}; one of {', '.join(MATERIALS)}")
    rgb = draw[kind](rng, w, h, px_per_mm, np.asarray(base_bgr, np.float32))
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-90, 90)), 1.0)
    return cv2.warpAffine(rgb, turn, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip


def smooth_noise(rng: np.random.Generator, w: int, h: int, sx: float, sy: float) -> np.ndarray:
    """Noise of about unit variance, correlated over about sx by sy px, float32 (h, w)."""
    cw, ch = max(int(w / max(sx, 1)), 2) + 3, max(int(h / max(sy, 1)), 2) + 3
    coarse = rng.standard_normal((ch, cw), dtype=np.float32)
    big = cv2.resize(coarse, (int(cw * max(sx, 1)), int(ch * max(sy, 1))),
                     interpolation=cv2.INTER_CUBIC)  # fmt: skip
    return big[:h, :w]  # not renormalised: a view smaller than the correlation length
    # would blow a gentle slope up into a strong one


def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]


def _wood(rng, w, h, ppm, base) -> np.ndarray:
    """Planks along x: growth lines that wander, fine fibre streaks, seams between planks."""
    x, y = _grid(w, h)
    plank = rng.uniform(80, 160) * ppm
    yy = y + rng.uniform(0, plank)
    index = np.floor(yy / plank)
    tone = 1 + 0.12 * np.sin(index * 2.39 + rng.uniform(0, 6))  # each plank its own shade
    warp = smooth_noise(rng, w, h, 90 * ppm, 25 * ppm) * 6.0 * ppm
    warp += smooth_noise(rng, w, h, 30 * ppm, 6 * ppm) * 1.0 * ppm
    period = rng.uniform(4.0, 11.0) * ppm
    phase = (yy + warp + index * 17.0) / period
    rings = (0.5 + 0.5 * np.sin(2 * np.pi * phase)) ** 4  # thin dark late-wood lines
    streak = smooth_noise(rng, w, h, 25 * ppm, 0.3 * ppm)
    seam = np.clip(np.abs((yy % plank) - plank / 2) - (plank / 2 - 0.5 * ppm), 0, None)
    val = tone * (1 - 0.2 * rings) * (1 + 0.05 * streak) * (1 - 0.6 * (seam > 0))
    return val[..., None] * base


def _fabric(rng, w, h, ppm, base) -> np.ndarray:
    """Plain weave: threads over and under, uneven threads (slubs), small gaps between them."""
    x, y = _grid(w, h)
    period = rng.uniform(0.7, 2.2) * ppm
    u = x / period + 0.25 * smooth_noise(rng, w, h, 4 * period, 30 * period)
    v = y / period + 0.25 * smooth_noise(rng, w, h, 30 * period, 4 * period)
    fu, fv = u % 1.0, v % 1.0
    over = (np.floor(u) + np.floor(v)) % 2 == 0
    warp = np.sin(np.pi * fu) ** 0.6 * (0.7 + 0.3 * np.sin(np.pi * fv))
    weft = np.sin(np.pi * fv) ** 0.6 * (0.7 + 0.3 * np.sin(np.pi * fu))
    val = np.where(over, warp, weft)
    slub = 1 + 0.12 * np.where(over, smooth_noise(rng, w, h, period, 12 * period),
                               smooth_noise(rng, w, h, 12 * period, period))  # fmt: skip
    blotch = 1 + 0.05 * smooth_noise(rng, w, h, 40 * ppm, 40 * ppm)
    val = (0.45 + 0.65 * val) * slub * blotch
    return val[..., None] * base


def _concrete(rng, w, h, ppm, base) -> np.ndarray:
    """Blotches at three scales, dark and light grains of aggregate, a few soft stains."""
    coarse = smooth_noise(rng, w, h, 40 * ppm, 40 * ppm)
    mid = smooth_noise(rng, w, h, 4 * ppm, 4 * ppm)
    fine = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.7)
    grains = smooth_noise(rng, w, h, 1.2 * ppm, 1.2 * ppm)
    pits = np.clip(grains - 2.2, 0, None) * 0.5  # dark pits where the noise peaks
    sand = np.clip(-grains - 2.0, 0, None) * 0.3  # light grains
    stain = np.clip(smooth_noise(rng, w, h, 80 * ppm, 80 * ppm) - 1.0, 0, None) * 0.15
    val = (1 + 0.07 * coarse + 0.04 * mid + 0.06 * fine) * (1 - pits + sand - stain)
    return np.clip(val, 0.2, None)[..., None] * base


def _tarpaulin(rng, w, h, ppm, base) -> np.ndarray:
    """Woven plastic tapes (a fine grid), creases that catch the light, a little sheen."""
    x, y = _grid(w, h)
    period = rng.uniform(1.0, 2.0) * ppm
    grid = np.cos(2 * np.pi * x / period) * np.cos(2 * np.pi * y / period)
    val = 1 + 0.05 * grid
    for _ in range(int(rng.integers(2, 6))):  # a handful of folds, each over the whole image
        a = rng.uniform(0, np.pi)
        d = (x - rng.uniform(0, w)) * np.cos(a) + (y - rng.uniform(0, h)) * np.sin(a)
        width = rng.uniform(4, 15) * ppm
        val = val + rng.uniform(0.1, 0.3) * (d / width) * np.exp(-((d / width) ** 2))
    sheen = np.clip(smooth_noise(rng, w, h, 60 * ppm, 60 * ppm), 0, None) * 0.12
    return np.clip(val + sheen, 0.3, None)[..., None] * base


def _cells(rng, w, h, size_px: float, stretch: float = 1.0) -> np.ndarray:
    """Random flat patches about size_px across (Voronoi cells of random points), each of its
    own unit-normal tone, stretched `stretch` times along x, float32 (h, w)."""
    sw = max(int(w / stretch), 2)
    free = np.ones((h, sw), np.uint8)
    n = max(int(sw * h / size_px**2), 1)
    free[rng.integers(0, h, n), rng.integers(0, sw, n)] = 0
    _, label = cv2.distanceTransformWithLabels(free, cv2.DIST_L2, 5,
                                               labelType=cv2.DIST_LABEL_PIXEL)  # fmt: skip
    tone = rng.standard_normal(n + 2).astype(np.float32)[label]
    return cv2.resize(tone, (w, h), interpolation=cv2.INTER_NEAREST)


def _strokes(rng, w, h, n: int, length_px: tuple[float, float], width_px: float) -> np.ndarray:
    """n straight strokes of random length and direction, 1 on them, float32 (h, w)."""
    out = np.zeros((h, w), np.uint8)
    a, d = rng.uniform(0, np.pi, n), rng.uniform(*length_px, n)
    x0, y0 = rng.uniform(0, w, n), rng.uniform(0, h, n)
    ends = np.stack([x0, y0, x0 + d * np.cos(a), y0 + d * np.sin(a)], 1).reshape(n, 2, 2)
    cv2.polylines(out, list(ends.astype(np.int32)), False, 1, max(int(round(width_px)), 1),
                  cv2.LINE_AA)  # fmt: skip
    return out.astype(np.float32)


def _chipboard(rng, w, h, ppm, base) -> np.ndarray:
    """Particle board: pressed flakes of two sizes and many shades, dark glue specks."""
    small = _cells(rng, w, h, rng.uniform(1.0, 2.5) * ppm, rng.uniform(1.5, 3))
    big = _cells(rng, w, h, rng.uniform(4, 10) * ppm, rng.uniform(1.5, 4))
    mix = rng.random((h, w), dtype=np.float32) < 0.5  # which layer shows (flakes overlap)
    mix = cv2.GaussianBlur(mix.astype(np.float32), (0, 0), 2 * ppm) > 0.5
    flakes = np.where(mix, big, small) * rng.uniform(0.06, 0.14)
    specks = np.clip(smooth_noise(rng, w, h, 0.6 * ppm, 0.6 * ppm) - 2.3, 0, None) * 0.4
    fine = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.8)
    val = (1 + flakes + 0.03 * fine) * (1 - specks)
    return np.clip(val, 0.2, None)[..., None] * base


def _painted(rng, w, h, ppm, base) -> np.ndarray:
    """Flat paint: roller texture, scuffs, light scratches, chips down to the board, pen marks."""
    roller = 0.02 * smooth_noise(rng, w, h, 3 * ppm, 3 * ppm)
    scuff = np.clip(smooth_noise(rng, w, h, 25 * ppm, 12 * ppm) - 0.8, 0, None) * 0.15
    n_scratch = int(rng.integers(10, 120))
    scratch = _strokes(rng, w, h, n_scratch, (5 * ppm, 60 * ppm), 0.3 * ppm) * 0.15
    chip = cv2.GaussianBlur(smooth_noise(rng, w, h, 4 * ppm, 4 * ppm), (0, 0), 0.5 * ppm)
    chipped = (chip > rng.uniform(1.6, 2.6)).astype(np.float32) * rng.uniform(-0.5, 0.5)
    n_pen = int(rng.integers(0, 8))
    pen = _strokes(rng, w, h, n_pen, (20 * ppm, 150 * ppm), rng.uniform(0.4, 1.2) * ppm)
    val = (1 + roller + scratch + chipped) * (1 - scuff) * (1 - rng.uniform(0.4, 0.8) * pen)
    return np.clip(val, 0.1, None)[..., None] * base


def _kraft(rng, w, h, ppm, base) -> np.ndarray:
    """Kraft paper or cardboard: fibre streaks, creases, printed smudges and blots."""
    x, y = _grid(w, h)
    fibres = smooth_noise(rng, w, h, 3 * ppm, 0.3 * ppm) + smooth_noise(rng, w, h, 0.3 * ppm,
                                                                          2 * ppm)  # fmt: skip
    cloud = smooth_noise(rng, w, h, 15 * ppm, 15 * ppm)
    a = rng.uniform(0, np.pi, int(rng.integers(0, 4)))[:, None, None]  # creases: sharp lines
    d = (x - rng.uniform(0, w, len(a))[:, None, None]) * np.cos(a) + (
        y - rng.uniform(0, h, len(a))[:, None, None]) * np.sin(a)  # fmt: skip
    crease = (np.sign(d) * np.exp(-np.abs(d) / (0.8 * ppm)) * 0.12).sum(axis=0)
    ink = smooth_noise(rng, w, h, 6 * ppm, 6 * ppm) > rng.uniform(1.8, 3.0)
    ink = cv2.GaussianBlur(ink.astype(np.float32), (0, 0), 1.5 * ppm) * rng.uniform(0.3, 0.7)
    val = (1 + 0.025 * fibres + 0.04 * cloud + crease) * (1 - ink)
    return np.clip(val, 0.1, None)[..., None] * base


def _rubber(rng, w, h, ppm, base) -> np.ndarray:
    """Rubber mat: raised ribs or round studs a few mm apart, lit from one side, dust, wear."""
    x, y = _grid(w, h)
    period = rng.uniform(3, 10) * ppm
    if rng.random() < 0.5:  # ribs: a ridge lit on one flank
        relief = np.sin(2 * np.pi * y / period) * np.ones_like(x)
    else:  # studs on a staggered grid, shaded on one side
        row = np.floor(y / period)
        u, v = (x / period + 0.5 * row) % 1 - 0.5, (y / period) % 1 - 0.5
        r = np.hypot(u, v) / rng.uniform(0.2, 0.35)
        relief = np.where(r < 1, (u + v) * 2, 0.0)
    dust = np.clip(smooth_noise(rng, w, h, 20 * ppm, 20 * ppm), 0, None) * 0.3
    fine = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.7)
    val = (1 + rng.uniform(0.1, 0.3) * relief + 0.05 * fine) * (1 + dust)
    return np.clip(val, 0.1, None)[..., None] * base


def _blotches(rng, w, h, ppm, base) -> np.ndarray:
    """Random multi-scale noise: octaves from 0.5 to 80 mm of random strength and stretch, and
    sometimes hard-edged blotches."""
    val = np.ones((h, w), np.float32)
    for scale in (0.5, 2, 8, 30, 80):  # mm
        sx = scale * ppm * rng.uniform(0.5, 2)
        val += rng.uniform(0, 0.12) * smooth_noise(rng, w, h, sx, scale * ppm * rng.uniform(0.5, 2))
    if rng.random() < 0.5:
        edge = smooth_noise(rng, w, h, rng.uniform(5, 30) * ppm, rng.uniform(5, 30) * ppm)
        val += (edge > rng.uniform(0.5, 1.5)) * rng.uniform(-0.35, 0.35)
    return np.clip(val, 0.1, None)[..., None] * base

"""Procedural bench surfaces a net gets laid on: wood planks, woven fabric, concrete, tarpaulin.

Each returns the surface's BGR reflectance, float32 (H, W, 3), built from whole-image numpy and
OpenCV operations; physical sizes (plank width, weave period) are in mm via `px_per_mm`.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

logger = logging.getLogger(__name__)

MATERIALS = ("wood", "fabric", "concrete", "tarpaulin")


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
    draw = {"wood": _wood, "fabric": _fabric, "concrete": _concrete, "tarpaulin": _tarpaulin}
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

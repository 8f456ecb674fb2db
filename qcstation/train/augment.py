"""Random training crops: placement, geometry (rotation, scale, flip) and light (colour,
brightness, light gradient, gamma, blur, noise), then the runtime's normalisation."""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

from ..model.preprocess import normalise
from .data import IGNORE, YARN, Sample, _paint_order
from .stains import RADIUS_MM, paint_stain

logger = logging.getLogger(__name__)

MODEL_PX_PER_MM = 2.0  # the scale samples are loaded at (run.MODEL_PX_PER_MM)
SCALE_RANGE = (0.8, 1.25)  # nets, cameras and the rectification vary the apparent size


HARD = -1  # centre on a structural defect (a hard negative)
# defect-centred crops per class: foreign matter comes in the most looks (plastic, leaves,
# strings over and under the net); rare stains still get a fair share
CLASS_SHARE = {2: 0.4, 3: 0.35, 4: 0.25}


def crop_centre(rng: np.random.Generator, s: Sample, size: int, code: int | None) -> np.ndarray:
    """A pixel of defect class `code` or (HARD) a structural defect, jittered; with None any
    pixel in view."""
    px = s.hard_px if code == HARD else s.defect_px.get(code) if code is not None else None
    if px is not None and len(px):
        return px[rng.integers(len(px))] + rng.uniform(-size / 3, size / 3, 2)
    h, w = s.labels.shape
    for _ in range(20):
        c = rng.uniform([0, 0], [w, h])
        if s.labels[int(c[1]), int(c[0])] != IGNORE:
            break
    return c


def warp(
    rng: np.random.Generator, s: Sample, centre: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Image and labels of a rotated, scaled, maybe mirrored square around `centre`."""
    a = rng.uniform(0, 2 * math.pi)
    k = math.exp(rng.uniform(*np.log(SCALE_RANGE)))
    flip = -1.0 if rng.random() < 0.5 else 1.0
    c, sn = math.cos(a) * k, math.sin(a) * k
    lin = np.array([[c * flip, -sn], [sn * flip, c]])  # output px -> source px
    m = np.column_stack([lin, centre - lin @ np.array([size / 2, size / 2])])
    flags = cv2.WARP_INVERSE_MAP
    img = cv2.warpAffine(
        s.image, m, (size, size), flags=flags | cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    lab = cv2.warpAffine(
        s.labels,
        m,
        (size, size),
        flags=flags | cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=IGNORE,
    )
    return img, lab


def light(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Colour cast, brightness, a light gradient, gamma, blur and sensor noise."""
    h, w = img.shape[:2]
    x = img.astype(np.float32)
    x *= rng.normal(1.0, 0.06, 3).astype(np.float32) * rng.uniform(0.6, 1.4)
    d = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = ((xx - w / 2) * math.cos(d) + (yy - h / 2) * math.sin(d)) / max(h, w)
    x *= (1.0 + rng.uniform(-0.5, 0.5) * ramp)[..., None]
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** rng.uniform(0.75, 1.35)
    if rng.random() < 0.5:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.1))
    x += rng.standard_normal(x.shape, dtype=np.float32) * rng.uniform(0.0, 6.0)
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def cell_targets(lab: np.ndarray, stride: int) -> np.ndarray:
    """Class per output cell: a defect where any pixel of it is, else yarn where at least half
    is yarn, IGNORE where most is outside the view, else background."""
    h, w = lab.shape
    r = lab.reshape(h // stride, stride, w // stride, stride).transpose(0, 2, 1, 3)
    r = r.reshape(h // stride, w // stride, stride * stride)
    half = stride * stride / 2
    t = np.where((r == YARN).sum(-1) >= half, YARN, 0).astype(np.uint8)
    t[(r == IGNORE).sum(-1) > half] = IGNORE
    for code in sorted({2, 3, 4}, key=_paint_order):
        t[(r == code).any(-1)] = code
    return t


def crop(
    rng: np.random.Generator,
    s: Sample,
    code: int | None,
    size: int,
    stride: int,
    augment: bool = True,
    p_stain: float = 0.0,
    stain_radius_mm: tuple[float, float] = RADIUS_MM,
) -> tuple[np.ndarray, np.ndarray]:
    """One training pair: normalised input (3, size, size) and cell targets; with `p_stain` a
    painted stain of a radius in `stain_radius_mm` (not on backlit benches)."""
    img, lab = warp(rng, s, crop_centre(rng, s, size, code), size)
    if augment and not s.backlit and rng.random() < p_stain:
        paint_stain(rng, img, lab, MODEL_PX_PER_MM, stain_radius_mm)
    if augment:
        img = light(rng, img)
    return normalise(img, lab != IGNORE), cell_targets(lab, stride)


def pick(
    rng: np.random.Generator, samples: list[Sample], p_defect: float, p_hard: float
) -> tuple[Sample, int | None]:
    """A photo and what to centre on: with `p_defect` a defect class (CLASS_SHARE, whatever
    its frequency in the photos), with `p_hard` a structural defect, else anywhere."""
    r = rng.random()
    if r < p_defect:
        codes = sorted({c for s in samples for c in s.defect_px})
        if codes:
            share = np.array([CLASS_SHARE[c] for c in codes])
            code = codes[rng.choice(len(codes), p=share / share.sum())]
            having = [s for s in samples if code in s.defect_px]
            return having[rng.integers(len(having))], code
    elif r < p_defect + p_hard:
        having = [s for s in samples if len(s.hard_px)]
        if having:
            return having[rng.integers(len(having))], HARD
    return samples[rng.integers(len(samples))], None


def batch(
    rng: np.random.Generator,
    samples: list[Sample],
    n: int,
    size: int,
    stride: int,
    p_defect: float,
    p_hard: float = 0.0,
    augment: bool = True,
    p_stain: float = 0.0,
    stain_radius_mm: tuple[float, float] = RADIUS_MM,
) -> tuple[np.ndarray, np.ndarray]:
    pairs = [
        crop(
            rng,
            *pick(rng, samples, p_defect, p_hard),
            size,
            stride,
            augment,
            p_stain,
            stain_radius_mm,
        )
        for _ in range(n)
    ]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

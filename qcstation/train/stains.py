"""Extra stains for training: mould and oil blotches soaked into the yarn of a crop.

Stains are the rarest defect in rendered sets (a few per hundred photos) while their look-alikes
(the shaded parts of woven crossings, knots) are everywhere, so more stains are painted on the
yarn of training crops, the way the renderer paints them (`qcstation.synth.foreign.stain`): an
irregular blob of 4-12 mm radius (a narrower range can be asked for, e.g. 4-7 mm for more of the
small stains that soak only a few millimetres of a thin strand), mould with spots or plain oil,
whose tint follows the yarn's own brightness. The tint scales with the pixel's brightness, so
painting after the light is the same as painting before it. Not on backlit benches, where the
yarn is a silhouette (as the renderer).
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

from ..model.card import CLASSES
from ..synth.foreign import soft_blob
from .data import YARN

logger = logging.getLogger(__name__)

STAIN = CLASSES.index("stain")
MOULD = (np.array([0.09, 0.12, 0.10]), np.array([0.04, 0.045, 0.04]))  # BGR, as the renderer
OIL = np.array([0.04, 0.07, 0.12])
LABEL_AT = 0.35  # stain strength from which a pixel is labelled stain (the renderer's)
RADIUS_MM = (4.0, 12.0)  # the renderer's range of stain radii


def blob(rng: np.random.Generator, radius: float, size: int, ramp: float) -> np.ndarray:
    """Soft irregular disc (size x size, centred) of `radius` px, edge ramp `ramp` px."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) - (size - 1) / 2
    return soft_blob(rng, xx, yy, radius, ramp)


def paint_stain(
    rng: np.random.Generator,
    img: np.ndarray,
    lab: np.ndarray,
    px_per_mm: float,
    radius_mm: tuple[float, float] = RADIUS_MM,
) -> bool:
    """Paint one stain of a radius drawn from `radius_mm` on the yarn of a crop, in place;
    False when there is no yarn."""
    ys, xs = np.nonzero(lab == YARN)
    if len(xs) < 50:
        return False
    i = rng.integers(len(xs))
    r = rng.uniform(*radius_mm) * px_per_mm
    half = int(math.ceil(1.6 * r))
    size = 2 * half + 1
    b = blob(rng, r, size, 1.5 * px_per_mm)
    if rng.random() < 0.5:  # mould: blotchy
        n = max(size // 3, 2)
        spots = cv2.resize(
            rng.random((n, n)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC
        )
        b *= np.clip(0.2 + 1.2 * spots, 0, 1)
        colour, gain = MOULD[0] if rng.random() < 0.6 else MOULD[1], 0.8
    else:
        colour, gain = OIL, 1.4
    _apply(
        img,
        lab,
        (int(ys[i]) - half, int(xs[i]) - half),
        b * rng.uniform(0.75, 0.95),
        colour * gain / 0.3,
    )
    return True


def _apply(
    img: np.ndarray,
    lab: np.ndarray,
    corner: tuple[int, int],
    strength: np.ndarray,
    tint: np.ndarray,
) -> None:
    h, w = lab.shape
    y0, x0 = corner
    sy0, sx0 = max(0, -y0), max(0, -x0)
    y0, x0 = max(0, y0), max(0, x0)
    y1, x1 = min(h, corner[0] + strength.shape[0]), min(w, corner[1] + strength.shape[1])
    s = strength[sy0 : sy0 + y1 - y0, sx0 : sx0 + x1 - x0] * (lab[y0:y1, x0:x1] == YARN)
    pix = img[y0:y1, x0:x1].astype(np.float32)
    lum = pix.mean(axis=-1, keepdims=True)
    out = pix * (1 - s[..., None]) + (tint[None, None, :] * lum) * s[..., None]
    img[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    lab[y0:y1, x0:x1][s >= LABEL_AT] = STAIN

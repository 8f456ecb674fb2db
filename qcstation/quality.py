"""Is an image usable at all? Blank, over/under-exposed and out-of-focus frames are refused."""

from __future__ import annotations

import cv2
import numpy as np

from .errors import ImageError

MIN_CONTRAST = 12.0  # grey levels between the 2nd and 98th percentile
MAX_DARK_P98 = 28.0  # grey levels of the 98th percentile: the renderer under-exposes to 6-20
# (99th percentile of the brightest channel); dark yarn on a dark table reads 37-54 (45 refused it)
MIN_BRIGHT_P5 = 200.0
CLIPPED_LEVEL = 254  # a pixel this bright is clipped: where an edge lies in it is lost
MAX_CLIPPED = 0.4  # share of the frame; rendered usable frames reach 0.05, over-exposed 0.72
COLOUR_LEVELS = 4  # channels this many grey levels apart: a coloured pixel, not JPEG noise
MIN_COLOUR = 0.01  # share of coloured pixels; the palest rendered colour photos hold 0.14
NO_COLOUR = ("the image has no colour (a grayscale photo): strand edges in shadow, stains and "
             "foreign matter are told apart by their colour, so the net cannot be judged on it "
             "(its mesh is measured and shown); set the camera to colour and inspect again")
MIN_SHARPNESS = 1.3  # 99th percentile gradient per unit of contrast at 1/2 scale:
# a sharp edge gives ~3.5, a 2 px blur 2.5, a 5 px blur 1.3 (tests/test_engine.py)


def check_usable(bgr: np.ndarray) -> None:
    """Raise ImageError with a sentence saying what is wrong with the shot, or return."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    small = cv2.resize(gray, (gray.shape[1] // 4, gray.shape[0] // 4), interpolation=cv2.INTER_AREA)
    p2, p5, p98 = (_percentiles_u8(small, (2, 5, 98)) if small.dtype == np.uint8
                   else np.percentile(small, (2, 5, 98)))
    if p98 < MAX_DARK_P98:
        raise ImageError("the image is under-exposed (almost black); add light or open the lens")
    if p5 > MIN_BRIGHT_P5:
        raise ImageError("the image is over-exposed (almost white); reduce exposure or light")
    clipped = float(np.count_nonzero(small >= CLIPPED_LEVEL)) / small.size
    if clipped > MAX_CLIPPED:  # e.g. a backlit panel: the yarn stays dark, light bleeds over it
        raise ImageError(f"the image is over-exposed ({clipped:.0%} of it clipped white); "
                         "reduce exposure or light")
    contrast = float(p98 - p2)
    if contrast < MIN_CONTRAST:
        raise ImageError("the image is blank (no contrast); put a net under the camera")
    half = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    grad = cv2.magnitude(cv2.Sobel(half, cv2.CV_32F, 1, 0), cv2.Sobel(half, cv2.CV_32F, 0, 1))
    sharpness = float(np.percentile(grad[::2, ::2], 99)) / contrast
    if sharpness < MIN_SHARPNESS:
        raise ImageError(f"the image is out of focus (sharpness {sharpness:.2f}, needs "
                         f"{MIN_SHARPNESS}); focus the camera on the bench")


def _percentiles_u8(img: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """np.percentile (linear) of a uint8 image, from its histogram: the same values, computed
    in numpy's own order, without sorting."""
    cum = np.cumsum(cv2.calcHist([img], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    n = int(cum[-1])
    out = []
    for q in qs:
        pos = (n - 1) * (q / 100)  # numpy's virtual index for the linear method
        lo = int(np.floor(pos))
        a, b = (float(v) for v in np.searchsorted(cum, [lo + 1, min(lo + 2, n)]))
        t = pos - lo
        out.append(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)
    return out


def has_colour(bgr: np.ndarray) -> bool:
    """Whether the image holds colour at all: a grayscale photo (one channel, or three equal
    ones up to JPEG noise) does not."""
    if bgr.ndim < 3 or bgr.shape[2] < 3:
        return False
    small = bgr[::4, ::4].astype(np.int16)
    b, g, r = small[..., 0], small[..., 1], small[..., 2]
    coloured = np.maximum(np.abs(r - g), np.abs(g - b)) >= COLOUR_LEVELS
    return float(np.count_nonzero(coloured)) >= MIN_COLOUR * coloured.size

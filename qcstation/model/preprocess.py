"""Input preparation shared by training and inference, so the torch and ONNX models see the same.

Only numpy and OpenCV: the station runs it without torch.
1. the bench view is resized from its scale to the model's fixed px/mm (`to_model_scale`);
2. the colour is standardised per frame: minus the mean of each channel, divided by one common
   standard deviation, both over the valid pixels (`frame_stats`, `normalise`), so exposure and
   bench brightness do not matter while the hue of a plastic scrap or a stain still does;
3. pixels outside the camera's view are set to 0, the mean colour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

STATS_STEP = 4  # frame statistics from every 4th pixel in each direction
MIN_STD = 4.0  # grey levels; a flat frame is not blown up into noise


@dataclass(frozen=True)
class FrameStats:
    """Colour statistics of one frame: per-channel mean (B, G, R) and one common std."""

    mean: np.ndarray  # (3,) float32
    std: float


def to_model_scale(
    image: np.ndarray,
    px_per_mm: float,
    model_px_per_mm: float,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Resize a bench view (or mask: pass INTER_NEAREST) from `px_per_mm` to the model's scale."""
    f = model_px_per_mm / px_per_mm
    if abs(f - 1.0) < 1e-6:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(image, size, interpolation=interpolation)


def frame_stats(image: np.ndarray, valid: np.ndarray | None = None) -> FrameStats:
    """Mean colour and spread of a BGR uint8 frame over its valid pixels (a subsample)."""
    px = image[::STATS_STEP, ::STATS_STEP].reshape(-1, 3)
    if valid is not None:
        keep = valid[::STATS_STEP, ::STATS_STEP].reshape(-1) > 0
        if keep.sum() >= 16:
            px = px[keep]
    x = px.astype(np.float32)
    mean = x.mean(axis=0) if len(x) else np.full(3, 128.0, np.float32)
    std = float(np.sqrt(((x - mean) ** 2).mean())) if len(x) else MIN_STD
    return FrameStats(mean.astype(np.float32), max(std, MIN_STD))


def normalise(
    image: np.ndarray, valid: np.ndarray | None = None, stats: FrameStats | None = None,
    multiple: int = 1,
) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> float32 (3, H, W), standardised; invalid pixels 0. With
    `multiple`, zero-padded at the bottom and right to multiples of it (as `pad_to_multiple`,
    without a second copy)."""
    stats = stats or frame_stats(image, valid)
    inv = 1.0 / stats.std
    h, w = image.shape[:2]
    ph, pw = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    padded = (np.zeros if (ph, pw) != (h, w) else np.empty)((3, ph, pw), np.float32)
    out = padded[:, :h, :w]
    keep = None if valid is None else (valid > 0).astype(np.float32)
    # per-plane OpenCV arithmetic: ~20x faster than numpy broadcasting over (H, W, 3)
    for c, plane in enumerate(cv2.split(image)):
        cv2.addWeighted(
            plane, inv, plane, 0.0, -float(stats.mean[c]) * inv, dst=out[c], dtype=cv2.CV_32F
        )
        if keep is not None:
            cv2.multiply(out[c], keep, dst=out[c])
    return padded


def pad_to_multiple(x: np.ndarray, multiple: int, minimum: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Zero-pad (C, H, W) at the bottom and right to multiples of `multiple`, at least `minimum`."""
    _, h, w = x.shape
    ph = max(-(-h // multiple) * multiple, minimum[0])
    pw = max(-(-w // multiple) * multiple, minimum[1])
    if (ph, pw) == (h, w):
        return x
    out = np.zeros((x.shape[0], ph, pw), x.dtype)
    out[:, :h, :w] = x
    return out

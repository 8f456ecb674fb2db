"""A phone camera instead of the station camera: colour cast, vignetting, a hand's shadow,
mild motion blur, in-camera sharpening and strong JPEG."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhoneLook:
    cast_bgr: tuple[float, float, float]  # white-balance error, gains per channel
    vignette: float  # extra fall-off to the corners
    motion_px: float  # length of the motion-blur streak
    motion_deg: float
    sharpen: float  # unsharp-mask amount
    sharpen_px: float  # its radius (Gaussian sigma)
    jpeg_quality: int
    hand: tuple[float, float, float, float, float] | None  # x, y (fractions), heading (rad),
    # size (fraction of the image width), darkening

    def to_json(self) -> dict:
        return {
            "cast_bgr": [round(v, 3) for v in self.cast_bgr],
            "vignette": round(self.vignette, 3),
            "motion_px": round(self.motion_px, 2),
            "sharpen": round(self.sharpen, 2),
            "jpeg_quality": self.jpeg_quality,
            "hand_shadow": self.hand is not None,
        }


def draw_phone(rng: np.random.Generator) -> PhoneLook:
    warm = rng.uniform(-1, 1)  # < 0 cool daylight or fluorescent, > 0 warm tungsten
    tint = rng.uniform(-0.04, 0.06)  # > 0 greenish fluorescent
    cast = (1 - 0.14 * warm, 1 + tint, 1 + 0.14 * warm)
    hand = None
    if rng.random() < 0.5:
        hand = (float(rng.uniform(0.15, 0.85)), float(rng.uniform(0.15, 0.85)),
                float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.25, 0.45)),
                float(rng.uniform(0.25, 0.5)))  # fmt: skip
    return PhoneLook(
        cast_bgr=tuple(float(c) for c in cast),
        vignette=float(rng.uniform(0.15, 0.45)),
        motion_px=float(rng.uniform(0, 3.5)),
        motion_deg=float(rng.uniform(0, 180)),
        sharpen=float(rng.uniform(0.6, 1.6)),
        sharpen_px=float(rng.uniform(0.8, 1.6)),
        jpeg_quality=int(rng.integers(55, 82)),
        hand=hand,
    )


def on_light(light: np.ndarray, look: PhoneLook, backlit: bool) -> np.ndarray:
    """Cast, vignetting and (front-lit benches only) a hand's shadow on the scene's light."""
    h, w = light.shape[:2]
    field = _vignette(w, h, look.vignette)
    if look.hand is not None and not backlit:
        field *= 1 - look.hand[4] * hand_shadow(w, h, look.hand)
    return light * field[..., None] * np.asarray(look.cast_bgr, np.float32)


def _vignette(w: int, h: int, amount: float) -> np.ndarray:
    x = (np.arange(w, dtype=np.float32) - w / 2) / (w / 2)
    y = (np.arange(h, dtype=np.float32) - h / 2) / (w / 2)
    r2 = x[None, :] ** 2 + y[:, None] ** 2
    return (1 - amount * r2 / (1 + (h / w) ** 2)).astype(np.float32)


def hand_shadow(w: int, h: int, hand: tuple[float, float, float, float, float]) -> np.ndarray:
    """Soft shadow (0..1) of a hand and forearm reaching in from outside the frame."""
    x, y, heading, size, _ = hand
    s = 4  # drawn at a quarter of the resolution: the shadow is soft anyway
    cw, ch = w // s, h // s
    mask = np.zeros((ch, cw), np.uint8)
    palm = size * cw
    c = np.array([x * cw, y * ch])
    d = np.array([np.cos(heading), np.sin(heading)])  # towards the fingertips
    n = np.array([-d[1], d[0]])
    cv2.ellipse(mask, _pt(c), (int(palm * 0.5), int(palm * 0.42)), np.degrees(heading), 0, 360,
                255, -1)  # fmt: skip
    for k, spread in enumerate((-0.33, -0.11, 0.11, 0.33)):
        base = c + d * palm * 0.4 + n * spread * palm
        tip = base + d * palm * (0.55 + 0.15 * (k in (1, 2)))
        cv2.line(mask, _pt(base), _pt(tip), 255, max(int(palm * 0.14), 1))
    wrist = c - d * palm * 0.4
    cv2.line(mask, _pt(wrist), _pt(wrist - d * 4 * max(cw, ch)), 255, int(palm * 0.6))
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), palm * 0.12 + 1)
    return cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def develop(img: np.ndarray, look: PhoneLook, defocus_px: float, noise: tuple[float, float],
            rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Defocus, motion blur, sensor noise, in-camera sharpening, 8 bits (the phone's pipeline)."""
    img = cv2.GaussianBlur(img, (0, 0), defocus_px)
    if look.motion_px >= 1:
        img = cv2.filter2D(img, -1, _streak(look.motion_px, look.motion_deg))
    read_dn, shot = noise
    sigma = np.sqrt(read_dn**2 + shot * np.clip(img, 0, None))
    img += rng.standard_normal(img.shape, dtype=np.float32) * sigma
    img = cv2.GaussianBlur(img, (0, 0), 0.6)  # the phone's denoiser, before it sharpens
    soft = cv2.GaussianBlur(img, (0, 0), look.sharpen_px)
    img = img + look.sharpen * (img - soft)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _streak(length_px: float, angle_deg: float) -> np.ndarray:
    """Normalised line kernel of a camera moving `length_px` during the exposure."""
    k = int(np.ceil(length_px)) | 1
    kernel = np.zeros((k, k), np.float32)
    a = np.radians(angle_deg)
    half = (length_px - 1) / 2
    c = k // 2
    p0 = (c - half * np.cos(a), c - half * np.sin(a))
    p1 = (c + half * np.cos(a), c + half * np.sin(a))
    cv2.line(kernel, _pt(np.array(p0) * 16), _pt(np.array(p1) * 16), 1.0, 1, cv2.LINE_AA, 4)
    return kernel / max(float(kernel.sum()), 1e-6)

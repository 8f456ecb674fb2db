"""Compositing of the rendered parts over the bench, then light, optics and sensor."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from .bench import Bench, illumination, surface
from .view import Box

logger = logging.getLogger(__name__)


class Canvas:
    """Premultiplied colour, opacity and depth of everything lying on the bench (not the bench).

    `body` is the visible coverage of strand bodies and knots (label 1 of the mask).
    """

    def __init__(self, size: tuple[int, int]):
        w, h = size
        self.rgb = np.zeros((h, w, 3), np.float32)
        self.alpha = np.zeros((h, w), np.float32)
        self.depth = np.full((h, w), -1e9, np.float32)
        self.body = np.zeros((h, w), np.float32)

    def add(
        self,
        box: Box,
        cov: np.ndarray,
        rgb: np.ndarray,
        z: np.ndarray | float,
        body: np.ndarray | None = None,
    ) -> np.ndarray:
        """Composite a patch at depth z (over what is lower, under what is higher).

        `body`: the patch's geometric coverage if it is yarn body. Returns its visible coverage.
        """
        y0, y1, x0, x1 = box
        sl = (slice(y0, y1), slice(x0, x1))
        a, c, d = self.alpha[sl], self.rgb[sl], self.depth[sl]
        top = z >= d
        under = 1 - a
        vis = np.where(top, cov, cov * under)
        c[:] = np.where(
            top[..., None],
            c * (1 - cov)[..., None] + rgb * cov[..., None],
            c + rgb * vis[..., None],
        )
        if body is not None:
            seen = np.where(top, body, body * under)
            np.maximum(self.body[sl], seen, out=self.body[sl])
        a += cov * under
        d[:] = np.where(cov > 0.02, np.maximum(d, z), d)
        return vis

    def overlay(self, premult: np.ndarray, alpha: np.ndarray) -> None:
        """Lay a full-image layer (premultiplied colour, opacity) on top of everything."""
        self.rgb *= (1 - alpha)[..., None]
        self.rgb += premult
        self.alpha += alpha * (1 - self.alpha)


@dataclass(frozen=True)
class Sensor:
    """Optics and sensor of one shot."""

    defocus_px: float  # Gaussian sigma
    read_dn: float  # read noise sigma
    shot: float  # shot noise variance per DN
    jpeg_quality: int
    exposure: float = 1.0  # multiplies the bench's gain (unusable shots)

    @staticmethod
    def draw(rng: np.random.Generator) -> Sensor:
        return Sensor(
            float(rng.uniform(0.4, 1.0)),
            float(rng.uniform(1.0, 3.0)),
            float(rng.uniform(0.01, 0.03)),
            int(rng.integers(85, 96)),
        )

    def to_json(self) -> dict:
        return {
            "defocus_px": round(self.defocus_px, 3),
            "read_noise_dn": round(self.read_dn, 3),
            "jpeg_quality": self.jpeg_quality,
            "exposure": round(self.exposure, 4),
        }


def radiance(
    canvas: Canvas, bench: Bench, rng: np.random.Generator, px_per_mm: float
) -> np.ndarray:
    """The scene's light reaching the lens, float32 (H, W, 3), in DN before the sensor."""
    h, w = canvas.alpha.shape
    bg = surface(bench, rng, (w, h), px_per_mm)
    if bench.shadow:
        dx, dy, blur, dark = bench.shadow
        shift = np.float32([[1, 0, dx * px_per_mm], [0, 1, dy * px_per_mm]])
        shade = cv2.warpAffine(canvas.alpha, shift, (w, h), flags=cv2.INTER_LINEAR)
        shade = cv2.GaussianBlur(shade, (0, 0), blur * px_per_mm)
        bg *= (1 - dark * shade)[..., None]
    img = canvas.rgb + bg * (1 - canvas.alpha)[..., None]
    img *= (illumination(bench, (w, h)) * bench.gain_dn)[..., None]
    return img


def expose(img: np.ndarray, sensor: Sensor, rng: np.random.Generator) -> np.ndarray:
    """Defocus, exposure, noise and 8-bit quantisation -> uint8 BGR."""
    if sensor.exposure != 1.0:
        img = img * sensor.exposure
    img = cv2.GaussianBlur(img, (0, 0), sensor.defocus_px)
    sigma = np.sqrt(sensor.read_dn**2 + sensor.shot * np.clip(img, 0, None))
    img += rng.standard_normal(img.shape, dtype=np.float32) * sigma
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)

"""One net seen through the camera: net mm of every pixel, and net mm -> pixel projection."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from .camera import Camera
from .net import Net

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open), inside the image


@dataclass
class View:
    """The net frame as seen in the image: `u`, `v` are the net coordinates (mm) of each pixel."""

    camera: Camera
    net: Net
    u: np.ndarray  # float32 (H, W)
    v: np.ndarray

    @staticmethod
    def of(camera: Camera, net: Net) -> View:
        mx, my = camera.pixel_to_plane()
        a = math.radians(net.params.angle_deg)
        c, s = math.cos(a), math.sin(a)
        ox, oy = float(net.origin_mm[0]), float(net.origin_mm[1])
        dx, dy = mx - ox, my - oy
        return View(camera, net, c * dx + s * dy, c * dy - s * dx)

    @property
    def size(self) -> tuple[int, int]:
        return self.camera.size

    def to_px(self, uv: np.ndarray) -> np.ndarray:
        """(..., 2) net mm -> (..., 2) image px."""
        return self.camera.project_plane(self.net.to_bench(uv))

    def box(self, px: np.ndarray, pad: float = 2.0) -> Box | None:
        """Integer box around pixel points (..., 2), padded and clipped; None if off-image."""
        p = np.asarray(px).reshape(-1, 2)
        w, h = self.size
        x0 = max(int(math.floor(p[:, 0].min() - pad)), 0)
        x1 = min(int(math.ceil(p[:, 0].max() + pad)) + 1, w)
        y0 = max(int(math.floor(p[:, 1].min() - pad)), 0)
        y1 = min(int(math.ceil(p[:, 1].max() + pad)) + 1, h)
        if x0 >= x1 or y0 >= y1:
            return None
        return y0, y1, x0, x1

    def footprint(self, uv: np.ndarray) -> float:
        """Pixel size in mm near net point `uv` (isotropic approximation)."""
        p = self.to_px(np.asarray(uv, np.float64) + np.array([[0, 0], [1, 0], [0, 1]]))
        jac = np.column_stack([p[1] - p[0], p[2] - p[0]])
        return float(1 / np.sqrt(abs(np.linalg.det(jac))))


def view_border(mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Bench points (N, 2) along the image border of a plane map."""
    edges = [(mx[0], my[0]), (mx[-1], my[-1]), (mx[:, 0], my[:, 0]), (mx[:, -1], my[:, -1])]
    return np.concatenate([np.column_stack([x[::8], y[::8]]) for x, y in edges])

"""Rectification: input pixels <-> bench-plane millimetres through lens and plane."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .calibration import image_to_bench_mm
from .domain import Calibration
from .errors import CalibrationError


def distort(cal: Calibration, undist_px: np.ndarray) -> np.ndarray:
    """Undistorted (ideal pinhole) pixels -> real image pixels, OpenCV's 5-coefficient model."""
    k = cal.camera_matrix
    k1, k2, p1, p2, k3 = (float(v) for v in np.ravel(cal.dist_coeffs)[:5])
    x = (undist_px[..., 0] - k[0, 2]) / k[0, 0]
    y = (undist_px[..., 1] - k[1, 2]) / k[1, 1]
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd * k[0, 0] + k[0, 2], yd * k[1, 1] + k[1, 2]], axis=-1)


# The bench view needs no more than this: 0.33 mm pixels measure openings to ~0.17 mm on
# average (README, accuracy), and every step after rectification costs in proportion.
MAX_PX_PER_MM = 3.0


def _apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = pts @ h[:, :2].T + h[:, 2]
    return p[..., :2] / p[..., 2:3]


def image_to_bench(cal: Calibration, px: np.ndarray) -> np.ndarray:
    """Real image pixels (N,2) -> bench millimetres (N,2)."""
    return image_to_bench_mm(px, cal.camera_matrix, cal.dist_coeffs, cal.plane_homography)


def bench_to_image(cal: Calibration, mm: np.ndarray) -> np.ndarray:
    """Bench millimetres (...,2) -> real image pixels (...,2)."""
    return distort(cal, _apply_h(np.linalg.inv(cal.plane_homography), np.asarray(mm, np.float64)))


@dataclass(frozen=True)
class Rectifier:
    """A fixed remap from the input image to a top-down bench view at `px_per_mm`.

    Built once per calibration; `rectify` is one cv2.remap per frame.
    """

    cal: Calibration
    px_per_mm: float
    origin_mm: tuple[float, float]  # bench mm at rectified pixel (0, 0)
    size: tuple[int, int]  # (width, height) of the rectified view
    map1: np.ndarray
    map2: np.ndarray
    valid: np.ndarray  # uint8 255 where the rectified pixel comes from inside the image

    @staticmethod
    def build(cal: Calibration, px_per_mm: float | None = None) -> Rectifier:
        s = float(px_per_mm or min(1.0 / cal.mm_per_px, MAX_PX_PER_MM))
        w, h = cal.image_size
        t = np.linspace(0.0, 1.0, 200)
        border = np.concatenate([
            np.stack([t * (w - 1), np.zeros_like(t)], 1),
            np.stack([t * (w - 1), np.full_like(t, h - 1)], 1),
            np.stack([np.zeros_like(t), t * (h - 1)], 1),
            np.stack([np.full_like(t, w - 1), t * (h - 1)], 1),
        ])
        mm = image_to_bench(cal, border)
        x0, y0 = mm.min(0)
        x1, y1 = mm.max(0)
        rw, rh = int(np.ceil((x1 - x0) * s)) + 1, int(np.ceil((y1 - y0) * s)) + 1
        u, v = np.meshgrid(np.arange(rw, dtype=np.float64), np.arange(rh, dtype=np.float64))
        src = bench_to_image(cal, np.stack([x0 + u / s, y0 + v / s], -1)).astype(np.float32)
        map1, map2 = cv2.convertMaps(src[..., 0], src[..., 1], cv2.CV_16SC2)
        ones = np.full((h, w), 255, np.uint8)
        valid = cv2.remap(ones, map1, map2, cv2.INTER_NEAREST, borderValue=0)
        valid = _one_piece(cv2.erode(valid, np.ones((5, 5), np.uint8)))
        return Rectifier(cal, s, (float(x0), float(y0)), (rw, rh), map1, map2, valid)

    def rectify(self, image: np.ndarray) -> np.ndarray:
        return cv2.remap(image, self.map1, self.map2, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def rect_to_image(self, pts: np.ndarray) -> np.ndarray:
        """Rectified-view pixels (N,2) -> input-image pixels (N,2)."""
        mm = np.asarray(pts, np.float64) / self.px_per_mm + np.asarray(self.origin_mm)
        return bench_to_image(self.cal, mm)


def _one_piece(valid: np.ndarray) -> np.ndarray:
    """The camera's view of the bench as one piece without holes (mesh.find_openings relies
    on it). Far outside the image a lens model can fold back onto it, leaving islands of
    pixels that seem to be in view: only the largest piece is kept. A hole inside the view
    would be such a fold across the view itself: the calibration is refused."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(valid, connectivity=8)
    if n > 2:
        main = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        valid = np.where(labels == main, 255, 0).astype(np.uint8)
    _, hierarchy = cv2.findContours(valid, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None or len(hierarchy[0]) != 1:
        raise CalibrationError("the calibration does not map the image onto one piece of the "
                               "bench (its lens distortion folds the view); calibrate the "
                               "camera again with more chessboard photos near the corners")
    return valid

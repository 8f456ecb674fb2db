"""Tiny, exact test nets: axis-aligned strands drawn as filled rectangles in a pinhole view.

Independent of the synthetic renderer: the expected spans are the rectangle gaps by construction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np

from qcstation.domain import Calibration


def ideal_calibration(width: int, height: int, px_per_mm: float) -> Calibration:
    """A distortion-free camera looking straight down: bench mm = px / px_per_mm."""
    k = np.array([[1000.0, 0, width / 2], [0, 1000.0, height / 2], [0, 0, 1]])
    hmat = np.diag([1 / px_per_mm, 1 / px_per_mm, 1.0])
    return Calibration((width, height), k, np.zeros(5), hmat, 1 / px_per_mm, 0.0, (9, 6), 25.0,
                       0, datetime.now(UTC).isoformat())


def grid_net(width=800, height=600, px_per_mm=4.0, opening=(25.0, 25.0), strand=6.0,
             bench=220, yarn=(40, 70, 110), offset=(7.0, 5.0)) -> np.ndarray:
    """BGR image of a square net: strand bodies of `strand` mm, clear openings of `opening` mm."""
    img = np.full((height, width, 3), bench, np.uint8)
    s = px_per_mm
    px, py = opening[0] + strand, opening[1] + strand
    for x in np.arange(offset[0], width / s, px):
        cv2.rectangle(img, (round(x * s), 0), (round((x + strand) * s) - 1, height), yarn, -1)
    for y in np.arange(offset[1], height / s, py):
        cv2.rectangle(img, (0, round(y * s)), (width, round((y + strand) * s) - 1), yarn, -1)
    return img

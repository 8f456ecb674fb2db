"""Model time per frame, for the benchmark: `DefectModel.find` on a frame's bench view."""

from __future__ import annotations

import logging
import time

import numpy as np

from ..domain import Calibration
from ..rectify import Rectifier
from .runtime import DefectModel

logger = logging.getLogger(__name__)


def find_ms(
    model: DefectModel, view: np.ndarray, valid: np.ndarray, px_per_mm: float, repeats: int = 7
) -> float:
    """Median wall time (ms) of `model.find` on one bench view, after one warm-up run."""
    model.find(view, valid, px_per_mm)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.find(view, valid, px_per_mm)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def frame_ms(
    model: DefectModel, image: np.ndarray, calibration: Calibration, repeats: int = 7
) -> float:
    """Median model time for one input frame: its bench view at the calibration's own scale
    (what `Inspector` hands the model, less the turn to the mesh axes)."""
    rect = Rectifier.build(calibration)
    return find_ms(model, rect.rectify(image), rect.valid, rect.px_per_mm, repeats)

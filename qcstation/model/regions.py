"""Defect regions from the model's class probabilities: threshold, label, filter, merge."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from ..structural import Finding
from .card import CLASSES, DEFECT_CLASSES, Thresholds
from .verify import Verifier, verified_regions

logger = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x, y, w, h


def class_masks(probs: np.ndarray, valid: np.ndarray, th: Thresholds) -> dict[str, np.ndarray]:
    """uint8 mask per defect class: at or above its threshold and the likeliest defect class."""
    first = CLASSES.index(DEFECT_CLASSES[0])
    defect = probs[first:]
    best = defect.argmax(axis=0)
    out = {}
    for k, name in enumerate(DEFECT_CLASSES):
        m = (defect[k] >= th.prob[name]) & (best == k) & valid
        out[name] = m.astype(np.uint8)
    return out


def components(prob: np.ndarray, mask: np.ndarray) -> list[tuple[Box, float, int]]:
    """Connected regions of `mask` (8-neighbour): (box in cells, peak probability, cells)."""
    if not mask.any():
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    peak = np.zeros(n, np.float32)
    inside = labels > 0
    np.maximum.at(peak, labels[inside], prob[inside])
    return [
        (
            (float(stats[i, 0]), float(stats[i, 1]), float(stats[i, 2]), float(stats[i, 3])),
            float(peak[i]),
            int(stats[i, 4]),
        )
        for i in range(1, n)
    ]


def regions(
    pieces: list[tuple[Box, float, int]], min_cells: float, min_score: float, gap: float,
    area_after_merge: bool = False,
) -> list[tuple[Box, float]]:
    """Defects from the connected `pieces` (`components`) of one class: pieces whose peak is at
    least `min_score`, merged where closer than `gap` cells, with at least `min_cells` cells
    each, counted per piece before the merge or, with `area_after_merge`, per merged defect."""
    sure = [p for p in pieces if p[1] >= min_score]
    if area_after_merge:
        return [(box, peak) for box, peak, cells in merge_close(sure, gap) if cells >= min_cells]
    return merge_close([(box, peak) for box, peak, cells in sure if cells >= min_cells], gap)


def _gap(a: Box, b: Box) -> float:
    dx = max(a[0] - (b[0] + b[2]), b[0] - (a[0] + a[2]), 0.0)
    dy = max(a[1] - (b[1] + b[3]), b[1] - (a[1] + a[3]), 0.0)
    return float(np.hypot(dx, dy))


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def merge_close(items: list[tuple], gap: float) -> list[tuple]:
    """Merge regions (box, peak) or (box, peak, cells) whose boxes lie closer than `gap` (a
    string broken by the strands it passes under is one defect), until no two are that close:
    the boxes' union, the higher peak and the cells summed."""
    items = list(items)
    merged = True
    while merged:
        merged = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                if _gap(items[i][0], items[j][0]) < gap:
                    a, b = items[i], items[j]
                    items[i] = (_union(a[0], b[0]), max(a[1], b[1]),
                                *(x + y for x, y in zip(a[2:], b[2:], strict=True)))
                    del items[j]
                    merged = True
                    break
            if merged:
                break
    return items


def find_defects(
    probs: np.ndarray, valid: np.ndarray, cell_mm: float, cell_px: float, th: Thresholds,
    verifiers: dict[str, Verifier] | None = None, view: np.ndarray | None = None,
    stride: int = 4,
) -> list[Finding]:
    """Findings from probabilities (C, h, w) on cells of `cell_mm`; boxes in units of `cell_px`
    (the pixels of the view the cells cover). Regions of a class with a verifier are kept only
    when it accepts them; it needs `view`, the model's input (cells of `stride` px of it)."""
    out = []
    verifiers = verifiers or {}
    masks = class_masks(probs, valid, th)
    for name, mask in masks.items():
        prob = probs[CLASSES.index(name)]
        min_cells = th.min_area_mm2[name] / cell_mm**2
        gap = th.merge_gap_mm[name] / cell_mm
        if name in verifiers:
            if view is None:
                raise ValueError(f"the {name} verifier needs the view")
            found = merge_close(verified_regions(probs, mask, name, view, valid, cell_mm, stride,
                                                 min_cells, th.min_score[name], verifiers[name]),
                                gap)
        else:
            found = regions(components(prob, mask), min_cells, th.min_score[name], gap,
                            th.area_after_merge)
        for (x, y, w, h), score in found:
            box = (x * cell_px, y * cell_px, w * cell_px, h * cell_px)
            score = float(min(max(score, 0.0), 1.0))
            out.append(Finding(name, box, (box[2], box[3]), score, ()))
    return out

"""Region thresholds chosen on the validation photos: the most recall within a false-positive
budget, with the exported model run exactly as the station runs it (tiled, in onnxruntime)."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from ..evaluate import match_defects
from ..model.card import CLASSES, DEFECT_CLASSES, Thresholds
from ..model.preprocess import normalise
from ..model.regions import class_masks, components, regions
from ..model.runtime import DefectModel
from .data import IGNORE, Sample

logger = logging.getLogger(__name__)

PROBS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SCORES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
AREAS_MM2 = (4.0, 8.0, 16.0, 32.0, 64.0)
GAPS_MM = (12.0, 25.0, 40.0)  # a string under the net shows in pieces one strand apart
FP_BUDGET = 0.04  # false positives per photo and class allowed on validation


@dataclass(frozen=True)
class Choice:
    prob: float
    score: float
    area_mm2: float
    gap_mm: float
    recall: float
    fp_per_image: float
    true: int


def predict(model: DefectModel, samples: list[Sample]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(probabilities, valid cells) of every validation photo."""
    out = []
    s = model.card.output_stride
    for smp in samples:
        valid = smp.labels != IGNORE
        probs = model.probabilities(normalise(smp.image, valid))
        out.append((probs, valid[::s, ::s][: probs.shape[1], : probs.shape[2]]))
    return out


def _components(name: str, preds, prob: float) -> list[list]:
    """Regions of one class in every photo at one probability threshold."""
    th = Thresholds(dict.fromkeys(DEFECT_CLASSES, prob), {}, {}, {})
    k = CLASSES.index(name)
    return [components(p[k], class_masks(p, valid, th)[name]) for p, valid in preds]


def _score(
    name: str,
    comps: list[list],
    samples: list[Sample],
    score: float,
    area_cells: float,
    stride: int,
    gap_cells: float,
) -> tuple[int, int, int]:
    """(true, found, false positives) of one class over the photos at one setting."""
    n_true = n_found = n_fp = 0
    for regs, smp in zip(comps, samples, strict=True):
        found = [
            {"type": name, "bbox_px": [v * stride for v in b]}
            for b, _ in regions(regs, area_cells, score, gap_cells)
        ]
        truth = [{"type": t, "bbox_px": list(b)} for t, b in smp.boxes if t == name]
        matched, fp = match_defects(truth, found)
        n_true += len(truth)
        n_found += matched[name]
        n_fp += fp[name]
    return n_true, n_found, n_fp


def choose(model: DefectModel, samples: list[Sample]) -> dict[str, Choice]:
    """Per defect class, the setting with the highest recall within FP_BUDGET (ties: fewer
    false positives, then the stricter setting)."""
    preds = predict(model, samples)
    c = model.card
    cell_mm = c.output_stride / c.px_per_mm
    best: dict[str, Choice] = {}
    for name in DEFECT_CLASSES:
        ranked = []
        for prob in PROBS:
            comps = _components(name, preds, prob)
            for score, area, gap in itertools.product(SCORES, AREAS_MM2, GAPS_MM):
                if score < prob:
                    continue
                n, found, fp = _score(
                    name, comps, samples, score, area / cell_mm**2, c.output_stride, gap / cell_mm
                )
                ch = Choice(prob, score, area, gap, found / max(n, 1), fp / max(len(samples), 1), n)
                strict = (score, area, prob, -gap)
                if ch.fp_per_image <= FP_BUDGET:
                    key = (1, ch.recall, -ch.fp_per_image, *strict)
                else:  # nothing within the budget: the fewest false positives
                    key = (0, -ch.fp_per_image, ch.recall, *strict)
                ranked.append((key, ch))
        best[name] = max(ranked, key=lambda r: r[0])[1]
        logger.info("%s: %s", name, best[name])
    return best


def thresholds(best: dict[str, Choice]) -> Thresholds:
    return Thresholds(
        {k: v.prob for k, v in best.items()},
        {k: v.area_mm2 for k, v in best.items()},
        {k: v.score for k, v in best.items()},
        {k: v.gap_mm for k, v in best.items()},
    )

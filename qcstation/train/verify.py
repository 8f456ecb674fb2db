"""Fit the second-stage verifier of one defect class (`qcstation.model.verify`) on cached photos.

The caches are those of `qcstation.train.sweep cache` (they keep the model's input view too).
Candidates are the class's regions at a low probability threshold; each is labelled by whether
it overlaps a true defect of the class the way `qcstation eval` matches, described by the
verifier's features, and a logistic model (optionally with every product of two standardised
features) is fitted on the fitting caches. The candidate threshold, area, merge gap and the
decision threshold are then chosen on separate caches, counting the way `eval` does (after
merging), as the highest recall within a false-positive budget; recall counts every photo,
false positives only photos rendered without extra stains (whose defect mix is eval's).

    python -m qcstation.train.verify fit --fit A.pkl... --choose B.pkl... --card CARD.json
        [--class stain] [--budget 0.05] [--quadratic] [--l2 0.01] [--write]

Use photos rendered with seeds that eval never uses, and different seeds for fit and choose.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..evaluate import match_defects, overlap
from ..model.card import CLASSES, DEFECT_CLASSES, ModelCard, Thresholds
from ..model.regions import class_masks, merge_close
from ..model.verify import FEATURES, Verifier, expand, region_features
from .sweep import Cached, _boxes_to_image, load_sets

logger = logging.getLogger(__name__)

MATCH = 0.3  # evaluate.MATCH_OVERLAP: a candidate is true when it would match a true defect
PROBS = (0.1, 0.15, 0.2, 0.3)
AREAS_MM2 = (16.0, 32.0, 48.0, 64.0)
GAPS_MM = (6.0, 12.0)
L2 = 1e-2


@dataclass
class Candidates:
    """Every candidate region of one class in a list of cached photos."""

    x: np.ndarray  # (n, len(FEATURES))
    y: np.ndarray  # (n,) bool: overlaps a true defect of the class
    image: np.ndarray  # (n,) index into `photos`
    boxes: np.ndarray  # (n, 4) cells
    area_mm2: np.ndarray  # (n,)
    photos: list[tuple[Cached, object, list[dict]]]  # cached photo, rectifier, its truth
    natural: np.ndarray  # (photos,) bool: rendered without extra stains (counts false alarms)


def photo_candidates(c: Cached, rect, cls: str, prob: float, stride: int):
    """(features, boxes in cells, labels) of the class's regions at `prob` in one photo."""
    p = c.probs.astype(np.float32)
    th = Thresholds(dict.fromkeys(DEFECT_CLASSES, prob), {}, {}, {})
    mask = class_masks(p, c.cells, th)[cls]
    if not mask.any():
        return np.zeros((0, len(FEATURES))), np.zeros((0, 4)), np.zeros(0, bool)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x = region_features(p, labels, stats, cls, c.view, c.cells, c.cell_mm, stride)
    boxes = stats[1:, :4].astype(np.float64)
    found = _boxes_to_image([(tuple(b), 1.0) for b in boxes], c, rect, cls)
    truth = [d["bbox_px"] for d in c.truth if d["type"] == cls]
    y = np.array([any(overlap(t, f["bbox_px"]) >= MATCH for t in truth) for f in found], bool)
    return x, boxes, y


def load(paths: list[Path]) -> list[tuple[list[Cached], object, bool]]:
    """Cached sets (`sweep.load_sets`) and whether each was rendered without extra stains."""
    out = []
    for p, (items, rect) in zip(paths, load_sets(paths), strict=True):
        with open(p, "rb") as fh:
            folder = Path(pickle.load(fh)["folder"])
        meta = json.loads((folder / "dataset.json").read_text())
        out.append((items, rect, not meta.get("extra_stains")))
    return out


def collect(sets, cls: str, prob: float, stride: int) -> Candidates:
    xs, ys, imgs, boxes, photos, natural = [], [], [], [], [], []
    for items, rect, nat in sets:
        for c in items:
            i = len(photos)
            photos.append((c, rect, [d for d in c.truth if d["type"] == cls]))
            natural.append(nat)
            if c.probs is None:
                continue
            if c.view is None:
                raise SystemExit(f"{c.name}: the cache has no views; cache it again")
            x, b, y = photo_candidates(c, rect, cls, prob, stride)
            xs.append(x)
            ys.append(y)
            boxes.append(b)
            imgs.append(np.full(len(y), i))
    x = np.concatenate(xs)
    return Candidates(x, np.concatenate(ys), np.concatenate(imgs), np.concatenate(boxes),
                      np.exp(x[:, FEATURES.index("log_area_mm2")]), photos, np.array(natural))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = L2, quadratic: bool = False
) -> tuple[np.ndarray, ...]:
    """Standardise x to z and fit P(y) = sigmoid(expand(z) @ w + b) by Newton steps with an L2
    penalty on w; returns (mean, scale, w, b)."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = np.column_stack([expand((x - mean) / scale, quadratic), np.ones(len(x))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2 * len(x))
    reg[-1] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (p - y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])


@dataclass(frozen=True)
class Score:
    prob: float
    area_mm2: float
    gap_mm: float
    threshold: float
    true: int
    found: int
    fp: int
    images: int  # photos whose false alarms were counted

    @property
    def recall(self) -> float:
        return self.found / max(1, self.true)

    @property
    def fp_per_image(self) -> float:
        return self.fp / max(1, self.images)

    def line(self) -> str:
        return (f"prob {self.prob} area {self.area_mm2} gap {self.gap_mm} threshold "
                f"{self.threshold:.3f}: recall {self.found}/{self.true} = {self.recall:.1%}, "
                f"FP {self.fp} = {self.fp_per_image:.3f}/img")


def count(cand: Candidates, keep: np.ndarray, cls: str, gap_mm: float) -> tuple[int, int, int]:
    """(true, found, false positives) when the candidates `keep` are the findings, merged;
    false positives only on photos rendered without extra stains (as many as eval's)."""
    n_true = sum(len(truth) for _, _, truth in cand.photos)
    n_found = n_fp = 0
    sel = np.flatnonzero(keep)
    for i in np.unique(cand.image[sel]):
        c, rect, truth = cand.photos[i]
        items = [(tuple(b), 1.0) for b in cand.boxes[sel[cand.image[sel] == i]]]
        found = _boxes_to_image(merge_close(items, gap_mm / c.cell_mm), c, rect, cls)
        matched, fp = match_defects(truth, found)
        n_found += matched[cls]
        n_fp += fp[cls] if cand.natural[i] else 0
    return n_true, n_found, n_fp


def choose(cand: Candidates, v: Verifier, cls: str, prob: float, budget: float) -> list[Score]:
    """Scores of every area, gap and decision threshold on the threshold photos."""
    p = v.probability(cand.x)
    ts = np.unique(np.round(np.quantile(p[p > 0.02], np.linspace(0, 1, 41)), 3)) if len(p) else []
    out = []
    for area, gap, t in itertools.product(AREAS_MM2, GAPS_MM, ts):
        keep = (cand.area_mm2 >= area - 1e-6) & (p >= t)
        true, found, fp = count(cand, keep, cls, gap)
        out.append(Score(prob, area, gap, float(t), true, found, fp, int(cand.natural.sum())))
    out.sort(key=lambda s: (s.fp_per_image <= budget, s.recall, -s.fp_per_image, s.threshold),
             reverse=True)
    return out


def separability(cand: Candidates) -> str:
    """One line per feature: means of true and false candidates (a look at what separates)."""
    lines = [f"{cand.y.sum()} true, {(~cand.y).sum()} false candidates"]
    for k, name in enumerate(FEATURES):
        a, b = cand.x[cand.y, k], cand.x[~cand.y, k]
        lines.append(f"  {name:14s} true {a.mean():8.3f} +- {a.std():6.3f}   "
                     f"false {b.mean():8.3f} +- {b.std():6.3f}")
    return "\n".join(lines)


def run_fit(a: argparse.Namespace) -> int:
    card = ModelCard.from_json(json.loads(a.card.read_text()))
    stride, cls = card.output_stride, a.cls
    fit_sets, choose_sets = load(a.fit), load(a.choose)
    feats = tuple(a.features or FEATURES)
    idx = [FEATURES.index(f) for f in feats]
    best = None
    for prob in a.probs:
        tr = collect(fit_sets, cls, prob, stride)
        tr_keep = tr.area_mm2 >= min(AREAS_MM2) - 1e-6
        print(f"== candidates at prob {prob}: fit " + separability(_subset(tr, tr_keep)))
        mean, scale, w, b = fit_logistic(tr.x[tr_keep][:, idx], tr.y[tr_keep].astype(float),
                                         a.l2, a.quadratic)
        v = Verifier(feats, mean, scale, w, b, 0.5, a.quadratic)
        ch = collect(choose_sets, cls, prob, stride)
        scores = choose(ch, v, cls, prob, a.budget)
        for s in scores[:3]:
            print("  ", s.line())
        key = (scores[0].fp_per_image <= a.budget, scores[0].recall, -scores[0].fp_per_image)
        if best is None or key > best[0]:
            best = (key, scores[0], v)
    _, s, v = best
    print("chosen:", s.line())
    if a.write:
        write_card(a.card, card, cls, s, v, a)
    return 0


def _subset(c: Candidates, keep: np.ndarray) -> Candidates:
    return Candidates(c.x[keep], c.y[keep], c.image[keep], c.boxes[keep], c.area_mm2[keep],
                      c.photos, c.natural)


def write_card(path: Path, card: ModelCard, cls: str, s: Score, v: Verifier, a) -> None:
    from dataclasses import replace

    th = card.thresholds
    thresholds = Thresholds(
        {**th.prob, cls: s.prob}, {**th.min_area_mm2, cls: s.area_mm2},
        {**th.min_score, cls: s.prob}, {**th.merge_gap_mm, cls: s.gap_mm},
    )
    verifier = Verifier(v.features, v.mean, v.scale, v.weights, v.bias,
                        round(s.threshold, 4), v.quadratic)
    training = dict(card.training)
    training.setdefault("verify", {})[cls] = {
        "command": "python -m qcstation.train.verify " + " ".join(sys.argv[1:]),
        "fit": [str(p) for p in a.fit],
        "choose": [str(p) for p in a.choose],
        "budget_fp_per_image": a.budget,
        "chosen": {"prob": s.prob, "area_mm2": s.area_mm2, "gap_mm": s.gap_mm,
                   "threshold": verifier.threshold, "true": s.true, "found": s.found,
                   "fp": s.fp, "images": s.images, "recall": s.recall,
                   "fp_per_image": s.fp_per_image},
    }
    verify = {**card.verify, cls: verifier.to_json()}
    replace(card, thresholds=thresholds, verify=verify, training=training).save(path)
    print("written", path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qcstation.train.verify")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("--fit", nargs="+", type=Path, required=True, help="caches to fit on")
    f.add_argument("--choose", nargs="+", type=Path, required=True,
                   help="caches to choose the candidate setting and threshold on")
    f.add_argument("--card", type=Path, required=True, help="model card JSON")
    f.add_argument("--class", dest="cls", default="stain", choices=CLASSES[2:])
    f.add_argument("--budget", type=float, default=0.05, help="false positives per photo")
    f.add_argument("--probs", nargs="+", type=float, default=list(PROBS))
    f.add_argument("--features", nargs="+", choices=FEATURES)
    f.add_argument("--quadratic", action="store_true", help="also every product of two features")
    f.add_argument("--l2", type=float, default=L2, help="penalty per candidate on the weights")
    f.add_argument("--write", action="store_true", help="write the chosen verifier into the card")
    a = ap.parse_args(argv)
    return run_fit(a)


if __name__ == "__main__":
    sys.exit(main())

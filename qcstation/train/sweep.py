"""Region thresholds measured the way `qcstation eval` counts: the model's probabilities of every
photo of a synth folder are cached once while the real Inspector runs (rectify, mesh-aligned
view, tiled onnxruntime), then any threshold setting is turned into defects with the station's
own `find_defects` and box mapping and matched against the truth with `match_defects`.

    python -m qcstation.train.sweep cache DIR OUT.pkl [--model ONNX]
    python -m qcstation.train.sweep sweep OUT.pkl... [--budget 0.05]
    python -m qcstation.train.sweep show OUT.pkl... --card CARD.json   (the card's thresholds)
    python -m qcstation.train.sweep apply OUT.pkl... --card CARD.json [--budget 0.05]
        (writes the best setting per class within the budget into the card)

Use folders rendered with seeds that neither training nor eval uses to choose thresholds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..domain import APPEARANCE_TYPES
from ..evaluate import match_defects
from ..model.card import CLASSES, DEFECT_CLASSES, Thresholds
from ..model.regions import class_masks, components, regions

PROBS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
SCORES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
AREAS_MM2 = (8.0, 16.0, 24.0, 32.0, 48.0, 64.0, 80.0, 100.0, 128.0)
GAPS_MM = (6.0, 12.0)


class Recorder:
    """Stands in for a DefectModel in the Inspector: runs it unchanged, and keeps the
    probabilities (and how cells map to the view) of the last frame."""

    def __init__(self, model):
        self.model = model
        self.card = model.card
        self.info = model.info
        self.last = None
        self._probs = None
        run = model.probabilities

        def recording(x):
            self._probs = run(x)
            return self._probs

        model.probabilities = recording

    def __getattr__(self, name):  # anything else the Inspector asks of the model
        return getattr(self.model, name)

    def _keep(self, view, valid, px_per_mm) -> None:
        import cv2

        from ..model.preprocess import to_model_scale

        m = self.card.px_per_mm
        img = to_model_scale(view, px_per_mm, m)
        val = to_model_scale(valid, px_per_mm, m, cv2.INTER_NEAREST)
        probs = self._probs
        cells = (
            cv2.resize(val, (probs.shape[2], probs.shape[1]), interpolation=cv2.INTER_NEAREST) > 0
        )
        s = self.card.output_stride
        scale = 0.5 * (img.shape[1] / view.shape[1] + img.shape[0] / view.shape[0])
        # cells in px of `view`; px_per_mm says which view that was (the Inspector scales
        # findings from it to its bench view)
        self.last = (probs.astype(np.float16), cells, s / m, s / scale, px_per_mm, img)

    def analyse(self, view, valid, px_per_mm):
        out = self.model.analyse(view, valid, px_per_mm)
        self._keep(view, valid, px_per_mm)
        return out

    def find(self, view, valid, px_per_mm):
        out = self.model.find(view, valid, px_per_mm)
        self._keep(view, valid, px_per_mm)
        return out


@dataclass
class Cached:
    name: str
    truth: list[dict]  # appearance defects of the truth (image px)
    probs: np.ndarray | None  # None: the image was an error before the model ran
    cells: np.ndarray | None
    cell_mm: float
    cell_px: float
    back: np.ndarray | None  # mesh-aligned view px -> rectified px
    rect_px_per_mm: float
    shape: tuple[int, ...]
    view: np.ndarray | None = None  # the model's input view (BGR uint8 at its px_per_mm)


def cache(folder: Path, model_path: Path | None, threads: int) -> list[Cached]:
    import cv2

    from ..cli.evaluate import _calibration, _dataset_spec
    from ..imageio import read_image
    from ..model import DEFAULT_MODEL, DefectModel
    from ..pipeline import Inspector
    from ..spec import load_spec
    from .data import refuse_held_out

    refuse_held_out(folder)
    rec = Recorder(DefectModel.load(model_path or DEFAULT_MODEL, threads=threads))
    inspector = Inspector(load_spec(_dataset_spec(folder)), _calibration(folder), model=rec)
    out = []
    for tpath in sorted(folder.glob("[0-9][0-9][0-9][0-9].json")):
        truth = json.loads(tpath.read_text())
        image = read_image(folder / truth["image"])
        rec.last = None
        _, analysis = inspector.inspect(image, truth["image"])
        app = [d for d in truth.get("defects", []) if d["type"] in APPEARANCE_TYPES]
        if analysis is None or rec.last is None:
            out.append(Cached(truth["image"], app, None, None, 0, 0, None, 0, image.shape))
            continue
        probs, cells, cell_mm, cell_px, view_px_per_mm, view = rec.last
        cell_px *= analysis.bench.px_per_mm / view_px_per_mm
        back = cv2.invertAffineTransform(analysis.bench.to_mesh)
        out.append(
            Cached(
                truth["image"], app, probs, cells, cell_mm, cell_px, back,
                analysis.bench.px_per_mm, image.shape, view,
            )
        )  # fmt: skip
        print(f"\r{folder.name}: {len(out)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def _boxes_to_image(items, c: Cached, rect, name: str) -> list[dict]:
    from ..pipeline import _to_defect
    from ..structural import Finding

    out = []
    for (x, y, w, h), score in items:
        box = (x * c.cell_px, y * c.cell_px, w * c.cell_px, h * c.cell_px)
        f = Finding(name, box, (box[2], box[3]), score, ())
        out.append(_to_defect(f, c.back, rect, c.rect_px_per_mm, c.shape).to_json())
    return out


@dataclass(frozen=True)
class Result:
    prob: float
    score: float
    area_mm2: float
    gap_mm: float
    true: int
    found: int
    fp: int
    images: int

    @property
    def recall(self) -> float:
        return self.found / max(1, self.true)

    @property
    def fp_per_image(self) -> float:
        return self.fp / max(1, self.images)


def evaluate_class(
    name: str, sets: list[tuple[list[Cached], object]], prob: float, grid,
    area_after_merge: bool = False,
) -> list[Result]:
    """Results of every (score, area, gap) of `grid` at one probability threshold (the area of
    each piece, or of each merged defect: `Thresholds.area_after_merge`)."""
    th = Thresholds(dict.fromkeys(DEFECT_CLASSES, prob), {}, {}, {})
    k = CLASSES.index(name)
    per_image = []  # (cached, rect, components)
    for items, rect in sets:
        for c in items:
            if c.probs is None:
                per_image.append((c, rect, []))
                continue
            p = c.probs.astype(np.float32)
            per_image.append((c, rect, components(p[k], class_masks(p, c.cells, th)[name])))
    n_img = len(per_image)
    out = []
    memo: dict = {}
    for score, area, gap in grid:
        n_true = n_found = n_fp = 0
        for i, (c, rect, regs) in enumerate(per_image):
            truth = [d for d in c.truth if d["type"] == name]
            n_true += len(truth)
            if not regs:
                continue
            merged = regions(regs, area / c.cell_mm**2, score, gap / c.cell_mm,
                             area_after_merge)
            key = (i, tuple(merged))
            if key not in memo:
                memo[key] = _boxes_to_image(merged, c, rect, name)
            matched, fp = match_defects(truth, memo[key])
            n_found += matched[name]
            n_fp += fp[name]
        out.append(Result(prob, score, area, gap, n_true, n_found, n_fp, n_img))
    return out


def load_sets(paths: list[Path]) -> list[tuple[list[Cached], object]]:
    from ..cli.evaluate import _calibration
    from ..rectify import Rectifier

    sets = []
    for p in paths:
        with open(p, "rb") as fh:
            d = pickle.load(fh)
        items = [Cached(**c) for c in d["items"]]
        sets.append((items, Rectifier.build(_calibration(Path(d["folder"])))))
    return sets


def sweep(sets, budget: float, names=DEFECT_CLASSES,
          area_after_merge: bool = False) -> dict[str, list[Result]]:
    grid = [
        (s, a, g) for s, a, g in itertools.product(SCORES, AREAS_MM2, GAPS_MM)
    ]
    out = {}
    for name in names:
        res = []
        for prob in PROBS:
            res += [r for r in evaluate_class(name, sets, prob, grid, area_after_merge)
                    if r.score >= prob]
        res.sort(key=lambda r: (r.fp_per_image <= budget, r.recall, -r.fp_per_image,
                                r.score, r.area_mm2, r.prob, -r.gap_mm), reverse=True)
        out[name] = res
    return out


def _folder(cache_path: Path) -> str:
    with open(cache_path, "rb") as fh:
        return pickle.load(fh)["folder"]


def apply(card_path: Path, sets, caches: list[Path], budget: float, names=DEFECT_CLASSES,
          area_after_merge: bool = False) -> None:
    """Write the best setting of each class of `names` (`sweep`) into the card at `card_path`;
    the other classes keep theirs."""
    from dataclasses import asdict, replace

    from ..model.card import ModelCard

    card = ModelCard.from_json(json.loads(card_path.read_text()))
    best = {name: res[0] for name, res in sweep(sets, budget, names, area_after_merge).items()}
    t = card.thresholds
    th = Thresholds(
        {**t.prob, **{k: r.prob for k, r in best.items()}},
        {**t.min_area_mm2, **{k: r.area_mm2 for k, r in best.items()}},
        {**t.min_score, **{k: r.score for k, r in best.items()}},
        {**t.merge_gap_mm, **{k: r.gap_mm for k, r in best.items()}},
        area_after_merge,
    )
    folders = [_folder(p) for p in caches]
    training = dict(card.training)
    training["validation"] = {
        **training.get("validation", {}),
        **{k: {**asdict(r), "recall": r.recall, "fp_per_image": r.fp_per_image}
           for k, r in best.items()},
    }
    training["thresholds_chosen"] = (
        f"qcstation.train.sweep: per class the highest recall with at most {budget} false "
        f"positives per photo, counted as `qcstation eval` counts, on {', '.join(folders)}"
        + (f" ({', '.join(names)}; area of each merged defect)" if area_after_merge else "")
    )
    replace(card, thresholds=th, training=training).save(card_path)
    for k, r in best.items():
        print(k, _fmt(r))


def _fmt(r: Result) -> str:
    return (
        f"prob {r.prob} score {r.score} area {r.area_mm2} gap {r.gap_mm}: recall "
        f"{r.found}/{r.true} = {r.recall:.1%}, FP {r.fp} = {r.fp_per_image:.3f}/img"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qcstation.train.sweep")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache")
    c.add_argument("dir", type=Path)
    c.add_argument("out", type=Path)
    c.add_argument("--model", type=Path)
    c.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("sweep")
    s.add_argument("caches", nargs="+", type=Path)
    s.add_argument("--budget", type=float, default=0.05)
    s.add_argument("--top", type=int, default=12)
    s.add_argument("--classes", nargs="+", default=list(DEFECT_CLASSES))
    s.add_argument("--area-after-merge", action="store_true",
                   help="the minimum area is each merged defect's, not each piece's")
    h = sub.add_parser("show")
    h.add_argument("caches", nargs="+", type=Path)
    h.add_argument("--card", type=Path, required=True, help="model card JSON")
    w = sub.add_parser("apply")
    w.add_argument("caches", nargs="+", type=Path)
    w.add_argument("--card", type=Path, required=True, help="model card JSON to update")
    w.add_argument("--budget", type=float, default=0.05)
    w.add_argument("--classes", nargs="+", default=list(DEFECT_CLASSES))
    w.add_argument("--area-after-merge", action="store_true",
                   help="the minimum area is each merged defect's, not each piece's")
    a = ap.parse_args(argv)
    if a.cmd == "cache":
        items = cache(a.dir, a.model, a.threads)
        with open(a.out, "wb") as fh:
            pickle.dump({"folder": str(a.dir.resolve()), "items": [vars(c) for c in items]}, fh)
        return 0
    sets = load_sets(a.caches)
    if a.cmd == "apply":
        apply(a.card, sets, a.caches, a.budget, a.classes, a.area_after_merge)
        return 0
    if a.cmd == "show":
        from ..model.card import ModelCard

        card = ModelCard.from_json(json.loads(a.card.read_text()))
        t = card.thresholds
        for name in DEFECT_CLASSES:
            grid = [(t.min_score[name], t.min_area_mm2[name], t.merge_gap_mm[name])]
            print(name, _fmt(evaluate_class(name, sets, t.prob[name], grid,
                                            t.area_after_merge)[0]))
        return 0
    for name, res in sweep(sets, a.budget, a.classes, a.area_after_merge).items():
        print(f"== {name} (budget {a.budget} FP/img)")
        for r in res[: a.top]:
            print("  ", _fmt(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Accuracy of inspections against synthetic ground truth: verdicts, mesh error, defects."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .domain import APPEARANCE_TYPES, DEFECT_TYPES, STRUCTURAL_TYPES, Inspection
from .errors import DataError

VERDICTS = ("pass", "fail", "error")
MATCH_OVERLAP = 0.3  # a found defect matches a true one of its type when the overlap
# (intersection over the smaller box) reaches this
FAMILY = "family "  # prefix of the per-family tallies (sets of several appearance families)


@dataclass
class Tally:
    """Running counts for one group of images (all, or one bench set-up)."""

    images: int = 0
    confusion: Counter = field(default_factory=Counter)  # (truth, predicted) -> n
    mesh_err: list[float] = field(default_factory=list)  # |error| of mean w and mean h, mm
    mesh_bias: list[float] = field(default_factory=list)  # the same errors, signed
    true_defects: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)  # true defects matched, by type
    false_pos: Counter = field(default_factory=Counter)
    structural_only: Counter = field(default_factory=Counter)  # "right"/"wrong"
    times_ms: list[float] = field(default_factory=list)

    def accuracy(self) -> float:
        right = sum(n for (t, p), n in self.confusion.items() if t == p)
        return right / max(1, self.images)


def parse_truth(text: str, source: str) -> dict:
    """A ground-truth record (NNNN.json of `qcstation synth`), checked; DataError if malformed."""
    try:
        d = json.loads(text)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise DataError(f"{source}: not valid JSON ({str(e)[:80]}); render the set "
                        "again.") from None
    problem = _truth_problem(d)
    if problem:
        raise DataError(f"{source}: not a ground-truth file ({problem}); render the set again.")
    return d


def _truth_problem(d: object) -> str | None:
    if not isinstance(d, dict):
        return f"a JSON object was expected, not {type(d).__name__}"
    image = d.get("image")
    if not isinstance(image, str) or not image or "/" in image or "\\" in image:
        return "key 'image' must be the image's file name in the same folder"
    if not isinstance(d.get("bench", ""), str):
        return "key 'bench' must be the set-up's name"
    if d.get("verdict") not in VERDICTS:
        return f"key 'verdict' must be one of {', '.join(VERDICTS)}"
    defects = d.get("defects", [])
    if not isinstance(defects, list) or not all(_defect_ok(x) for x in defects):
        return "key 'defects' must be a list of {type, bbox_px: [x, y, w, h]}"
    mesh = d.get("mesh")
    if d["verdict"] == "error":  # an unusable photo (a blank bench) has no mesh to compare
        mesh = None
    if mesh is not None and not all(
        isinstance(mesh, dict) and isinstance(mesh.get(k), dict)
        and _number(mesh[k].get("mean")) for k in ("opening_w_mm", "opening_h_mm")
    ):
        return "key 'mesh' must hold opening_w_mm and opening_h_mm with a mean each"
    return None


def _defect_ok(x: object) -> bool:
    return (isinstance(x, dict) and isinstance(x.get("type"), str)
            and isinstance(x.get("bbox_px"), list) and len(x["bbox_px"]) == 4
            and all(_number(v) for v in x["bbox_px"]))


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / max(1.0, min(aw * ah, bw * bh))


def match_defects(truth: list[dict], found: list[dict]) -> tuple[Counter, Counter]:
    """Greedy one-to-one matching by type; returns (matched true per type, unmatched found)."""
    matched, false_pos = Counter(), Counter()
    used = set()
    for f in found:
        best, best_ov = None, MATCH_OVERLAP
        for i, t in enumerate(truth):
            if i in used or t["type"] != f["type"]:
                continue
            ov = overlap(t["bbox_px"], f["bbox_px"])
            if ov >= best_ov:
                best, best_ov = i, ov
        if best is None:
            false_pos[f["type"]] += 1
        else:
            used.add(best)
            matched[f["type"]] += 1
    return matched, false_pos


def add(t: Tally, truth: dict, result: Inspection) -> None:
    t.images += 1
    t.confusion[(truth["verdict"], result.verdict)] += 1
    t.times_ms.append(result.timing_ms.get("total", float("nan")))
    tm, rm = truth.get("mesh"), result.mesh
    if tm and rm and truth["verdict"] != "error":
        for axis in ("opening_w_mm", "opening_h_mm"):
            signed = getattr(rm, axis).mean - tm[axis]["mean"]
            if np.isfinite(signed):  # nan: nothing measured (error)
                t.mesh_bias.append(signed)
                t.mesh_err.append(abs(signed))
    true_defects = truth.get("defects", [])
    t.true_defects.update(d["type"] for d in true_defects)
    matched, fp = match_defects(true_defects, [d.to_json() for d in result.defects])
    t.found.update(matched)
    t.false_pos.update(fp)
    if truth["verdict"] != "error" and not any(d["type"] in APPEARANCE_TYPES
                                               for d in true_defects):
        t.structural_only["right" if result.verdict == truth["verdict"] else "wrong"] += 1


def evaluate(pairs: Iterable[tuple[dict, Inspection]]) -> dict[str, Tally]:
    """Tallies for all images ("all"), per bench set-up, and per appearance family
    ("family NAME") when the images come from several."""
    pairs = list(pairs)
    several = len({t.get("family", "classic") for t, _ in pairs}) > 1
    tallies: dict[str, Tally] = defaultdict(Tally)
    for truth, result in pairs:
        add(tallies["all"], truth, result)
        add(tallies[truth.get("bench", "?")], truth, result)
        if several:
            add(tallies[FAMILY + truth.get("family", "classic")], truth, result)
    return dict(tallies)


def summary(t: Tally) -> dict:
    """Plain numbers for one tally (also what `eval --json` prints)."""
    err = np.asarray(t.mesh_err)
    so = t.structural_only
    s_true = sum(t.true_defects[k] for k in STRUCTURAL_TYPES)
    return {
        "images": t.images,
        "verdict_accuracy": t.accuracy(),
        "structural_verdict_accuracy": (so["right"] / (so["right"] + so["wrong"])
                                        if so["right"] + so["wrong"] else None),
        "unusable_passed": t.confusion[("error", "pass")],
        "mesh_mae_mm": float(err.mean()) if err.size else float("nan"),
        "mesh_max_err_mm": float(err.max()) if err.size else float("nan"),
        "mesh_bias_mm": float(np.mean(t.mesh_bias)) if t.mesh_bias else float("nan"),
        "mesh_within_1mm": float((err <= 1.0).mean()) if err.size else float("nan"),
        "structural_recall": (sum(t.found[k] for k in STRUCTURAL_TYPES) / s_true
                              if s_true else None),
        "structural_fp_per_image": sum(t.false_pos[k] for k in STRUCTURAL_TYPES)
        / max(1, t.images),
        "median_ms": float(np.median(t.times_ms)) if t.times_ms else float("nan"),
        "recall": {k: (t.found[k] / t.true_defects[k] if t.true_defects[k] else None)
                   for k in DEFECT_TYPES},
        "true": {k: t.true_defects[k] for k in DEFECT_TYPES},
        "fp_per_image": {k: t.false_pos[k] / max(1, t.images) for k in DEFECT_TYPES},
        "confusion": {tv: {pv: t.confusion[(tv, pv)] for pv in VERDICTS} for tv in VERDICTS},
    }


def format_table(tallies: dict[str, Tally]) -> str:
    """The accuracy table as Markdown (printed by `qcstation eval`, pasted in the README)."""
    families = sorted(k for k in tallies if k.startswith(FAMILY))
    groups = ["all"] + sorted(k for k in tallies if k != "all" and k not in families) + families
    s = {g: summary(tallies[g]) for g in groups}
    lines = ["| set-up | images | verdict acc. | structural-only verdict acc. | mesh MAE mm | "
             "mesh bias mm | mesh max err mm | structural recall | structural FP/img | median ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for g in groups:
        v = s[g]
        lines.append(
            f"| {g} | {v['images']} | {v['verdict_accuracy']:.1%} | "
            f"{_share(v['structural_verdict_accuracy'])} | {_num(v['mesh_mae_mm'], 3)} | "
            f"{_num(v['mesh_bias_mm'], 3, '+')} | {_num(v['mesh_max_err_mm'], 2)} | "
            f"{_share(v['structural_recall'])} | "
            f"{v['structural_fp_per_image']:.3f} | {_num(v['median_ms'], 0)} |")
    a = s["all"]
    lines += ["", "| defect type | true | recall | false positives / image |",
              "|---|---:|---:|---:|"]
    for k in DEFECT_TYPES:
        r = a["recall"][k]
        lines.append(f"| {k} | {a['true'][k]} | {_share(r)} | "
                     f"{a['fp_per_image'][k]:.3f} |")
    if families:
        lines += ["", *_family_defects({g: s[g] for g in families})]
    lines += ["", "| truth \\ predicted | pass | fail | error |", "|---|---:|---:|---:|"]
    for tv in VERDICTS:
        row = a["confusion"][tv]
        lines.append(f"| {tv} | {row['pass']} | {row['fail']} | {row['error']} |")
    lines.append(f"\nunusable images that passed: {a['unusable_passed']}")
    return "\n".join(lines)


def _family_defects(s: dict[str, dict]) -> list[str]:
    """Recall (true count) and false positives per image of each defect type, per family."""
    names = [g.removeprefix(FAMILY) for g in s]
    lines = ["| defect type | " + " | ".join(f"{n} recall (true) | {n} FP/img" for n in names)
             + " |", "|---|" + "---:|---:|" * len(names)]  # fmt: skip
    for k in DEFECT_TYPES:
        cells = [f"{_share(v['recall'][k])} ({v['true'][k]}) | {v['fp_per_image'][k]:.2f}"
                 for v in s.values()]  # fmt: skip
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return lines


def _num(v: float, digits: int, sign: str = "") -> str:
    """A figure; "-" where nothing was measured (no mesh compared, no time taken)."""
    return "-" if not math.isfinite(v) else f"{v:{sign}.{digits}f}"


def _share(v: float | None) -> str:
    """A share as a percentage; "-" where nothing was there to count."""
    return "-" if v is None else f"{v:.1%}"

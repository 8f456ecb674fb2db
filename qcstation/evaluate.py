"""Accuracy of inspections against synthetic ground truth: verdicts, mesh error, defects."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .domain import APPEARANCE_TYPES, DEFECT_TYPES, STRUCTURAL_TYPES, Inspection

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
    true_defects: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)  # true defects matched, by type
    false_pos: Counter = field(default_factory=Counter)
    structural_only: Counter = field(default_factory=Counter)  # "right"/"wrong"
    times_ms: list[float] = field(default_factory=list)

    def accuracy(self) -> float:
        right = sum(n for (t, p), n in self.confusion.items() if t == p)
        return right / max(1, self.images)


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
        err = (abs(rm.opening_w_mm.mean - tm["opening_w_mm"]["mean"]),
               abs(rm.opening_h_mm.mean - tm["opening_h_mm"]["mean"]))  # fmt: skip
        t.mesh_err.extend(e for e in err if np.isfinite(e))  # nan: nothing measured (error)
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
             "mesh max err mm | structural recall | structural FP/img | median ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for g in groups:
        v = s[g]
        lines.append(
            f"| {g} | {v['images']} | {v['verdict_accuracy']:.1%} | "
            f"{_share(v['structural_verdict_accuracy'])} | {v['mesh_mae_mm']:.3f} | "
            f"{v['mesh_max_err_mm']:.2f} | {_share(v['structural_recall'])} | "
            f"{v['structural_fp_per_image']:.3f} | {v['median_ms']:.0f} |")
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


def _share(v: float | None) -> str:
    """A share as a percentage; "-" where nothing was there to count."""
    return "-" if v is None else f"{v:.1%}"

"""How far the model's stain and foreign-matter findings stand out of their view, before
stand_out judges them.

    python benchmarks/stand_out_measure.py DIR [DIR...]

For every stain finding that `stain_place` keeps and every foreign-matter finding: whether it
matches a true defect of its type (greedy, as `qcstation eval`) and its two shares
(stand_out.stain_shares: dark, hue; stand_out.foreign_shares: bench, yarn); then, per type and
for a few limits on the smaller share, how many true and false findings would be kept. These
are the numbers that chose STAIN_MAX_SHARE and FOREIGN_MAX_SHARE (docs/families.md, Session
13); use training-family sets only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from qcstation import pipeline, stain_place, stand_out
from qcstation.cli.evaluate import _calibration, _dataset_spec
from qcstation.errors import QCError
from qcstation.evaluate import MATCH_OVERLAP, overlap
from qcstation.imageio import read_image
from qcstation.model import DefectModel
from qcstation.quality import check_usable
from qcstation.spec import load_spec

LIMITS = {"stain": (0.005, 0.01, 0.02, 0.03, 0.05),
          "foreign_matter": (0.01, 0.02, 0.03, 0.04, 0.05, 0.07)}


def main(dirs: list[str]) -> None:
    model = DefectModel.load(threads=1)
    rows = []  # (type, true defect?, smaller share)
    for d in map(Path, dirs):
        inspector = pipeline.Inspector(load_spec(_dataset_spec(d)), _calibration(d), model=model,
                                       threads=1)
        for path in sorted(d.glob("0*.jpg")):
            truth = json.loads(path.with_suffix(".json").read_text())
            image = read_image(path, expected_size=inspector.cal.image_size)
            try:
                check_usable(image)
                bv = inspector.bench_view(image)
            except QCError:
                continue
            seen = inspector._appearance_of(bv.rect, bv.to_mesh, bv.valid)
            seen = stain_place.stains_on_net(seen, bv.yarn, bv.open_mask, bv.openings(),
                                             bv.px_per_mm)
            for kind, found, shares in _judged(bv, seen):
                true = [t["bbox_px"] for t in truth.get("defects", []) if t["type"] == kind]
                for f, (a, b) in zip(found, shares, strict=True):
                    box = _box_in_image(inspector, bv, f)
                    hit = max(true, key=lambda t: overlap(t, box), default=None)
                    tp = hit is not None and overlap(hit, box) >= MATCH_OVERLAP
                    if tp:
                        true.remove(hit)
                    rows.append((kind, tp, np.fmin(a, b)))  # NaN: not judged, kept
                    print(f"{d.name} {path.name} {truth['bench']} {kind} {'TP' if tp else 'FP'} "
                          f"shares={a:.4f},{b:.4f}")
    for kind, limits in LIMITS.items():
        tp = np.array([r[1] for r in rows if r[0] == kind], bool)
        share = np.array([r[2] for r in rows if r[0] == kind])
        for limit in limits:
            keep = np.isnan(share) | (share <= limit)
            print(f"{kind} limit {limit}: true kept {keep[tp].sum()} of {tp.sum()}, "
                  f"false kept {keep[~tp].sum()} of {(~tp).sum()}")


def _judged(bv: pipeline.BenchView, seen):
    """(type, findings, their shares) on the view `pipeline.findings_judged` makes."""
    view, valid, yarn = bv.yarn_at_scale(stand_out.PX_PER_MM)
    k = stand_out.PX_PER_MM / bv.px_per_mm
    stains = [f for f in seen.findings if f.type == "stain"]
    foreign = [f for f in seen.findings if f.type == "foreign_matter"]
    boxes = [[stand_out._scaled(f, k) for f in found] for found in (stains, foreign)]
    colour, s = stand_out.log_colour(view), stand_out.PX_PER_MM
    return [("stain", stains, stand_out.stain_shares(colour, yarn, boxes[0], s)),
            ("foreign_matter", foreign,
             stand_out.foreign_shares(colour, valid, yarn, boxes[1], s))]


def _box_in_image(inspector, bv, f) -> list[float]:
    """The finding's box in the input image, as the Inspection reports it."""
    back = cv2.invertAffineTransform(bv.to_mesh)
    d = pipeline._to_defect(f, back, inspector.rect, bv.px_per_mm,
                            (*inspector.cal.image_size[::-1], 3))
    return d.to_json()["bbox_px"]


if __name__ == "__main__":
    main(sys.argv[1:])

"""How far the model's stain findings stand out of their net's yarn, before stain_contrast
judges them.

    python benchmarks/stain_contrast_measure.py DIR [DIR...]

For every stain finding that `stain_place` keeps: whether it matches a true stain (greedy, as
`qcstation eval`) and its dark and hue shares (stain_contrast.yarn_shares); then, for a few
limits, how many true and false findings the rule would keep. These are the numbers that chose
stain_contrast.MAX_SHARE (docs/families.md, Session 13); use training-family sets only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from qcstation import pipeline, stain_contrast, stain_place
from qcstation.cli.evaluate import _calibration, _dataset_spec
from qcstation.errors import QCError
from qcstation.evaluate import MATCH_OVERLAP, overlap
from qcstation.imageio import read_image
from qcstation.model import DefectModel
from qcstation.quality import check_usable
from qcstation.spec import load_spec

LIMITS = (0.005, 0.01, 0.02, 0.03, 0.05)


def main(dirs: list[str]) -> None:
    model = DefectModel.load(threads=1)
    rows = []  # (true stain?, smaller share)
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
            found = [f for f in seen.findings if f.type == "stain"]
            if not found:
                continue
            true = [t["bbox_px"] for t in truth.get("defects", []) if t["type"] == "stain"]
            for f, (dark, hue) in zip(found, _shares(bv, found), strict=True):
                box = _box_in_image(inspector, bv, f)
                hit = max(true, key=lambda t: overlap(t, box), default=None)
                tp = hit is not None and overlap(hit, box) >= MATCH_OVERLAP
                if tp:
                    true.remove(hit)
                rows.append((tp, min(dark, hue)))
                print(f"{d.name} {path.name} {truth['bench']} {'TP' if tp else 'FP'} "
                      f"dark={dark:.4f} hue={hue:.4f}")
    tp = np.array([r[0] for r in rows], bool)
    share = np.array([r[1] for r in rows])
    for limit in LIMITS:
        keep = share <= limit
        print(f"MAX_SHARE {limit}: true kept {keep[tp].sum()} of {tp.sum()}, "
              f"false kept {keep[~tp].sum()} of {(~tp).sum()}")


def _shares(bv: pipeline.BenchView, found: list) -> list[tuple[float, float]]:
    """stain_contrast's shares of the findings, on the view `pipeline.stains_judged` makes."""
    view, yarn = bv.yarn_at_scale(stain_contrast.PX_PER_MM)
    k = stain_contrast.PX_PER_MM / bv.px_per_mm
    boxes = [stain_contrast._scaled(f, k) for f in found]
    return stain_contrast.yarn_shares(view, yarn, boxes, stain_contrast.PX_PER_MM)


def _box_in_image(inspector, bv, f) -> list[float]:
    """The finding's box in the input image, as the Inspection reports it."""
    back = cv2.invertAffineTransform(bv.to_mesh)
    d = pipeline._to_defect(f, back, inspector.rect, bv.px_per_mm,
                            (*inspector.cal.image_size[::-1], 3))
    return d.to_json()["bbox_px"]


if __name__ == "__main__":
    main(sys.argv[1:])

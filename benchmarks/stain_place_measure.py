"""Where the model's stain and foreign-matter findings lie, before stain_place judges them.

    python benchmarks/stain_place_measure.py DIR [DIR...]

One line per finding: set, photo, bench, type, whether it matches a true defect (greedy, as
`qcstation eval`), its share of cells deep in openings (stain_place.off_yarn_share) and the
mesh cells it covers. These are the numbers that chose stain_place's constants
(docs/model-retrain.md); use training-family sets only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2

from qcstation import pipeline, stain_place
from qcstation.cli.evaluate import _calibration, _dataset_spec
from qcstation.evaluate import MATCH_OVERLAP, overlap
from qcstation.imageio import read_image
from qcstation.model import DefectModel
from qcstation.spec import load_spec


def main(dirs: list[str]) -> None:
    model = DefectModel.load(threads=1)
    raw = {}
    look = pipeline.Inspector._look

    def keep_raw(self, image, colour):  # what the model saw, before stain_place
        out = look(self, image, colour)
        raw["seen"] = out[2]
        return out

    pipeline.Inspector._look = keep_raw
    for d in map(Path, dirs):
        inspector = pipeline.Inspector(load_spec(_dataset_spec(d)), _calibration(d), model=model,
                                       threads=1)
        for path in sorted(d.glob("0*.jpg")):
            truth = json.loads(path.with_suffix(".json").read_text())
            raw["seen"] = None
            _, an = inspector.inspect(read_image(path, expected_size=inspector.cal.image_size),
                                      path.name)
            seen = raw["seen"]
            if an is None or seen is None:
                continue
            bv, s = an.bench, an.px_per_mm
            cell_px2 = stain_place._cell_px2(an.openings)
            true = list(truth.get("defects", []))
            for f in seen.findings:
                if f.type not in ("stain", "foreign_matter"):
                    continue
                share, n = stain_place.off_yarn_share(f, seen, bv.yarn, bv.open_mask, s)
                found = _box_in_image(inspector, an, f)
                hit = max((t for t in true if t["type"] == f.type),
                          key=lambda t: overlap(t["bbox_px"], found), default=None)
                tp = hit is not None and overlap(hit["bbox_px"], found) >= MATCH_OVERLAP
                if tp:
                    true.remove(hit)
                cells = n / cell_px2 if cell_px2 else float("nan")
                print(f"{d.name} {path.name} {truth['bench']} {f.type} {'TP' if tp else 'FP'} "
                      f"deep={share:.2f} mesh_cells={cells:.2f} "
                      f"box_mm={f.box[2] / s:.0f}x{f.box[3] / s:.0f}")


def _box_in_image(inspector, an, f) -> list[float]:
    """The finding's box in the input image, as the Inspection reports it."""
    back = cv2.invertAffineTransform(an.bench.to_mesh)
    d = pipeline._to_defect(f, back, inspector.rect, an.px_per_mm,
                            (*inspector.cal.image_size[::-1], 3))
    return d.to_json()["bbox_px"]


if __name__ == "__main__":
    main(sys.argv[1:])

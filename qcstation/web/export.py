"""Reviewed photos as a labelled set in the layout `qcstation eval` reads (synth/dataset.py).

Each reviewed inspection becomes NNNN.jpg (the photo as taken) and NNNN.json: the supervisor's
verdict and, for a failed net, the defects they confirmed (the station's findings of the
labelled type; a label the station did not find becomes a box over the whole photo, which
any found defect of that type inside the photo matches). Mesh sizes are left out: a review
does not measure the net.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import cv2

from ..errors import DataError
from .reports import final_verdict

logger = logging.getLogger(__name__)


def truth_defects(record: dict, image_size: tuple[int, int]) -> list[dict]:
    """The defects a reviewed net has, as ground truth."""
    if final_verdict(record) != "fail":
        return []
    found = [{"type": d["type"], "bbox_px": d["bbox_px"]} for d in record.get("defects") or []]
    label = (record.get("review") or {}).get("defect_label")
    if not label:
        return found
    kept = [d for d in found if d["type"] == label]
    w, h = image_size
    return kept or [{"type": label, "bbox_px": [0, 0, w, h]}]


def reviewed_records(store: Any, lot: int | None) -> list[dict]:
    out, cursor = [], None
    while True:
        items, cursor = store.inspections(lot=lot, limit=200, cursor=cursor)
        out += [r.to_api() for r in items if (r.to_api().get("review") or {}).get("verdict")]
        if not cursor:
            return sorted(out, key=lambda r: r["created_at"])


def export_reviewed(store: Any, settings: Any, out: Path, lot: int | None = None) -> int:
    """Writes the set; returns how many photos it holds."""
    records = reviewed_records(store, lot)
    if not records:
        raise DataError("no reviewed inspections to export; review some on the Review page "
                        "first")
    out.mkdir(parents=True, exist_ok=True)
    for i, record in enumerate(records):
        name = f"{i:04d}"
        src = store.image_file(record["id"], "image")
        image = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
        if image is None:
            logger.warning("inspection %s: photo %s unreadable; skipped", record["id"], src)
            continue
        shutil.copyfile(src, out / f"{name}.jpg")
        truth = {"image": f"{name}.jpg", "verdict": final_verdict(record),
                 "reasons": [(record.get("review") or {}).get("note", "")],
                 "defects": truth_defects(record, (image.shape[1], image.shape[0])),
                 "bench": record["station"], "inspection_id": record["id"],
                 "net_id": record.get("net_id")}
        (out / f"{name}.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    shutil.copyfile(settings.inspection.calibration, out / "calibration.json")
    meta = {"source": "qcstation export-reviewed", "station": settings.station.id,
            "spec_path": str(Path(settings.inspection.spec).resolve()), "n": len(records)}
    (out / "dataset.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return len(records)

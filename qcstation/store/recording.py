"""Recording one inspection: the row built from the domain's Inspection, and its insertion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from qcstation.domain import Inspection
from qcstation.store import lots
from qcstation.store.errors import StoreError
from qcstation.store.records import DefectRow, InspectionRow

VERDICTS = ("pass", "fail", "error")
JPEG_MAGIC = b"\xff\xd8"


def check(inspection: Inspection, image_jpeg: bytes, overlay_jpeg: bytes | None,
          captured_at: datetime) -> None:
    """Refuses what would make a bad record, before anything is written."""
    if captured_at.tzinfo is None:
        raise StoreError("captured_at must be timezone-aware (UTC)")
    if inspection.verdict not in VERDICTS:
        raise StoreError(f"verdict {inspection.verdict!r} is not pass, fail or error")
    for what, data in (("image", image_jpeg), ("overlay", overlay_jpeg)):
        if data is not None and not bytes(data[:2]) == JPEG_MAGIC:
            raise StoreError(f"the {what} to store is not JPEG data")


def inspection_row(ins: Inspection, *, rid: str, now: datetime, station: str, lot_id: int,
                   source_name: str | None, spec_sha256: str, calibration_id: str,
                   captured_at: datetime, evidence: bool, uncertain_score: float,
                   store_id: str, image_rel: str, overlay_rel: str | None) -> InspectionRow:
    uncertain = ins.verdict != "error" and any(d.score < uncertain_score for d in ins.defects)
    return InspectionRow(
        id=rid, created_at=now, captured_at=captured_at, station=station, lot_id=lot_id,
        verdict=ins.verdict, reasons=list(ins.reasons), error=ins.error, image_name=ins.image,
        frame_id=getattr(ins, "frame_id", None), source_name=source_name, spec_name=ins.spec,
        spec_sha256=spec_sha256, calibration_id=calibration_id,
        model_name=ins.model.name if ins.model else None,
        model_sha256=ins.model.sha256 if ins.model else None,
        mesh=ins.mesh.to_json() if ins.mesh else None,
        timing_ms={k: round(float(v), 3) for k, v in ins.timing_ms.items()},
        uncertain=uncertain, image_store=store_id, image_path=image_rel,
        overlay_path=overlay_rel, images_state="kept", evidence=evidence,
        reviewed_verdict=None, reviewed_at=None)


def insert(s: Session, row: InspectionRow, ins: Inspection, net_id: str | None) -> None:
    """The row, its net (found or numbered) and its defects, in the caller's transaction."""
    lots.lot_row(s, row.lot_id)
    row.net_pk = lots.get_or_number_net(s, row.lot_id, net_id, row.created_at).id
    s.add(row)
    s.flush()  # the inspection row before its defects (no ORM relationship orders them)
    s.add_all(DefectRow(inspection_id=row.id, type=d.type, bbox_px=[int(v) for v in d.bbox_px],
                        size_mm=[round(float(v), 2) for v in d.size_mm],
                        score=round(float(d.score), 4), detail=d.detail)
              for d in ins.defects)

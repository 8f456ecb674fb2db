"""Reviews and evidence flags, each with its audit entry in the same transaction."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from qcstation.store.audit import add_audit
from qcstation.store.errors import NotFound, StoreError
from qcstation.store.records import InspectionRow, ReviewRow

_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def add_review(s: Session, now: datetime, inspection_id: str, user: str, verdict: str,
               note: str, defect_label: str | None) -> ReviewRow:
    if verdict not in ("pass", "fail"):
        raise StoreError(f"a review's verdict must be pass or fail, not {verdict!r}")
    if defect_label is not None and not _LABEL.match(defect_label):
        raise StoreError(f"defect label {defect_label!r} must be a lower-case word like 'hole'")
    row = s.get(InspectionRow, inspection_id, with_for_update=True)
    if row is None:
        raise NotFound(f"there is no inspection {inspection_id}")
    before = row.reviewed_verdict or row.verdict
    review = ReviewRow(inspection_id=inspection_id, user_name=user, at=now, before=before,
                       after=verdict, note=note, defect_label=defect_label)
    s.add(review)
    row.reviewed_verdict, row.reviewed_at = verdict, now
    add_audit(s, now, user, "review", f"inspection:{inspection_id}", {"verdict": before},
              {"verdict": verdict, "defect_label": defect_label}, note or None)
    return review


def set_evidence(s: Session, now: datetime, inspection_id: str, flag: bool, user: str,
                 why: str | None) -> bool:
    row = s.get(InspectionRow, inspection_id, with_for_update=True)
    if row is None:
        raise NotFound(f"there is no inspection {inspection_id}")
    before = row.evidence
    if before != flag:
        row.evidence = flag
        add_audit(s, now, user, "evidence", f"inspection:{inspection_id}",
                  {"evidence": before}, {"evidence": flag}, why)
    return before

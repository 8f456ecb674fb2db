"""Supervisors' decisions: review an inspection, the queue waiting for one, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import StoreDep, SupervisorUser
from .inspections import record_or_404
from .models import ReviewIn

router = APIRouter(prefix="/api", tags=["reviews"])


@router.post("/inspections/{inspection_id}/review")
def review(inspection_id: str, body: ReviewIn, store: StoreDep, who: SupervisorUser) -> dict:
    """Confirm or override the verdict with a note; kept in the audit log."""
    record_or_404(store, inspection_id)
    store.review(inspection_id, user=who.name, verdict=body.verdict, note=body.note,
                 defect_label=body.defect_label)
    return store.inspection(inspection_id).to_api()


@router.get("/reviews/queue")
def review_queue(store: StoreDep, who: SupervisorUser,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> dict:
    """Failed, error and uncertain inspections not yet reviewed, newest first."""
    items, nxt = store.review_queue(limit=limit, cursor=cursor)
    return {"items": [r.to_api() for r in items], "next": nxt}


@router.get("/audit")
def audit(store: StoreDep, who: SupervisorUser,
          entity: Annotated[str | None, Query(max_length=80)] = None,
          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    """Who did what, when, before and after, and why."""
    return {"items": [audit_json(a) for a in store.audit(entity=entity, limit=limit)]}


def audit_json(a) -> dict:
    return a.to_api()

"""The supervisor's review queue and the decision form of a net."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from ...domain import DEFECT_TYPES
from ..api.inspections import record_or_404
from ..api.reviews import audit_json
from ..deps import CsrfForm, StoreDep, SupervisorUser
from ..render import render

router = APIRouter()


@router.get("/review")
def queue_page(request: Request, store: StoreDep, who: SupervisorUser,
               cursor: Annotated[str | None, Query(max_length=200)] = None):
    items, nxt = store.review_queue(limit=50, cursor=cursor)
    audit = [audit_json(a) for a in store.audit(limit=30)]
    return render(request, "review.html", items=[r.to_api() for r in items],
                  next=f"/review?cursor={nxt}" if nxt else None, audit=audit)


@router.post("/inspections/{inspection_id}/review", dependencies=[CsrfForm])
def decide(inspection_id: str, store: StoreDep, who: SupervisorUser,
           verdict: Annotated[Literal["pass", "fail"], Form()],
           note: Annotated[str, Form(min_length=1, max_length=2000)],
           defect_label: Annotated[Literal[(*DEFECT_TYPES, "")], Form()] = "",  # type: ignore[valid-type]
           evidence: Annotated[str | None, Form()] = None):
    record = record_or_404(store, inspection_id).to_api()
    store.review(inspection_id, user=who.name, verdict=verdict, note=note,
                 defect_label=defect_label or None)
    if bool(evidence) != bool(record.get("evidence")):
        store.set_evidence(inspection_id, bool(evidence), who.name)
    return RedirectResponse(f"/inspections/{inspection_id}", status_code=303)

"""Inspections: list with filters and cursor paging, one record, its photo and its overlay."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from ...domain import DEFECT_TYPES
from ..deps import InspectorUser, StoreDep, SupervisorUser
from ..errors import NotFound
from .models import MAX_ID, Accepted, EvidenceIn, InspectionOut, InspectionPage

router = APIRouter(prefix="/api/inspections", tags=["inspections"])
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def record_or_404(store, inspection_id: str):
    record = store.inspection(inspection_id) if _ID.match(inspection_id) else None
    if record is None:
        raise NotFound(f"no inspection {inspection_id!r}")
    return record


@router.get("", response_model=InspectionPage)
def list_inspections(
    store: StoreDep, who: InspectorUser,
    lot: Annotated[str | None, Query(max_length=200, description="a lot's id or name")] = None,
    verdict: Literal["pass", "fail", "error"] | None = None,
    since: datetime | None = None,
    until: Annotated[datetime | None, Query(description="created before this time")] = None,
    defect_type: Literal[DEFECT_TYPES] | None = None,  # type: ignore[valid-type]
    station: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    """Newest first; `next` is the cursor of the following page (null on the last).
    Created at or after `since` and before `until`; a time without a time zone is UTC."""
    since, until = (t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t
                    for t in (since, until))
    lot_key = lot_id_or_name(lot)
    items, nxt = store.inspections(lot=lot_key, verdict=verdict, since=since, until=until,
                                   defect_type=defect_type, station=station, limit=limit,
                                   cursor=cursor)
    return {"items": [r.to_api() for r in items], "next": nxt}


def lot_id_or_name(lot: str | None) -> int | str | None:
    """`?lot=` takes the id (as the lot list gives it) or the name (as each record shows it)."""
    if not lot:
        return None
    return int(lot) if lot.isdigit() and int(lot) <= MAX_ID else lot


@router.get("/{inspection_id}", response_model=InspectionOut)
def get_inspection(inspection_id: str, store: StoreDep, who: InspectorUser) -> dict:
    return record_or_404(store, inspection_id).to_api()


@router.get("/{inspection_id}/image", response_class=FileResponse)
def get_image(inspection_id: str, store: StoreDep, who: InspectorUser) -> FileResponse:
    """The photo as taken (JPEG)."""
    return _image(store, inspection_id, "image")


@router.get("/{inspection_id}/overlay", response_class=FileResponse)
def get_overlay(inspection_id: str, store: StoreDep, who: InspectorUser) -> FileResponse:
    """The photo with the measurements and findings drawn on it (JPEG)."""
    return _image(store, inspection_id, "overlay")


@router.post("/{inspection_id}/evidence", response_model=Accepted)
def set_evidence(inspection_id: str, body: EvidenceIn, store: StoreDep,
                 who: SupervisorUser) -> Accepted:
    """Keep (or stop keeping) this photo as evidence: retention never thins it."""
    record_or_404(store, inspection_id)
    store.set_evidence(inspection_id, body.evidence, who.name)
    return Accepted(detail="kept as evidence" if body.evidence else "no longer evidence")


def _image(store, inspection_id: str, kind: str) -> FileResponse:
    record_or_404(store, inspection_id)
    path = store.image_file(inspection_id, kind)
    if path is None:
        raise NotFound(f"inspection {inspection_id} has no {kind} image")
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})

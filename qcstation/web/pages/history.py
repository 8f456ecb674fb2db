"""History of inspections (filters, paging) and one net's detail page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from ...domain import DEFECT_TYPES
from ..api.inspections import record_or_404
from ..api.reviews import audit_json
from ..deps import InspectorUser, StoreDep
from ..render import render

router = APIRouter()


@router.get("/history")
def history(
    request: Request, store: StoreDep, who: InspectorUser,
    lot: Annotated[str | None, Query()] = None,
    verdict: Literal["pass", "fail", "error", ""] = "",
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
    defect_type: Literal[(*DEFECT_TYPES, "")] = "",  # type: ignore[valid-type]
    station: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
):
    filters = {"lot": int(lot) if lot and lot.isdigit() else None, "verdict": verdict or None,
               "since": _day(since), "until": _day(until), "defect_type": defect_type or None,
               "station": station or None}
    since_dt = (datetime.combine(filters["since"], time.min, tzinfo=UTC)
                if filters["since"] else None)
    until_dt = (datetime.combine(filters["until"] + timedelta(days=1), time.min, tzinfo=UTC)
                if filters["until"] and filters["until"] < date.max else None)  # day included
    items, nxt = store.inspections(lot=filters["lot"], verdict=filters["verdict"],
                                   since=since_dt, until=until_dt,
                                   defect_type=filters["defect_type"],
                                   station=filters["station"], limit=50, cursor=cursor)
    next_url = None
    if nxt:
        query = {k: v for k, v in filters.items() if v} | {"cursor": nxt}
        next_url = "/history?" + urlencode({k: str(v) for k, v in query.items()})
    return render(request, "history.html", items=[r.to_api() for r in items], next=next_url,
                  filters=filters, lots=store.lots())


@router.get("/inspections/{inspection_id}")
def detail(request: Request, inspection_id: str, store: StoreDep, who: InspectorUser):
    record = record_or_404(store, inspection_id).to_api()
    audit = [audit_json(a) for a in store.audit(entity=f"inspection:{inspection_id}",
                                                  limit=100)]
    return render(request, "detail.html", r=record, audit=audit)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None

"""Health, station status and the manual trigger."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..deps import InspectorUser, StationDep, StoreDep
from ..status import station_status
from .models import Accepted

router = APIRouter(tags=["station"])


@router.get("/healthz")
def healthz(request: Request) -> dict:
    """200 once the web view is up; says whether a camera station runs behind it."""
    station = request.app.state.station
    return {"status": "ok", "station": request.app.state.settings.station.id,
            "camera": station is not None}


@router.get("/api/status")
def status(request: Request, store: StoreDep, who: InspectorUser) -> dict:
    """The camera and trigger state, the current lot and its counts."""
    return station_status(request.app, store)


@router.post("/api/trigger", status_code=202, response_model=Accepted)
def trigger(who: InspectorUser, station: StationDep) -> Accepted:
    """Inspect the current camera frame now."""
    station.trigger()
    return Accepted(detail="the current frame will be inspected")

"""Health, station status and the manual trigger."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..deps import AdminUser, InspectorUser, StationDep, StoreDep
from ..specs import SpecRefused, apply_spec, choices, read_choice, save_upload, validate_spec
from ..status import station_status
from .models import Accepted, SpecChange, SpecIn

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


@router.get("/api/station/specs")
def spec_choices(request: Request, who: AdminUser) -> dict:
    """The spec files an admin can give the current lot: uploaded ones, then shipped ones."""
    return {"items": [asdict(c) for c in choices(request.app.state.settings)]}


@router.post("/api/station/spec", response_model=SpecChange,
             responses={422: {"description": "the spec is refused; `errors` per field"}})
def set_spec(request: Request, body: SpecIn, who: AdminUser, station: StationDep):
    """Makes a spec the current lot's: the next inspections are judged against it and record
    its name and sha256; the change is in the audit log. A refused spec changes nothing."""
    settings = request.app.state.settings
    try:
        if (body.choice is None) == (body.toml is None):
            raise SpecRefused([("request", "send either 'choice' or 'toml'")])
        if body.choice is not None:
            data, file = read_choice(settings, body.choice)
        else:
            data = body.toml.encode("utf-8")
            spec, errors = validate_spec(data)
            if spec is None:
                raise SpecRefused(errors)
            file = f"uploaded/{save_upload(settings, spec, data).name}"
        return apply_spec(station, data, by=who.name, file=file)
    except SpecRefused as e:
        return JSONResponse({"detail": f"the spec is refused: {e}", "errors": [
            {"field": k, "message": m} for k, m in e.errors]}, status_code=422)

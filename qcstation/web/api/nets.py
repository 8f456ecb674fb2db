"""The net at the bench: its ID (from the barcode scanner) and the end of a multi-frame net."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import InspectorUser, StationDep
from .models import Accepted, NetIn

router = APIRouter(prefix="/api/nets", tags=["nets"])


@router.post("/current", response_model=Accepted)
def set_current_net(who: InspectorUser, body: NetIn, station: StationDep) -> Accepted:
    """The ID of the net now on the bench; the next inspections carry it."""
    station.set_net_id(body.net_id)
    return Accepted(detail=f"net {body.net_id} is on the bench")


@router.post("/current/finish", response_model=Accepted)
def finish_net(who: InspectorUser, station: StationDep) -> Accepted:
    """The net on the bench is done (all its frames taken)."""
    station.finish_net()
    return Accepted(detail="net finished")

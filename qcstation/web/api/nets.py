"""The net at the bench: its ID (from the barcode scanner) and the end of a multi-frame net."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..deps import InspectorUser, StationDep
from ..i18n import Formatter, choose_lang, translations
from ..reasons import plain_reasons
from .models import Accepted, NetDone, NetIn

router = APIRouter(prefix="/api/nets", tags=["nets"])


@router.post("/current", response_model=Accepted)
def set_current_net(who: InspectorUser, body: NetIn, station: StationDep) -> Accepted:
    """The ID of the net now on the bench; the next inspections carry it."""
    station.set_net_id(body.net_id)
    return Accepted(detail=f"net {body.net_id} is on the bench")


@router.post("/current/finish", response_model=NetDone)
def finish_net(request: Request, who: InspectorUser, station: StationDep) -> NetDone:
    """The net on the bench is done: its sections judged together (`net` is null when none
    was inspected). `plain_reasons` are in the caller's page language."""
    result = station.finish_net()
    if result is None:
        return NetDone(detail="no section of this net was inspected", net=None)
    lang = choose_lang(request)
    result["plain_reasons"] = plain_reasons(result, translations(lang).gettext, Formatter(lang))
    return NetDone(detail=f"net {result['net']}: {result['verdict']}", net=result)

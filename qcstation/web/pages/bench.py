"""The inspector's bench page, its form posts and what its pushes carry (live.py sends them)."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from ..deps import CsrfForm, InspectorUser, StationDep, StoreDep
from ..i18n import Formatter, choose_lang, translations
from ..reasons import plain_reasons
from ..render import render
from ..status import station_status
from .common import sampling_line, verdict_words

logger = logging.getLogger(__name__)
router = APIRouter()


@router.get("/bench")
def bench_page(request: Request, store: StoreDep, who: InspectorUser):
    lang = choose_lang(request)
    status = status_payload(request, store, lang)
    return render(request, "bench.html", status=status, last=_last_record(store, status),
                  camera=request.app.state.station is not None,
                  sampling_text=status["sampling_text"])


@router.post("/bench/net", dependencies=[CsrfForm])
def set_net(who: InspectorUser, station: StationDep,
            net_id: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[\w.\-/]+$")]):
    """The form fallback of the scanner field (bench.js posts to the API instead)."""
    station.set_net_id(net_id)
    return RedirectResponse("/bench", status_code=303)


@router.post("/bench/trigger", dependencies=[CsrfForm])
def trigger(who: InspectorUser, station: StationDep):
    station.trigger()
    return RedirectResponse("/bench", status_code=303)


def status_payload(request: Request, store, lang: str) -> dict:
    status = station_status(request.app, store)
    lot = status.get("lot") or {}
    _ = translations(lang).gettext
    status["sampling_text"] = sampling_line(lot.get("sampling"), _, Formatter(lang))
    status["camera_text"] = _(str(status.get("camera", "none")))
    status["trigger_text"] = _(str(status.get("trigger", "none")))
    return status


def verdict_payload(request: Request, store, inspection_id: str, lang: str) -> dict | None:
    record = store.inspection(inspection_id)
    if record is None:
        return None
    data = record.to_api()
    _ = translations(lang).gettext
    data["word"] = verdict_words(_)[data["verdict"]]
    data["plain_reasons"] = plain_reasons(data, _, Formatter(lang))
    data["status"] = status_payload(request, store, lang)
    data["pushed_at_ms"] = time.time() * 1000  # lets a test see where the latency goes
    return data


def _last_record(store, status: dict) -> dict | None:
    last_id = status.get("last_inspection_id")
    record = store.inspection(last_id) if last_id else None
    if record is None:
        items, _ = store.inspections(station=status.get("station"), limit=1)
        record = items[0] if items else None
    return record.to_api() if record is not None else None

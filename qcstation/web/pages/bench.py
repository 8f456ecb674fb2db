"""The inspector's bench page, its live view (MJPEG) and its verdict push (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from ..deps import CsrfForm, InspectorUser, StationDep, StoreDep
from ..i18n import Formatter, choose_lang, translations
from ..reasons import plain_reasons
from ..render import render
from ..status import station_status
from .common import sampling_line, verdict_words

logger = logging.getLogger(__name__)
router = APIRouter()
PREVIEW_PERIOD_S = 0.1  # 10 frames a second keep the view smooth on a cheap laptop
POLL_S = 0.01  # how often the verdict push looks for a new inspection
STATUS_PERIOD_S = 1.0


@router.get("/bench")
def bench_page(request: Request, store: StoreDep, who: InspectorUser):
    status = station_status(request.app, store)
    last = _last_record(store, status)
    ctx = {"_": translations(choose_lang(request)).gettext, "fmt": Formatter(choose_lang(request))}
    lot = status.get("lot") or {}
    return render(request, "bench.html", status=status, last=last,
                  camera=request.app.state.station is not None,
                  sampling_text=sampling_line(lot.get("sampling"), ctx["_"], ctx["fmt"]))


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


@router.get("/bench/stream.mjpg")
async def live_view(request: Request, who: InspectorUser, station: StationDep):
    """The live camera view with the last overlay, as multipart JPEG."""

    async def frames():
        last = None
        while not await request.is_disconnected():
            jpeg = station.preview_jpeg()
            if jpeg is not None and jpeg is not last:
                last = jpeg
                yield (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                       + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
            await asyncio.sleep(PREVIEW_PERIOD_S)

    return StreamingResponse(frames(), media_type="multipart/x-mixed-replace; boundary=frame",
                             headers={"Cache-Control": "no-store"})


@router.get("/bench/events")
async def events(request: Request, store: StoreDep, who: InspectorUser):
    """Server-Sent Events: `verdict` as soon as an inspection is stored, `status` each second."""
    station = request.app.state.station
    inbox = station.subscribe() if station is not None else queue.Queue()
    lang = choose_lang(request)

    async def stream():
        yield "retry: 1000\n\n"
        waited = STATUS_PERIOD_S
        while not await request.is_disconnected():
            try:
                inspection_id = inbox.get_nowait()
            except queue.Empty:
                if waited >= STATUS_PERIOD_S:
                    waited = 0.0
                    yield _event("status", _status_payload(request, store, lang))
                await asyncio.sleep(POLL_S)
                waited += POLL_S
                continue
            payload = await asyncio.to_thread(_verdict_payload, request, store, inspection_id,
                                              lang)
            if payload is not None:
                yield _event("verdict", payload)
        _unsubscribe(station, inbox)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _status_payload(request: Request, store, lang: str) -> dict:
    status = station_status(request.app, store)
    lot = status.get("lot") or {}
    _ = translations(lang).gettext
    status["sampling_text"] = sampling_line(lot.get("sampling"), _, Formatter(lang))
    status["camera_text"] = _(str(status.get("camera", "none")))
    status["trigger_text"] = _(str(status.get("trigger", "none")))
    return status


def _verdict_payload(request: Request, store, inspection_id: str, lang: str) -> dict | None:
    record = store.inspection(inspection_id)
    if record is None:
        return None
    data = record.to_api()
    _ = translations(lang).gettext
    data["word"] = verdict_words(_)[data["verdict"]]
    data["plain_reasons"] = plain_reasons(data, _, Formatter(lang))
    data["status"] = _status_payload(request, store, lang)
    data["pushed_at_ms"] = time.time() * 1000  # lets a test see where the latency goes
    return data


def _last_record(store, status: dict) -> dict | None:
    last_id = status.get("last_inspection_id")
    record = store.inspection(last_id) if last_id else None
    if record is None:
        items, _ = store.inspections(station=status.get("station"), limit=1)
        record = items[0] if items else None
    return record.to_api() if record is not None else None


def _unsubscribe(station, inbox) -> None:
    if station is not None and hasattr(station, "unsubscribe"):
        station.unsubscribe(inbox)

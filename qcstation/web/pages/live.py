"""The bench's live streams: the camera view (MJPEG) and the verdict push (Server-Sent Events).

Each stream ends after STREAM_S: the page opens the next one at once (EventSource reconnects by
itself and names the last verdict it saw; bench.js renews the camera view), so a stopping
server never waits on an open page for long.
"""

from __future__ import annotations

import asyncio
import json
import queue
import time

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ..deps import InspectorUser, StationDep, StoreDep
from ..i18n import choose_lang
from .bench import status_payload, verdict_payload

router = APIRouter()
PREVIEW_PERIOD_S = 0.1  # 10 frames a second keep the view smooth on a cheap laptop
POLL_S = 0.01  # how often the verdict push looks for a new inspection
STATUS_PERIOD_S = 1.0
STREAM_S = 20.0


@router.get("/bench/stream.mjpg")
async def live_view(request: Request, who: InspectorUser, station: StationDep):
    """The live camera view with the last overlay, as multipart JPEG."""

    async def frames():
        last, end = None, time.monotonic() + STREAM_S
        while time.monotonic() < end and not await request.is_disconnected():
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
    """`verdict` (with the inspection id as event id) as soon as an inspection is stored,
    `status` each second."""
    station = request.app.state.station
    inbox = station.subscribe() if station is not None else queue.Queue()
    lang = choose_lang(request)
    seen = request.headers.get("last-event-id")

    async def stream():
        try:
            yield "retry: 500\n\n"
            status = await asyncio.to_thread(status_payload, request, store, lang)
            missed = status.get("last_inspection_id")
            if seen and missed and missed != seen:  # a verdict came while reconnecting
                inbox.put_nowait(missed)
            async for event in _pump(request, store, inbox, lang):
                yield event
        finally:
            if station is not None:
                station.unsubscribe(inbox)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _pump(request: Request, store, inbox: queue.Queue, lang: str):
    end, waited = time.monotonic() + STREAM_S, STATUS_PERIOD_S
    while time.monotonic() < end and not await request.is_disconnected():
        try:
            inspection_id = inbox.get_nowait()
        except queue.Empty:
            if waited >= STATUS_PERIOD_S:
                waited = 0.0
                data = await asyncio.to_thread(status_payload, request, store, lang)
                yield _event("status", data)
            await asyncio.sleep(POLL_S)
            waited += POLL_S
            continue
        picked_at_ms = time.time() * 1000
        data = await asyncio.to_thread(verdict_payload, request, store, inspection_id, lang)
        if data is not None:
            data["picked_at_ms"] = picked_at_ms  # the station's announcement reached the push
            yield _event("verdict", data, inspection_id)


def _event(name: str, data: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

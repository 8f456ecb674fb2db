"""`qcstation serve --config station.toml`: the station with its web view."""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import QCError
from ..station.settings import StationSettings, load_settings

if TYPE_CHECKING:
    from ..station.runner import Station

logger = logging.getLogger(__name__)
GRACEFUL_S = 3  # seconds open connections get at shutdown


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, required=True, metavar="TOML",
                   help="the station's settings file (station.toml)")
    p.add_argument("--host", default=None, help="address to listen on (default: [web] host)")
    p.add_argument("--port", type=int, default=None, help="port (default: [web] port)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)  # every key checked before anything opens
    return serve(settings, args.host, args.port)


def serve(settings: StationSettings, host: str | None = None, port: int | None = None,
          *, use_model: bool = True, banner: str | None = None,
          stop_when: Callable[[Station], bool] | None = None) -> int:
    """Builds the station (spec, calibration, model and source checked first), opens the
    store and runs the web app until Ctrl-C (or until `stop_when(station)` holds); the app's
    lifespan starts and stops the station."""
    import uvicorn

    from ..station.components import build_components
    from ..station.runner import Station
    from ..store import Store

    components = build_components(settings, use_model=use_model)
    store = Store.open(settings.storage_url, settings.station.data_dir)
    try:
        station = Station(settings, store, components)
        app = make_app(settings, station, store)
        host = host or settings.web.host
        port = settings.web.port if port is None else port
        # an open bench page streams for ever: Ctrl-C waits at most this long for it
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                               timeout_graceful_shutdown=GRACEFUL_S))
        threading.Thread(target=_print_verdicts, args=(station, store), daemon=True,
                         name="verdicts").start()
        if stop_when is not None:
            threading.Thread(target=_watch, args=(server, station, stop_when), daemon=True,
                             name="stop-when").start()
        print(banner or f"qcstation: station {settings.station.id} at http://{host}:{port}/ "
              f"(Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down cleanly
            server.run()
        print(f"qcstation: station {settings.station.id} stopped", flush=True)
    finally:
        store.close()
    return 0


def _print_verdicts(station: Station, store) -> None:
    """One line per inspection on the console, so whoever started the station sees it work."""
    updates = station.subscribe()
    while True:
        rid = updates.get()
        try:
            record = store.inspection(rid)
        except QCError:  # the store closing as the station stops
            return
        if record is not None:
            why = "; ".join(record.reasons[:3])
            print(f"net {record.net_id}: {record.verdict.upper()}{' - ' + why if why else ''}",
                  flush=True)


def _watch(server, station: Station, stop_when: Callable[[Station], bool]) -> None:
    while not server.should_exit:
        if stop_when(station):
            server.should_exit = True
            return
        time.sleep(0.2)


def make_app(settings: StationSettings, station, store):
    """The web view of qcstation.web; a bare app (/healthz, /metrics) where it is absent."""
    try:
        from ..web.app import create_app
    except ImportError:
        return _bare_app(settings, station)
    return create_app(settings, station, store)


def _bare_app(settings: StationSettings, station):
    from contextlib import asynccontextmanager
    from dataclasses import asdict

    from fastapi import FastAPI

    from ..outputs.metrics import asgi_app

    @asynccontextmanager
    async def lifespan(app):
        station.start()
        try:
            yield
        finally:
            station.stop()

    app = FastAPI(title="qcstation", lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "station": settings.station.id, **asdict(station.status())}

    app.mount("/metrics", asgi_app())
    return app

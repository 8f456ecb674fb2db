"""`create_app(settings, station, store)`: the FastAPI application of the station."""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from . import errors
from .api import router as api_router
from .auth import LoginLimiter
from .limits import BodyLimit, SecurityHeaders
from .pages import router as pages_router

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
SESSION_MAX_AGE_S = 12 * 3600  # one working day


def create_app(settings: Any, station: Any | None, store: Any) -> FastAPI:
    """The web view over `store`; the lifespan starts and stops `station` (None: records only)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if station is not None:
            station.start()
        try:
            yield
        finally:
            if station is not None:
                station.stop()

    # no /docs pages: they load their scripts from a CDN; /openapi.json stays
    app = FastAPI(title="qcstation", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, description="The coir-net QC station: inspections, lots, "
                  "reviews. Send 'Authorization: Bearer TOKEN' (qcstation token create).")
    app.state.settings, app.state.station, app.state.store = settings, station, store
    app.state.login_limiter = LoginLimiter()
    data_dir = Path(settings.station.data_dir)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(data_dir),
                       session_cookie="qcs_session", max_age=SESSION_MAX_AGE_S,
                       same_site="lax", https_only=False)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    app.include_router(pages_router)
    _mount_metrics(app)
    return app


def session_secret(data_dir: Path) -> str:
    """A random key kept in the data folder (owner-only), so sessions outlive a restart."""
    path = data_dir / "web-secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    temp = data_dir / f"web-secret.{secrets.token_hex(4)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    try:
        os.link(temp, path)  # atomic: of two starting processes the first one's key wins
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    return path.read_text().strip()


def _mount_metrics(app: FastAPI) -> None:
    try:
        from ..outputs.metrics import asgi_app
    except ImportError:  # the metrics module comes with the station
        return
    app.mount("/metrics", asgi_app())

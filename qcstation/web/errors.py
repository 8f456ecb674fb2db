"""The web's errors and the one place that maps every qcstation error to an HTTP answer."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ..errors import QCError, SpecError

logger = logging.getLogger(__name__)


class WebError(QCError):
    """An error of a web request; `status` is its HTTP status."""

    status = 400


class BadRequest(WebError):
    status = 400


class LoginRequired(WebError):
    status = 401


class Forbidden(WebError):
    status = 403


class NotFound(WebError):
    status = 404


class Conflict(WebError):
    status = 409


class TooLarge(WebError):
    status = 413


class RateLimited(WebError):
    status = 429


class Unavailable(WebError):
    status = 503


def status_of(e: QCError) -> int:
    """HTTP status of any qcstation error (storage full: 507; a bad spec: 422)."""
    if isinstance(e, WebError):
        return e.status
    if isinstance(e, SpecError):
        return 422
    return _store_status(e)


def _store_status(e: QCError) -> int:
    from ..store import Conflict as StoreConflict
    from ..store import NotFound as StoreNotFound
    from ..store import StoreFull

    if isinstance(e, StoreFull):
        return 507
    if isinstance(e, StoreNotFound):
        return 404
    if isinstance(e, StoreConflict):
        return 409
    return 400


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", "")


async def qc_error_handler(request: Request, e: QCError) -> Response:
    status = status_of(e)
    if status == 401 and _wants_html(request):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if status >= 500:
        logger.warning("%s %s: %s", request.method, request.url.path, e)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if _wants_html(request):
        from .render import render_error  # the page renderer imports this module

        return render_error(request, status, str(e))
    return JSONResponse({"detail": str(e)}, status_code=status, headers=headers)


async def unexpected_error_handler(request: Request, e: Exception) -> Response:
    """A bug, not bad input: logged with its traceback, answered with one sentence."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=e)
    return JSONResponse({"detail": "the station hit an internal error; it is in the station's "
                                   "log"}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(QCError, qc_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)

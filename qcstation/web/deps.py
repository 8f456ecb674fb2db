"""Request dependencies: the store, the station, who is asking and whether they may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from .auth import Principal, csrf_ok, token_sha256
from .errors import Forbidden, LoginRequired, Unavailable

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_store(request: Request) -> Any:
    return request.app.state.store


def get_station(request: Request) -> Any:
    station = request.app.state.station
    if station is None:
        raise Unavailable("no camera station runs in this web view; start it with "
                          "`qcstation serve --config station.toml`")
    return station


def principal(request: Request) -> Principal | None:
    """The caller from `Authorization: Bearer TOKEN`, else from the session cookie."""
    store = request.app.state.store
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        found = store.token(token_sha256(token.strip()))
        if found is None:
            raise LoginRequired("the API token is not known; create one with "
                                "`qcstation token create`")
        return Principal(found.name, found.role, "token")
    name = request.session.get("user")
    user = store.user(name) if name else None
    if user is None:
        return None
    return Principal(user.name, user.role, "session")


def require(role: str) -> Callable[[Request], Principal]:
    """A dependency: the caller must be signed in with `role` (or a higher one)."""

    def dependency(request: Request) -> Principal:
        who = principal(request)
        if who is None:
            raise LoginRequired("sign in first, or send an API token as "
                                "'Authorization: Bearer TOKEN'")
        if not who.can(role):
            raise Forbidden(f"this needs the {role} role; you are signed in as {who.role}")
        # a browser session writing through the API proves it is our page with its CSRF token
        # (the pages' forms carry theirs in the form: check_csrf_form)
        if (who.via == "session" and request.method not in SAFE_METHODS
                and request.url.path.startswith("/api/")
                and not csrf_ok(request.session.get("csrf"), request.headers.get("x-csrf-token"))):
            raise Forbidden("the request lacks this page's CSRF token; reload the page")
        return who

    return dependency


def check_csrf_form(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    """Every form post carries the hidden csrf_token of its session."""
    if not csrf_ok(request.session.get("csrf"), csrf_token):
        raise Forbidden("the form has expired or was not sent by this site; reload the page "
                        "and try again")


StoreDep = Annotated[Any, Depends(get_store)]
StationDep = Annotated[Any, Depends(get_station)]
InspectorUser = Annotated[Principal, Depends(require("inspector"))]
SupervisorUser = Annotated[Principal, Depends(require("supervisor"))]
AdminUser = Annotated[Principal, Depends(require("admin"))]
CsrfForm = Depends(check_csrf_form)

"""Sign in and out (form posts with the CSRF token; failed attempts rate-limited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from ..auth import new_csrf, verify_password
from ..deps import CsrfForm, StoreDep
from ..i18n import choose_lang, translations
from ..render import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # only a path of this site, never another host
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return render(request, "login.html", next=_safe_next(next), message=None)


@router.post("/login", dependencies=[CsrfForm])
def login(request: Request, store: StoreDep, username: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)],
          next: Annotated[str | None, Form()] = None):
    _ = translations(choose_lang(request)).gettext
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    keys = (f"user:{username.lower()}", f"ip:{client}")
    if limiter.blocked(*keys):
        return render(request, "login.html", status_code=429, next=_safe_next(next),
                      message=_("Too many wrong passwords. Wait five minutes and try again."))
    user = store.user(username)
    if not verify_password(user.password_hash if user else None, password):
        limiter.failed(*keys)
        return render(request, "login.html", status_code=401, next=_safe_next(next),
                      message=_("Wrong user name or password."))
    limiter.succeeded(*keys)
    request.session.clear()
    request.session.update(user=user.name, role=user.role, csrf=new_csrf())
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfForm])
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request):
    role = request.session.get("role")
    if role is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/review" if role == "supervisor" else "/bench", status_code=303)

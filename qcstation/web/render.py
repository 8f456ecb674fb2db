"""Server-rendered pages: one Jinja2 environment, the language and the CSRF token per request."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..domain import DEFECT_TYPES
from .auth import new_csrf
from .i18n import LANG_COOKIE, LANGS, Formatter, choose_lang, translations
from .reasons import defect_name, plain_reasons

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                   trim_blocks=True, lstrip_blocks=True)
LANG_NAMES = {"id": "Bahasa Indonesia", "en": "English", "ko": "한국어"}


def verdict_words(_) -> dict[str, str]:
    return {"pass": _("PASS"), "fail": _("FAIL"), "error": _("NO VERDICT")}


def defect_names(_) -> dict[str, str]:
    return {t: defect_name(t, _) for t in DEFECT_TYPES}


def action_names(_) -> dict[str, str]:
    return {"review": _("review"), "evidence": _("evidence"), "user.add": _("user added"),
            "token.add": _("token created"), "lot.close": _("lot closed"),
            "lot.spec": _("spec changed")}


def describe_change(values: dict | None, _) -> str:
    """An audit entry's before/after in words: verdicts and defect names translated."""
    words, names = verdict_words(_), defect_names(_)
    parts = []
    for key, value in (values or {}).items():
        if value is None:
            continue
        if key == "verdict":
            parts.append(words.get(value, str(value)))
        elif key == "defect_label":
            parts.append(names.get(value, str(value)))
        elif key == "evidence":
            parts.append(_("evidence") if value else _("not evidence"))
        else:
            parts.append(f"{key}: {value}")
    return ", ".join(parts) or "–"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf()
    return token


def page_context(request: Request) -> dict:
    lang = choose_lang(request)
    tr = translations(lang)
    fmt = Formatter(lang)
    return {
        "request": request, "lang": lang, "langs": LANGS, "lang_names": LANG_NAMES,
        "_": tr.gettext, "gettext": tr.gettext, "ngettext": tr.ngettext, "fmt": fmt,
        "csrf_token": csrf_token(request), "user": request.session.get("user"),
        "role": request.session.get("role"),
        "plain_reasons": lambda rec: plain_reasons(rec, tr.gettext, fmt),
        "words": verdict_words(tr.gettext), "defect_names": defect_names(tr.gettext),
        "change": lambda d: describe_change(d, tr.gettext), "actions": action_names(tr.gettext),
    }


def render(request: Request, template: str, status_code: int = 200, **values) -> HTMLResponse:
    ctx = page_context(request) | values
    html = _env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, ctx["lang"], max_age=365 * 86400, samesite="lax")
    return response


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, status=status, message=message)

"""Languages of the pages: id (default), en, ko; gettext catalogues and locale formatting."""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from starlette.requests import Request

LANGS = ("id", "en", "ko")
DEFAULT_LANG = "id"
LANG_COOKIE = "lang"
LOCALES_DIR = Path(__file__).parent / "locales"


@cache
def translations(lang: str) -> Translations:
    """The catalogue of `lang`, compiled from its committed .po file on first use."""
    po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain="messages")


def choose_lang(request: Request) -> str:
    """?lang=, else the remembered cookie, else Accept-Language, else Bahasa Indonesia."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGS:
        return kept
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    ranked = []
    for i, part in enumerate(header.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        primary = tag.strip().lower().split("-")[0]
        if primary == "in":  # the old code of Bahasa Indonesia
            primary = "id"
        if primary in LANGS:
            ranked.append((-weight, i, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANG


class Formatter:
    """Numbers, percentages and dates in one locale (bound per request)."""

    def __init__(self, lang: str):
        self.locale = Locale.parse(lang)

    def num(self, value: float | None, digits: int = 1) -> str:
        if value is None or value != value:
            return "–"
        return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0",
                              locale=self.locale)

    def int(self, value: int | None) -> str:
        return "–" if value is None else format_decimal(value, format="#,##0", locale=self.locale)

    def pct(self, value: float | None) -> str:
        if value is None or value != value:
            return "–"
        return format_percent(value, format="#,##0.0%", locale=self.locale)

    def dt(self, value: datetime | str | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value, format="medium", locale=self.locale)

"""Writes the web view's message catalogues (qcstation/web/locales/*/LC_MESSAGES/messages.po).

Run from the repository root after adding a text to the pages: it extracts every `_("...")`
of qcstation/web (Python and templates), keeps the translations below and reports the texts
that have none yet. English is the msgid itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

sys.path.insert(0, str(Path(__file__).parent))
from web_translations import DYNAMIC, ID, KO  # noqa: E402

LOCALES = Path("qcstation/web/locales")


def extracted() -> set[str]:
    method_map = [("qcstation/web/**.py", "python"),
                  ("qcstation/web/templates/**.html", "jinja2")]
    opts = {"qcstation/web/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
    found = extract_from_dir(".", method_map, keywords={"_": None, "gettext": None},
                             options_map=opts)
    return {msg for _, _, msg, _, _ in found if isinstance(msg, str) and msg} | set(DYNAMIC)


def write(lang: str, table: dict[str, str], ids: set[str]) -> list[str]:
    cat = Catalog(locale=lang, project="qcstation", charset="utf-8")
    missing = []
    for msgid in sorted(ids):
        text = table.get(msgid, "")
        if lang != "en" and not text:
            missing.append(msgid)
        cat.add(msgid, text)
    out = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        write_po(f, cat, sort_output=True, no_location=True, width=100)
    return missing


def main() -> int:
    ids = extracted()
    bad = 0
    for lang, table in (("en", {}), ("id", ID), ("ko", KO)):
        missing = write(lang, table, ids)
        for m in missing:
            print(f"{lang}: no translation for {m!r}")
        bad += len(missing)
    print(f"{len(ids)} texts; {bad} translations missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

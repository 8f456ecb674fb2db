"""The store's place in the layering: the only database code, and it knows no HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "qcstation"
DATABASE = {"sqlalchemy", "alembic", "sqlite3", "psycopg"}
ABOVE_STORE = {"fastapi", "starlette", "uvicorn", "httpx", "paho", "jinja2"}


def top_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_only_the_store_talks_to_the_database():
    users = sorted(p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py")
                   if {n.split(".")[0] for n in top_imports(p)} & DATABASE
                   and p.relative_to(PKG).parts[0] != "store")
    assert users == []


def test_the_store_knows_no_http_and_nothing_above_it():
    for path in (PKG / "store").rglob("*.py"):
        names = top_imports(path)
        assert not {n.split(".")[0] for n in names} & ABOVE_STORE, path
        above = {n for n in names if n.startswith(("qcstation.web", "qcstation.station",
                                                   "qcstation.cli", "qcstation.outputs"))}
        assert not above, f"{path} imports {above}"

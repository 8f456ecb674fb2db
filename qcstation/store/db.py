"""The database engine (SQLite in WAL mode or PostgreSQL by URL) and its Alembic migrations."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
WAL_RETRY_S = 0.02  # between tries to turn a new SQLite file to WAL
_PG_MIGRATION_LOCK = 0x71C57A71  # pg_advisory_xact_lock key: one migrator at a time


class SchemaError(ValueError):
    """The database's schema is not one this version can migrate."""


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and real transactions."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(u, pool_pre_ping=True)
    if not u.database or u.database == ":memory:":
        raise ValueError("the SQLite database must be a file (sqlite:///path/to/qcstation.db)")
    engine = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_sqlite_folder(url: str) -> None:
    """SQLite cannot create the folder of its file: make it (e.g. sqlite:///data/qcstation.db)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


def writer(engine: Engine) -> Engine:
    """The same engine for write transactions: SQLite takes the write lock at BEGIN.

    A deferred SQLite transaction that reads and then writes fails at once (SQLITE_BUSY) when
    another connection wrote in between; BEGIN IMMEDIATE waits for the busy timeout instead.
    """
    return engine.execution_options(sqlite_immediate=True)


def _sqlite_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # the driver's own BEGIN handling off: we emit BEGIN
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _set_wal(cur)
    cur.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _set_wal(cur) -> None:
    """Journal mode WAL. Turning a new file to WAL needs it alone for a moment, and SQLite
    answers "database is locked" at once, busy timeout or not, to a second station opening the
    same new database in that moment: try again until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_S)


def _sqlite_begin(conn) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(engine: Engine) -> None:
    """Brings the schema to the newest revision; idempotent, safe with several openers at once."""
    cfg = alembic_config()
    head = head_revision()
    with engine.connect() as conn:  # the usual case: up to date, nothing to lock or log
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except CommandError as exc:  # e.g. a revision this version does not know
            raise SchemaError(f"the database schema cannot be brought up to date ({exc}); "
                              "was it made by a newer qcstation?") from exc
    logger.info("database schema brought to revision %s", head)


def is_disk_full(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return ("disk is full" in text or "no space left" in text
            or getattr(exc.orig, "sqlstate", None) == "53100")  # PostgreSQL disk_full


def first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0] if text else type(exc).__name__


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a malformed URL)"

"""The schema: made by the Alembic migrations at Store.open, idempotent, equal to the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from storeutil import pg_schema_url, record

from qcstation.store import Store, StoreError
from qcstation.store.db import head_revision, make_engine
from qcstation.store.records import Base

TABLES = {"alembic_version", "lots", "nets", "inspections", "defects", "reviews", "users",
          "api_tokens", "audit"}


@pytest.fixture
def pg_url():
    yield from pg_schema_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'qc.db'}"
    return request.getfixturevalue("pg_url")


def version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


def test_open_creates_the_schema_and_reopening_changes_nothing(url, tmp_path):
    with Store.open(url, tmp_path / "data") as store:
        assert set(inspect(store.engine).get_table_names()) == TABLES
        rid = record(store, store.open_lot("L").id, "fail", seed=1)
    assert version(url) == head_revision()
    for _ in range(2):  # an existing, filled database: upgrade is a no-op
        with Store.open(url, tmp_path / "data") as store:
            assert set(inspect(store.engine).get_table_names()) == TABLES
            assert store.inspection(rid).verdict == "fail"
            assert store.lot_summary(1).inspected == 1
    assert version(url) == head_revision()


def test_the_migrations_make_exactly_the_models(url, tmp_path):
    with Store.open(url, tmp_path / "data") as store, store.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    with Store.open(None, tmp_path / "data") as store, store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    assert (tmp_path / "data" / "qcstation.db").exists()


def test_a_database_from_an_unknown_newer_version_is_refused_plainly(tmp_path):
    url = f"sqlite:///{tmp_path / 'qc.db'}"
    Store.open(url, tmp_path / "data").close()
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer qcstation"):
        Store.open(url, tmp_path / "data")


def test_an_unreachable_server_is_one_plain_error(tmp_path):
    with pytest.raises(StoreError, match="cannot open the database"):
        Store.open("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
                   tmp_path / "data")


def test_a_database_of_the_first_revision_is_upgraded_with_its_data(url, tmp_path):
    from alembic import command

    from qcstation.store.db import alembic_config, writer
    engine = make_engine(url)
    cfg = alembic_config()
    with writer(engine).begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "0001")
        c.execute(text("INSERT INTO lots (name, mode, created_at) "
                       "VALUES ('OLD', 'all', '2026-01-02 03:04:05')"))
    engine.dispose()
    assert version(url) == "0001"
    with Store.open(url, tmp_path / "data") as store:
        assert store.lots()[0].name == "OLD"
        record(store, store.lots()[0].id, seed=1)
        indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("inspections")}
        assert "ix_inspections_verdict_created" in indexes
        assert "ix_inspections_verdict" not in indexes
    assert version(url) == head_revision() == "0002"


@pytest.mark.parametrize("bad", ["nonsense", "nosuchdb://x/y", "sqlite://",
                                 "postgresql+psycopg://u:secret@127.0.0.1:1/x?connect_timeout=2"])
def test_a_bad_url_is_one_plain_error_without_the_password(tmp_path, bad):
    with pytest.raises(StoreError, match="cannot open the database") as info:
        Store.open(bad, tmp_path / "data")
    assert "secret" not in str(info.value)


def test_a_relative_sqlite_url_gets_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Store.open("sqlite:///var/qc/qcstation.db", tmp_path / "data") as store:
        store.open_lot("L")
    assert (tmp_path / "var/qc/qcstation.db").stat().st_size > 0

"""Faults: a station killed while writing, two stations at once, a full disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from storeutil import decodes, pg_schema_url, record

from qcstation.store import Store, StoreFull, db

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture
def pg_url():
    yield from pg_schema_url()


def writer(url: str, data_dir: Path, station: str, lot: str, n: int,
           start: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{TESTS}")
    args = [sys.executable, str(TESTS / "store_writer.py"), url, str(data_dir), station, lot,
            str(n)] + ([str(start)] if start else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def all_records(store: Store) -> list:
    out, cursor = [], None
    while True:
        page, cursor = store.inspections(limit=200, cursor=cursor)
        out += page
        if cursor is None:
            return out


def assert_complete(store: Store) -> list:
    """Every record's image and overlay exist and decode; no half-written file is left."""
    records = all_records(store)
    for r in records:
        assert decodes(store.image_file(r.id)), r.id
        assert decodes(store.image_file(r.id, "overlay")), r.id
    assert not list((store.data_dir / "images").rglob("*.tmp"))
    return records


def kill_while_writing(url: str | None, data: Path, kill_after: float) -> list[str]:
    """Starts a writer, kills it (SIGKILL) `kill_after` s after its store is open; the ids it
    was told were stored."""
    proc = writer(url or "-", data, "bench-1", "L", 0)
    deadline = time.monotonic() + 60
    log = data / "log"
    before = {p: p.stat().st_size for p in log.glob("*.jsonl")} if log.exists() else {}
    while time.monotonic() < deadline and proc.poll() is None:
        now = {p: p.stat().st_size for p in log.glob("*.jsonl")} if log.exists() else {}
        if now != before:
            break  # the writer's first record is in: it is in its loop
        time.sleep(0.02)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err
    return out.split()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_while_writing_leaves_every_record_complete(tmp_path, backend, request):
    data = tmp_path / "data"
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    told: set[str] = set()
    moved = 0
    for kill_after in (0.13, 0.41, 0.27, 0.6, 0.05):  # five kills, each at another moment
        told |= set(kill_while_writing(url, data, kill_after))
        files_before = {p.name.split(".")[0] for p in (data / "images").rglob("*.jpg")}
        with Store.open(url, data, reserve_bytes=0) as store:
            records = assert_complete(store)
            ids = {r.id for r in records}
            assert told <= ids  # every id a writer was told of is stored
            report = store.last_reconcile
            assert report.missing == 0
            moved += report.orphans_moved
            orphans = {p.name.split(".")[0] for p in (data / "orphans").rglob("*.jpg")}
            assert orphans == {p for p in orphans if p not in ids}
            assert files_before - ids <= orphans
            assert {p.name.split(".")[0] for p in (data / "images").rglob("*.jpg")} == ids
            days = {f"{r.created_at:%Y-%m-%d}" for r in records}
            logged = set().union(*(store.log.ids(d) for d in days))
            assert ids <= logged  # the log caught up with any line lost at the kill
    assert moved == len(list((data / "orphans").rglob("*.jpg")))
    assert len(told) >= 5


def test_an_image_without_a_record_is_moved_to_orphans(tmp_path):
    data = tmp_path / "data"
    with Store.open(None, data, reserve_bytes=0) as store:
        rid = record(store, store.open_lot("L").id, seed=1)
        store.images.write("images/2026-01-02/deadbeef.jpg", b"\xff\xd8 not stored")
        (data / "images/2026-01-02/cafe.jpg.tmp").write_bytes(b"half")
    with Store.open(None, data, reserve_bytes=0) as store:
        assert (store.last_reconcile.orphans_moved, store.last_reconcile.temp_removed) == (1, 1)
        assert (data / "orphans/2026-01-02/deadbeef.jpg").exists()
        assert not (data / "images/2026-01-02/cafe.jpg.tmp").exists()
        assert decodes(store.image_file(rid))


def run_stations(url: str, tmp_path: Path, n: int, shared_dir: bool) -> tuple[list, list]:
    start = tmp_path / "go"
    procs = [writer(url, tmp_path / ("data" if shared_dir else f"data-{k}"), f"bench-{k}",
                    "SHARED-LOT", n, start) for k in (1, 2)]
    time.sleep(0.5)
    start.touch()  # both open the (fresh) database and write at the same moment
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    return [o.split() for o, _ in outs], procs


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_stations_write_at_once_nothing_lost_or_doubled(tmp_path, backend, request):
    url = (request.getfixturevalue("pg_url") if backend == "postgresql"
           else f"sqlite:///{tmp_path / 'shared.db'}")
    n = 100
    (ids1, ids2), _ = run_stations(url, tmp_path, n, shared_dir=backend == "sqlite")
    assert len(ids1) == len(ids2) == n
    with Store.open(url, tmp_path / "reader", reserve_bytes=0) as store:
        records = all_records(store)
        assert len(records) == 2 * n and len({r.id for r in records}) == 2 * n
        assert {r.id for r in records if r.station == "bench-1"} == set(ids1)
        assert {r.id for r in records if r.station == "bench-2"} == set(ids2)
        (summary,) = store.lots()
        assert (summary.name, summary.inspected, summary.nets) == ("SHARED-LOT", 2 * n, 2 * n)
        assert sorted(r.net_number for r in records) == list(range(1, 2 * n + 1))
        assert (summary.passed, summary.failed, summary.errors) == (68, 66, 66)


def open_at_once(url: str, start: threading.Barrier, failures: list) -> None:
    """One station opening the database `url` when all are ready; a failure is kept."""
    start.wait()
    try:
        engine = db.make_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 (every failure is the finding)
        failures.append(exc)


def test_stations_opening_one_new_sqlite_database_at_once_all_open(tmp_path):
    # turning a new file to WAL needs it alone for a moment; SQLite answered "database is
    # locked" at once (no busy timeout) to a second station opening it then, and that station
    # did not start (about 1 round in 15 of the two-station test above)
    for round_ in range(30):
        url = f"sqlite:///{tmp_path / f'new-{round_}.db'}"
        start, failures = threading.Barrier(4), []
        threads = [threading.Thread(target=open_at_once, args=(url, start, failures))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MiB tmpfs (needs root and mount rights; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.parametrize("db_on_tiny_disk", [False, True])
def test_a_full_disk_raises_store_full_and_keeps_earlier_records(tmp_path, tiny_disk,
                                                                 db_on_tiny_disk):
    url = None if db_on_tiny_disk else f"sqlite:///{tmp_path / 'qc.db'}"
    data = tiny_disk / "data"
    stored = []
    with Store.open(url, data, reserve_bytes=0) as store:
        lot = store.open_lot("L")
        with pytest.raises(StoreFull):  # ~100 KiB per inspection: 2 MiB fill up quickly
            for i in range(100):
                stored.append(record(store, lot.id, "fail", seed=i, size=(200, 150),
                                     noise=True))
        assert len(stored) >= 3
        assert not list((data / "images").rglob("*.tmp"))
    with Store.open(url, data, reserve_bytes=0) as store:
        records = assert_complete(store)
        assert [r.id for r in records] == stored[::-1]
        assert store.last_reconcile.orphans_moved == 0


def test_the_reserve_refuses_before_anything_is_written(tmp_path):
    with Store.open(None, tmp_path / "data", reserve_bytes=0) as store:
        lot = store.open_lot("L")
        first = record(store, lot.id, seed=1)
        store.images.reserve_bytes = store.images.free_bytes() + 2**20  # already below it
        files = sorted((tmp_path / "data").rglob("*"))
        with pytest.raises(StoreFull, match="full"):
            record(store, lot.id, seed=2)
        assert sorted((tmp_path / "data").rglob("*")) == files
        assert store.disk_state()["full"]
        assert [r.id for r in store.inspections()[0]] == [first]


def test_a_write_that_runs_out_of_space_leaves_no_file_and_keeps_earlier_ones(tiny_disk):
    from qcstation.store.images import ImageStore
    images = ImageStore(tiny_disk / "data", reserve_bytes=0)
    kept = images.write("images/2026-01-02/a.jpg", b"\xff" * 100_000)
    with pytest.raises(StoreFull):  # bigger than the whole disk: ENOSPC in the middle
        images.write("images/2026-01-02/b.jpg", b"\xff" * 3 * 2**20)
    assert sorted(p.name for p in (tiny_disk / "data/images/2026-01-02").iterdir()) == ["a.jpg"]
    assert kept.read_bytes() == b"\xff" * 100_000


def test_a_full_database_disk_raises_store_full(tiny_disk):
    data = tiny_disk / "data"
    with Store.open(None, data, reserve_bytes=0) as store:
        lot = store.open_lot("L")
        filler = tiny_disk / "filler"
        with filler.open("wb") as f, pytest.raises(OSError):
            while True:  # fill every block so the database itself cannot grow
                f.write(b"\0" * 65536)
                f.flush()
        with pytest.raises(StoreFull):
            for i in range(200):
                store.open_lot(f"lot-{i:03d}-" + "x" * 150, buyer="y" * 150)
        filler.unlink()
        assert store.lot(lot.id).name == "L"
        record(store, lot.id, seed=1)  # with space again, the store works on
        assert store.lot_summary(lot.id).inspected == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_threads_writing_through_one_and_two_store_objects(tmp_path, backend, request):
    import threading
    url = (request.getfixturevalue("pg_url") if backend == "postgresql"
           else f"sqlite:///{tmp_path / 'qc.db'}")
    stores = [Store.open(url, tmp_path / "data-a", reserve_bytes=0),
              Store.open(url, tmp_path / "data-b", reserve_bytes=0)]
    lot = stores[0].open_lot("L")
    ids: list[str] = []
    errors: list[BaseException] = []

    def work(store: Store, k: int) -> None:
        try:
            for i in range(15):
                ids.append(record(store, lot.id, station=f"t{k}", seed=100 * k + i))
                store.inspections(limit=5)  # reads between the writes, as the web view does
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(stores[k % 2], k)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records = all_records(stores[0])
    assert sorted(r.id for r in records) == sorted(ids) and len(set(ids)) == 60
    assert sorted(int(r.net_id) for r in records) == list(range(1, 61))
    for s in stores:
        s.close()


def test_the_start_up_check_finishes_a_thinning_and_counts_lost_files(tmp_path):
    from datetime import timedelta
    data = tmp_path / "data"
    with Store.open(None, data, reserve_bytes=0) as store:
        lot = store.open_lot("L")
        thinned, lost, kept = (record(store, lot.id, v, seed=i) for i, v in
                               enumerate(["pass", "fail", "fail"]))
        image = store.image_file(thinned).read_bytes()
        assert store.thin_passes(timedelta(0)) == 1
        # as if the thinning was cut off after its commit, before it deleted the files:
        store.images.write(f"images/{store.inspection(thinned).created_at:%Y-%m-%d}/"
                           f"{thinned}.jpg", image)
        store.image_file(lost).unlink()  # a file lost by hand or a bad disk
    with Store.open(None, data, reserve_bytes=0) as store:
        report = store.last_reconcile
        assert (report.thinned_removed, report.missing, report.orphans_moved) == (1, 1, 0)
        assert not list(data.rglob(f"{thinned}*"))
        assert store.image_file(lost) is None and decodes(store.image_file(kept))


def test_opening_the_store_while_a_station_writes_takes_nothing_for_an_orphan(tmp_path):
    """A second opener (the web's `user add`, a restart of the web view) runs the start-up
    check while the station records: no file in flight is moved, no log line doubled."""
    import json
    import threading
    data = tmp_path / "data"
    station = Store.open(None, data, reserve_bytes=0)
    lot = station.open_lot("L")
    ids: list[str] = []
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(40):
                ids.append(record(station, lot.id, seed=i, size=(320, 240)))
        finally:
            done.set()

    t = threading.Thread(target=write)
    t.start()
    reports = []
    while not done.is_set():
        with Store.open(None, data, reserve_bytes=0) as other:
            reports.append(other.last_reconcile)
    t.join()
    assert len(reports) >= 2
    assert all(r.orphans_moved == 0 and r.missing == 0 for r in reports), reports
    assert not (data / "orphans").exists()
    assert_complete(station)
    lines = [json.loads(x)["id"] for p in (data / "log").glob("*.jsonl")
             for x in p.read_text().splitlines()]
    assert sorted(lines) == sorted(ids) and len(ids) == 40
    station.close()


def test_a_database_gone_midway_is_a_plain_store_error(tmp_path, pg_url):
    import psycopg

    from qcstation.store import StoreError
    store = Store.open(pg_url, tmp_path / "data", reserve_bytes=0)
    lot = store.open_lot("L")
    record(store, lot.id, seed=1)
    schema = pg_url.rsplit("%3D", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
        c.execute(f"DROP SCHEMA {schema} CASCADE")
        c.execute(f"CREATE SCHEMA {schema}")  # empty: the tables are gone
    with pytest.raises(StoreError, match="database error") as info:
        store.inspections()
    assert "\n" not in str(info.value)
    with pytest.raises(StoreError):
        record(store, lot.id, seed=2)
    store.close()

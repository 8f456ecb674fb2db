"""The station end to end with real parts: hot folder and video file sources, real inspections,
SQLite and PostgreSQL, the Mosquitto broker, a full disk, the JSONL log and the metrics."""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
from stationkit import drop, good_net, make_bench, torn_net, up, wait_for

from qcstation.station.components import build_components
from qcstation.station.runner import Station
from qcstation.station.settings import load_settings
from qcstation.store import Store

needs_broker = pytest.mark.skipif(not up("127.0.0.1", 1883),
                                  reason="needs the Mosquitto broker on 127.0.0.1:1883")
needs_postgres = pytest.mark.skipif(not up("127.0.0.1", 5432),
                                    reason="needs PostgreSQL on 127.0.0.1:5432")


@contextlib.contextmanager
def running(settings_path: Path, **store_kw):
    settings = load_settings(settings_path)
    store = Store.open(settings.storage_url, settings.station.data_dir, **store_kw)
    station = Station(settings, store, build_components(settings, use_model=False))
    station.start()
    try:
        yield station, store
    finally:
        station.stop()
        store.close()


def records(store: Store, lot_id: int) -> dict[str, object]:
    return {r.source_name: r for r in store.lot_records(lot_id)}


def test_hot_folder_into_sqlite_with_bad_files_logged(tmp_path, caplog):
    incoming = tmp_path / "incoming"
    path = make_bench(tmp_path, 'type = "folder"\npath = "incoming"\npoll_s = 0.1\n'
                                'stable_s = 0.1')
    good = cv2.imencode(".jpg", good_net(1))[1].tobytes()
    with running(path) as (station, store):
        drop(incoming, "a.jpg", good_net(0))
        drop(incoming, "b.jpg", torn_net())
        drop(incoming, "c.jpg", b"this is no image at all")  # unreadable
        drop(incoming, "d.jpg", good[: len(good) // 3])  # a corrupt (truncated) frame
        drop(incoming, "e.jpg", good_net(2))
        lot = station.current_lot
        wait_for(lambda: len(records(store, lot)) == 5, 60, "5 stored inspections")
        got = records(store, lot)
        assert station.status().state == "running"
        wait_for(lambda: station.status().lot["inspected"] == 5, 10, "the lot's counts")
        metrics = station.metrics.exposition().decode()
    assert got["a.jpg"].verdict == "pass" and got["e.jpg"].verdict == "pass"
    assert got["b.jpg"].verdict == "fail" and any("hole" in r for r in got["b.jpg"].reasons)
    assert got["c.jpg"].verdict == "error" and got["c.jpg"].error
    assert got["d.jpg"].verdict != "pass"
    assert "c.jpg" in caplog.text  # the unreadable file is logged
    assert 'verdict="pass"} 2.0' in metrics and 'verdict="error"} ' in metrics
    store = Store.open(load_settings(path).storage_url, tmp_path / "data")
    try:
        for r in got.values():  # every record with its image (and overlay where drawn)
            assert store.image_file(r.id, "image").is_file()
        assert store.image_file(got["b.jpg"].id, "overlay").is_file()
        lines = [json.loads(x) for f in (tmp_path / "data/log").glob("*.jsonl")
                 for x in f.read_text().splitlines()]
        assert sorted(x["id"] for x in lines) == sorted(r.id for r in got.values())
    finally:
        store.close()
    # a restart inspects nothing twice
    with running(path) as (station, store):
        drop(incoming, "f.jpg", good_net(3))
        wait_for(lambda: len(records(store, station.current_lot)) == 6, 30, "the new file")
        assert station.idle(10)
        assert len(list(store.lot_records(station.current_lot))) == 6


@needs_broker
def test_each_verdict_reaches_an_mqtt_subscriber(tmp_path):
    from test_outputs import Subscriber

    path = make_bench(tmp_path, 'type = "folder"\npath = "incoming"\npoll_s = 0.1\n'
                                'stable_s = 0.1', "[mqtt]\nurl = 'mqtt://127.0.0.1:1883'\n")
    station_id = load_settings(path).station.id
    sub = Subscriber(station_id)
    try:
        with running(path) as (station, store):
            wait_for(station.publisher.connected.is_set, 5, "the broker")
            for k, img in enumerate([good_net(0), torn_net(), good_net(4)]):
                drop(tmp_path / "incoming", f"{k}.jpg", img)
            wait_for(lambda: len(records(store, station.current_lot)) == 3, 60, "3 records")
            stored = {r.id: r for r in records(store, station.current_lot).values()}
            results = {}
            while len(results) < 3:
                topic, msg, _ = sub.next(10)
                if topic.endswith("/result"):
                    results[msg["id"]] = msg
        assert set(results) == set(stored)
        for rid, msg in results.items():
            assert msg["verdict"] == stored[rid].verdict
            assert msg["net"] == stored[rid].net_id and msg["lot"] == stored[rid].lot
    finally:
        sub.close()
        from test_outputs import _clear_retained
        _clear_retained(station_id)


@needs_postgres
def test_hot_folder_into_postgresql(tmp_path):
    import psycopg

    db = f"qcs_station_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{db}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
        path = make_bench(tmp_path, 'type = "folder"\npath = "incoming"\npoll_s = 0.1\n'
                                    'stable_s = 0.1', storage=url)
        with running(path) as (station, store):
            drop(tmp_path / "incoming", "a.jpg", good_net(0))
            drop(tmp_path / "incoming", "b.jpg", torn_net())
            wait_for(lambda: len(records(store, station.current_lot)) == 2, 60, "2 records")
            got = records(store, station.current_lot)
            assert got["a.jpg"].verdict == "pass" and got["b.jpg"].verdict == "fail"
            assert all(store.image_file(r.id).is_file() for r in got.values())
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _bench_video(path: Path, fps: int = 10) -> None:
    """A recorded bench session: empty, a net laid still, empty, a torn net, empty."""
    empty = np.full_like(good_net(), 220)
    scenes = [(empty, 1.5), (good_net(0), 3.0), (empty, 1.5), (torn_net(), 3.0), (empty, 1.5)]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, empty.shape[1::-1])
    assert out.isOpened()
    for image, seconds in scenes:
        for _ in range(round(seconds * fps)):
            out.write(image)
    out.release()


def test_video_file_replayed_inspects_each_placed_net_once(tmp_path):
    _bench_video(tmp_path / "bench.avi")
    path = make_bench(tmp_path, 'type = "video"\nfile = "bench.avi"\nfps = 20')
    with running(path) as (station, store):
        wait_for(lambda: station.source.state == "ended", 60, "the end of the video")
        assert station.idle(30)
        got = sorted(store.lot_records(station.current_lot), key=lambda r: r.captured_at)
    assert [r.verdict for r in got] == ["pass", "fail"]
    assert [r.net_id for r in got] == ["1", "2"]  # numbered within the lot


def test_full_disk_stops_inspections_then_resumes(tmp_path):
    path = make_bench(tmp_path, 'type = "folder"\npath = "incoming"\npoll_s = 0.1\n'
                                'stable_s = 0.1')
    with running(path, reserve_bytes=1 << 62) as (station, store):  # no disk is this large
        station.retry_full_s = 0.2
        drop(tmp_path / "incoming", "a.jpg", good_net(0))
        wait_for(lambda: station.status().state == "disk full", 30, "the disk-full state")
        assert "full" in station.status().message
        assert "qcstation_inspections_stopped" in station.metrics.exposition().decode()
        assert list(store.lot_records(station.current_lot)) == []
        drop(tmp_path / "incoming", "b.jpg", good_net(1))  # waits in the folder
        store.images.reserve_bytes = 0  # room again
        wait_for(lambda: len(records(store, station.current_lot)) == 2, 60, "both files")
        wait_for(lambda: station.status().state == "running", 10, "the state running again")


@needs_postgres
def test_two_stations_write_one_lot_in_one_postgresql_database(tmp_path):
    import psycopg

    db = f"qcs_station_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{db}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
        benches = []
        for k in (1, 2):
            folder = tmp_path / f"b{k}"
            folder.mkdir()
            benches.append(make_bench(folder, 'type = "folder"\npath = "incoming"\n'
                                              'poll_s = 0.1\nstable_s = 0.1', "[lot]\n"
                                      "name = 'SHARED-1'\nquantity = 100\n", storage=url))
        per_station = 6
        with running(benches[0]) as (one, store), running(benches[1]) as (two, _):
            assert one.current_lot == two.current_lot  # the same lot, opened once
            for k in range(per_station):
                drop(benches[0].parent / "incoming", f"a{k}.jpg", good_net(k))
                drop(benches[1].parent / "incoming", f"b{k}.jpg", good_net(k + 1))
            lot = one.current_lot
            wait_for(lambda: len(list(store.lot_records(lot))) == 2 * per_station, 120,
                     "both stations' records")
            got = list(store.lot_records(lot))
        assert {r.station for r in got} == {one.id, two.id}
        assert sorted(r.source_name for r in got) == sorted(
            [f"a{k}.jpg" for k in range(per_station)] + [f"b{k}.jpg" for k in range(per_station)])
        numbers = sorted(int(r.net_id) for r in got)  # nets numbered across both, none twice
        assert numbers == list(range(1, 2 * per_station + 1))
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

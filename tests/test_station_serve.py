"""`qcstation serve` and `qcstation demo` as processes: killed while writing, restarted, stopped."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from stationkit import ROOT, drop, free_port, good_net, make_bench, torn_net, up, wait_for

from qcstation.store import Store

FILES = 12


def _serve(config: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "qcstation", "serve", "--config", str(config),
                             "--port", str(port)], env=env, cwd=config.parent,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("select count(*) from inspections").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_killed_while_writing_then_restarted_every_record_complete(tmp_path):
    config = make_bench(tmp_path, 'type = "folder"\npath = "incoming"\npoll_s = 0.1\n'
                                  'stable_s = 0.1')
    for k in range(FILES):
        drop(tmp_path / "incoming", f"{k:02d}.jpg", torn_net() if k % 4 == 1 else good_net(k))
    db, port, log = tmp_path / "data/qcstation.db", free_port(), tmp_path / "serve.log"
    proc = _serve(config, port, log)
    try:
        wait_for(lambda: _count(db) >= 3, 120, "the first records")
        proc.send_signal(signal.SIGKILL)  # in the middle of the run: images or rows being written
        proc.wait(10)
        killed_at = _count(db)
        assert killed_at < FILES, "the station finished before it was killed; add files"
        proc = _serve(config, port, log)
        wait_for(lambda: _count(db) >= FILES, 180, "every file stored after the restart")
        wait_for(lambda: up("127.0.0.1", port), 30, "the web view")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert b"qcstation_inspections_total" in r.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0, log.read_text()[-2000:]
    finally:
        proc.kill()
    store = Store.open(None, tmp_path / "data")
    try:
        lot = store.lots()[0].id
        got = list(store.lot_records(lot))
        assert sorted(r.source_name for r in got) == [f"{k:02d}.jpg" for k in range(FILES)]
        assert sum(r.verdict == "fail" for r in got) == FILES // 4
        for r in got:
            assert store.image_file(r.id, "image").is_file()
            assert store.image_file(r.id, "overlay").is_file()
        assert sorted(r.net_id for r in got) == sorted(str(k) for k in range(1, FILES + 1))
    finally:
        store.close()


@pytest.mark.slow
def test_demo_runs_the_station_on_the_simulated_camera(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "qcstation", "demo", "--nets", "2", "--size", "800x600",
         "--port", str(port), "--data", str(tmp_path / "demo-data"), "--threads", "1"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=420)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"http://127.0.0.1:{port}/" in out.stdout and "log in as demo" in out.stdout
    store = Store.open(None, tmp_path / "demo-data")
    try:
        got = list(store.lot_records(store.lots()[0].id))
        assert len(got) == 2 and {r.net_id for r in got} == {"1", "2"}
        assert all(store.image_file(r.id).is_file() for r in got)
        from qcstation.web.auth import verify_password  # the printed password logs in

        password = (tmp_path / "demo-data/demo-login.txt").read_text().split()[1]
        assert password in out.stdout
        assert verify_password(store.user("demo").password_hash, password)
    finally:
        store.close()


@pytest.mark.parametrize("mutate, words", [
    (lambda t: t.replace("[storage]", "[storage]\ncolour = 1"), ["storage.colour", "unknown"]),
    (lambda t: t.replace('"bench.json"', '"missing.json"'), ["missing.json", "not found"]),
    (lambda t: t.replace('path = "incoming"', 'path = 5'), ["source.path", "5"]),
])
def test_serve_refuses_bad_settings_in_one_sentence(tmp_path, mutate, words):
    config = make_bench(tmp_path, 'type = "folder"\npath = "incoming"')
    config.write_text(mutate(config.read_text()))
    out = subprocess.run([sys.executable, "-m", "qcstation", "serve", "--config", str(config),
                          "--port", str(free_port())], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert all(w in out.stderr for w in words), out.stderr
    assert not (tmp_path / "data" / "qcstation.db").exists()  # refused before anything opened


@pytest.mark.slow
def test_older_batch_demo_still_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "qcstation", "demo", "--batch", "--n", "1", "--out",
         str(tmp_path / "out"), "--no-model", "--threads", "1"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "1 of 1 verdicts" in out.stdout or "0 of 1 verdicts" in out.stdout
    assert list((tmp_path / "out/overlays").glob("*"))

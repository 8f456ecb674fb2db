"""`qcstation serve` stops soon after Ctrl-C even while a bench page keeps its streams open."""

from __future__ import annotations

import signal
import threading
import time

import httpx
from stationkit import free_port, make_bench, up, wait_for
from test_station_serve import _serve
from webutil import PASSWORDS, login

from qcstation.store import Store
from qcstation.web.auth import hash_password

STOP_S = 12  # graceful shutdown 3 s, the station's stop and the exit; the stream alone lasts 20 s


def test_ctrl_c_does_not_wait_for_an_open_bench_stream(tmp_path):
    config = make_bench(tmp_path, 'type = "folder"\npath = "incoming"\npoll_s = 0.1\n'
                                  'stable_s = 0.1')
    with Store.open(None, tmp_path / "data") as store:
        store.add_user("ina", "inspector", hash_password(PASSWORDS["ina"]))
    port, log = free_port(), tmp_path / "serve.log"
    proc = _serve(config, port, log)
    opened = threading.Event()
    try:
        wait_for(lambda: up("127.0.0.1", port), 60, "the web view")
        client = login(f"http://127.0.0.1:{port}", "ina")

        def listen() -> None:  # a bench page's verdict push, held open
            try:
                with client.stream("GET", "/bench/events", timeout=60) as r:
                    opened.set()
                    for _ in r.iter_bytes():
                        pass
            except httpx.HTTPError:
                pass

        threading.Thread(target=listen, daemon=True).start()
        assert opened.wait(20), "the event stream did not open"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0, log.read_text()[-2000:]
        took = time.monotonic() - t0
    finally:
        proc.kill()
    assert took < STOP_S, f"serve took {took:.1f} s to stop with a stream open"

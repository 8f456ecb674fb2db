"""Helpers of the web tests: a real store with users and records, a real uvicorn server."""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import uvicorn

from qcstation.domain import Defect, Inspection, MeshStats, Stat
from qcstation.station.settings import load_settings
from qcstation.store import Store
from qcstation.web.app import create_app
from qcstation.web.auth import hash_password, new_token, token_sha256

ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {"ina": "inspector-pass-1", "sam": "supervisor-pass-1", "ada": "admin-pass-123"}
ROLE_OF = {"ina": "inspector", "sam": "supervisor", "ada": "admin"}
# a spec wrong in four places: an unknown key, a negative tolerance, a largest opening below
# the nominal one, no [defects.max_count]
BAD_SPEC = """[spec]
name = "X"
colour = "red"
[mesh]
opening_mm = [25.0, 25.0]
tolerance_mm = -1
max_opening_mm = 20.0
min_strand_mm = 4.0
"""


def write_settings(tmp: Path, source: str = 'type = "simulated"\nseed = 3\nfps = 10',
                   extra: str = "", calibration: Path | None = None) -> Path:
    path = tmp / "station.toml"
    path.write_text(f"""
[station]
id = "bench-t"
data_dir = "data"

[source]
{source}

[trigger]
mode = "manual"

[inspection]
spec = "{ROOT / 'specs/kr-coirnet-25.toml'}"
calibration = "{calibration or ROOT / 'calibration/demo-camera.json'}"
{extra}
""")
    return path


def net_jpeg(seed: int, size=(320, 240)) -> bytes:
    """A small photo-like grid of strands (real JPEG bytes)."""
    w, h = size
    img = np.full((h, w, 3), (60, 90, 120), np.uint8)
    img[:, seed % 20::20] = (40, 160, 200)
    img[seed % 20::20, :] = (40, 160, 200)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def inspection(verdict: str, opening_mm: float, defects=()) -> Inspection:
    reasons = []
    if verdict == "fail":
        reasons = [f"{d.type} at ({d.bbox_px[0] + d.bbox_px[2] // 2}, "
                   f"{d.bbox_px[1] + d.bbox_px[3] // 2}) px: {d.size_mm[0]:.0f} x "
                   f"{d.size_mm[1]:.0f} mm" for d in defects] or [
            f"mean opening width {opening_mm:.1f} mm outside 25.0 ± 3.0 mm"]
    if verdict == "error":
        return Inspection(image="x.jpg", verdict="error", spec="KR-CN-25",
                          reasons=("the image is out of focus (sharpness 0.01, needs 0.05)",),
                          error="the image is out of focus (sharpness 0.01, needs 0.05)")
    s = Stat(opening_mm, 0.8, opening_mm - 2, opening_mm + 2)
    mesh = MeshStats(openings=120, opening_w_mm=s, opening_h_mm=s, pitch_mm=s,
                     strand_width_mm=Stat(5.0, 0.3, 4.4, 5.6))
    return Inspection(image="x.jpg", verdict=verdict, reasons=tuple(reasons), spec="KR-CN-25",
                      mesh=mesh, defects=tuple(defects), timing_ms={"total": 100.0})


HOLE = Defect("hole", (100, 60, 40, 30), (61.0, 48.0), 0.97)


def fill_store(store: Store, station: str = "bench-t") -> dict:
    """Three users, a lot with a spread of passes and failures; returns their ids."""
    for name, pw in PASSWORDS.items():
        store.add_user(name, ROLE_OF[name], hash_password(pw))
    lot = store.open_lot("LOT-A", quantity=50, buyer="Buyer KR", spec_name="KR-CN-25",
                         station=station)
    ids = []
    t0 = datetime.now(UTC) - timedelta(hours=1)
    plan = [("pass", 25.2, ()), ("pass", 24.6, ()), ("fail", 25.0, (HOLE,)),
            ("pass", 25.9, ()), ("fail", 29.1, ()), ("error", 0, ()), ("pass", 24.9, ())]
    for i, (verdict, opening, defects) in enumerate(plan):
        ids.append(store.record_inspection(
            inspection(verdict, opening, defects), station=station, lot_id=lot.id,
            net_id=f"N-{i:03d}", source_name=None, image_jpeg=net_jpeg(i),
            overlay_jpeg=net_jpeg(i + 5), spec_sha256="0" * 64, calibration_id="demo",
            captured_at=t0 + timedelta(minutes=i)))
    return {"lot": lot.id, "ids": ids}


def api_token(store: Store, role: str) -> str:
    token = new_token()
    store.add_token(f"test-{role}", role, token_sha256(token))
    return token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """create_app(...) served by uvicorn in a thread on a free port."""

    def __init__(self, settings, station, store):
        self.app = create_app(settings, station, store)
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no csrf_token field"
    return m[1]


def login(base_url: str, name: str, password: str | None = None) -> httpx.Client:
    """A browser-like client signed in as `name` (session cookie; CSRF in .csrf)."""
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=20)
    page = client.get("/login")
    token = csrf_of(page.text)
    r = client.post("/login", data={"username": name, "password": password or PASSWORDS[name],
                                    "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    client.csrf = csrf_of(client.get("/history").text)
    return client


def open_store(settings) -> Store:
    return Store.open(settings.storage_url, settings.station.data_dir)


def load(path: Path):
    return load_settings(path)

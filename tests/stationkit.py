"""A small real bench for station tests: a spec, an exact calibration and drawn net photos."""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from pathlib import Path

import cv2
import numpy as np
from netimg import grid_net, ideal_calibration

from qcstation.calibration_io import save_calibration
from qcstation.station.settings import parse_settings

ROOT = Path(__file__).parents[1]
W, H, S = 1200, 900, 4.0  # frame size and px per mm of the drawn nets


def good_net(seed: int = 0) -> np.ndarray:
    """A clean square net (25 mm openings, 6 mm strands): passes the shipped 25 mm spec."""
    return grid_net(W, H, S, (25.0, 25.0), 6.0, offset=(7.0 + seed % 5, 5.0 + seed % 3))


def torn_net() -> np.ndarray:
    """The same net with two strands cut through beside each other: a hole, so it fails."""
    img = good_net()
    cv2.rectangle(img, (round(100 * S), round(90 * S)), (round(160 * S), round(150 * S)),
                  (220, 220, 220), -1)
    return img


def make_bench(tmp: Path, source: str, extra: str = "", storage: str | None = None) -> Path:
    """Writes spec, calibration and station.toml under tmp; returns the settings file."""
    shutil.copy(ROOT / "specs/kr-coirnet-25.toml", tmp / "spec.toml")
    save_calibration(ideal_calibration(W, H, S), tmp / "bench.json")
    url = storage or "sqlite:///data/qcstation.db"
    text = (f'[station]\nid = "t-{uuid.uuid4().hex[:8]}"\ndata_dir = "data"\n\n[source]\n'
            f'{source}\n\n[trigger]\nmode = "auto"\nsettle_s = 0.5\n\n'
            f'[inspection]\nspec = "spec.toml"\ncalibration = "bench.json"\nthreads = 1\n\n'
            f'[storage]\nurl = "{url}"\n{extra}')
    path = tmp / "station.toml"
    path.write_text(text)
    parse_settings(text, str(path), tmp)  # a broken kit fails here, not in the station
    return path


def drop(folder: Path, name: str, image: np.ndarray | bytes) -> Path:
    """Writes a file into a hot folder the way a camera should: a temp name, then a rename."""
    folder.mkdir(parents=True, exist_ok=True)
    data = image if isinstance(image, bytes) else cv2.imencode(".jpg", image)[1].tobytes()
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return folder / name


def wait_for(predicate, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def up(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

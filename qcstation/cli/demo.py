"""`qcstation demo`: the whole station on a simulated camera, no hardware needed.

Nets are laid on a simulated bench one after another (hands in view, empty-bench moments);
the camera is calibrated on the spot from chessboards rendered through the same simulated
camera (kept in the data folder), each net is inspected once against the default spec and
stored in SQLite in the data folder, and the web view shows it all. `--batch` runs the older
demo: the inspection alone over rendered photos.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from ..resources import shipped
from ..station.settings import StationSettings
from .inspect_cmd import add_model_arguments

logger = logging.getLogger(__name__)
DEFAULT_SPEC = shipped("specs/kr-coirnet-25.toml")
VIEW_MM = 400.0  # the bench width the simulated camera sees (as sources.simulated)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path("demo-data"),
                   help="data folder: database, images, calibration (default: demo-data)")
    p.add_argument("--host", default="127.0.0.1", help="address of the web view")
    p.add_argument("--port", type=int, default=8000, help="port of the web view (default 8000)")
    p.add_argument("--nets", type=int, default=None, metavar="N",
                   help="stop after N nets are stored (default: run until Ctrl-C)")
    p.add_argument("--seed", type=int, default=3, help="seed of the simulated camera and nets")
    p.add_argument("--size", default="1600x1200", help="simulated camera's frame size, WxH")
    p.add_argument("--fps", type=float, default=10.0, help="simulated camera's frame rate")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="buyer spec (TOML)")
    p.add_argument("--batch", action="store_true",
                   help="the older demo: inspect rendered photos into --out, no station")
    p.add_argument("--out", type=Path, default=Path("demo-out"), help="--batch: output folder")
    p.add_argument("--n", type=int, default=8, help="--batch: how many nets (default 8)")
    add_model_arguments(p)


def run(args: argparse.Namespace) -> int:
    if args.batch:
        from .demo_batch import run as run_batch

        return run_batch(args)
    from ..errors import DataError
    from .serve import serve

    size = _size(args.size)
    if args.nets is not None and args.nets < 1:
        raise DataError("--nets must be 1 or more.")
    if args.seed < 0:
        raise DataError(f"--seed must be 0 or more, got {args.seed}.")
    data = args.data.resolve()
    t0 = time.perf_counter()
    cal = demo_calibration(data, args.seed, size)
    print(f"simulated camera calibrated ({time.perf_counter() - t0:.0f} s) -> {cal}", flush=True)
    settings = demo_settings(data, cal, args)
    login = demo_login(settings)
    stop = None
    if args.nets is not None:
        def stop(station) -> bool:
            return station.status().inspected >= args.nets and station.idle(0.1)

    url = f"http://{args.host}:{args.port}/"
    banner = (f"qcstation demo: open {url} in a browser and {login} (data in {data}; "
              f"{'Ctrl-C stops it' if args.nets is None else f'stops after {args.nets} nets'})")
    return serve(settings, args.host, args.port, use_model=not args.no_model, banner=banner,
                 stop_when=stop)


def demo_settings(data: Path, calibration: Path, args: argparse.Namespace) -> StationSettings:
    w, h = _size(args.size)
    return StationSettings.model_validate({
        "station": {"id": "demo", "data_dir": str(data)},
        "source": {"type": "simulated", "seed": args.seed, "width": w, "height": h,
                   "fps": args.fps, "nets": args.nets},
        "trigger": {"mode": "auto"},
        "inspection": {"spec": str(args.spec.resolve()), "calibration": str(calibration),
                       "model": str(args.model.resolve()) if args.model else None,
                       "threads": args.threads},
        "storage": {"url": f"sqlite:///{data / 'qcstation.db'}"},
        "lot": {"name": "DEMO-LOT", "quantity": 300, "buyer": "Demo buyer"},
        "web": {"host": args.host, "port": args.port},
    })


def demo_login(settings: StationSettings) -> str:
    """The demo's own admin user "demo" with a random password (written to the data folder,
    owner-only), made on the first run: no fixed password exists anywhere."""
    import os
    import secrets

    from ..store import Store
    from ..web.auth import hash_password

    path = settings.station.data_dir / "demo-login.txt"
    store = Store.open(settings.storage_url, settings.station.data_dir)
    try:
        if store.user("demo") is None:
            password = secrets.token_urlsafe(9)
            store.add_user("demo", "admin", hash_password(password))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"demo {password}\n")
            return f"log in as demo with the password {password}"
    finally:
        store.close()
    return f"log in as demo (password in {path})"


def demo_calibration(data: Path, seed: int, size: tuple[int, int]) -> Path:
    """The simulated camera's calibration from 15 rendered chessboards; cached per camera."""
    import numpy as np

    from ..calibration import calibrate_images
    from ..calibration_io import save_calibration
    from ..synth import board
    from ..synth.dataset import CALIB_POSES, camera_for

    path = data / f"calibration-sim-{seed}-{size[0]}x{size[1]}.json"
    if path.exists():
        return path
    print(f"calibrating the simulated camera from {CALIB_POSES + 1} rendered chessboards ...",
          flush=True)
    scale = size[0] / VIEW_MM  # the camera the simulated source draws from the same seed
    camera = camera_for(seed, size, (0.8 * scale, 1.2 * scale))
    images = []
    for k in range(CALIB_POSES + 1):
        rng = np.random.default_rng([seed, 7, k])
        pose = camera.bench if k == 0 else board.tilted_pose(rng, camera)
        images.append(board.render_board(camera, pose, rng))
    cal = calibrate_images(images, (9, 6), 25.0, None)
    data.mkdir(parents=True, exist_ok=True)
    save_calibration(cal, path)
    return path


def _size(text: str) -> tuple[int, int]:
    from ..errors import DataError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise DataError(f"--size {text!r} is not WxH, e.g. 1600x1200.") from None
    if not (320 <= w <= 8192 and 240 <= h <= 8192):
        raise DataError(f"--size {text!r} must lie within 320x240 .. 8192x8192.")
    return w, h

"""`qcstation export-reviewed --config station.toml --out DIR`: reviewed photos as a test set.

The folder has the layout `qcstation eval DIR` reads: NNNN.jpg with NNNN.json (the supervisor's
verdict and the defects they confirmed), calibration.json and dataset.json (the spec).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..station.settings import load_settings
from ..web.export import export_reviewed

logger = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="the station's settings (station.toml)")
    p.add_argument("--out", type=Path, required=True, help="folder to write the labelled set to")
    p.add_argument("--lot", type=int, help="only this lot's reviewed photos")


def run(args: argparse.Namespace) -> int:
    from ..store import Store

    settings = load_settings(args.config)
    store = Store.open(settings.storage_url, settings.station.data_dir)
    try:
        n = export_reviewed(store, settings, args.out, lot=args.lot)
    finally:
        store.close()
    print(f"exported {n} reviewed photos to {args.out}; check them with "
          f"`qcstation eval {args.out}`")
    return 0

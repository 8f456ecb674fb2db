"""`qcstation eval DIR [DIR...]`: inspect ground-truth folders and print the accuracy table."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..calibration import calibrate_images
from ..calibration_io import load_calibration, save_calibration
from ..errors import DataError
from ..evaluate import evaluate, format_table, summary
from ..imageio import read_image
from ..pipeline import Inspector
from ..progress import progress
from ..spec import load_spec
from .inspect_cmd import add_model_arguments, inspect_file, load_model

logger = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dirs", type=Path, nargs="+", metavar="DIR",
                   help="folder written by `qcstation synth` (NNNN.jpg + .json); several "
                   "folders give one table over all their photos")
    p.add_argument("--spec", type=Path, help="buyer spec (default: the one the set was made for)")
    p.add_argument("--calibration", type=Path,
                   help="calibration JSON (default: DIR/calibration.json, made from DIR/calib/)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    p.add_argument("--out", type=Path, metavar="DIR", help="also write overlay images here")
    add_model_arguments(p)


def run(args: argparse.Namespace) -> int:
    if args.calibration and len(args.dirs) > 1:
        raise DataError("--calibration applies to one folder; each folder of several is "
                        "inspected with its own DIR/calibration.json")
    model = load_model(args)
    pairs, names = [], []
    for d in args.dirs:
        truths = sorted(d.glob("[0-9][0-9][0-9][0-9].json"))
        if not truths:
            raise DataError(f"{d}: no ground-truth files (NNNN.json); make a set with "
                            "`qcstation synth --out DIR --n N --seed S`")
        spec = load_spec(args.spec or _dataset_spec(d))
        cal = load_calibration(args.calibration) if args.calibration else _calibration(d)
        inspector = Inspector(spec, cal, model=model, threads=args.threads)
        quiet = False if args.json else None  # None: a bar when stderr is a terminal
        for tpath in progress(truths, len(truths), f"eval {d.name}", quiet):
            truth = json.loads(tpath.read_text())
            result = inspect_file(inspector, d / truth["image"], args.out)
            logger.info("%s: %s (truth %s)", truth["image"], result.verdict, truth["verdict"])
            pairs.append((truth, result))
        names.append(f"{d} (spec {spec.name})")
    tallies = evaluate(pairs)
    if args.json:
        print(json.dumps({k: summary(v) for k, v in tallies.items()}, indent=1))
    else:
        print(f"{', '.join(names)}: {len(pairs)} images\n")
        print(format_table(tallies))
    return 0


def _dataset_spec(d: Path) -> Path:
    meta = d / "dataset.json"
    try:
        return Path(json.loads(meta.read_text())["spec_path"])
    except (OSError, KeyError, json.JSONDecodeError):
        raise DataError(f"{meta}: cannot tell which spec the set was made for; "
                        "give --spec") from None


def _calibration(d: Path):
    path = d / "calibration.json"
    if path.exists():
        return load_calibration(path)
    boards = sorted((d / "calib").glob("*.png"))
    if not boards:
        raise DataError(f"{d}: no calibration.json and no calib/*.png; give --calibration")
    cal = calibrate_images([read_image(b) for b in boards], (9, 6), 25.0, None)
    save_calibration(cal, path)
    return cal

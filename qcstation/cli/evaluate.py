"""`qcstation eval DIR [DIR...]`: inspect ground-truth folders and print the accuracy table."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..calibration import calibrate_images
from ..calibration_io import load_calibration, save_calibration
from ..errors import DataError
from ..evaluate import evaluate, format_table, parse_truth, summary
from ..files import MB, read_limited
from ..imageio import read_image
from ..pipeline import Inspector
from ..progress import progress
from ..spec import load_spec
from .inspect_cmd import add_model_arguments, inspect_file, load_model
from .outputs import emit, prepare_out

logger = logging.getLogger(__name__)

MAX_TRUTH_BYTES = 16 * MB


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
    sets = [(d, _truths(d)) for d in args.dirs]  # every file checked before any work
    if args.out is not None:
        prepare_out(args.out, [d / t["image"] for d, truths in sets for t in truths])
    model = load_model(args)
    pairs, names = [], []
    for d, truths in sets:
        spec = load_spec(args.spec or _dataset_spec(d))
        cal = load_calibration(args.calibration) if args.calibration else _calibration(d)
        inspector = Inspector(spec, cal, model=model, threads=args.threads)
        quiet = False if args.json else None  # None: a bar when stderr is a terminal
        for truth in progress(truths, len(truths), f"eval {d.name}", quiet):
            result = inspect_file(inspector, d / truth["image"], args.out)
            logger.info("%s: %s (truth %s)", truth["image"], result.verdict, truth["verdict"])
            pairs.append((truth, result))
        names.append(f"{d} (spec {spec.name})")
    tallies = evaluate(pairs)
    if args.json:
        emit(json.dumps({k: summary(v) for k, v in tallies.items()}, indent=1))
    else:
        emit(f"{', '.join(names)}: {len(pairs)} images\n\n{format_table(tallies)}")
    return 0


def _truths(d: Path) -> list[dict]:
    """The folder's ground-truth records, each checked, and each naming an image that exists."""
    paths = sorted(d.glob("[0-9][0-9][0-9][0-9].json"))
    if not paths:
        raise DataError(f"{d}: no ground-truth files (NNNN.json); make a set with "
                        "`qcstation synth --out DIR --n N --seed S`")
    truths = []
    for path in paths:
        try:
            text = read_limited(path, MAX_TRUTH_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"{path}: cannot read the ground-truth file "
                            f"({getattr(e, 'strerror', None) or e}).") from None
        truths.append(parse_truth(text, str(path)))
    missing = [t["image"] for t in truths if not (d / t["image"]).is_file()]
    if missing:
        raise DataError(f"{d}: {len(missing)} ground-truth file(s) name images that are not "
                        f"there ({', '.join(missing[:3])}); render the set again.")
    return truths


def _dataset_spec(d: Path) -> Path:
    meta = d / "dataset.json"
    try:
        return Path(json.loads(read_limited(meta, MAX_TRUTH_BYTES))["spec_path"])
    except (OSError, KeyError, TypeError, ValueError, RecursionError):
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

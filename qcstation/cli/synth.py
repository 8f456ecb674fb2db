"""`qcstation synth`: render synthetic coir-net photos, ground truth and calibration boards."""

from __future__ import annotations

import argparse
import logging
import re
import time
from pathlib import Path

from ..errors import DataError
from ..imageheader import MAX_PIXELS, MAX_SIDE_PX
from ..progress import Progress
from ..resources import shipped

logger = logging.getLogger(__name__)

DEFAULT_SPEC = shipped("specs/kr-coirnet-25.toml")
MAX_IMAGES = 99_999


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument("--n", required=True, type=int, help="number of net photos")
    parser.add_argument(
        "--seed", required=True, type=int, help="seed; image i depends only on (seed, i)"
    )
    parser.add_argument(
        "--spec",
        default=DEFAULT_SPEC,
        type=Path,
        help="buyer spec whose mesh the nets are drawn around "
        "(default: the shipped specs/kr-coirnet-25.toml)",
    )
    parser.add_argument(
        "--size", default="1600x1200", help="image size WxH in px (default 1600x1200)"
    )
    parser.add_argument(
        "--px-per-mm",
        default="3.2-4.8",
        help="bench scale at the image centre: a value or a range A-B the camera "
        "is drawn from (default 3.2-4.8)",
    )
    parser.add_argument(
        "--masks",
        action="store_true",
        help="also write masks/NNNN.png label maps (0 background, 1 yarn, "
        "2 foreign matter, 3 stain, 4 loose fibres)",
    )
    parser.add_argument(
        "--mix",
        choices=("clean", "structural", "appearance", "both", "unusable"),
        default=None,
        help="make every photo of this kind (e.g. appearance: only foreign matter, stains "
        "and fibre tufts, for training sets); default: drawn per photo as for eval sets",
    )
    parser.add_argument(
        "--extra-stains",
        default=0,
        type=int,
        metavar="K",
        help="K more stains on every photo that is not backlit (training sets; default 0)",
    )
    parser.add_argument(
        "--family",
        action="append",
        metavar="NAME",
        help="appearance family of the photos (repeat for several, taken in turn per photo): "
        "classic, golden-ply, dark-hairy, cocomesh-woven, phone-camera, wide, workshop, "
        "knotted, fabric-bench (docs/families.md; default classic, the original look)",
    )
    parser.add_argument("--workers", default=2, type=int, help="processes (default 2)")


def run(args: argparse.Namespace) -> int:
    from ..synth.dataset import CALIB_POSES, write_dataset  # heavy: only when it runs

    size = parse_size(args.size)
    scale = parse_scale(args.px_per_mm)
    if not 1 <= args.n <= MAX_IMAGES:
        raise DataError(f"--n must be between 1 and {MAX_IMAGES}, got {args.n}.")
    if args.seed < 0:
        raise DataError(f"--seed must be 0 or more, got {args.seed}.")
    if not 0 <= args.extra_stains <= 10:
        raise DataError(f"--extra-stains must be between 0 and 10, got {args.extra_stains}.")
    if not 1 <= args.workers <= 64:
        raise DataError(f"--workers must be between 1 and 64, got {args.workers}.")
    if args.out.exists() and not args.out.is_dir():
        raise DataError(f"--out {args.out} exists and is not a folder; give a folder path.")
    families = tuple(args.family or ("classic",))
    _check_families(families)
    start = time.perf_counter()
    with Progress(args.n + CALIB_POSES + 1, "synth") as bar:
        counts = write_dataset(
            args.out, args.n, args.seed, args.spec, size, scale, args.masks, args.workers,
            args.mix, args.extra_stains, families, bar.done,
        )
    print(summary(counts, args.out, time.perf_counter() - start))
    return 0


def _check_families(names: tuple[str, ...]) -> None:
    from ..synth.families import FAMILIES

    for name in names:
        if name not in FAMILIES:
            raise DataError(
                f"--family {name!r} is not an appearance family; use one of {', '.join(FAMILIES)}."
            )
    if len(set(names)) != len(names):
        raise DataError(f"--family {' '.join(names)} names a family twice; give each once.")


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise DataError(f"--size {text!r} is not WxH in pixels; write it like 1600x1200.")
    w, h = int(m[1]), int(m[2])
    if not (320 <= w <= MAX_SIDE_PX and 240 <= h <= MAX_SIDE_PX and w * h <= MAX_PIXELS):
        raise DataError(f"--size {w}x{h} is out of range; use 320x240 up to {MAX_SIDE_PX} px "
                        f"a side and {MAX_PIXELS // 1_000_000} megapixels, what inspect reads.")
    return w, h


def parse_scale(text: str) -> tuple[float, float]:
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(?:-\s*(\d+(?:\.\d*)?)\s*)?", text)
    if not m:
        raise DataError(
            f"--px-per-mm {text!r} is not a number or a range A-B; write e.g. 4 or 3.2-4.8."
        )
    lo = float(m[1])
    hi = float(m[2]) if m[2] else lo
    if not 0.5 <= lo <= hi <= 20:
        raise DataError(f"--px-per-mm {text!r} must lie within 0.5-20 with A <= B.")
    return lo, hi


def summary(counts: dict, out: Path, seconds: float) -> str:
    def fmt(c) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"

    n, boards = counts["images"], counts["calibration"]
    return (
        f"wrote {n} net photo{'s' * (n != 1)} and {boards} calibration photos to {out} in "
        f"{seconds:.1f} s ({seconds / max(n + boards, 1):.2f} s per image); "
        f"bench: {fmt(counts['bench'])}; defects: {fmt(counts['defects'])}; "
        f"unusable: {fmt(counts['unusable'])}; verdicts: {fmt(counts['verdict'])}"
        + (f"; families: {fmt(counts['family'])}" if set(counts.get("family", {})) - {"classic"}
           else "")
    )

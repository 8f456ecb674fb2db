"""`qcstation calibrate`: camera, lens distortion and bench plane from chessboard photos, or a
plain scale (`--scale MM_PER_PX --size WxH`) for a photo taken straight down."""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from pathlib import Path

import numpy as np

from ..calibration import (
    MIN_BOARDS,
    TILTED_PLANE_DEG,
    board_tilt_deg,
    calibrate_boards,
    common_size,
    find_board,
    find_boards,
    scale_calibration,
)
from ..calibration_format import MM_PER_PX_RANGE
from ..calibration_io import save_calibration
from ..domain import Calibration
from ..errors import CalibrationError, ImageError
from ..imageio import read_image

logger = logging.getLogger(__name__)

_HIGH_RMS_PX = 1.0

_EPILOG = f"""\
Take 10-20 sharp photos of a flat printed chessboard with the bench camera, tilting the board
up to about 45 degrees and moving it over the whole view; at least {MIN_BOARDS} must show the
whole board. For the bench plane, lay the board flat on the bench where the nets lie and give
that photo with --plane (or first among IMAGES). Measurements are then in millimetres on that
plane: the origin at the board's inner corner nearest the photo's top-left, x along the rows of
corners (COLS direction), y across them (ROWS direction).

Without a chessboard (a test image, a phone photo taken straight down beside a ruler), give the
scale and the image size instead: no lens model, no bench plane; the file and every inspection
say so.

examples:
  qcstation calibrate --board 9x6 --square-mm 25 --plane bench.jpg shots/*.jpg \\
      -o calibration/bench1.json
  qcstation calibrate --scale 0.45 --size 1280x720 -o calibration/phone.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    parser.add_argument(
        "images",
        nargs="*",
        type=Path,
        metavar="IMAGES",
        help="chessboard photos (JPEG, PNG, BMP, TIFF), all from the same camera and resolution;"
        " files that cannot be read are reported and skipped",
    )
    parser.add_argument(
        "--board",
        type=parse_board,
        default=(9, 6),
        metavar="COLSxROWS",
        help="inner corners of the chessboard, columns x rows: a board of 10 x 7 squares has "
        "9x6 (default: 9x6)",
    )
    parser.add_argument(
        "--square-mm",
        type=_positive_mm,
        metavar="MM",
        help="side of one chessboard square in millimetres, measured on the print",
    )
    parser.add_argument(
        "--scale",
        type=_positive_mm,
        metavar="MM_PER_PX",
        help="no chessboard: every pixel is this many mm on the bench (photo straight down)",
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        metavar="WxH",
        help="with --scale: the width x height in pixels of the photos, e.g. 1280x720",
    )
    parser.add_argument(
        "--plane",
        type=Path,
        metavar="IMG",
        help="photo of the board lying flat on the bench, for the bench plane and the mm scale "
        "(default: the first of IMAGES)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE.json",
        help="calibration file to write, e.g. calibration/bench1.json (its folder is created)",
    )


def run(args: argparse.Namespace) -> int:
    if args.scale is not None or args.size is not None:
        return _run_scale(args)
    if not args.images or args.square_mm is None:
        raise CalibrationError(
            "give the chessboard photos and --square-mm, or --scale MM_PER_PX --size WxH for a "
            "calibration without a chessboard."
        )
    _check_output(args)
    names = [str(p) for p in args.images]
    images = [_read_or_skip(p) for p in args.images]
    plane_image = read_image(args.plane) if args.plane else None
    readable = [(n, img) for n, img in zip(names, images, strict=True) if img is not None]
    if not readable:
        raise CalibrationError(
            f"none of the {len(names)} images could be read; give the chessboard photos."
        )
    if plane_image is not None:
        readable.append((str(args.plane), plane_image))
    size = common_size([img for _, img in readable], [n for n, _ in readable])
    found = find_boards(images, args.board)
    for name, img, corners in zip(names, images, found, strict=True):
        if img is not None and corners is None:
            print(f"no chessboard found in {name}")
    plane = _plane_corners(args, plane_image)
    cal = calibrate_boards(found, args.board, args.square_mm, size, plane, names)
    save_calibration(cal, args.output)
    _report(cal, len(names), str(args.plane or names[0]), args.output)
    _report_plane(board_tilt_deg(found[0] if plane is None else plane, cal),
                  str(args.plane or names[0]), args.plane is not None)
    return 0


def _run_scale(args: argparse.Namespace) -> int:
    if args.scale is None or args.size is None:
        raise CalibrationError("--scale and --size go together; give both, e.g. "
                               "--scale 0.45 --size 1280x720.")
    if args.images or args.square_mm is not None or args.plane is not None:
        raise CalibrationError("--scale makes a calibration without a chessboard; give no "
                               "photos, --square-mm or --plane with it.")
    lo, hi = MM_PER_PX_RANGE
    if not lo <= args.scale <= hi:
        raise CalibrationError(f"--scale {args.scale:g} mm per px is outside {lo:g}-{hi:g}; "
                               "give the bench scale of the photos, e.g. 0.45.")
    _check_output(args)
    cal = scale_calibration(args.scale, args.size)
    save_calibration(cal, args.output)
    w, h = cal.image_size
    print(f"plain scale: {cal.mm_per_px:g} mm per px over {w}x{h} px images "
          "(no chessboard, no lens model: for photos taken straight down)")
    print(f"wrote {args.output}")
    return 0


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720): image width x height in pixels."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or not (16 <= int(m[1]) <= 100_000 and 16 <= int(m[2]) <= 100_000):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an image size; write WIDTHxHEIGHT in pixels, e.g. 1280x720"
        )
    return int(m[1]), int(m[2])


def _check_output(args: argparse.Namespace) -> None:
    """-o must not be one of the photos: writing the calibration would destroy an input."""
    out = args.output.resolve()
    for p in [*args.images, *([args.plane] if args.plane else [])]:
        if p.resolve() == out:
            raise CalibrationError(f"-o {args.output} is one of the input photos; give a new "
                                   "file name such as calibration/bench1.json.")
    if out.is_dir():
        raise CalibrationError(f"-o {args.output} is a folder; give a file name such as "
                               f"{args.output / 'bench1.json'}.")


def parse_board(text: str) -> tuple[int, int]:
    """'9x6' -> (9, 6): inner corners, columns x rows."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a board size; write the inner corners as COLUMNSxROWS, e.g. 9x6"
        )
    cols, rows = int(m[1]), int(m[2])
    if not (2 <= cols <= 100 and 2 <= rows <= 100):
        raise argparse.ArgumentTypeError(
            f"board {text!r} must have 2 to 100 inner corners each way, e.g. 9x6"
        )
    return cols, rows


def _positive_mm(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive length in mm, e.g. 25")
    return v


def _read_or_skip(path: Path) -> np.ndarray | None:
    try:
        return read_image(path)
    except ImageError as e:
        print(f"qcstation calibrate: skipping {e}", file=sys.stderr)
        return None


def _plane_corners(args: argparse.Namespace, plane_image: np.ndarray | None) -> np.ndarray | None:
    if plane_image is None:
        return None
    corners = find_board(plane_image, args.board)
    if corners is None:
        cols, rows = args.board
        raise CalibrationError(
            f"{args.plane}: no {cols}x{rows}-corner chessboard found in the bench-plane photo; "
            "give a sharp photo of the whole board lying flat on the bench."
        )
    return corners


def _report(cal: Calibration, n_given: int, plane_name: str, output: Path) -> None:
    k, d = cal.camera_matrix, cal.dist_coeffs
    print(f"boards found: {cal.n_images} of {n_given} images")
    print(f"RMS reprojection error: {cal.rms_px:.3f} px")
    print(
        f"focal length: fx {k[0, 0]:.1f} px, fy {k[1, 1]:.1f} px; "
        f"principal point ({k[0, 2]:.1f}, {k[1, 2]:.1f}) px"
    )
    print(f"distortion: k1 {d[0]:.4f}, k2 {d[1]:.4f}, p1 {d[2]:.5f}, p2 {d[3]:.5f}, k3 {d[4]:.4f}")
    print(f"bench: {cal.mm_per_px:.4f} mm per px at the image centre (plane: {plane_name})")
    print(f"wrote {output}")
    if cal.rms_px > _HIGH_RMS_PX:
        print(
            f"qcstation calibrate: warning: the RMS error {cal.rms_px:.2f} px is high; retake "
            "blurred photos and check that the board is flat.",
            file=sys.stderr,
        )


def _report_plane(tilt_deg: float, name: str, given: bool) -> None:
    """Say which board sets the bench plane; warn where it is tilted to the camera."""
    how = "--plane" if given else "the first image, as no --plane was given"
    print(f"bench plane: the board in {name} ({how}), {tilt_deg:.1f} degrees to the image plane")
    if not tilt_deg <= TILTED_PLANE_DEG:  # NaN warns too
        advice = ("check that the camera looks straight down at the bench" if given else
                  "if that board was not lying flat on the bench, give the photo of the board "
                  "lying flat with --plane")
        print(f"qcstation calibrate: warning: the bench-plane board in {name} is tilted "
              f"{tilt_deg:.0f} degrees to the camera; {advice}.", file=sys.stderr)

"""`qcstation gauge`: the bench against a hand gauge; stores the bias with its calibration."""

from __future__ import annotations

import argparse
import csv
import json
import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ..calibration_io import load_calibration, save_calibration
from ..errors import DataError, ImageError
from ..gauge import GaugeReport, HandOpening, report, station_openings
from ..imageio import read_image
from ..pipeline import Inspector
from ..progress import progress
from ..resources import shipped
from ..spec import load_spec

_EPILOG = """\
Photograph a reference net on the bench, measure some of its openings with calipers (the clear
span between the yarn bodies, across = along the image's width, along = its height) and write
them in a CSV file with a header, one opening per line, placed by its centre in the first photo
(x_px,y_px) or by its cell (row,col, from 1 at the top-left whole opening in view):

  x_px,y_px,across_mm,along_mm          row,col,across_mm,along_mm
  412,300,25.3,24.9                     1,1,25.3,24.9

Then move the net between shots and take a few more photos. The command prints the station's
bias (station minus calipers) and its spread, the repeatability of the mean opening over the
photos (standard deviation; with --spec also 6 sigma as a share of the tolerance band), and
stores the bias in the calibration file, so `inspect` takes it off and says so.

example:
  qcstation gauge --calibration calibration/bench1.json --hand hand.csv ref1.jpg ref2.jpg ref3.jpg
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _EPILOG
    p.add_argument("photos", nargs="+", type=Path, metavar="PHOTOS",
                   help="photos of the reference net; the hand positions refer to the first")
    p.add_argument("--calibration", required=True, type=Path,
                   help="the bench's calibration JSON; the bias is stored in it")
    p.add_argument("--hand", required=True, type=Path, metavar="CSV",
                   help="openings measured with calipers (see below)")
    p.add_argument("--spec", type=Path, help="buyer spec, for the share of its tolerance "
                   "(default: the shipped specs/kr-coirnet-25.toml)")
    p.add_argument("--no-save", action="store_true",
                   help="report only; leave the calibration file as it is")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def run(args: argparse.Namespace) -> int:
    hand = read_hand(args.hand)
    spec = load_spec(args.spec or shipped("specs/kr-coirnet-25.toml"))
    cal = load_calibration(args.calibration)
    raw = replace(cal, opening_bias_mm=(0.0, 0.0), gauge_note="", gauge_spread_mm=None,
                  gauge_repeat_mm=None, gauge_checked_at="")  # measure without the old bias
    inspector = Inspector(spec, raw)
    results, reference = [], None
    for path in progress(args.photos, len(args.photos), "gauge", False if args.json else None):
        try:
            image = read_image(path)
        except ImageError as e:
            raise DataError(str(e)) from None
        result, analysis = inspector.inspect(image, str(path))
        if reference is None:
            if analysis is None:
                raise DataError(f"{path}: {result.error} The first photo must show the net.")
            reference = station_openings(analysis, inspector.rect)
        results.append(result)
    rep = report(hand, reference, results, spec.mesh.tolerance_mm)
    if rep.matched == 0:
        raise DataError(f"{args.hand}: none of the {rep.given} hand openings lies on a whole "
                        f"opening of {args.photos[0]}; check the positions (pixels of that photo)")
    saved = not args.no_save and math.isfinite(rep.bias_w_mm)
    if saved:
        note = f"gauge on {args.photos[0].name}: {rep.matched} openings, {rep.photos} photos"
        save_calibration(replace(
            cal, opening_bias_mm=(round(rep.bias_w_mm, 3), round(rep.bias_h_mm, 3)),
            gauge_note=note, gauge_spread_mm=_pair(rep.spread_w_mm, rep.spread_h_mm),
            gauge_repeat_mm=_pair(rep.repeat_w_mm, rep.repeat_h_mm),
            gauge_checked_at=datetime.now(UTC).isoformat(timespec="seconds")), args.calibration)
    if args.json:
        print(json.dumps({**rep.to_json(), "saved": str(args.calibration) if saved else None}))
    else:
        print(describe(rep))
        if saved:
            print(f"stored the bias in {args.calibration}; inspect now takes it off the openings")
    return 0


def _pair(w: float, h: float) -> tuple[float, float] | None:
    """Two stds rounded for the file; None where one is unknown (NaN: too few values)."""
    return (round(w, 3), round(h, 3)) if math.isfinite(w) and math.isfinite(h) else None


def read_hand(path: Path) -> list[HandOpening]:
    """The hand-measured openings of a CSV file (see --help)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise DataError(f"{path}: cannot read the hand measurements ({e.strerror}).") from None
    out = []
    for n, r in enumerate(rows, start=2):
        try:
            out.append(_row(r))
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{path} line {n}: expected x_px,y_px or row,col and across_mm,"
                            "along_mm as numbers above 0; see qcstation gauge --help") from None
    if not out:
        raise DataError(f"{path}: no hand measurements; see qcstation gauge --help.")
    return out


def _row(r: dict) -> HandOpening:
    across, along = float(r["across_mm"]), float(r["along_mm"])
    if not (across > 0 and along > 0 and math.isfinite(across + along)):
        raise ValueError("spans must be positive")
    if r.get("x_px") not in (None, ""):
        return HandOpening(across, along, x_px=float(r["x_px"]), y_px=float(r["y_px"]))
    return HandOpening(across, along, row=int(r["row"]), col=int(r["col"]))


def describe(rep: GaugeReport) -> str:
    pct = rep.percent_of_tolerance()
    lines = [
        f"hand openings matched: {rep.matched} of {rep.given}",
        f"bias (station - calipers): across {rep.bias_w_mm:+.2f} mm, along {rep.bias_h_mm:+.2f} mm",
        f"spread of the differences (std): across {rep.spread_w_mm:.2f} mm, "
        f"along {rep.spread_h_mm:.2f} mm",
        f"repeatability of the mean opening over {rep.photos} photos (std): "
        f"across {rep.repeat_w_mm:.3f} mm, along {rep.repeat_h_mm:.3f} mm",
    ]
    if pct:
        lines.append(f"of the tolerance band (2 x {rep.tolerance_mm:g} mm): repeatability "
                     f"(6 sigma) {pct['repeatability']:.1f} %, bias {pct['bias']:.1f} %")
    return "\n".join(lines)

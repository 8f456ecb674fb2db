"""`qcstation inspect`: judge images against a buyer spec; JSON lines and overlay images."""

from __future__ import annotations

import argparse
import json
import logging
import math
from dataclasses import replace
from pathlib import Path

from ..calibration_io import load_calibration
from ..domain import Frame, Inspection
from ..errors import CalibrationError, ImageError
from ..imageheader import MAX_PIXELS
from ..imageio import read_image, write_new_image
from ..overlay import draw
from ..pipeline import Inspector
from ..spec import load_spec
from .outputs import emit, overlay_stem, prepare_out, shown_name

logger = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", required=True, type=Path, help="buyer spec (TOML, see specs/)")
    p.add_argument("--calibration", required=True, type=Path,
                   help="camera calibration JSON written by `qcstation calibrate`")
    p.add_argument("images", nargs="+", type=Path, help="image files to inspect")
    p.add_argument("--json", action="store_true",
                   help="print one JSON result per image per line (CONTRACT.md schema)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write an annotated overlay image per input into DIR, named "
                        "STEM-HASH.jpg (HASH from the input's path); a file is never replaced: "
                        "a name taken gets -2, -3...")
    p.add_argument("--px-per-mm", type=px_per_mm, default=None,
                   help="scale of the rectified bench view, "
                        f"{PX_PER_MM_RANGE[0]:g}-{PX_PER_MM_RANGE[1]:g} (default: the camera's "
                        "own scale, at most 3 px/mm)")
    add_model_arguments(p)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=None, metavar="ONNX",
                   help="appearance-defect model (default: the shipped "
                        "models/defects-v4q.onnx)")
    p.add_argument("--no-model", action="store_true",
                   help="geometry only: no foreign matter, stain or loose-fibre detection")
    p.add_argument("--threads", type=threads, default=2,
                   help="threads one inspection uses (OpenCV, the model and the engine), "
                        f"1-{MAX_THREADS} (default 2)")


PX_PER_MM_RANGE = (0.5, 8.0)
MAX_THREADS = 64


def px_per_mm(text: str) -> float:
    """--px-per-mm: a finite number in PX_PER_MM_RANGE (0, NaN and 30 once slipped through)."""
    lo, hi = PX_PER_MM_RANGE
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not lo <= v <= hi:  # also false for NaN
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a number from {lo:g} to {hi:g}, e.g. 3")
    return v


def threads(text: str) -> int:
    """--threads: a whole number 1..MAX_THREADS (0 once silently meant 1)."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 1 <= v <= MAX_THREADS:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a whole number from 1 to {MAX_THREADS}")
    return v


def check_view_size(cal, scale: float | None) -> None:
    """Refuse a --px-per-mm that would make the bench view larger than qcstation handles."""
    if scale is None:
        return
    w, h = cal.image_size
    view_px = w * h * (cal.mm_per_px * scale) ** 2
    if view_px > MAX_PIXELS:
        most = math.sqrt(MAX_PIXELS / (w * h)) / cal.mm_per_px
        raise CalibrationError(
            f"--px-per-mm {scale:g} would make a bench view of {view_px / 1e6:.0f} megapixels "
            f"from this calibration's {w}x{h} px at {cal.mm_per_px:.3g} mm/px; give at most "
            f"{most:.2f}.")


def load_model(args: argparse.Namespace):
    """The defect model the arguments ask for (None with --no-model); ModelError if unusable."""
    if args.no_model:
        return None
    from ..model import DEFAULT_MODEL, DefectModel  # onnxruntime only when a model is used

    return DefectModel.load(args.model or DEFAULT_MODEL, threads=args.threads)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    cal = load_calibration(args.calibration)
    check_view_size(cal, args.px_per_mm)
    if args.out is not None:
        prepare_out(args.out, args.images)
    inspector = Inspector(spec, cal, model=load_model(args), threads=args.threads,
                          px_per_mm=args.px_per_mm)
    any_error = False
    for path in args.images:
        result = inspect_file(inspector, path, args.out)
        any_error |= result.verdict == "error"
        emit(json.dumps(result.to_json(), ensure_ascii=False) if args.json
             else summary_line(result))
    return 1 if any_error else 0


def inspect_file(inspector: Inspector, path: Path, out: Path | None) -> Inspection:
    """Read, inspect and (optionally) draw one file; whatever goes wrong with this one file is
    its `error` result, and the batch goes on."""
    name = shown_name(path)
    try:
        image = read_image(path, expected_size=inspector.cal.image_size)
    except ImageError as e:
        return _error(inspector, name, str(e))
    try:
        result, analysis = inspector.inspect_frame(Frame(pixels=image, source="file", name=name))
    except Exception:  # a loop boundary: one image's failure must not lose the others
        logger.exception("inspecting %s failed", name)
        return _error(inspector, name, f"{name}: the inspection failed unexpectedly (a bug; "
                      "run with -v for the details and report it).")
    if out is not None:
        try:
            write_new_image(out, overlay_stem(path),
                            draw(image, analysis, result, inspector.spec), 88)
        except ImageError as e:
            message = f"the overlay was not written ({e}); the image was judged {result.verdict}"
            return replace(result, verdict="error", error=message,
                           reasons=(message, *result.reasons))
    return result


def _error(inspector: Inspector, name: str, message: str) -> Inspection:
    model = inspector.model.info if inspector.model is not None else None
    return Inspection(image=name, verdict="error", reasons=(message,), spec=inspector.spec.name,
                      error=message, model=model)


def summary_line(r: Inspection) -> str:
    text = f"{r.image}: {r.verdict.upper()}"
    if r.mesh is not None:
        text += (f"  opening {r.mesh.opening_w_mm.mean:.1f} x {r.mesh.opening_h_mm.mean:.1f} mm"
                 f" over {r.mesh.openings}")
    if r.reasons:
        text += "  - " + "; ".join(r.reasons)
    return text

"""`qcstation inspect`: judge images against a buyer spec; JSON lines and overlay images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..calibration_io import load_calibration
from ..domain import Frame, Inspection
from ..errors import DataError, ImageError
from ..imageio import read_image, write_image
from ..overlay import draw
from ..pipeline import Inspector
from ..spec import load_spec


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", required=True, type=Path, help="buyer spec (TOML, see specs/)")
    p.add_argument("--calibration", required=True, type=Path,
                   help="camera calibration JSON written by `qcstation calibrate`")
    p.add_argument("images", nargs="+", type=Path, help="image files to inspect")
    p.add_argument("--json", action="store_true",
                   help="print one JSON result per image per line (CONTRACT.md schema)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write an annotated overlay image per input into DIR")
    p.add_argument("--px-per-mm", type=float, default=None,
                   help="scale of the rectified bench view (default: the camera's own scale, "
                        "at most 3 px/mm)")
    add_model_arguments(p)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=None, metavar="ONNX",
                   help="appearance-defect model (default: the shipped "
                        "models/defects-v1.onnx)")
    p.add_argument("--no-model", action="store_true",
                   help="geometry only: no foreign matter, stain or loose-fibre detection")
    p.add_argument("--threads", type=int, default=2,
                   help="threads one inspection uses: OpenCV, the model and the engine "
                        "(default 2)")


def load_model(args: argparse.Namespace):
    """The defect model the arguments ask for (None with --no-model); ModelError if unusable."""
    if args.threads < 1:
        raise DataError("--threads must be 1 or more.")
    if args.no_model:
        return None
    from ..model import DEFAULT_MODEL, DefectModel  # onnxruntime only when a model is used

    return DefectModel.load(args.model or DEFAULT_MODEL, threads=args.threads)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    cal = load_calibration(args.calibration)
    inspector = Inspector(spec, cal, model=load_model(args), threads=args.threads,
                          px_per_mm=args.px_per_mm)
    any_error = False
    for path in args.images:
        result = inspect_file(inspector, path, args.out)
        any_error |= result.verdict == "error"
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            print(summary_line(result), flush=True)
    return 1 if any_error else 0


def inspect_file(inspector: Inspector, path: Path, out: Path | None) -> Inspection:
    """Read, inspect and (optionally) draw one file; an unreadable file is an `error` result."""
    try:
        image = read_image(path)
    except ImageError as e:
        message = str(e)
        return Inspection(image=str(path), verdict="error", reasons=(message,),
                          spec=inspector.spec.name, error=message)
    result, analysis = inspector.inspect_frame(Frame(pixels=image, source="file", name=str(path)))
    if out is not None:
        write_image(out / f"{path.stem}.jpg", draw(image, analysis, result, inspector.spec), 88)
    return result


def summary_line(r: Inspection) -> str:
    text = f"{r.image}: {r.verdict.upper()}"
    if r.mesh is not None:
        text += (f"  opening {r.mesh.opening_w_mm.mean:.1f} x {r.mesh.opening_h_mm.mean:.1f} mm"
                 f" over {r.mesh.openings}")
    if r.reasons:
        text += "  - " + "; ".join(r.reasons)
    return text

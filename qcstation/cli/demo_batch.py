"""`qcstation demo --batch`: the inspection alone on rendered photos, no station, no web view.

It renders a few synthetic net photos and chessboard shots through one simulated camera,
calibrates from the chessboards, inspects every net against the default spec and writes the
overlay images.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..calibration import calibrate_images
from ..calibration_io import save_calibration
from ..errors import DataError
from ..imageio import read_image
from ..pipeline import Inspector
from ..resources import shipped
from ..spec import load_spec
from ..synth.dataset import write_dataset
from .inspect_cmd import inspect_file, load_model, summary_line
from .outputs import prepare_out

DEFAULT_SPEC = shipped("specs/kr-coirnet-25.toml")
MAX_NETS = 200


def run(args: argparse.Namespace) -> int:
    """Uses args.out, args.n, args.seed, args.spec and the model arguments."""
    out: Path = args.out
    if not 1 <= args.n <= MAX_NETS:
        raise DataError(f"--n must be between 1 and {MAX_NETS}, got {args.n}.")
    if args.seed < 0:
        raise DataError(f"--seed must be 0 or more, got {args.seed}.")
    model = load_model(args)  # a missing or broken model stops here, before any work
    nets = out / "nets"
    t0 = time.perf_counter()
    print(f"simulating a camera over the bench: {args.n} nets and 15 chessboard shots "
          f"into {nets}/ ...", flush=True)
    write_dataset(nets, args.n, args.seed, args.spec, (1600, 1200), (3.2, 4.8), False, 2)
    boards = sorted((nets / "calib").glob("*.png"))
    cal = calibrate_images([read_image(b) for b in boards], (9, 6), 25.0, None)
    save_calibration(cal, out / "calibration.json")
    print(f"calibrated: RMS {cal.rms_px:.2f} px, {cal.mm_per_px:.3f} mm/px on the bench "
          f"-> {out / 'calibration.json'}")
    spec = load_spec(args.spec)
    inspector = Inspector(spec, cal, model=model, threads=args.threads)
    overlays = out / "overlays"
    prepare_out(overlays, [])  # made (and checked writable) before the first overlay
    right = 0
    for image in sorted(nets.glob("[0-9][0-9][0-9][0-9].jpg")):
        result = inspect_file(inspector, image, overlays)
        truth = json.loads(image.with_suffix(".json").read_text())
        right += result.verdict == truth["verdict"]
        print(f"{summary_line(result)}\n    (truth: {truth['verdict'].upper()}"
              f"{': ' + '; '.join(truth['reasons']) if truth['reasons'] else ''})")
    print(f"\n{right} of {args.n} verdicts agree with the simulator's ground truth; "
          f"overlays in {overlays}/ ({time.perf_counter() - t0:.0f} s)")
    return 0

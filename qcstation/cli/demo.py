"""`qcstation demo`: the whole inspection on a simulated camera, no hardware needed.

It renders a few synthetic net photos and chessboard shots through one simulated camera,
calibrates from the chessboards, inspects every net against the default spec and writes the
overlay images. (The station's capture loop and web view will run here once they exist.)
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
from .inspect_cmd import add_model_arguments, inspect_file, load_model, summary_line

DEFAULT_SPEC = shipped("specs/kr-coirnet-25.toml")
MAX_NETS = 200


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("demo-out"),
                   help="folder for the simulated photos, calibration and overlays "
                        "(default: demo-out)")
    p.add_argument("--n", type=int, default=8, help="how many nets to simulate (default 8)")
    p.add_argument("--seed", type=int, default=3, help="seed of the simulated camera and nets")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="buyer spec (TOML)")
    add_model_arguments(p)


def run(args: argparse.Namespace) -> int:
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

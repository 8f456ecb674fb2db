"""`qcstation train`: train the appearance-defect model on synth folders and export it to ONNX."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path

from ..errors import DataError, QCError

logger = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        type=Path,
        metavar="DIR",
        help="folders made by `qcstation synth --masks` (use seeds not used for eval)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("models/defects-v1.onnx"),
        help="the ONNX file to write; its model card goes beside it as .json "
        "(default models/defects-v1.onnx)",
    )
    p.add_argument("--epochs", type=int, default=12, help="epochs (default 12)")
    p.add_argument("--steps", type=int, default=150, help="batches per epoch (default 150)")
    p.add_argument("--batch", type=int, default=12, help="crops per batch (default 12)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--lr", type=float, default=4e-3, help="peak learning rate (default 4e-3)")
    p.add_argument(
        "--p-stain",
        type=float,
        default=0.3,
        help="share of crops with a painted stain (default 0.3)",
    )
    p.add_argument(
        "--p-hard",
        type=float,
        default=0.15,
        help="share of crops centred on a structural defect, whose frayed ends must not "
        "read as foreign matter or fibre tufts (default 0.15)",
    )
    p.add_argument(
        "--stain-radius-mm",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        default=(4.0, 12.0),
        help="radii of the painted stains, drawn uniformly (default 4 12, the renderer's; "
        "e.g. 4 7 for more small stains)",
    )
    p.add_argument(
        "--widths",
        type=int,
        nargs=4,
        metavar="C",
        help="channels at 1/2, 1/4, 1/8 and 1/16 of the input (default 12 16 32 48)",
    )
    p.add_argument(
        "--init",
        type=Path,
        metavar="ONNX",
        help="start from the weights of this exported model (batch norms folded) "
        "instead of from scratch",
    )


def run(args: argparse.Namespace) -> int:
    for d in args.data:
        if not d.is_dir():
            raise DataError(
                f"--data {d} is not a folder; make one with "
                "`qcstation synth --out DIR --n N --seed S --masks`."
            )
    if min(args.epochs, args.steps, args.batch, args.threads) < 1:
        raise DataError("--epochs, --steps, --batch and --threads must be 1 or more.")
    if not (0 < args.lr < 1 and 0 <= args.p_stain <= 1 and 0 <= args.p_hard <= 0.5):
        raise DataError("--lr must lie in (0, 1), --p-stain in [0, 1] and --p-hard in [0, 0.5].")
    lo, hi = args.stain_radius_mm
    if not 1.0 <= lo <= hi <= 30.0:
        raise DataError("--stain-radius-mm takes two radii LO <= HI between 1 and 30 mm.")
    if args.widths is not None and not all(4 <= c <= 256 for c in args.widths):
        raise DataError("--widths takes four channel counts between 4 and 256.")
    if args.init is not None and not args.init.is_file():
        raise DataError(f"--init {args.init} is not a file; give an exported .onnx model.")
    # idle OpenMP threads must sleep, not spin: on a busy 2-core machine spinning made
    # each training step 3-5x slower. Set before torch loads OpenMP.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        raise QCError(
            "torch is not installed; install the training extra: pip install -e .[train]"
        ) from None
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(1)  # crops are small; OpenCV's threads would only fight torch's
    from ..train.loop import TrainConfig
    from ..train.run import train_and_export

    cfg = TrainConfig(
        epochs=args.epochs,
        steps=args.steps,
        batch=args.batch,
        seed=args.seed,
        lr=args.lr,
        p_stain=args.p_stain,
        p_hard=args.p_hard,
        stain_radius_mm=(lo, hi),
        init=str(args.init) if args.init else "",
        **({"widths": tuple(args.widths)} if args.widths else {}),
    )
    command = shlex.join(["qcstation", *sys.argv[1:]])
    train_and_export(list(args.data), args.out, cfg, command)
    return 0

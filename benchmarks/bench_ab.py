"""The whole inspection of this checkout against another checkout of qcstation, interleaved.

On a shared machine the load changes from minute to minute, so two runs of bench_inspect.py
minutes apart cannot be compared. This script loads the other checkout's package under the
name `qcbase` beside this one's `qcstation` in one process, renders the same three frames
(light table, backlit, dark table) and, round after round, runs every step of both on every
frame one after another. Per step: the mean over the frames of its median ms, its median CPU
ms (all threads), and the ratio of this checkout to the other; and the median of the paired
per-round ratios of the whole inspection with the model.

    git worktree add --detach ../base main
    python benchmarks/bench_ab.py ../base [--rounds 9] [--size 2448x2048]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

from qcstation.memory import keep_large_buffers
from qcstation.spec import load_spec
from qcstation.synth.dataset import camera_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_inspect import usable_frame  # noqa: E402

TREES = ("qcstation", "qcbase")


def load_other(tree: Path) -> None:
    """Import the other checkout's qcstation package as `qcbase` (its imports are relative)."""
    pkg = tree / "qcstation"
    spec = importlib.util.spec_from_file_location("qcbase", pkg / "__init__.py",
                                                  submodule_search_locations=[str(pkg)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["qcbase"] = mod
    spec.loader.exec_module(mod)


def steps_of(size: tuple[int, int], seed: int) -> tuple[dict, list]:
    spec = load_spec(Path(__file__).resolve().parents[1] / "specs/kr-coirnet-25.toml")
    camera = camera_for(seed, size, (3.2, 4.8))
    frames = [usable_frame(camera, seed, b) for b in ("light_table", "backlit", "dark_table")]
    steps = {}
    for n in TREES:
        pipeline = importlib.import_module(f"{n}.pipeline")
        model = importlib.import_module(f"{n}.model").DefectModel.load()
        with_model = pipeline.Inspector(spec, camera.calibration(), model=model)
        geometry = pipeline.Inspector(spec, camera.calibration(), bench=with_model.rect)
        steps[n, "whole inspection with model"] = lambda im, i=with_model: i.inspect(im, "b")
        steps[n, "geometry only"] = lambda im, i=geometry: i.inspect(im, "b")
        steps[n, "bench view"] = geometry.bench_view
    return steps, frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout (a git worktree of main)")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--size", default="2448x2048")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    keep_large_buffers()
    load_other(args.other.resolve())
    w, h = (int(v) for v in args.size.split("x"))
    steps, frames = steps_of((w, h), args.seed)
    wall = {(k, i): [] for k in steps for i in range(len(frames))}
    cpu = {k: [] for k in steps}
    for r in range(args.rounds + 1):  # the first round warms up and is not counted
        for i, image in enumerate(frames):
            for k, fn in steps.items():
                t0, c0 = time.perf_counter(), time.process_time()
                fn(image)
                if r:
                    wall[k, i].append((time.perf_counter() - t0) * 1000)
                    cpu[k].append((time.process_time() - c0) * 1000)
    med = {k: statistics.mean(statistics.median(wall[k, i]) for i in range(len(frames)))
           for k in steps}
    print(f"{w}x{h}, {os.cpu_count()} CPUs, {args.rounds} rounds x {len(frames)} frames, load "
          f"average {os.getloadavg()[0]:.2f} at the end; this checkout vs {args.other}\n")
    print("| step | this ms | other ms | this / other | this CPU ms | other CPU ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for step in dict.fromkeys(s for _, s in steps):
        a, b = med[TREES[0], step], med[TREES[1], step]
        print(f"| {step} | {a:.0f} | {b:.0f} | {a / b:.2f} | "
              f"{statistics.median(cpu[TREES[0], step]):.0f} | "
              f"{statistics.median(cpu[TREES[1], step]):.0f} |")
    key = "whole inspection with model"
    paired = [a / b for i in range(len(frames))
              for a, b in zip(wall[(TREES[0], key), i], wall[(TREES[1], key), i], strict=True)]
    print(f"\nmedian of the paired per-round ratios, {key}: {statistics.median(paired):.2f}")


if __name__ == "__main__":
    main()

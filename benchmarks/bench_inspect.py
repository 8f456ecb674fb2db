"""Speed of the inspection engine, side by side with a naive baseline, in one run.

For each frame size, synthetic frames are rendered once (decode excluded) and each step is
timed over rounds, every step in turn in each round; medians are printed with the ratio to the
baseline, a Python loop over `skimage.measure.regionprops` computing per-opening figures (area,
box, centroid, clear spans, whole-in-view test) on the same mask. "Openings alone" is our step
that computes those same figures; "measurement + structural defects" adds the lattice, pitch,
strand widths and every structural defect, which the baseline does not compute.

    python benchmarks/bench_inspect.py [--sizes 2448x2048,4000x3000] [--repeats 11]
        [--model A.onnx --model B.onnx]   (several models: one row each, timed in the same rounds)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from qcstation import mesh
from qcstation.memory import keep_large_buffers
from qcstation.model import DefectModel
from qcstation.model.runtime import DEFAULT_MODEL
from qcstation.pipeline import BenchView, Inspector
from qcstation.spec import load_spec
from qcstation.structural import measure
from qcstation.synth.camera import Camera
from qcstation.synth.dataset import camera_for
from qcstation.synth.render import render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")


def baseline_openings(open_mask: np.ndarray, valid: np.ndarray, px_per_mm: float) -> list:
    """Naive: label, then a Python loop over regionprops for the same per-opening figures."""
    from skimage.measure import label, regionprops

    border = cv2.dilate((valid == 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    out = []
    for r in regionprops(label(open_mask, connectivity=1)):
        if r.area < mesh.MIN_OPENING_MM2 * px_per_mm**2:
            continue
        rr, cc = r.coords.T
        if border[rr, cc].any():
            continue
        img = r.image
        h, w = img.shape
        span_w = np.median(img[int(np.ceil(h / 4)):int(np.ceil(3 * h / 4))].sum(1))
        span_h = np.median(img[:, int(np.ceil(w / 4)):int(np.ceil(3 * w / 4))].sum(0))
        out.append((r.centroid, r.bbox, r.area, span_w, span_h))
    return out


def usable_frame(camera: Camera, seed: int, bench: str) -> np.ndarray:
    """The first rendered frame of this bench set-up that is not meant to be unusable."""
    for k in range(20):
        sample = render_sample(camera, np.random.default_rng([seed, k]), SPEC, bench=bench)
        if sample.truth["verdict"] != "error":
            return sample.image
    raise RuntimeError("no usable frame rendered")


def bench_size(size: tuple[int, int], repeats: int, seed: int, models: list[str]) -> dict:
    """Per step, the mean over the three frames of its median ms over `repeats` rounds. Within
    a round every step runs once on each frame, one after another, so a change in the
    machine's load falls on all of them alike."""
    camera = camera_for(seed, size, (3.2, 4.8))
    inspector = Inspector(SPEC, camera.calibration())
    with_model = {m: Inspector(SPEC, camera.calibration(), model=DefectModel.load(m))
                  for m in models}
    steps: dict[str, Callable[[np.ndarray], object]] = {
        "full": lambda image: inspector.inspect(image, "b"),
        "view": inspector.bench_view,
        **{("with_model", m): lambda image, i=i: i.inspect(image, "b")
           for m, i in with_model.items()},
    }
    frames = [usable_frame(camera, seed, b) for b in ("light_table", "backlit", "dark_table")]
    views = [inspector.bench_view(image) for image in frames]
    on_view: dict[str, Callable[[BenchView], object]] = {
        **{("model", m): i.appearance for m, i in with_model.items()},
        "measure": lambda bv: measure(bv.openings(), bv.px_per_mm, SPEC.mesh.min_strand_mm),
        "openings": BenchView.openings,  # the figures the baseline computes, and no more
        "baseline": lambda bv: baseline_openings(bv.open_mask, bv.valid, bv.px_per_mm),
    }
    times = {(k, i): [] for k in (*steps, *on_view) for i in range(len(frames))}
    for r in range(repeats + 1):  # the first round warms up and is not counted
        for i, (image, bv) in enumerate(zip(frames, views, strict=True)):
            for name, fn, arg in [*((k, f, image) for k, f in steps.items()),
                                  *((k, f, bv) for k, f in on_view.items())]:
                t0 = time.perf_counter()
                fn(arg)
                if r:
                    times[name, i].append((time.perf_counter() - t0) * 1000)
    return {k: statistics.mean(statistics.median(times[k, i]) for i in range(len(frames)))
            for k in (*steps, *on_view)}


def grey_floor_ms(repeats: int) -> float:
    """BGR to grey of a 5 MP frame: the machine's speed, comparable with PERF-NOTES.md."""
    frame = np.random.default_rng(0).integers(0, 256, (2048, 2448, 3), np.uint8)
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2448x2048,4000x3000")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--model", action="append", help="defect model (default: the shipped one)")
    args = ap.parse_args()
    models = args.model or [str(DEFAULT_MODEL)]
    keep_large_buffers()  # as the qcstation command does
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), numpy {np.__version__}; "
          f"per step the mean over 3 frames (light table, backlit, dark table) of its median "
          f"over {args.repeats} rounds; "
          f"load average {os.getloadavg()[0]:.2f}; 5 MP BGR-to-grey floor "
          f"{grey_floor_ms(4 * args.repeats):.2f} ms\n")
    print("| frame | model | whole inspection with model ms | defect model ms | geometry only ms | "
          "bench view (rectify + segment) ms | measurement + structural defects ms | "
          "openings alone ms | baseline regionprops loop ms | baseline / measurement | "
          "baseline / openings alone |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in args.sizes.split(","):
        w, h = (int(v) for v in s.split("x"))
        r = bench_size((w, h), args.repeats, args.seed, models)
        for m in models:
            print(f"| {w}x{h} | {Path(m).stem} | {r['with_model', m]:.0f} | {r['model', m]:.0f} | "
                  f"{r['full']:.0f} | {r['view']:.0f} | {r['measure']:.1f} | "
                  f"{r['openings']:.1f} | {r['baseline']:.0f} | "
                  f"{r['baseline'] / r['measure']:.1f}x | {r['baseline'] / r['openings']:.1f}x |",
                  flush=True)


if __name__ == "__main__":
    main()

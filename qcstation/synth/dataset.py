"""Writes a synthetic data set: calibration photos, net photos, ground truth, label maps."""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import DataError
from ..spec import Spec, load_spec
from . import board
from .camera import Camera, draw_camera
from .families import FAMILIES, get_family
from .render import LABELS, render_sample
from .truth import BAND_SAMPLES, INSIDE_MARGIN_PX

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
CALIB_POSES = 14
_CAMERA_STREAM = 2**31  # seed words that image indices never reach
_CALIB_STREAM = 2**31 + 1


@dataclass(frozen=True)
class Job:
    """Everything a worker needs; small enough to pickle per task."""

    out: Path
    seed: int
    spec: Spec
    camera: Camera
    masks: bool
    mix: str | None = None  # forced kind of image (render.MIX key); None: drawn as usual
    extra_stains: int = 0  # more stains on every photo not backlit (training sets)
    families: tuple[str, ...] = ("classic",)  # appearance families, taken in turn per photo


def image_name(i: int) -> str:
    return f"{i + 1:04d}"


def camera_for(seed: int, size: tuple[int, int], px_per_mm: tuple[float, float]) -> Camera:
    """The data set's one camera, drawn from the seed alone."""
    return draw_camera(np.random.default_rng([seed, _CAMERA_STREAM]), size, px_per_mm)


def write_dataset(
    out: Path,
    n: int,
    seed: int,
    spec_path: Path,
    size: tuple[int, int],
    px_per_mm: tuple[float, float],
    masks: bool,
    workers: int,
    mix: str | None = None,
    extra_stains: int = 0,
    families: tuple[str, ...] = ("classic",),
    tick: Callable[[], None] | None = None,
) -> dict:
    """Render and write everything; returns counts for the summary line. `tick` is called as
    each photo is written.

    Photo i is of family families[i % F] and that family's bench (i // F) % B."""
    for name in families:
        get_family(name)  # ValueError naming the known families
    spec = load_spec(spec_path)
    camera = camera_for(seed, size, px_per_mm)
    board.check_flat_board(camera)
    _make_dirs(out, masks)
    _remove_stale(out, n, masks)
    job = Job(out, seed, spec, camera, masks, mix, extra_stains, tuple(families))
    tasks = [("calib", k) for k in range(CALIB_POSES + 1)] + [("net", i) for i in range(n)]
    results = _run(job, tasks, workers, tick or (lambda: None))
    nets = sorted((r for r in results if r["kind"] == "net"), key=lambda r: r["index"])
    _write_json(out / "dataset.json", _manifest(job, spec_path, n, nets))
    return _counts(nets)


def _make_dirs(out: Path, masks: bool) -> None:
    try:
        (out / "calib").mkdir(parents=True, exist_ok=True)
        if masks:
            (out / "masks").mkdir(exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the output folder {out} ({e.strerror}).") from None


def _remove_stale(out: Path, n: int, masks: bool) -> None:
    """Files beyond n (and masks, if none are written now) left by an earlier set here."""
    if not (out / "dataset.json").exists():
        return  # not a folder this command wrote: touch nothing
    keep = {".jpg": n, ".json": n, ".png": n if masks else 0}
    found = [*out.glob("[0-9][0-9][0-9][0-9]*.jpg"), *out.glob("[0-9][0-9][0-9][0-9]*.json"),
             *out.glob("masks/[0-9][0-9][0-9][0-9]*.png")]  # fmt: skip
    stale = [p for p in found if p.stem.isdigit() and int(p.stem) > keep[p.suffix]]
    for p in stale:
        p.unlink()
    if stale:
        logger.info("removed %d files of an earlier set from %s", len(stale), out)


def _run(job: Job, tasks: list[tuple[str, int]], workers: int,
         tick: Callable[[], None]) -> list[dict]:
    out = []
    if workers <= 1:
        for t in tasks:
            out.append(_task(job, t))
            tick()
        return out
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        for r in pool.imap(_worker_task, tasks, chunksize=1):
            out.append(r)
            tick()
    return out


_JOB: Job | None = None  # the job of this worker process; its camera keeps its cached maps


def _init_worker(job: Job) -> None:
    global _JOB
    cv2.setNumThreads(1)  # one process per core already
    _JOB = job


def _worker_task(task: tuple[str, int]) -> dict:
    assert _JOB is not None
    return _task(_JOB, task)


def _task(job: Job, task: tuple[str, int]) -> dict:
    kind, index = task
    if kind == "calib":
        return _calib(job, index)
    return _net(job, index)


def _calib(job: Job, k: int) -> dict:
    rng = np.random.default_rng([job.seed, _CALIB_STREAM, k])
    pose = job.camera.bench if k == 0 else board.tilted_pose(rng, job.camera)
    image = board.render_board(job.camera, pose, rng)
    name = "00-plane.png" if k == 0 else f"{k:02d}.png"
    _imwrite(job.out / "calib" / name, image, [])
    return {"kind": "calib", "index": k, "name": f"calib/{name}", "pose": pose.to_json()}


def family_and_bench(families: tuple[str, ...], i: int) -> tuple[str, str]:
    """The appearance family and bench set-up of photo i of a set."""
    family = FAMILIES[families[i % len(families)]]
    return family.name, family.benches[(i // len(families)) % len(family.benches)]


def _net(job: Job, i: int) -> dict:
    family, bench = family_and_bench(job.families, i)
    sample = render_sample(
        job.camera,
        np.random.default_rng([job.seed, i]),
        job.spec,
        bench=bench,
        mix=job.mix,
        extra_stains=job.extra_stains,
        family=family,
    )
    name = image_name(i)
    _imwrite(job.out / f"{name}.jpg", sample.image, [cv2.IMWRITE_JPEG_QUALITY, sample.jpeg_quality])
    truth = {"image": f"{name}.jpg", **sample.truth, "seed": [job.seed, i]}
    _write_json(job.out / f"{name}.json", truth)
    if job.masks:
        _imwrite(job.out / "masks" / f"{name}.png", sample.labels, [])
    return {
        "kind": "net",
        "index": i,
        "family": family,
        "bench": truth["bench"],
        "unusable": truth["unusable"],
        "defects": [d["type"] for d in truth["defects"]],
        "verdict": truth["verdict"],
    }


def _imwrite(path: Path, image: np.ndarray, params: list[int]) -> None:
    ok, buf = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise DataError(f"cannot encode {path.name}.")
    try:
        path.write_bytes(buf.tobytes())
    except OSError as e:
        raise DataError(f"cannot write {path} ({e.strerror}).") from None


def _write_json(path: Path, data: dict) -> None:
    try:
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as e:
        raise DataError(f"cannot write {path} ({e.strerror}).") from None


def _manifest(job: Job, spec_path: Path, n: int, nets: list[dict]) -> dict:
    cam = job.camera
    return {
        "generator": "qcstation.synth",
        "version": GENERATOR_VERSION,
        "seed": job.seed,
        "n": n,
        "spec_path": str(spec_path),
        "spec_name": job.spec.name,
        "camera": {**cam.to_json(), "mm_per_px": round(1 / cam.px_per_mm(), 6)},
        "bench_frame": "the frame of the board in calib/00-plane.png (z = 0 on the bench): origin "
        "at its first inner corner, x along its 9-corner rows, y along its columns",
        "board": {
            "inner_corners": list(board.CORNERS),
            "square_mm": board.SQUARE_MM,
            "border_mm": board.BORDER_MM,
        },
        "calibration": ["calib/00-plane.png"]
        + [f"calib/{k:02d}.png" for k in range(1, CALIB_POSES + 1)],
        "images": [f"{image_name(r['index'])}.jpg" for r in nets],
        "masks": job.masks,
        "families": list(job.families),
        "held_out_families": [f for f in job.families if FAMILIES[f].held_out],
        **({"mix": job.mix} if job.mix else {}),
        **({"extra_stains": job.extra_stains} if job.extra_stains else {}),
        "labels": {str(k): v for k, v in LABELS.items()},
        "truth": {
            "band": "central half of each opening",
            "band_samples": BAND_SAMPLES,
            "inside_margin_px": INSIDE_MARGIN_PX,
        },
    }


def _counts(nets: list[dict]) -> dict:
    return {
        "images": len(nets),
        "family": Counter(r["family"] for r in nets),
        "bench": Counter(r["bench"] for r in nets),
        "defects": Counter(t for r in nets for t in r["defects"]),
        "unusable": Counter(r["unusable"] for r in nets if r["unusable"]),
        "verdict": Counter(r["verdict"] for r in nets),
        "calibration": CALIB_POSES + 1,
    }

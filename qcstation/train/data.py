"""Training samples from `qcstation synth --masks` folders, on the bench plane at the model scale.

Each photo and its label map are rectified with the folder's own calibration (as `inspect` does)
and resized with the same function the runtime uses. Labels at the model scale: a defect class
wherever any of its pixels falls (thin fibres must not vanish in the resize), yarn where most of
the pixel is yarn, 255 outside the camera's view.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..calibration import calibrate_images
from ..calibration_io import load_calibration
from ..domain import APPEARANCE_TYPES, STRUCTURAL_TYPES, Calibration
from ..errors import DataError
from ..imageio import read_image
from ..model.card import CLASSES
from ..model.preprocess import to_model_scale
from ..rectify import Rectifier, image_to_bench

logger = logging.getLogger(__name__)

IGNORE = 255
YARN = 1
DEFECT_CODES = {name: CLASSES.index(name) for name in APPEARANCE_TYPES}


@dataclass(frozen=True)
class Sample:
    """One rectified photo at the model scale with its labels and true appearance defects."""

    name: str
    image: np.ndarray  # BGR uint8 (H, W, 3)
    labels: np.ndarray  # uint8 (H, W): class index, IGNORE outside the view
    boxes: tuple[tuple[str, tuple[float, float, float, float]], ...]  # (type, x y w h) model px
    defect_px: dict[int, np.ndarray]  # class -> (N, 2) int32 x, y of its pixels (a subsample)
    hard_px: np.ndarray  # (N, 2) centres of structural defects: frayed ends look like tufts
    backlit: bool


def folder_calibration(d: Path) -> Calibration:
    """DIR/calibration.json if present, else a calibration from DIR/calib/*.png."""
    path = d / "calibration.json"
    if path.exists():
        return load_calibration(path)
    boards = sorted((d / "calib").glob("*.png"))
    if not boards:
        raise DataError(
            f"{d}: no calibration.json and no calib/*.png; make the folder with "
            "`qcstation synth --out DIR --n N --seed S --masks`."
        )
    return calibrate_images([read_image(b) for b in boards], (9, 6), 25.0, None)


def refuse_held_out(d: Path) -> None:
    """Photos of a held-out appearance family never train a model nor choose its thresholds
    (docs/families.md): refuse a folder whose manifest lists one."""
    try:
        held = json.loads((d / "dataset.json").read_text()).get("held_out_families")
    except (OSError, json.JSONDecodeError):
        return
    if held:
        raise DataError(
            f"{d}: photos of the held-out families {', '.join(held)} are for eval only "
            "(docs/families.md); render training sets with other --family values."
        )


def load_folder(d: Path, model_px_per_mm: float) -> list[Sample]:
    """Every usable photo of a synth folder that has a label map."""
    refuse_held_out(d)
    truths = sorted(d.glob("[0-9][0-9][0-9][0-9].json"))
    if not truths or not (d / "masks").is_dir():
        raise DataError(
            f"{d}: no NNNN.json and masks/ folder; make it with "
            "`qcstation synth --out DIR --n N --seed S --masks`."
        )
    rect = Rectifier.build(folder_calibration(d))
    out = []
    for tpath in truths:
        truth = json.loads(tpath.read_text())
        if truth.get("unusable"):
            continue  # `inspect` rejects these before the model runs
        mask_path = d / "masks" / f"{tpath.stem}.png"
        image = read_image(d / truth["image"])
        labels = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if labels is None or labels.shape != image.shape[:2]:
            raise DataError(f"{mask_path}: missing or not the size of its photo.")
        out.append(_sample(f"{d.name}/{tpath.stem}", image, labels, truth, rect, model_px_per_mm))
    logger.info("%s: %d usable photos", d, len(out))
    return out


def load_folders(
    dirs: list[Path], model_px_per_mm: float, workers: int
) -> Iterator[tuple[Path, list[Sample]]]:
    """`load_folder` over folders in `workers` processes, in the order given."""
    if workers <= 1 or len(dirs) <= 1:
        yield from ((d, load_folder(d, model_px_per_mm)) for d in dirs)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds torch
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        yield from zip(
            dirs, pool.map(load_folder, dirs, [model_px_per_mm] * len(dirs)), strict=True
        )


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already


def _sample(
    name: str, image: np.ndarray, labels: np.ndarray, truth: dict, rect: Rectifier, m: float
) -> Sample:
    s = rect.px_per_mm
    img = to_model_scale(rect.rectify(image), s, m)
    lab = cv2.remap(labels, rect.map1, rect.map2, cv2.INTER_NEAREST, borderValue=0)
    valid = to_model_scale(rect.valid, s, m, cv2.INTER_NEAREST) > 0
    out = (_share(lab == YARN, s, m) >= 128).astype(np.uint8)
    present = np.bincount(labels.ravel(), minlength=256)
    for code in sorted(DEFECT_CODES.values(), key=_paint_order):
        if present[code]:
            out[_share(lab == code, s, m) > 0] = code
    out[~valid] = IGNORE
    boxes = tuple(
        (d["type"], _rect_box(rect, d["bbox_px"], m))
        for d in truth.get("defects", [])
        if d["type"] in DEFECT_CODES
    )
    hard = [
        _rect_box(rect, d["bbox_px"], m)
        for d in truth.get("defects", [])
        if d["type"] in STRUCTURAL_TYPES
    ]
    hard_px = np.array([[x + w / 2, y + h / 2] for x, y, w, h in hard], np.float64)
    backlit = bool(truth.get("render", {}).get("backlit", truth.get("bench") == "backlit"))
    return Sample(name, img, out, boxes, _defect_px(out), hard_px.reshape(-1, 2), backlit)


def _defect_px(labels: np.ndarray, keep: int = 300) -> dict[int, np.ndarray]:
    out = {}
    present = np.bincount(labels.ravel(), minlength=256)
    for code in DEFECT_CODES.values():
        if not present[code]:
            continue
        ys, xs = np.nonzero(labels == code)
        if len(xs):
            pick = np.random.default_rng(code).permutation(len(xs))[:keep]
            out[code] = np.column_stack([xs[pick], ys[pick]]).astype(np.int32)
    return out


def _paint_order(code: int) -> int:
    """The renderer paints stains, then fibre tufts, then foreign matter over both."""
    return {"stain": 0, "loose_fibres": 1, "foreign_matter": 2}[CLASSES[code]]


def _share(mask: np.ndarray, s: float, m: float) -> np.ndarray:
    """Share (0-255) of each model-scale pixel covered by `mask`, a native-scale mask."""
    return to_model_scale(mask.view(np.uint8) * np.uint8(255), s, m, cv2.INTER_AREA)


def _rect_box(rect: Rectifier, bbox: list[int], m: float) -> tuple[float, float, float, float]:
    """An input-image box [x, y, w, h] -> its bounding box in the model-scale bench view."""
    x, y, w, h = bbox
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
    px = (image_to_bench(rect.cal, corners) - np.asarray(rect.origin_mm)) * m
    x0, y0 = px.min(axis=0)
    x1, y1 = px.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def split(samples: list[Sample], val_share: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """A fixed random split by photo: (train, validation)."""
    order = np.random.default_rng(seed).permutation(len(samples))
    n_val = int(round(len(samples) * val_share))
    val = {int(i) for i in order[:n_val]}
    return (
        [s for i, s in enumerate(samples) if i not in val],
        [s for i, s in enumerate(samples) if i in val],
    )

"""One training run end to end: data, training, ONNX export, parity, thresholds, model card."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..model.card import CLASSES, ModelCard, Thresholds, card_path, sha256_of
from ..model.runtime import DefectModel, make_session
from . import augment, tune
from .data import Sample, load_folders, split
from .export import OPSET, load_onnx_weights, parity, to_onnx
from .loop import TrainConfig, train
from .net import INPUT_MULTIPLE, OUTPUT_STRIDE, param_count

logger = logging.getLogger(__name__)

MODEL_PX_PER_MM = 2.0
TILE_PX = 768  # 512 px tiles cost 89 ms per 5 MP frame, 768 px 75 ms (fewer seams)
OVERLAP_PX = 96
VAL_SHARE = 0.15
PARITY_LIMIT = 1e-3


def load_all(dirs: list[Path], workers: int) -> tuple[list[Sample], list[dict]]:
    samples, sources = [], []
    t0 = time.perf_counter()
    for d, got in load_folders(dirs, MODEL_PX_PER_MM, workers):
        meta = _dataset_meta(d)
        sources.append(
            {
                "folder": d.name,
                "seed": meta.get("seed"),
                "photos": len(got),
                "size": meta.get("camera", {}).get("image_size"),
                "px_per_mm": meta.get("camera", {}).get("px_per_mm"),
            }
        )
        print(f"{d}: {len(got)} usable photos ({time.perf_counter() - t0:.0f} s)", flush=True)
        samples += got
    if not samples:
        raise DataError("no usable photos in the training folders.")
    return samples, sources


def _dataset_meta(d: Path) -> dict:
    try:
        return json.loads((d / "dataset.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def provisional_card(name: str, data: bytes, params: int) -> ModelCard:
    names = CLASSES[2:]
    th = Thresholds(
        dict.fromkeys(names, 0.5),
        dict.fromkeys(names, 8.0),
        dict.fromkeys(names, 0.7),
        dict.fromkeys(names, 12.0),
    )
    return ModelCard(
        name,
        sha256_of(data),
        CLASSES,
        MODEL_PX_PER_MM,
        INPUT_MULTIPLE,
        OUTPUT_STRIDE,
        TILE_PX,
        OVERLAP_PX,
        th,
        opset=OPSET,
        params=params,
    )


def check_parity(model, data: bytes, val: list[Sample], seed: int) -> float:
    """Torch vs onnxruntime on validation crops and on noise."""
    x, _ = augment.batch(np.random.default_rng(seed), val, 4, 256, OUTPUT_STRIDE, 0.5)
    noise = np.random.default_rng(seed).standard_normal((1, 3, 224, 320)).astype(np.float32)
    diff = max(parity(model, data, x), parity(model, data, noise))
    if diff >= PARITY_LIMIT:
        raise RuntimeError(f"ONNX export differs from torch by {diff:.2e}")
    return diff


def train_and_export(dirs: list[Path], out: Path, cfg: TrainConfig, command: str) -> ModelCard:
    """Load, train, export, check parity, choose thresholds, write the model and its card."""
    start = time.perf_counter()
    samples, sources = load_all(dirs, torch.get_num_threads())
    train_set, val_set = split(samples, VAL_SHARE, cfg.seed)
    print(f"{len(train_set)} training and {len(val_set)} validation photos", flush=True)
    init = None
    if cfg.init:
        init = load_onnx_weights(Path(cfg.init).read_bytes(), len(CLASSES))
        print(f"starting from the weights of {cfg.init}", flush=True)
    model = train(train_set, val_set, cfg, init)
    data = to_onnx(model)
    diff = check_parity(model, data, val_set, cfg.seed)
    print(f"ONNX parity with torch: max abs difference {diff:.2e}", flush=True)
    card = provisional_card(out.stem, data, param_count(model))
    best = tune.choose(DefectModel(make_session(data, torch.get_num_threads()), card), val_set)
    _show(best)
    wall = time.perf_counter() - start
    training = {
        "command": command,
        "data": sources,
        "photos": {"train": len(train_set), "validation": len(val_set)},
        "config": asdict(cfg),
        "wall_s": round(wall),
        "threads": torch.get_num_threads(),
        "parity_max_abs_diff": diff,
        "validation": {k: asdict(v) for k, v in best.items()},
        "torch": torch.__version__,
    }
    card = replace(card, thresholds=tune.thresholds(best), training=training)
    _write(out, data, card, wall)
    return card


def _show(best: dict[str, tune.Choice]) -> None:
    for k, ch in best.items():
        print(
            f"validation {k}: recall {ch.recall:.1%} of {ch.true}, "
            f"{ch.fp_per_image:.3f} false positives per photo at prob {ch.prob}, "
            f"peak {ch.score}, area {ch.area_mm2} mm2, merge gap {ch.gap_mm} mm",
            flush=True,
        )


def _write(out: Path, data: bytes, card: ModelCard, wall: float) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    card.save(card_path(out))
    print(
        f"wrote {out} ({len(data) / 1024:.0f} KiB, sha256 {card.sha256[:12]}) and "
        f"{card_path(out)} in {wall / 60:.1f} min",
        flush=True,
    )

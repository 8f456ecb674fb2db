"""The training loop: class-weighted cross-entropy on random crops, AdamW, one-cycle schedule."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..model.card import CLASSES
from ..progress import Progress
from . import augment
from .data import IGNORE, Sample
from .net import OUTPUT_STRIDE, WIDTHS, UNet
from .stains import RADIUS_MM

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 12
    steps: int = 150  # per epoch
    batch: int = 12
    crop: int = 192  # px at the model scale, a multiple of 16
    p_defect: float = 0.5  # share of crops centred on an appearance defect
    p_hard: float = 0.15  # share centred on a structural defect (frayed ends, not tufts)
    p_stain: float = 0.3  # share with a painted stain (train.stains): rendered ones are rare
    stain_radius_mm: tuple[float, float] = RADIUS_MM  # radii of the painted stains
    lr: float = 4e-3
    weight_decay: float = 1e-4
    seed: int = 1
    max_weight: float = 4.0
    init: str = ""  # an exported model whose weights training starts from ("": from scratch)
    widths: tuple[int, int, int, int] = WIDTHS  # channels at 1/2, 1/4, 1/8, 1/16 (from scratch)


def class_weights(rng: np.random.Generator, samples: list[Sample], cfg: TrainConfig) -> np.ndarray:
    """Inverse square root of how often each class occurs in training crops, background 1."""
    _, t = augment.batch(
        rng, samples, 200, cfg.crop, OUTPUT_STRIDE, cfg.p_defect, cfg.p_hard, augment=False
    )
    counts = np.bincount(t[t != IGNORE].ravel(), minlength=len(CLASSES)).astype(np.float64)
    freq = np.maximum(counts / counts.sum(), 1e-4)
    w = np.sqrt(freq[0] / freq)
    return np.clip(w, 1.0, cfg.max_weight).astype(np.float32)


def evaluate_cells(model: UNet, val: tuple[np.ndarray, np.ndarray]) -> dict[str, tuple]:
    """Per defect class on fixed validation crops: (cell recall, cell precision)."""
    model.eval()
    with torch.no_grad():
        pred = torch.cat(
            [
                model.logits(torch.from_numpy(x)).argmax(1)
                for x in np.array_split(val[0], max(1, len(val[0]) // 16))
            ]
        ).numpy()
    model.train()
    t = val[1]
    out = {}
    for k in range(2, len(CLASSES)):
        tp = int(((pred == k) & (t == k)).sum())
        out[CLASSES[k]] = (
            tp / max(1, int((t == k).sum())),
            tp / max(1, int(((pred == k) & (t != IGNORE)).sum())),
        )
    return out


def train(
    train_set: list[Sample], val_set: list[Sample], cfg: TrainConfig, init: UNet | None = None
) -> UNet:
    """Train from scratch (or on from `init`, e.g. the weights of a shipped model) with a fixed
    seed; prints one progress line per epoch."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = UNet(len(CLASSES), cfg.widths) if init is None else init.train()
    weights = class_weights(rng, train_set, cfg)
    shown = dict(zip(CLASSES, np.round(weights, 2).tolist(), strict=True))
    print(f"class weights: {shown}", flush=True)
    val_rng = np.random.default_rng(cfg.seed + 1)
    val = augment.batch(val_rng, val_set, 192, cfg.crop, OUTPUT_STRIDE, cfg.p_defect, cfg.p_hard)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, cfg.lr, total_steps=cfg.epochs * cfg.steps, pct_start=0.15
    )
    start = time.perf_counter()
    with Progress(cfg.epochs * cfg.steps, "train steps") as bar:
        for epoch in range(1, cfg.epochs + 1):
            loss = _epoch(model, opt, sched, torch.from_numpy(weights), rng, train_set, cfg,
                          bar.done)
            bar.clear()
            _progress(epoch, cfg, loss, evaluate_cells(model, val), start)
    return model.eval()


def _epoch(
    model: UNet,
    opt,
    sched,
    weights: torch.Tensor,
    rng: np.random.Generator,
    train_set: list[Sample],
    cfg: TrainConfig,
    tick=lambda: None,
) -> float:
    """One epoch of `cfg.steps` batches; the mean loss. `tick` after each batch."""
    losses = []
    for _ in range(cfg.steps):
        x, t = augment.batch(
            rng,
            train_set,
            cfg.batch,
            cfg.crop,
            OUTPUT_STRIDE,
            cfg.p_defect,
            cfg.p_hard,
            p_stain=cfg.p_stain,
            stain_radius_mm=cfg.stain_radius_mm,
        )
        logits = model.logits(torch.from_numpy(x))
        target = torch.from_numpy(t).long()
        loss = F.cross_entropy(logits, target, weight=weights, ignore_index=IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        tick()
    return float(np.mean(losses))


def _progress(epoch: int, cfg: TrainConfig, loss: float, cells: dict, start: float) -> None:
    el = time.perf_counter() - start
    eta = el / epoch * (cfg.epochs - epoch)
    parts = " ".join(f"{k} R{r:.2f}/P{p:.2f}" for k, (r, p) in cells.items())
    print(
        f"epoch {epoch}/{cfg.epochs} loss {loss:.4f} | val cells {parts} | "
        f"{el / 60:.1f} min, ~{eta / 60:.1f} min left",
        flush=True,
    )

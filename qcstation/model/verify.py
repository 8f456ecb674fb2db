"""A second look at candidate regions of one class: region features and a logistic decision.

The network's probability map finds candidates at a low threshold; each candidate is then
described by a few numbers (how sure the network is, size and shape, and how its colour differs
from the yarn around it) and kept when a logistic model of those numbers, fitted on rendered
photos by `qcstation.train.verify` and shipped in the model card, says so. A dark twist groove
on a light table is as dark as a stain but keeps the yarn's hue and is long and thin; a stain
changes the hue (oil browner, mould greyer) or is a blob.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..stand_out import log_colour
from .card import CLASSES

logger = logging.getLogger(__name__)

RING_CELLS = 5  # the yarn around a region: cells within this distance, outside it
MIN_RING = 4  # regions with fewer yarn cells around them compare with the region's own cells
EPS = 1e-6
FEATURES = (
    "peak_logit",  # the highest probability of the class in the region, as a logit
    "mean_prob",  # its mean over the region's cells
    "log_area_mm2",
    "fill",  # cells over the cells of the region's box
    "elongation",  # minor over major axis of the region (1 a disc, 0 a line)
    "d_lum",  # log brightness of the region minus that of the yarn around it
    "d_red_green",  # log(R/G) of the region minus the yarn's: oil browner, mould greyer
    "d_green_blue",  # log(G/B), likewise
    "d_chroma",  # length of the two hue differences
    "ring_lum_std",  # spread of the yarn's log brightness around it (uneven light, texture)
    "other_prob",  # mean probability of the other defect classes in the region
    "dark_share",  # share of the region's pixels much darker than the yarn around it
    "thick_dark_share",  # the same after an opening: dark patches, not thin twist grooves
    "dark_d_red_green",  # log(R/G) of the dark pixels minus the yarn's (0 without any)
    "dark_d_green_blue",  # log(G/B), likewise
    "dark_d_chroma",  # length of the two
    # the same over the region's pixels that are not brighter than the yarn around it: a stain
    # only darkens, so brighter pixels are the bench showing between a thin strand's edges
    # (a small stain's cells on a light table are half bench)
    "yarn_share",  # share of the region's pixels not brighter than the yarn around it
    "fg_d_lum",  # log brightness of those pixels minus the yarn's
    "fg_dark_share",  # dark pixels over those pixels
    "fg_thick_dark_share",  # dark after the opening, over those pixels
    "fg_d_red_green",  # log(R/G) of those pixels minus the yarn's
    "fg_d_green_blue",  # log(G/B), likewise
)
DARK = float(np.log(0.6))  # a pixel is dark below 0.6 of the yarn's brightness around it
BRIGHT = float(np.log(1.4))  # and brighter than the yarn (bench, not strand) above 1.4 of it
THICK_PX = 5  # opening kernel (pixels of the view, 2.5 mm at 2 px/mm): wider than a groove


@dataclass(frozen=True)
class Verifier:
    """Logistic decision over standardised region features z (and, if `quadratic`, every
    product z_i z_j, i <= j, after them); keeps P >= threshold."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    quadratic: bool = False

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(true defect) of each row of `x` (n, len(FEATURES))."""
        idx = [FEATURES.index(f) for f in self.features]
        z = expand((x[:, idx] - self.mean) / self.scale, self.quadratic)
        return 1.0 / (1.0 + np.exp(-np.clip(z @ self.weights + self.bias, -50, 50)))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
            "quadratic": self.quadratic,
            "weights": [float(v) for v in self.weights],
            "bias": float(self.bias),
            "threshold": float(self.threshold),
        }

    @staticmethod
    def from_json(d: dict) -> Verifier:
        """Parse one card entry; ValueError naming what is wrong."""
        if not isinstance(d, dict):
            raise ValueError("a verifier must be an object")
        missing = {"features", "mean", "scale", "weights", "bias", "threshold"} - set(d)
        if missing:
            raise ValueError(f"a verifier lacks {sorted(missing)}")
        feats = d["features"]
        if not isinstance(feats, list) or not feats or any(f not in FEATURES for f in feats):
            raise ValueError(f"verifier features must be a non-empty list of {list(FEATURES)}")
        quadratic = d.get("quadratic", False)
        if not isinstance(quadratic, bool):
            raise ValueError("verifier quadratic must be true or false")
        n = len(feats)
        mean, scale = (_numbers(d, k, n) for k in ("mean", "scale"))
        weights = _numbers(d, "weights", n + n * (n + 1) // 2 if quadratic else n)
        if (scale <= 0).any():
            raise ValueError("verifier scales must be positive")
        bias, threshold = (_number(d, k) for k in ("bias", "threshold"))
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("the verifier threshold must lie in [0, 1]")
        return Verifier(tuple(feats), mean, scale, weights, bias, threshold, quadratic)


def expand(z: np.ndarray, quadratic: bool) -> np.ndarray:
    """z (n, k), followed by its products z_i z_j (i <= j, row-major) if `quadratic`."""
    if not quadratic:
        return z
    i, j = np.triu_indices(z.shape[1])
    return np.column_stack([z, z[:, i] * z[:, j]])


def _number(d: dict, key: str) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"verifier {key} must be a finite number")
    return float(v)


def _numbers(d: dict, key: str, n: int) -> np.ndarray:
    v = d[key]
    ok = isinstance(v, list) and len(v) == n
    ok = ok and all(not isinstance(x, bool) and isinstance(x, int | float) for x in v)
    if not ok or not np.isfinite(np.asarray(v, np.float64)).all():
        raise ValueError(f"verifier {key} must be a list of {n} finite numbers")
    return np.asarray(v, np.float64)


def parse_verifiers(d: object, classes: tuple[str, ...]) -> dict[str, Verifier]:
    """The card's `verify` table: defect class -> Verifier; ValueError if malformed."""
    if not isinstance(d, dict):
        raise ValueError("`verify` must map defect classes to verifiers")
    unknown = set(d) - set(classes)
    if unknown:
        raise ValueError(f"`verify` names unknown classes {sorted(unknown)}")
    return {k: Verifier.from_json(v) for k, v in d.items()}


def cell_colours(view: np.ndarray, shape: tuple[int, int], stride: int) -> np.ndarray:
    """Mean BGR (float32) of each `stride` x `stride` cell of `view`, on a (rows, cols) grid."""
    rows, cols = shape
    padded = np.zeros((rows * stride, cols * stride, 3), np.uint8)
    h, w = min(view.shape[0], rows * stride), min(view.shape[1], cols * stride)
    padded[:h, :w] = view[:h, :w]
    return cv2.resize(padded.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA)


def _label_means(labels: np.ndarray, weights: np.ndarray, values: np.ndarray, n: int):
    """Per-label weighted sums of `values` (k, m) over labels (m,) -> (k, n), and weights."""
    w = np.bincount(labels, weights, n)
    sums = np.stack([np.bincount(labels, weights * v, n) for v in values])
    return sums, w


def region_features(
    probs: np.ndarray, labels: np.ndarray, stats: np.ndarray, cls: str, view: np.ndarray,
    valid: np.ndarray, cell_mm: float, stride: int, want: np.ndarray | None = None,
) -> np.ndarray:
    """FEATURES (n - 1, len(FEATURES)) of the regions 1..n-1 of `labels` (cells of `stride` px
    of `view`, the model's BGR input; `stats` as cv2.connectedComponentsWithStats gives) of
    class `cls`. `valid` marks the cells inside the camera's view. The pixel-level (dark_*)
    columns are only computed for the regions `want` (n - 1 bools; default all), 0 elsewhere."""
    colours = log_colour(cell_colours(view, labels.shape, stride))
    cell, ring = _cell_features(probs, labels, stats, cls, colours, valid, cell_mm)
    if want is not None:
        ring = np.where(np.concatenate([[False], want])[None, :], ring, np.nan)
    dark = _dark_features(view, labels, stats, ring, stride)
    return np.column_stack([cell, dark])[1:]


def _cell_features(probs, labels, stats, cls, colours, valid, cell_mm):
    """The cell-level columns of FEATURES for every label, and the yarn's `log_colour` around
    each region (3, n; NaN where there is too little yarn around it)."""
    n = len(stats)
    k = CLASSES.index(cls)
    p = probs[k]
    inside = labels > 0
    lab = labels[inside]
    ys, xs = np.nonzero(inside)
    ones = np.ones(len(lab))
    area = stats[:, 4].astype(np.float64)
    a = np.maximum(area, 1)
    peak = np.zeros(n)
    np.maximum.at(peak, lab, p[inside])
    mean_p = np.bincount(lab, p[inside], n) / a
    others = probs[[i for i in range(2, len(CLASSES)) if i != k]].sum(axis=0)
    other = np.bincount(lab, others[inside], n) / a
    (sx, sy, sxx, syy, sxy), _ = _label_means(
        lab, ones, np.stack([xs, ys, xs * xs, ys * ys, xs * ys]).astype(np.float64), n
    )
    mx, my = sx / a, sy / a
    vxx, vyy, vxy = sxx / a - mx**2 + 1 / 12, syy / a - my**2 + 1 / 12, sxy / a - mx * my
    half = np.sqrt(np.maximum(((vxx - vyy) / 2) ** 2 + vxy**2, 0))
    lo, hi = (vxx + vyy) / 2 - half, (vxx + vyy) / 2 + half
    elong = np.sqrt(np.clip(lo, 0, None) / np.maximum(hi, EPS))
    fill = area / np.maximum(stats[:, 2] * stats[:, 3], 1)
    reg_col, _ = _label_means(lab, ones, colours[inside].T.astype(np.float64), n)
    reg_col = reg_col / a
    ring_col, ring_sq, ring_n = _ring_stats(probs, labels, n, colours, valid)
    fallback = ring_n < MIN_RING  # no yarn around: compare with nothing (zero contrast)
    ring_mean = np.where(fallback, reg_col, ring_col / np.maximum(ring_n, 1))
    d = reg_col - ring_mean
    ring_var = ring_sq / np.maximum(ring_n, 1) - ring_mean[0] ** 2
    ring_std = np.where(fallback, 0.0, np.sqrt(np.clip(ring_var, 0, None)))
    peak_c = np.clip(peak, EPS, 1 - EPS)
    cols = [np.log(peak_c / (1 - peak_c)), mean_p, np.log(area * cell_mm**2 + EPS), fill,
            elong, d[0], d[1], d[2], np.hypot(d[1], d[2]), ring_std, other]
    return np.stack(cols, axis=1), np.where(fallback, np.nan, ring_mean)


def _dark_features(view, labels, stats, ring, stride) -> np.ndarray:
    """The pixel-level columns of FEATURES (dark_share ... fg_d_green_blue) per label (row 0,
    the background, and regions without yarn around them: zeros)."""
    out = np.zeros((len(stats), 11))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (THICK_PX, THICK_PX))
    block = np.ones((stride, stride), np.uint8)
    pad = THICK_PX  # so the opening sees what lies around the region, not the crop's edge
    for i in np.flatnonzero(np.isfinite(ring[0])):
        if i == 0:
            continue
        x, y, w, h = stats[i, :4] * stride
        x0, y0 = max(x - pad, 0), max(y - pad, 0)
        px = view[y0:y + h + pad, x0:x + w + pad].astype(np.float32)
        if px.size == 0:  # a region of the padding cells past the view's edge: no pixels
            continue
        mine = np.zeros(px.shape[:2], bool)
        cells = np.kron(labels[y // stride:(y + h) // stride, x // stride:(x + w) // stride] == i,
                        block).astype(bool)
        part = mine[y - y0:y - y0 + h, x - x0:x - x0 + w]
        part[:] = cells[: part.shape[0], : part.shape[1]]
        lum = np.log(px.mean(axis=2) + 1.0)
        dark = (mine & (lum < ring[0, i] + DARK)).astype(np.uint8)
        thick = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel) > 0
        n_mine = max(int(mine.sum()), 1)
        out[i, 0] = dark.sum() / n_mine
        out[i, 1] = thick.sum() / n_mine
        if dark.any():
            b, g, r = px[dark > 0].mean(axis=0) + 1.0
            out[i, 2:4] = np.log(r / g) - ring[1, i], np.log(g / b) - ring[2, i]
        fg = mine & (lum <= ring[0, i] + BRIGHT)
        n_fg = int(fg.sum())
        out[i, 5] = n_fg / n_mine
        if n_fg:
            b, g, r = px[fg].mean(axis=0) + 1.0
            out[i, 6] = np.log((b + g + r) / 3) - ring[0, i]
            out[i, 7], out[i, 8] = dark.sum() / n_fg, thick.sum() / n_fg
            out[i, 9:11] = np.log(r / g) - ring[1, i], np.log(g / b) - ring[2, i]
    out[:, 4] = np.hypot(out[:, 2], out[:, 3])
    return out


def _ring_stats(probs, labels, n, colours, valid):
    """Sums of colour, of squared log brightness and counts of the yarn cells around each
    region (within RING_CELLS, outside a one-cell margin), each given to its nearest region."""
    free = (labels == 0).astype(np.uint8)
    dist, near = cv2.distanceTransformWithLabels(
        free, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    inside = labels > 0
    to_region = np.zeros(int(near.max()) + 1, np.int64)
    to_region[near[inside]] = labels[inside]
    yarn = probs.argmax(axis=0) == CLASSES.index("yarn")
    ring = (dist > 1.5) & (dist <= RING_CELLS) & yarn & (valid > 0)
    lab = to_region[near[ring]]
    col = colours[ring].T.astype(np.float64)
    ones = np.ones(len(lab))
    sums, count = _label_means(lab, ones, np.vstack([col, col[:1] ** 2]), n)
    return sums[:3], sums[3], count


def verified_regions(
    probs: np.ndarray, mask: np.ndarray, cls: str, view: np.ndarray, valid: np.ndarray,
    cell_mm: float, stride: int, min_cells: float, min_score: float, verifier: Verifier,
) -> list[tuple[tuple[float, float, float, float], float]]:
    """Regions of `mask` (cells) big and sure enough that `verifier` keeps: (box, its P)."""
    if not mask.any():
        return []
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    big = stats[1:, 4] >= min_cells
    if not big.any():
        return []
    x = region_features(probs, labels, stats, cls, view, valid, cell_mm, stride, big)
    p = verifier.probability(x)
    peak = 1 / (1 + np.exp(-x[:, FEATURES.index("peak_logit")]))
    keep = big & (peak >= min_score) & (p >= verifier.threshold)
    return [
        (tuple(float(v) for v in stats[i + 1, :4]), float(p[i]))  # type: ignore[misc]
        for i in np.flatnonzero(keep)
    ]

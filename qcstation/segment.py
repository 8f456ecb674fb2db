"""Yarn / opening separation on the rectified bench view, for any bench lighting.

The method does not assume a polarity or a fixed threshold:
1. illumination is flattened by dividing lightness by a wide blur (a periodic mesh averages out);
2. two clusters (k-means) are found in flattened (B, G, R) on a subsample, and the
   direction that best separates them (Fisher/LDA) becomes a one-channel yarn score;
3. the yarn cluster is the one that forms a connected lattice; openings form many blobs;
4. the threshold sits midway between the two cluster means, so edges are not biased.
Shadows on a front-lit table are neutral in colour, so LDA weights chroma over lightness there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

FLATTEN_SIGMA_MM = 40.0  # wider than 1.3 pitches of the coarsest net: the mesh averages out
HAIR_MM = 1.2  # yarn structures thinner than this are stray hairs, not strand bodies


@dataclass(frozen=True)
class Separation:
    """A linear yarn score on Lab features and its threshold (score > threshold: yarn)."""

    weights: np.ndarray  # (3,) on flattened (B, G, R)
    threshold: float
    contrast: float  # distance between the cluster means in units of their pooled std


def _features(bgr: np.ndarray, px_per_mm: float) -> np.ndarray:
    """(H, W, 3) float32 features: B, G, R divided by the local mean brightness.

    Linear in the pixel values, so a threshold midway between the two classes falls on the
    middle of a blurred edge (a Lab or gamma feature would bias every edge one way).
    """
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    f = 8  # the blur runs on an 8x smaller image: it only has to follow the light
    small = cv2.resize(gray, (max(1, gray.shape[1] // f), max(1, gray.shape[0] // f)),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    sigma = FLATTEN_SIGMA_MM * px_per_mm / f
    small = cv2.GaussianBlur(small, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    local = cv2.resize(small, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    gain = 100.0 / np.maximum(local, 1.0)
    return bgr.astype(np.float32) * gain[..., None]


def _kmeans2(x: np.ndarray) -> np.ndarray:
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    cv2.setRNGSeed(7)
    _, labels, _ = cv2.kmeans(x, 2, None, crit, 3, cv2.KMEANS_PP_CENTERS)
    return labels.ravel()


def _fisher(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    a, b = x[labels == 0], x[labels == 1]
    cov = np.cov(a, rowvar=False) * len(a) + np.cov(b, rowvar=False) * len(b)
    cov = cov / (len(a) + len(b)) + np.eye(3) * 1e-3
    w = np.linalg.solve(cov, b.mean(0) - a.mean(0))
    w /= np.linalg.norm(w)
    sa, sb = a @ w, b @ w
    pooled = np.sqrt(0.5 * (sa.var() + sb.var())) + 1e-6
    return w, float(sa.mean()), float(sb.mean()), float((sb.mean() - sa.mean()) / pooled)


def _blob_count(mask: np.ndarray) -> int:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    return int((stats[1:, cv2.CC_STAT_AREA] >= 12).sum())


def fit_separation(bgr: np.ndarray, valid: np.ndarray, px_per_mm: float) -> Separation:
    """Learn the yarn score for this frame from a ~2 px/mm subsample."""
    step = max(1, int(round(px_per_mm / 2.0)))
    feats = _features(bgr[::step, ::step], px_per_mm / step)
    ok = valid[::step, ::step] > 0
    x = feats[ok].reshape(-1, 3)
    if len(x) > 60000:
        x = x[np.random.default_rng(0).choice(len(x), 60000, replace=False)]
    w, ma, mb, contrast = _fisher(x, _kmeans2(x))
    thr = 0.5 * (ma + mb)
    score = feats @ w
    high = ((score > thr) & ok).astype(np.uint8)
    low = ((score <= thr) & ok).astype(np.uint8)
    # The yarn is one connected lattice; the openings are many separate blobs.
    if _blob_count(high) > _blob_count(low):
        w, thr = -w, -thr
    return Separation(w.astype(np.float32), float(thr), contrast)


def yarn_score(bgr: np.ndarray, sep: Separation, px_per_mm: float) -> np.ndarray:
    """Score minus threshold: > 0 is yarn, at full resolution, float32."""
    feats = _features(bgr, px_per_mm)
    return cv2.transform(feats, sep.weights.reshape(1, 3)) - np.float32(sep.threshold)


def mesh_angle(score: np.ndarray, valid: np.ndarray, px_per_mm: float) -> float:
    """Mesh axis angle in degrees (-45, 45] from the gradient orientations, 4-fold symmetric."""
    step = max(1, int(round(px_per_mm)))  # ~1 px/mm is plenty for the angle
    s = cv2.resize(score, (score.shape[1] // step, score.shape[0] // step),
                   interpolation=cv2.INTER_AREA)
    v = cv2.resize(valid, (s.shape[1], s.shape[0]), interpolation=cv2.INTER_NEAREST)
    s = np.clip(s, -20, 20)
    gx = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3)
    keep = cv2.erode(v, np.ones((5, 5), np.uint8)) > 0
    mag = np.hypot(gx, gy)[keep]
    phi = np.arctan2(gy, gx)[keep]
    z = np.sum(mag * np.exp(4j * phi))
    return float(np.degrees(np.angle(z) / 4.0))


def remove_hairs(yarn: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Morphological opening: thin stray hairs go, strand bodies stay."""
    k = max(3, int(round(HAIR_MM * px_per_mm)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.morphologyEx(yarn, cv2.MORPH_OPEN, kernel)

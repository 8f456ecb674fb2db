"""Yarn / opening separation on the bench view, for any bench lighting.

No polarity or fixed threshold is assumed:
1. illumination is flattened by dividing by a wide blur of the brightness (the periodic mesh
   averages out), so uneven light and hot spots do not move the threshold;
2. two clusters (k-means) are found in flattened (B, G, R) on a subsample, and the direction
   that best separates them (Fisher/LDA) becomes a one-channel yarn score; shadows on a
   front-lit table are neutral in colour, so LDA weights colour over brightness there;
3. the yarn cluster is the one that forms a connected lattice; openings form many blobs.
   On a textured bench (wood grain and planks, concrete blotches) the two clusters split the
   bench's texture and enclose few alike openings; then the view smoothed to the strand's
   scale is clustered into four, the split of them that encloses the most alike openings is
   the yarn, and that coarse mask decides yarn away from its edges (`within_coarse`): a
   person sees the net by its lattice, whatever the bench's texture. Where no split of the
   four forms a lattice (yarn nearly the bench's colour), the view band-passed around the
   mesh's pitch is cut along the colour direction that repeats most at that pitch
   (`_periodic_grouping`): a bench's grain, planks and blotches are not periodic at 30-37 mm;
4. where both bench and yarn show within EDGE_MM of a pixel, the pixel is yarn when its score is
   above the middle of the local step (between the smoothed minimum and maximum around it):
   the middle of a blurred edge, whatever the levels on either side (a front-lit strand has
   dark flanks, a table may be shadowed next to the yarn). The score is linear in the pixel
   values, so the middle of a blurred step is the true edge and spans are not biased;
5. elsewhere a pixel is yarn when its score is above a low share (BENCH_SHARE) of the way from
   the bench level to the yarn level: dark flanks and twist grooves stay yarn;
6. on a light table the yarn casts grey shadows; where the yarn is browner than the bench, a
   pixel as grey as the bench and lighter than the yarn is bench, whatever its brightness;
   on a dark table the flank of a strand turned away from the light is nearly as dark as the
   bench but keeps the yarn's colour, so a pixel as brown as the yarn and a little lighter
   than the bench (FLANK_SHARE) is yarn; on a light table a bright highlight on a ply of
   twisted yarn is as light as the bench (or lighter) but keeps the yarn's colour, so a pixel
   most of the way to the yarn's colour (YARN_COLOUR_SHARE) is yarn, and part of its core:
   colour, not brightness, tells a lit ply from the bench beside it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

logger = logging.getLogger(__name__)

FLATTEN_SIGMA_MM = 40.0  # wider than 1.3 pitches of the coarsest net: the mesh averages out
HAIR_MM = 1.2  # yarn structures thinner than this are stray hairs, not strand bodies
GROOVE_MM = 3.0  # gaps along a strand shorter than this are dark twist grooves, not breaks
STRAND_RUN_MM = 15.0  # a strand along an axis runs at least this far (a strand across it less)
FIT_PX_PER_MM = 1.0  # the separation and the mesh angle are fitted at this scale
EDGE_MM = 1.0  # half-width of the window that sets the local threshold at an edge
FLAT_BENCH, FLAT_YARN = 68.0, 188.0  # the two levels of the flattened uint8 score
BENCH_SHARE = 0.3  # away from the bench, scores above this share of the gap are yarn
BENCH_STRICT = 0.12  # the bench shows in a window whose minimum is below this share
STEP_MIN = 0.12  # a local step must rise by this share of the gap to set the threshold
CHROMA_FLOOR = 30.0  # grey levels added to the brightness so dark noise has no colour
MIN_CHROMA_GAP = 0.06  # yarn must be this much browner than the bench to judge by colour
FRONT_LIT_MIN = 0.2  # front-lit yarn reflects at least this share of a light bench's light
FLANK_SHARE = 0.16  # on a dark bench, brown pixels this share above the bench level are yarn
CORE_SHARE = 0.7  # on a light bench, a strand body is this dark somewhere across, everywhere
YARN_COLOUR_SHARE = 0.5  # on a light bench, pixels this share of the way from the mixture's
# colour to the yarn's are yarn however light (golden-ply highlights: 0.6-0.9 of the way, bench
# below 0, strand edges 0-0.5; chosen on rule/golden-ply and rule/wide, seed 5301)
FIT_SMOOTH_MM = 1.5  # blur (sigma) before fitting: bench grain, sand, weave (1-3 mm) average out
FIT_CLUSTERS = 4  # colour clusters split into yarn and bench: lit body, shaded flank, 2 bench tones
OPENING_MM = (6.0, 60.0)  # a clear region this wide and high may be an opening
OPENING_SPREAD = 1.6  # ... and is within this factor of the typical one's area (two merged
# openings, or an opening cut by grain, are not)
OPENING_FILL = 0.4  # ... if it fills this share of its box (a square turned 45 deg fills 0.5)
LATTICE_KEEP = 0.4  # opening share of the plain fit kept without trying the smoothed fit: good
# reads mostly 0.4-0.69 (seed 7 >= 0.44), reads broken by wood or concrete 0.02-0.17 (rule sets)
YARN_AREA = (0.15, 0.8)  # share of a net's view that is yarn: 4.8 mm strands at 37 mm pitch
# cover 0.24, 12 mm at 30 mm 0.64, a fine out-of-spec net (7 mm at 19 mm) 0.6
LATTICE_SEEN = 0.25  # a view with this share in alike openings shows a lattice: nets on wood or
# concrete read by the smoothed fit 0.26-0.6, blank benches 0.01-0.15 (rule sets, seed 5301); a
# fouled real net smoothed 0.15 (tests/test_real_nets.py), its plain fit stays
LATTICE_GAIN = 0.1  # the smoothed fit replaces the plain one when its opening share is this much
# higher: a hairy net on a plain bench gains 0.02 (its hairs smooth into yarn), benches broken
# by wood or concrete 0.17-0.5 (rule sets, seed 5301)
PERIOD_SIGMA_MM = 12.0  # the band-pass keeps what varies faster than this blur: a third of
# the pitch (30-37 mm for 25 mm openings and 5-12 mm yarn) passes the lattice, planks and light
# stay out. Rule sets' wood (seed 5301) read alike at 6-16 mm; fresh wood renders (seeds
# 5340-5349): 12 and 16 read 2 more nets than 8 (see docs/geometry.md)
FIT_SAMPLES = 5000  # pixels the smoothed view's clusters are fitted on
COARSE_IN_MM = 1.0  # on a textured bench the pixel decides only this deep inside the yarn of
COARSE_OUT_MM = 2.0  # the smoothed fit and this far outside it (its edges are within ~1 px)


@dataclass(frozen=True)
class Separation:
    """Yarn where w . (B, G, R) > threshold * local brightness / 100."""

    weights: np.ndarray  # (3,) unit vector on (B, G, R)
    threshold: float  # flattened score midway between the classes
    bench_level: float  # flattened score of the bench class
    raw_mid: float  # w . BGR midway between the clusters before flattening
    raw_gap: float  # distance between the cluster means before flattening (> 0)
    contrast: float  # distance between the plain fit's cluster means in their pooled std
    chroma: float | None = None  # grey: (R - B) / (R + G + B + CHROMA_FLOOR) below this
    yarn_chroma: float | None = None  # the yarn's median of the same ratio
    dark_bench: bool = False  # the colour test is for a dark bench (brown = yarn)
    lattice: float = 0.0  # share of the fitting view in opening-sized clear regions of its yarn
    textured: bool = False  # fitted on the smoothed view: the bench's texture reads as yarn
    silhouette: bool = False  # dark yarn on a bright panel: a backlit view, colourless by nature


def local_brightness(bgr: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Wide blur of the grey level at the size of `bgr`, float32 (divides the light out).

    Blurred at ~0.1 px/mm: the light varies slowly and a small kernel is fast.
    """
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    f = max(1, int(px_per_mm / 0.1))
    tiny = cv2.resize(gray, (max(1, gray.shape[1] // f), max(1, gray.shape[0] // f)),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    sigma = FLATTEN_SIGMA_MM * px_per_mm * tiny.shape[1] / gray.shape[1]
    tiny = cv2.GaussianBlur(tiny, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    blur = cv2.resize(tiny, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.maximum(blur, 1.0)


def _kmeans2(x: np.ndarray) -> np.ndarray:
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    cv2.setRNGSeed(7)
    _, labels, _ = cv2.kmeans(x, 2, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    return labels.ravel()


def _fisher(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Unit direction w separating the classes (class 1 higher), the threshold between the
    class-0 mean and the class-1 flank level, and the contrast in pooled std units."""
    a, b = x[labels == 0], x[labels == 1]
    cov = np.cov(a, rowvar=False) * len(a) + np.cov(b, rowvar=False) * len(b)
    cov = cov / (len(a) + len(b)) + np.eye(3) * 1e-3
    w = np.linalg.solve(cov, b.mean(0) - a.mean(0))
    w /= np.linalg.norm(w)
    sa, sb = a @ w, b @ w
    pooled = np.sqrt(0.5 * (sa.var() + sb.var())) + 1e-6
    return w, float(sa.mean()), float(sb.mean()), float((sb.mean() - sa.mean()) / pooled)


def _opening_share(yarn: np.ndarray, valid: np.ndarray, px_per_mm: float = FIT_PX_PER_MM
                   ) -> float:
    """Share of the valid view (at `px_per_mm`) that lies in clear regions shaped like an
    opening (at least OPENING_MM[0] across both ways, at most OPENING_MM[1], filling
    OPENING_FILL of their box), after closing gaps of up to GROOVE_MM in the yarn (dark twist
    grooves do not cut a strand): high only where `yarn` is a lattice around openings. Bench
    texture read as yarn cuts the openings into specks and slivers; yarn read as bench merges
    them into a few large regions."""
    clear = cv2.bitwise_and(cv2.compare(_close_grooves(yarn, px_per_mm), 0, cv2.CMP_EQ), valid)
    _, _, stats, _ = cv2.connectedComponentsWithStats(clear, connectivity=4)
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    lo, hi = np.array(OPENING_MM) * px_per_mm
    shaped = (np.minimum(w, h) >= lo) & (np.maximum(w, h) <= hi) & (area >= OPENING_FILL * w * h)
    if not shaped.any():
        return 0.0
    typical = np.median(area[shaped])
    alike = shaped & (area >= typical / OPENING_SPREAD) & (area <= typical * OPENING_SPREAD)
    return float(area[alike].sum()) / max(1, cv2.countNonZero(valid))


def _close_grooves(yarn: np.ndarray, px_per_mm: float) -> np.ndarray:
    """`yarn` closed over gaps of up to GROOVE_MM (at `px_per_mm`), every direction: dark twist
    grooves are yarn, not cuts (for reading the lattice at the fitting scale)."""
    k = max(3, int(round(GROOVE_MM * px_per_mm)) | 1)
    return cv2.morphologyEx(yarn, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))


def _nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index (uint8) of the nearest centre of every row of `x`."""
    return (x @ centres.T - 0.5 * (centres * centres).sum(1)).argmax(1).astype(np.uint8)


def _blob_count(mask: np.ndarray) -> int:
    """Blobs of 3+ pixels, counted at half the fitting scale (they are openings of >= 10 mm),
    after closing gaps of up to GROOVE_MM (at FIT_PX_PER_MM) so that dark twist grooves do
    not cut the yarn into blobs."""
    closed = _close_grooves(mask, FIT_PX_PER_MM)
    n, labels = cv2.connectedComponents(closed[::2, ::2], connectivity=4)
    return int((np.bincount(labels.ravel(), minlength=n)[1:] >= 3).sum())


def _lattice_grouping(feat: np.ndarray, valid: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Yarn (1) / bench (0) labels of the sampled pixels `pos` (all 0 if no split fits): the
    colour clusters of the smoothed fitting view are split into two groups every way, and the
    split whose yarn side encloses the most opening-sized clear regions wins. A textured bench
    (wood planks, concrete blotches) takes clusters of its own, and a strand its lit body and
    its shaded flanks: two clusters cannot fit both, and which side is the yarn is decided by
    the lattice, whatever the colours."""
    x = feat.reshape(-1, 3)
    cv2.setRNGSeed(7)
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 20, 0.1)
    _, _, centres = cv2.kmeans(x[pos[:FIT_SAMPLES]], FIT_CLUSTERS, None, crit, 1,
                               cv2.KMEANS_PP_CENTERS)
    # the splits are compared at half the fitting scale (openings >= 6 mm are 3+ px there)
    half_valid = np.ascontiguousarray(valid[::2, ::2])
    half = np.ascontiguousarray(feat[::2, ::2]).reshape(-1, 3)
    cluster = _nearest(half, centres).reshape(half_valid.shape)
    area = np.bincount(cluster[half_valid > 0], minlength=FIT_CLUSTERS) / max(
        1, cv2.countNonZero(half_valid))
    best, best_share = np.zeros(256, np.uint8), -1.0
    for subset in range(1, (1 << FIT_CLUSTERS) - 1):  # every split, each side as the yarn
        lut = np.zeros(256, np.uint8)
        lut[:FIT_CLUSTERS] = [(subset >> c) & 1 for c in range(FIT_CLUSTERS)]
        if not YARN_AREA[0] <= area @ lut[:FIT_CLUSTERS] <= YARN_AREA[1]:
            continue
        share = _opening_share(cv2.LUT(cluster, lut), half_valid, FIT_PX_PER_MM / 2)
        if share > best_share:
            best, best_share = lut, share
    return best[_nearest(x[pos], centres)].astype(np.int32)


def _periodic_grouping(feat: np.ndarray, valid: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Yarn (1) / bench (0) labels of the sampled pixels `pos` from the mesh's period: the
    smoothed fitting view is band-passed around the lattice's pitch (its blur at
    PERIOD_SIGMA_MM taken off), and each colour direction that varies most at that scale for
    its variation at the bench's scale (planks, light; the generalized eigenvectors of the two
    covariances) is cut at the local mean, each side as the yarn; the cut that encloses the most
    opening-sized clear regions wins. When the yarn is nearly the colour of the bench (coir on
    wood) no cluster of colours is the yarn, but along some colour direction the yarn still
    repeats at the mesh's pitch and the bench's grain and planks do not."""
    half = np.ascontiguousarray(feat[::2, ::2])  # compared at half the fitting scale, as above
    half_valid = np.ascontiguousarray(valid[::2, ::2])
    low = cv2.GaussianBlur(half, (0, 0), PERIOD_SIGMA_MM * FIT_PX_PER_MM / 2)
    band = cv2.subtract(half, low)
    keep = half_valid > 0
    if keep.sum() < 100:
        return np.zeros(len(pos), np.int32)
    c_band = np.cov(band[keep], rowvar=False)
    c_bench = np.cov(low[keep], rowvar=False) + np.eye(3) * 1e-3  # never singular
    _, directions = np.linalg.eig(np.linalg.solve(c_bench + c_band, c_band))
    scores = band.reshape(-1, 3) @ np.real(directions).astype(np.float32)
    best, best_share = None, -1.0
    for i in range(3):
        for sign in (1.0, -1.0):
            yarn = ((sign * scores[:, i]).reshape(keep.shape) > 0) & keep
            share = _opening_share(yarn.astype(np.uint8), half_valid, FIT_PX_PER_MM / 2)
            if share > best_share:
                best, best_share = yarn, share
    row, col = np.divmod(pos, feat.shape[1])
    return best[row // 2, col // 2].astype(np.int32)


def _separation(x: np.ndarray, xr: np.ndarray, labels: np.ndarray) -> Separation:
    """The Fisher separation of the labelled samples (flattened `x`, raw `xr`), class 1 high."""
    w, ma, mb, contrast = _fisher(x, labels)
    r = xr @ w
    ra, rb = r[labels == 0].mean(), r[labels == 1].mean()
    return Separation(w.astype(np.float32), float(0.5 * (ma + mb)), ma, float(0.5 * (ra + rb)),
                      float(max(rb - ra, 1.0)), contrast)


def fit_separation(small: np.ndarray, valid: np.ndarray,
                   local: np.ndarray) -> tuple[Separation, np.ndarray]:
    """Learn the yarn score of this frame from a small bench view and its local brightness;
    also returns the yarn mask (uint8 0/1) of the small view.

    First two clusters of the pixels' flattened colours (steps 2-3). On a plain bench that
    reads as a lattice (LATTICE_KEEP). On a textured bench (wood grain and planks, concrete
    blotches) the two clusters split the texture instead; then the view smoothed at
    FIT_SMOOTH_MM is clustered again (_lattice_grouping): texture finer than a strand averages
    out there while a strand keeps its colour, so the direction weighs what tells yarn from
    bench at the strand's scale. Where no split of those clusters is a lattice either (yarn
    nearly the bench's colour), the mesh's period labels the samples (_periodic_grouping).
    The smoothed fit is kept only where its yarn encloses clearly more openings."""
    pos = np.flatnonzero(valid.ravel())
    if len(pos) < 100:
        return Separation(np.ones(3, np.float32), 0.0, -1.0, 0.0, 1.0, 0.0), valid * 0
    if len(pos) > 20000:
        pos = np.random.default_rng(0).choice(pos, 20000, replace=False)
    xr = small.reshape(-1, 3)[pos].astype(np.float32)
    x = xr * (100.0 / local.ravel()[pos])[:, None]
    labels = _kmeans2(x)
    sep = _separation(x, xr, labels)
    high = yarn_mask(small, sep, local) & (valid > 0)
    low = ((high == 0) & (valid > 0)).astype(np.uint8)
    if _blob_count(high) > _blob_count(low):  # yarn is one lattice, openings many blobs
        sep = Separation(-sep.weights, -sep.threshold, sep.bench_level - 2 * sep.threshold,
                         -sep.raw_mid, sep.raw_gap, sep.contrast)
        high = low
    share = _opening_share(high, valid)
    sep = replace(sep, lattice=share)
    if share < LATTICE_KEEP:
        smooth = cv2.GaussianBlur(small.astype(np.float32), (0, 0),
                                  FIT_SMOOTH_MM * FIT_PX_PER_MM)
        feat = smooth * (100.0 / local)[..., None]
        xs = smooth.reshape(-1, 3)[pos]
        needed = max(share + LATTICE_GAIN, LATTICE_SEEN)
        read = _coarse_read(_lattice_grouping(feat, valid, pos), feat, smooth, valid, local, pos)
        if read is None or read[0] <= needed:  # no split of the colour clusters is a lattice
            read = _coarse_read(_periodic_grouping(feat, valid, pos), feat, smooth, valid,
                                local, pos)
        if read is not None and read[0] > needed:
            coarse_share, textured, coarse = read
            # the plain clusters' contrast stays: the evidence of two populations
            sep = replace(textured, contrast=sep.contrast, lattice=coarse_share, textured=True)
            xr, high = xs, coarse
    return _with_chroma(sep, xr), high


def _coarse_read(labels: np.ndarray, feat: np.ndarray, smooth: np.ndarray, valid: np.ndarray,
                 local: np.ndarray, pos: np.ndarray
                 ) -> tuple[float, Separation, np.ndarray] | None:
    """The smoothed view's yarn read from yarn / bench labels of the samples `pos`: its opening
    share, the Fisher separation of the labels and the coarse yarn mask (midway threshold on
    the smoothed view, twist grooves closed). None when the labels hold one class only."""
    if not 0 < labels.sum() < len(labels):
        return None
    sep = _separation(feat.reshape(-1, 3)[pos], smooth.reshape(-1, 3)[pos], labels)
    coarse = yarn_mask(np.clip(smooth, 0, 255).astype(np.uint8), sep, local)
    coarse = _close_grooves(coarse, FIT_PX_PER_MM)
    coarse = cv2.bitwise_and(coarse, (valid > 0).astype(np.uint8))
    return _opening_share(coarse, valid), sep, coarse


def _with_chroma(sep: Separation, xr: np.ndarray) -> Separation:
    """Add the colour test of step 6 when the yarn is browner than a front-lit bench; and mark
    a silhouette (yarn reflecting under FRONT_LIT_MIN of the bench's light: lit from behind)."""
    is_yarn = xr @ sep.weights > sep.raw_mid
    if is_yarn.sum() < 50 or (~is_yarn).sum() < 50:
        return sep
    bench, yarn = np.median(xr[~is_yarn].sum(1)), np.median(xr[is_yarn].sum(1))
    sep = replace(sep, silhouette=bool(yarn < FRONT_LIT_MIN * bench))
    q = (xr[:, 2] - xr[:, 0]) / (xr.sum(1) + CHROMA_FLOOR)
    q_yarn, q_bench = float(np.median(q[is_yarn])), float(np.median(q[~is_yarn]))
    front_lit_on_light = FRONT_LIT_MIN * bench < yarn < bench  # not a backlit silhouette
    front_lit_on_dark = yarn > bench
    if not (front_lit_on_light or front_lit_on_dark) or q_yarn - q_bench < MIN_CHROMA_GAP:
        return sep
    # the colour of a half-yarn, half-bench mixture, i.e. of a pixel on the true edge
    rb = xr[:, 2] - xr[:, 0]
    mix_rb = 0.5 * (np.median(rb[is_yarn]) + np.median(rb[~is_yarn]))
    return replace(sep, chroma=float(mix_rb / (0.5 * (bench + yarn) + CHROMA_FLOOR)),
                   yarn_chroma=q_yarn, dark_bench=bool(front_lit_on_dark))


def _scale(sep: Separation) -> float:
    return 120.0 / sep.raw_gap  # the two classes land ~120 grey levels apart in uint8


def score_u8(bgr: np.ndarray, sep: Separation) -> np.ndarray:
    """The yarn score as uint8 (yarn high), one linear transform of the pixel values."""
    score = cv2.transform(bgr, _score_row(sep))
    return score[..., 0] if score.ndim == 3 else score


def _score_row(sep: Separation) -> np.ndarray:
    k = _scale(sep)
    return np.append(sep.weights * k, 128.0 - k * sep.raw_mid).astype(np.float32).reshape(1, 4)


def score_and_colour(bgr: np.ndarray, sep: Separation) -> tuple[np.ndarray, np.ndarray | None]:
    """`score_u8` of a BGR image and its colour classes, in one pass over its pixels (one linear
    transform with an output channel for the score and one per chroma test).

    The classes (uint8): GREY where (R - B) < t (R + G + B + CHROMA_FLOOR) with t the colour of
    a half-yarn, half-bench mixture (sep.chroma); YARN_COLOURED where the same ratio is at least
    YARN_COLOUR_SHARE of the way from t to the yarn's own (sep.yarn_chroma); else 0. None
    without a colour test."""
    tests = _chroma_tests(sep)
    if not tests:
        return score_u8(bgr, sep), None
    planes = cv2.split(cv2.transform(bgr, np.concatenate([_score_row(sep)]
                                                         + [_chroma_row(t) for t in tests])))
    return planes[0], _classes([(p < 128).astype(np.uint8) for p in planes[1:]])


def level_map(sep: Separation, flat: float, local_small: np.ndarray,
              size: tuple[int, int]) -> np.ndarray:
    """A flattened score level as a uint8 map of `size`, following the light."""
    k = _scale(sep)
    t = np.clip(128.0 + k * (flat * local_small / 100.0 - sep.raw_mid), 0, 255)
    return cv2.resize(t.astype(np.float32), size, interpolation=cv2.INTER_LINEAR).astype(np.uint8)


def yarn_mask(bgr: np.ndarray, sep: Separation, local_small: np.ndarray) -> np.ndarray:
    """Plain midway threshold, uint8 mask (1 = yarn): for the small fitting view."""
    size = (bgr.shape[1], bgr.shape[0])
    return (score_u8(bgr, sep) > level_map(sep, sep.threshold, local_small, size)).astype(
        np.uint8)


def flat_u8(score: np.ndarray, sep: Separation, local_small: np.ndarray) -> np.ndarray:
    """The score with the light divided out, as uint8: bench at FLAT_BENCH, yarn at
    FLAT_YARN everywhere in the view, so every level below is one number."""
    size = (score.shape[1], score.shape[0])
    local = cv2.resize(local_small.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    k = _scale(sep)
    gain = (FLAT_YARN - FLAT_BENCH) / (2 * (sep.threshold - sep.bench_level))
    raw = score.astype(np.float32)
    raw -= 128.0
    raw *= 1.0 / k
    raw += sep.raw_mid
    raw *= 100.0 * gain
    raw /= local
    raw += 0.5 * (FLAT_YARN + FLAT_BENCH) - gain * sep.threshold
    return np.clip(raw, 0, 255).astype(np.uint8)


def decide(score: np.ndarray, colour: np.ndarray | None, sep: Separation,
           local_small: np.ndarray, px_per_mm: float, flat: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """Yarn mask (uint8 1 = yarn) by steps 4-6 above, from the score and the colour classes
    (`score_and_colour`); and the yarn's core. On a light bench (or a backlit panel) the core is
    where the score is CORE_SHARE of the way to the yarn's level: a strand body is that dark
    somewhere across it all along, pale loose fibres bridging a cut are not; a lit ply keeps
    the yarn's colour (YARN_COLOURED) and is core too, else the highlights running across a
    twisted strand would cut its core. On a dark bench, fibres lit from the front look like
    yarn: no core is given (None), the yarn mask stands for it."""
    flat = flat_u8(score, sep, local_small) if flat is None else flat
    gap = FLAT_YARN - FLAT_BENCH
    yarn = _local_steps(flat, FLAT_BENCH + BENCH_STRICT * gap, STEP_MIN * gap,
                        FLAT_BENCH + BENCH_SHARE * gap, px_per_mm)
    lit_ply = None
    if colour is not None and sep.dark_bench:
        # as brown as the yarn and not as dark as the bench: a flank turned from the light
        flank = cv2.bitwise_and(cv2.compare(colour, GREY, cv2.CMP_NE),
                                _above(flat, FLAT_BENCH + FLANK_SHARE * gap))
        cv2.bitwise_or(yarn, _ones(flank), dst=yarn)
    elif colour is not None:  # grey and lighter than the yarn
        lighter = cv2.bitwise_and(cv2.compare(colour, GREY, cv2.CMP_EQ), _below(flat, FLAT_YARN))
        cv2.bitwise_and(yarn, cv2.bitwise_not(_ones(lighter)), dst=yarn)
        lit_ply = _beside(_ones(cv2.compare(colour, YARN_COLOURED, cv2.CMP_EQ)), yarn,
                          GROOVE_MM * px_per_mm)
        cv2.bitwise_or(yarn, lit_ply, dst=yarn)
    if float(sep.weights.sum()) >= 0:  # yarn lighter than the bench: lit fibres look like it
        return yarn, None
    core = _ones(_above(flat, FLAT_BENCH + CORE_SHARE * gap))
    return yarn, core if lit_ply is None else cv2.bitwise_or(core, lit_ply, dst=core)


def _beside(mask: np.ndarray, yarn: np.ndarray, reach_px: float) -> np.ndarray:
    """`mask` (0/1) where it lies within `reach_px` of `yarn` (0/1), in place: a lit ply lies
    between the grooves of its own strand, a patch of yarn-coloured bench far from any yarn
    is no ply."""
    k = max(3, int(round(2 * reach_px)) | 1)
    near = cv2.dilate(yarn, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.bitwise_and(mask, near, dst=mask)


GREY, YARN_COLOURED = 1, 2  # colour classes (`score_and_colour`; 0: browner than the mixture)


def _chroma_tests(sep: Separation) -> list[float]:
    """The chroma thresholds of the colour classes (`score_and_colour`): the mixture's, then the
    yarn-coloured one."""
    if sep.chroma is None:
        return []
    if sep.yarn_chroma is not None and sep.yarn_chroma > sep.chroma:
        return [sep.chroma, sep.chroma + YARN_COLOUR_SHARE * (sep.yarn_chroma - sep.chroma)]
    return [sep.chroma]


def _classes(below: list[np.ndarray]) -> np.ndarray:
    """The colour classes from the 0/1 tests of `_chroma_tests`' thresholds, in that order."""
    out = below[0]
    if len(below) > 1:
        out[below[1] == 0] = YARN_COLOURED
    return out


def _chroma_row(t: float) -> np.ndarray:
    """A transform row that is under 128 where (R - B) < t (R + G + B + CHROMA_FLOOR)."""
    m = np.array([[-(1 + t), -t, 1 - t, -t * CHROMA_FLOOR]], np.float32) * 4.0
    m[0, 3] += 128.0
    return m


def _above(img: np.ndarray, level: float) -> np.ndarray:
    """uint8 255 where the uint8 `img` is above `level` (any real number), else 0."""
    return cv2.compare(img, math.floor(level), cv2.CMP_GT)


def _below(img: np.ndarray, level: float) -> np.ndarray:
    """uint8 255 where the uint8 `img` is below `level` (any real number), else 0."""
    return cv2.compare(img, math.ceil(level), cv2.CMP_LT)


def _ones(mask: np.ndarray) -> np.ndarray:
    """A 0/255 mask as 0/1, in place."""
    return np.bitwise_and(mask, 1, out=mask)


def _local_steps(flat: np.ndarray, strict: float, step_min: float, low: float,
                 px_per_mm: float) -> np.ndarray:
    r = max(2, int(round(EDGE_MM * px_per_mm)))
    box = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    smooth = cv2.blur(flat, (3, 3))
    hi = cv2.dilate(smooth, box)
    lo = cv2.erode(smooth, box)
    # flat above the middle of hi and lo (in whole numbers: 2 flat > hi + lo)
    step = cv2.compare(cv2.add(flat, flat, dtype=cv2.CV_16U),
                       cv2.add(hi, lo, dtype=cv2.CV_16U), cv2.CMP_GT)
    at_edge = cv2.bitwise_and(_below(lo, strict), _above(cv2.subtract(hi, lo), step_min))
    out = _above(flat, low)
    cv2.copyTo(step, at_edge, out)
    return _ones(out)


def within_coarse(yarn: np.ndarray, coarse: np.ndarray, px_per_mm: float) -> np.ndarray:
    """On a textured bench, the yarn mask decided pixel by pixel only near the edges of the
    coarse yarn mask (the smoothed fit's, uint8 0/1 at the same scale): deeper inside it is yarn
    (dark twist grooves crossing a strand do not cut it), further outside it is bench (grain
    and blotches do not make yarn in the openings); the edges keep their full-scale place."""
    def disc(mm: float) -> np.ndarray:
        k = 2 * max(1, int(round(mm * px_per_mm))) + 1
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    inner = cv2.erode(coarse, disc(COARSE_IN_MM))
    outer = cv2.dilate(coarse, disc(COARSE_OUT_MM))
    return cv2.bitwise_or(cv2.bitwise_and(yarn, outer), inner)


def mesh_angle(yarn_small: np.ndarray, valid: np.ndarray) -> float:
    """Mesh axis angle in degrees (-45, 45] from gradient orientations, 4-fold symmetric."""
    s = cv2.GaussianBlur(yarn_small.astype(np.float32), (0, 0), 1.0)
    gx = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3)
    keep = cv2.erode(valid, np.ones((5, 5), np.uint8)) > 0
    gx, gy = gx[keep], gy[keep]
    c2, s2 = gx * gx - gy * gy, 2 * gx * gy  # the gradient angle doubled, then doubled again
    z = complex(np.sum(c2 * c2 - s2 * s2), np.sum(2 * c2 * s2))
    return float(np.degrees(np.angle(z) / 4.0))


def bridge_grooves(yarn: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Close short gaps along the mesh axes (dark twist grooves and knot shadows cut a strand
    in the mask). Only what the closing adds inside long runs along that axis is kept, so a
    hair beside a strand across the axis is not filled in. Openings are far wider than the
    gap, so their spans do not change."""
    k = max(3, int(round(GROOVE_MM * px_per_mm)) | 1)
    run = max(k + 2, int(round(STRAND_RUN_MM * px_per_mm)) | 1)
    out = yarn.copy()
    for gap, length in (((1, k), (1, run)), ((k, 1), (run, 1))):
        closed = cv2.morphologyEx(yarn, cv2.MORPH_CLOSE, np.ones(gap, np.uint8))
        out |= cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones(length, np.uint8))
    return out


def remove_hairs(yarn: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Morphological opening: thin stray hairs go, strand bodies stay."""
    k = max(3, int(round(HAIR_MM * px_per_mm)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.morphologyEx(yarn, cv2.MORPH_OPEN, kernel)

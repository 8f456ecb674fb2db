"""Mesh geometry on the mesh-aligned bench view: openings, lattice, spans, pitch, strand widths.

Definitions (the synthetic ground truth uses the same):
- an opening's clear width is the horizontal span between strand edges over the central half
  of its height (the median over those rows; the ground truth takes the mean of the exact
  spans, which agrees for smooth strands); height likewise;
- a strand segment's width is the mean, over the central half of its length, of the yarn
  counted across the strand between the two openings it separates;
- only openings wholly inside the view count.
All per-opening work is vectorised over every opening at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .lattice import link_cells, neighbour_pitch
from .threads import helper_pool

MIN_OPENING_MM2 = 20.0  # smaller clear regions are gaps in the twist, not openings
SEGMENT_SAMPLES = 7


@dataclass(frozen=True)
class Openings:
    """Every opening wholly inside the view, in mesh-aligned pixels (arrays of length N)."""

    contours: tuple[np.ndarray, ...]
    cx: np.ndarray
    cy: np.ndarray
    x0: np.ndarray  # bounding box
    y0: np.ndarray
    bw: np.ndarray
    bh: np.ndarray
    area: np.ndarray
    span_w: np.ndarray  # clear span across (px)
    span_h: np.ndarray  # clear span along (px)
    clear_sums: np.ndarray  # integral image of the clear mask (specks inside openings filled)
    core_sums: np.ndarray | None  # integral image of the yarn's core; None: the yarn stands for it

    def __len__(self) -> int:
        return len(self.cx)


@dataclass(frozen=True)
class Lattice:
    """Openings placed on the mesh lattice: pitch and grid cell of each opening."""

    pitch_x: float  # px
    pitch_y: float
    row: np.ndarray  # (N,) lattice row of each opening
    col: np.ndarray
    grid: np.ndarray  # (rows, cols) opening index or -1


@dataclass(frozen=True)
class Segments:
    """Strand segments between neighbouring openings a and b (arrays of length M)."""

    a: np.ndarray
    b: np.ndarray
    vertical: np.ndarray  # True: a vertical strand between left a and right b
    width_px: np.ndarray  # median over the samples along the central half
    min_px: np.ndarray  # the narrowest sample
    core_px: np.ndarray  # the narrowest sample of the yarn's core
    box: np.ndarray  # (M, 4) x, y, w, h in mesh-aligned pixels
    body_px: np.ndarray | None = None  # median over the samples of the core; None: width_px

    def subset(self, keep: np.ndarray) -> Segments:
        return Segments(self.a[keep], self.b[keep], self.vertical[keep], self.width_px[keep],
                        self.min_px[keep], self.core_px[keep], self.box[keep],
                        None if self.body_px is None else self.body_px[keep])

    @property
    def body(self) -> np.ndarray:
        """The strand body's width (px): the core's median across, else the yarn's."""
        return self.width_px if self.body_px is None else self.body_px


def find_openings(open_mask: np.ndarray, valid: np.ndarray, px_per_mm: float,
                  core: np.ndarray | None = None) -> Openings:
    """Clear regions wholly inside the valid view, with their clear spans, and the integral
    images of the clear mask and of the yarn's `core`.

    Pixels out of view are traced as clear, so a clear region that reaches one (even
    diagonally) becomes part of the region outside the view; the view is one piece without
    holes (the image of the camera's rectangle), so that region touches the image's frame.
    The integral images are made on a second thread while this one traces and measures the
    regions (OpenCV releases the GIL), unless the inspection is bounded to one thread.
    """
    h, w = open_mask.shape
    with helper_pool() as pool:
        core_sums = None if core is None else pool.submit(cv2.integral, core)
        scene = cv2.bitwise_not(valid)
        cv2.bitwise_or(open_mask, scene, dst=scene)
        # Corner points only: the polygon's box and moments are those of every boundary pixel.
        contours, hierarchy = cv2.findContours(scene, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return _no_openings()
        clear_sums = pool.submit(_clear_sums, open_mask, contours, hierarchy[0])
        outer = np.flatnonzero(hierarchy[0, :, 3] < 0)  # the rest are specks in an opening
        boxes, mom = _boxes_and_moments([contours[i] for i in outer])
        x0, y0, bw, bh = boxes.T
        framed = (x0 == 0) | (y0 == 0) | (x0 + bw == w) | (y0 + bh == h)
        idx = np.flatnonzero((mom[:, 0] >= MIN_OPENING_MM2 * px_per_mm**2) & ~framed)
        clear_sums = clear_sums.result()
        core_sums = None if core is None else core_sums.result()
    if len(idx) == 0:
        return _no_openings()
    x0, y0, bw, bh = boxes[idx].T
    span_w, span_h = _band_spans(clear_sums, x0, y0, bw, bh)
    area, m10, m01 = mom[idx].T
    return Openings(tuple(contours[i] for i in outer[idx]), m10 / area, m01 / area, x0, y0,
                    bw, bh, area, span_w, span_h, clear_sums, core_sums)


def _clear_sums(open_mask: np.ndarray, contours, hierarchy: np.ndarray) -> np.ndarray:
    """Integral image of the clear mask with the specks of yarn inside clear regions (a
    crossing hair, a fibre clump) filled, so that they do not shorten an opening. Regions on
    the image's frame (the one outside the view, whose holes are the net) are not filled."""
    h, w = open_mask.shape
    parents = np.unique(hierarchy[hierarchy[:, 3] >= 0, 3])
    inner = [contours[i] for i in parents if _off_frame(contours[i], w, h)]
    if not inner:
        return cv2.integral(open_mask)
    filled = open_mask.copy()
    cv2.drawContours(filled, inner, -1, 1, cv2.FILLED)
    return cv2.integral(filled)


def _off_frame(points: np.ndarray, w: int, h: int) -> bool:
    return bool(points.min() > 0 and points[..., 0].max() < w - 1
                and points[..., 1].max() < h - 1)


def _boxes_and_moments(contours: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Bounding boxes (x, y, w, h) and polygon moments (m00, m10, m01) of every contour at
    once (Green's theorem over all their points, as cv2.moments does for a contour)."""
    n = np.array([len(c) for c in contours])
    pts = np.concatenate(contours).reshape(-1, 2).astype(np.float64)
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    nxt = np.arange(len(pts)) + 1
    nxt[starts + n - 1] = starts  # each contour closes on its first point
    x, y = pts[:, 0], pts[:, 1]
    xn, yn = x[nxt], y[nxt]
    cross = x * yn - xn * y
    m00 = np.add.reduceat(cross, starts) / 2
    m10 = np.add.reduceat((x + xn) * cross, starts) / 6
    m01 = np.add.reduceat((y + yn) * cross, starts) / 6
    sign = np.where(m00 < 0, -1.0, 1.0)  # orientation: areas are positive
    x0 = np.minimum.reduceat(x, starts)
    y0 = np.minimum.reduceat(y, starts)
    boxes = np.stack([x0, y0, np.maximum.reduceat(x, starts) - x0 + 1,
                      np.maximum.reduceat(y, starts) - y0 + 1], 1).astype(np.int64)
    return boxes, np.stack([m00 * sign, m10 * sign, m01 * sign], 1)


def _no_openings() -> Openings:
    z = np.zeros(0)
    zi = np.zeros(0, np.int64)
    return Openings((), z, z, zi, zi, zi, zi, z, z, z, np.zeros((1, 1), np.int32), None)


def _band_spans(ii, x0, y0, bw, bh) -> tuple[np.ndarray, np.ndarray]:
    """Clear span of each opening, both axes: the median over the central half of its rows
    (columns) of the clear pixels in that row, from the clear mask's integral image `ii`.

    The median, not the mean, so that a tuft of hairs on one edge does not shorten the span.
    Neighbouring openings are separated by whole strands, so an opening's bounding box holds
    only its own clear pixels.
    """
    span_w = _median_lines(ii, x0, y0, bw, bh)
    span_h = _median_lines(ii.T, y0, x0, bh, bw)
    return span_w, span_h


def _median_lines(ii: np.ndarray, x0, y0, bw, bh) -> np.ndarray:
    """Median clear count of rows y0 + [h/4, 3h/4) within [x0, x0 + w) of each box."""
    lo = np.ceil(y0 + 0.25 * bh).astype(np.int64)
    n = np.maximum(np.ceil(y0 + 0.75 * bh).astype(np.int64) - lo, 1)
    steps = np.arange(n.max() + 1)
    rows = np.minimum(lo[:, None] + steps[None, :], ii.shape[0] - 1)
    # clear pixels above each row within the box's columns; a row's count is the difference
    above = ii[rows, (x0 + bw)[:, None]] - ii[rows, x0[:, None]]
    counts = np.diff(above, axis=1)
    counts[steps[None, :-1] >= n[:, None]] = np.iinfo(counts.dtype).max  # past this box's rows
    counts.sort(axis=1)
    rows = np.arange(len(n))
    return 0.5 * (counts[rows, (n - 1) // 2] + counts[rows, n // 2].astype(np.float64))


def _pitch(profile: np.ndarray, px_per_mm: float) -> tuple[float, float]:
    """Period (px) and phase (px) of a 1-D mesh profile from its strongest Fourier peak."""
    p = profile - profile.mean()
    p = p * np.hanning(len(p))
    n = 1 << (4 * len(p) - 1).bit_length()  # a power of two: fast, and at least 4x padded
    spec = np.abs(np.fft.rfft(p, n=n))
    freqs = np.fft.rfftfreq(n)
    band = (freqs > 1 / (70 * px_per_mm)) & (freqs < 1 / (8 * px_per_mm))
    i = np.flatnonzero(band)[np.argmax(spec[band])]
    a, b, c = np.log(spec[i - 1:i + 2] + 1e-9)
    f = freqs[i] + 0.5 * (a - c) / (a - 2 * b + c) * (freqs[1] - freqs[0])
    return float(1 / f), 0.0


def place_on_lattice(op: Openings, px_per_mm: float) -> Lattice:
    """Assign each opening a (row, col) cell: the mesh period along each axis (the clear
    mask's column and row sums, read off its integral image) guides the linking of each
    opening to its neighbours (lattice.link_cells)."""
    ii = op.clear_sums
    cols = np.diff(ii[-1])
    rows = np.diff(ii[:, -1])
    pitch_x, _ = _pitch(cols.astype(np.float64), px_per_mm)
    pitch_y, _ = _pitch(rows.astype(np.float64), px_per_mm)
    # the spacing of neighbouring openings, where there are enough: a strong period of the
    # background or of fouling can outweigh the mesh's in the profiles
    near = neighbour_pitch(op.cx, op.cy, float(np.sqrt(np.median(op.area)))) if len(op) else None
    if near is not None:
        pitch_x, pitch_y = near
    # one cell's size: the box less than 1.5 pitches along both axes
    one_cell = (op.bw < 1.5 * pitch_x - 0.5 * (pitch_x - np.median(op.span_w))) & (
        op.bh < 1.5 * pitch_y - 0.5 * (pitch_y - np.median(op.span_h)))
    row, col = link_cells(op.cx, op.cy, pitch_x, pitch_y, one_cell)
    grid = np.full((row.max() + 1 if len(row) else 1, col.max() + 1 if len(col) else 1), -1)
    # where two regions take one cell, the one nearest a typical opening's area keeps it
    typical = np.abs(np.log(op.area / np.median(op.area))) if len(op) else op.area
    order = np.argsort(-typical, kind="stable")
    grid[row[order], col[order]] = order
    return Lattice(pitch_x, pitch_y, row, col, grid)


def shared_cells(lat: Lattice) -> float:
    """Share of the openings placed in a lattice cell that another opening also takes: about 0
    where the mask is right (a merged region or a cut-off piece now and then), high where the
    clear regions are pieces of openings, not openings."""
    n = len(lat.row)
    if n == 0:
        return 0.0
    return 1.0 - len(np.unique(lat.row * lat.grid.shape[1] + lat.col)) / n


def neighbour_pairs(lat: Lattice, regular: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, vertical) for right and lower neighbours that are both regular openings."""
    g = lat.grid
    out_a, out_b, out_v = [], [], []
    for a, b, vertical in ((g[:, :-1], g[:, 1:], True), (g[:-1, :], g[1:, :], False)):
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        ok = regular[a] & regular[b]
        out_a.append(a[ok])
        out_b.append(b[ok])
        out_v.append(np.full(ok.sum(), vertical))
    return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_v)


def beside(op: Openings, idx: np.ndarray, lat: Lattice
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, vertical) for each region in `idx` and every opening across one strand from it
    (a left of or above b), found from their boxes: a merged region has no one lattice cell.
    A neighbour lies beside the region's edge, less than half a pitch from it, over at least
    half of the shorter of the two."""
    x1, y1 = op.x0 + op.bw, op.y0 + op.bh
    out_a, out_b, out_v = [], [], []
    for i in idx:
        for vertical, lo, hi, start, size, pitch in (
                (True, op.y0, y1, op.x0, op.bw, lat.pitch_x),
                (False, op.x0, x1, op.y0, op.bh, lat.pitch_y)):
            along = np.minimum(hi, hi[i]) - np.maximum(lo, lo[i])
            facing = along > 0.5 * np.minimum(hi - lo, hi[i] - lo[i])
            after = start - (start[i] + size[i])  # gap to openings after region i
            before = start[i] - (start + size)
            for gap, first in ((after, True), (before, False)):
                js = np.flatnonzero(facing & (gap > 0) & (gap < 0.5 * pitch))
                out_a.append(np.full(len(js), i) if first else js)
                out_b.append(js if first else np.full(len(js), i))
                out_v.append(np.full(len(js), vertical))
    if not out_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
    return (np.concatenate(out_a).astype(np.int64), np.concatenate(out_b).astype(np.int64),
            np.concatenate(out_v))


def strand_segments(op: Openings, a: np.ndarray, b: np.ndarray, vertical: np.ndarray,
                    pitch: float) -> Segments:
    """Yarn counted across each strand between neighbours, at SEGMENT_SAMPLES places over the
    segment's central half: the window across less its clear pixels, one lookup in the clear
    mask's integral image per sample (the window lies between two openings, in view); and the
    yarn's core counted likewise, where the openings carry its integral image (its narrowest
    sample tells a cut, its median the width of the strand's body)."""
    t = (np.arange(SEGMENT_SAMPLES) + 0.5) / SEGMENT_SAMPLES * 0.5 + 0.25
    half = int(0.45 * pitch)
    core_sums = op.core_sums
    widths = np.zeros(len(a))
    narrowest = np.zeros(len(a))
    core_min = np.zeros(len(a))
    core_median = np.zeros(len(a))
    boxes = np.zeros((len(a), 4))
    h, w = op.clear_sums.shape[0] - 1, op.clear_sums.shape[1] - 1
    for is_v in (True, False):
        s = vertical == is_v
        ia, ib = a[s], b[s]
        # along: the coordinate running along the strand; across: perpendicular to it
        if is_v:
            lo = np.maximum(op.y0[ia], op.y0[ib])
            hi = np.minimum(op.y0[ia] + op.bh[ia], op.y0[ib] + op.bh[ib])
            mid = 0.5 * (op.x0[ia] + op.bw[ia] + op.x0[ib])
        else:
            lo = np.maximum(op.x0[ia], op.x0[ib])
            hi = np.minimum(op.x0[ia] + op.bw[ia], op.x0[ib] + op.bw[ib])
            mid = 0.5 * (op.y0[ia] + op.bh[ia] + op.y0[ib])
        size = h if is_v else w  # along
        span = w if is_v else h  # across
        along = np.clip(np.round(lo[:, None] + t[None, :] * (hi - lo)[:, None]), 0, size - 1)
        along = along.astype(np.int64)
        c = np.round(mid).astype(np.int64)[:, None]
        first, last = np.clip(c - half, 0, span), np.clip(c + half + 1, 0, span)
        counts = (last - first) - _line_sums(op.clear_sums, along, first, last, is_v)
        widths[s] = np.median(counts, axis=1)
        narrowest[s] = counts.min(axis=1)
        core = counts if core_sums is None else _line_sums(core_sums, along, first, last, is_v)
        core_min[s] = core.min(axis=1)
        core_median[s] = np.median(core, axis=1)
        ext = widths[s]
        if is_v:
            boxes[s] = np.stack([mid - ext / 2, lo, ext, hi - lo], 1)
        else:
            boxes[s] = np.stack([lo, mid - ext / 2, hi - lo, ext], 1)
    return Segments(a, b, vertical, widths, narrowest, core_min, boxes, core_median)


def _line_sums(sums: np.ndarray, along: np.ndarray, first: np.ndarray, last: np.ndarray,
               rows: bool) -> np.ndarray:
    """Sums of the mask over [first, last) across, on line `along` (rows when `rows`, else
    columns), from its integral image `sums`."""
    if rows:
        return (sums[along + 1, last] - sums[along, last]
                - sums[along + 1, first] + sums[along, first])
    return (sums[last, along + 1] - sums[last, along]
            - sums[first, along + 1] + sums[first, along])

"""Structural defects from the mesh lattice: holes, broken strands, irregular mesh, thin strands."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .mesh import Lattice, Openings, Segments

IRREGULAR_DEV = 0.22  # a mesh cell off the median by more than this share of the opening
FRAGMENT_SHARE = 0.3  # a clear region under this share of the median opening area
IRREGULAR_Z = 4.5  # ... and by more than this many robust standard deviations of the net


@dataclass(frozen=True)
class Finding:
    """A structural defect in mesh-aligned pixels, before mapping to the input image."""

    type: str
    box: tuple[float, float, float, float]  # x, y, w, h
    size_px: tuple[float, float]
    score: float
    members: tuple[int, ...]  # opening indices involved


def merged_cells(op: Openings, lat: Lattice) -> np.ndarray:
    """How many lattice cells each opening spans (1 for a regular opening)."""
    reg = np.ones(len(op), bool)
    for _ in range(2):  # the strand estimate uses the regular openings found so far
        strand_x = lat.pitch_x - np.median(op.span_w[reg])
        strand_y = lat.pitch_y - np.median(op.span_h[reg])
        nx = np.maximum(1, np.round((op.bw + strand_x) / lat.pitch_x))
        ny = np.maximum(1, np.round((op.bh + strand_y) / lat.pitch_y))
        cells = (nx * ny).astype(np.int64)
        reg = cells == 1
    return cells


def fragments(op: Openings, cells: np.ndarray) -> np.ndarray:
    """Clear regions far smaller than an opening: pieces of one cut off by a tuft or a
    scrap lying over it. They are not measured (a real narrow opening keeps > 1/3 area)."""
    single = cells == 1
    if not single.any():
        return np.zeros(len(op), bool)
    return single & (op.area < FRAGMENT_SHARE * np.median(op.area[single]))


def merged_findings(op: Openings, cells: np.ndarray) -> list[Finding]:
    out = []
    for i in np.flatnonzero(cells > 1):
        kind = "broken_strand" if cells[i] == 2 else "hole"
        box = (float(op.x0[i]), float(op.y0[i]), float(op.bw[i]), float(op.bh[i]))
        score = float(min(1.0, 0.6 + 0.1 * cells[i]))
        out.append(Finding(kind, box, (float(op.span_w[i]), float(op.span_h[i])), score, (i,)))
    return out


def side_strands(n: int, seg: Segments, default: float) -> tuple[np.ndarray, ...]:
    """Width of the strand on each side (left, right, top, bottom) of every opening."""
    left, right, top, bottom = (np.full(n, default) for _ in range(4))
    v = seg.vertical
    right[seg.a[v]] = seg.width_px[v]
    left[seg.b[v]] = seg.width_px[v]
    bottom[seg.a[~v]] = seg.width_px[~v]
    top[seg.b[~v]] = seg.width_px[~v]
    return left, right, top, bottom


def irregular_findings(op: Openings, lat: Lattice, regular: np.ndarray,
                       seg: Segments) -> list[Finding]:
    """Openings whose mesh cell (span plus half of each bounding strand) is far from the median.

    Using the cell rather than the clear span keeps a thin strand from looking like a
    displaced one: thinning widens the span exactly as much as it narrows the strand.
    """
    if regular.sum() < 4 or len(seg.width_px) == 0:
        return []
    left, right, top, bottom = side_strands(len(op), seg, float(np.median(seg.width_px)))
    dev_w = _excess(op.span_w + 0.5 * (left + right), op.span_w, regular)
    dev_h = _excess(op.span_h + 0.5 * (top + bottom), op.span_h, regular)
    dev = np.maximum(dev_w, dev_h)  # > 1: beyond the limit
    flagged = regular & (dev > 1.0)
    if not flagged.any():
        return []
    flag_grid = np.zeros(lat.grid.shape, np.uint8)
    flag_grid[lat.row[flagged], lat.col[flagged]] = 1
    _, groups = cv2.connectedComponents(flag_grid, connectivity=8)
    group = groups[lat.row, lat.col]
    out = []
    for g in np.unique(group[flagged]):
        members = np.flatnonzero(flagged & (group == g))
        x0, y0 = op.x0[members].min(), op.y0[members].min()
        x1 = (op.x0[members] + op.bw[members]).max()
        y1 = (op.y0[members] + op.bh[members]).max()
        score = float(min(1.0, 0.5 * dev[members].max()))
        box = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        out.append(Finding("irregular_mesh", box, (box[2], box[3]), score, tuple(members)))
    return out


def _excess(cell: np.ndarray, span: np.ndarray, regular: np.ndarray) -> np.ndarray:
    """|cell - median| as a multiple of the limit: the larger of a share of the opening and
    a robust z-score, so a naturally uneven hand-made net is not flagged all over."""
    d = cell - np.median(cell[regular])
    sigma = 1.4826 * np.median(np.abs(d[regular]))
    limit = max(IRREGULAR_DEV * float(np.median(span[regular])), IRREGULAR_Z * sigma)
    return np.abs(d) / max(limit, 1e-6)


def thin_findings(seg: Segments, min_strand_px: float) -> list[Finding]:
    out = []
    for k in np.flatnonzero(seg.width_px < min_strand_px):
        x, y, w, h = (float(v) for v in seg.box[k])
        length, width = (h, w) if seg.vertical[k] else (w, h)
        score = float(min(1.0, 0.5 + 0.5 * (1 - seg.width_px[k] / min_strand_px) * 2))
        out.append(Finding("thin_strand", (x, y, w, h), (length, width), score,
                           (int(seg.a[k]), int(seg.b[k]))))
    return out

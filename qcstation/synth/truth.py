"""Exact ground truth of a net: clear openings, pitch and strand widths by the contract's rules.

Definitions (net mm; strands, edges and crossings as in `net.py`; hairs never count):
- Opening (i, j) lies between vertical strands j, j+1 and horizontal strands i, i+1. Let (xc, yc)
  be the mean of its four crossing points. Its vertical extent runs from the lower edge of strand
  h_i to the upper edge of strand h_(i+1), both taken at u = xc; the band is the central half of
  that extent. Clear width = mean over the band (BAND_SAMPLES evenly spaced v) of
  [left edge of v_(j+1)](v) - [right edge of v_j](v). Clear height likewise, with the horizontal
  extent taken at v = yc and the top edge of h_(i+1) minus the bottom edge of h_i.
- pitch_w of an opening = mean over the same band of c_(j+1)(v) - c_j(v); pitch_h likewise.
- Strand segment = a strand between two consecutive crossings (crossing centres); its width is the
  mean perpendicular width over the central half of that span.
- Counted openings: all four corners of the clear opening (where the edges meet) project into the
  image at least INSIDE_MARGIN_PX inside the border, and no bordering segment is cut away.
- MeshStats: over counted openings; pitch_mm over the pitch_w and pitch_h values together;
  strand_width_mm over the segments bordering at least one counted opening.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..domain import MeshStats, Stat
from .net import Net, crossings

logger = logging.getLogger(__name__)

BAND_SAMPLES = 41
INSIDE_MARGIN_PX = 3.0
_BAND = np.linspace(0.25, 0.75, BAND_SAMPLES)


@dataclass(frozen=True)
class Openings:
    """Per-opening geometry, arrays (NH-1, NV-1); corners (NH-1, NV-1, 4, 2) TL, TR, BR, BL."""

    width: np.ndarray
    height: np.ndarray
    pitch_w: np.ndarray
    pitch_h: np.ndarray
    corners: np.ndarray


def measure_openings(net: Net, cross: tuple[np.ndarray, np.ndarray] | None = None) -> Openings:
    """Clear width/height and pitch of every opening, sampled densely over its band."""
    cx, cy = cross if cross is not None else crossings(net)
    v, h = net.v, net.h
    ii, jj = np.mgrid[0 : cx.shape[0] - 1, 0 : cx.shape[1] - 1]
    xc = (cx[:-1, :-1] + cx[:-1, 1:] + cx[1:, :-1] + cx[1:, 1:]) / 4
    yc = (cy[:-1, :-1] + cy[:-1, 1:] + cy[1:, :-1] + cy[1:, 1:]) / 4
    top = h.centre_at(ii, xc) + h.half_at(ii, xc)
    bottom = h.centre_at(ii + 1, xc) - h.half_at(ii + 1, xc)
    ys = top[..., None] + (bottom - top)[..., None] * _BAND
    j0, j1 = jj[..., None], jj[..., None] + 1
    c0, c1 = v.centre_at(j0, ys), v.centre_at(j1, ys)
    width = ((c1 - v.half_at(j1, ys)) - (c0 + v.half_at(j0, ys))).mean(axis=-1)
    pitch_w = (c1 - c0).mean(axis=-1)
    left = v.centre_at(jj, yc) + v.half_at(jj, yc)
    right = v.centre_at(jj + 1, yc) - v.half_at(jj + 1, yc)
    xs = left[..., None] + (right - left)[..., None] * _BAND
    i0, i1 = ii[..., None], ii[..., None] + 1
    r0, r1 = h.centre_at(i0, xs), h.centre_at(i1, xs)
    height = ((r1 - h.half_at(i1, xs)) - (r0 + h.half_at(i0, xs))).mean(axis=-1)
    pitch_h = (r1 - r0).mean(axis=-1)
    return Openings(width, height, pitch_w, pitch_h, clear_corners(net, cx, cy))


def clear_corners(net: Net, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Where the strand edges meet at the four corners of every opening, (NH-1, NV-1, 4, 2)."""
    ii, jj = np.mgrid[0 : cx.shape[0] - 1, 0 : cx.shape[1] - 1]
    # (strand v, side of it, strand h, side of it, crossing to start from) per corner
    spec = [
        (jj, 1, ii, 1, (0, 0)),
        (jj + 1, -1, ii, 1, (0, 1)),
        (jj + 1, -1, ii + 1, -1, (1, 1)),
        (jj, 1, ii + 1, -1, (1, 0)),
    ]
    out = np.empty(ii.shape + (4, 2))
    for n, (vj, vs, hi, hs, (di, dj)) in enumerate(spec):
        rows, cols = slice(di, di + ii.shape[0]), slice(dj, dj + ii.shape[1])
        x, y = cx[rows, cols], cy[rows, cols]
        for _ in range(4):
            x = net.v.centre_at(vj, y) + vs * net.v.half_at(vj, y)
            y = net.h.centre_at(hi, x) + hs * net.h.half_at(hi, x)
        out[..., n, 0], out[..., n, 1] = x, y
    return out


def segment_widths(net: Net, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean width over the central half of every segment: v (NH-1, NV) and h (NH, NV-1)."""
    a, b = cy[:-1, :], cy[1:, :]
    t = a[..., None] + (b - a)[..., None] * _BAND
    jj = np.broadcast_to(np.arange(cx.shape[1])[None, :, None], t.shape)
    wv = net.v.width_at(jj, t).mean(axis=-1)
    a, b = cx[:, :-1], cx[:, 1:]
    t = a[..., None] + (b - a)[..., None] * _BAND
    ii = np.broadcast_to(np.arange(cx.shape[0])[:, None, None], t.shape)
    wh = net.h.width_at(ii, t).mean(axis=-1)
    return wv, wh


def removed_segments(net: Net, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments whose middle is cut away: v (NH-1, NV) and h (NH, NV-1) booleans."""
    rv = np.zeros((cx.shape[0] - 1, cx.shape[1]), bool)
    rh = np.zeros((cx.shape[0], cx.shape[1] - 1), bool)
    mid_v = (cy[:-1, :] + cy[1:, :]) / 2
    mid_h = (cx[:, :-1] + cx[:, 1:]) / 2
    for cut in net.cuts:
        if cut.axis == "v":
            rv[:, cut.strand] |= (mid_v[:, cut.strand] > cut.t0) & (mid_v[:, cut.strand] < cut.t1)
        else:
            rh[cut.strand, :] |= (mid_h[cut.strand, :] > cut.t0) & (mid_h[cut.strand, :] < cut.t1)
    return rv, rh


def merged_openings(rv: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Openings that border a removed segment (they merge with a neighbour), (NH-1, NV-1)."""
    merged = rv[:, 1:] | rv[:, :-1]
    return merged | rh[1:, :] | rh[:-1, :]


def inside_image(
    corners_px: np.ndarray, size: tuple[int, int], margin: float = INSIDE_MARGIN_PX
) -> np.ndarray:
    """True where all 4 corners lie `margin` px or more inside the image: (..., 4, 2) -> (...)."""
    w, h = size
    x, y = corners_px[..., 0], corners_px[..., 1]
    ok = (x >= margin) & (x <= w - 1 - margin) & (y >= margin) & (y <= h - 1 - margin)
    return ok.all(axis=-1)


def mesh_stats(
    op: Openings,
    counted: np.ndarray,
    wv: np.ndarray,
    wh: np.ndarray,
    rv: np.ndarray,
    rh: np.ndarray,
) -> MeshStats:
    """MeshStats over the counted openings and the intact segments that border them."""
    border_v = np.zeros(wv.shape, bool)
    border_v[:, :-1] |= counted
    border_v[:, 1:] |= counted
    border_h = np.zeros(wh.shape, bool)
    border_h[:-1, :] |= counted
    border_h[1:, :] |= counted
    widths = np.concatenate([wv[border_v & ~rv], wh[border_h & ~rh]])
    pw, ph = op.pitch_w[counted], op.pitch_h[counted]
    return MeshStats(
        openings=int(counted.sum()),
        opening_w_mm=Stat.of(op.width[counted]),
        opening_h_mm=Stat.of(op.height[counted]),
        pitch_mm=Stat.of(np.concatenate([pw, ph])),
        strand_width_mm=Stat.of(widths),
        pitch_w_mm=float(pw.mean()) if pw.size else float("nan"),
        pitch_h_mm=float(ph.mean()) if ph.size else float("nan"),
    )


def opening_outline(net: Net, corners: np.ndarray, i: int, j: int, n: int = 12) -> np.ndarray:
    """Points along the actual clear boundary of opening (i, j) in net mm, (4n, 2)."""
    tl, tr, br, bl = corners[i, j]
    s = np.linspace(0, 1, n)
    xt = tl[0] + (tr[0] - tl[0]) * s
    xb = bl[0] + (br[0] - bl[0]) * s
    yl = tl[1] + (bl[1] - tl[1]) * s
    yr = tr[1] + (br[1] - tr[1]) * s
    top = np.column_stack([xt, net.h.centre_at(i, xt) + net.h.half_at(i, xt)])
    bottom = np.column_stack([xb, net.h.centre_at(i + 1, xb) - net.h.half_at(i + 1, xb)])
    left = np.column_stack([net.v.centre_at(j, yl) + net.v.half_at(j, yl), yl])
    right = np.column_stack([net.v.centre_at(j + 1, yr) - net.v.half_at(j + 1, yr), yr])
    return np.concatenate([top, right, bottom, left])


def px_box(px: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """[x, y, w, h] integer box around pixel points (..., 2), clipped to the image."""
    p = np.asarray(px).reshape(-1, 2)
    x0 = max(int(np.floor(p[:, 0].min())), 0)
    y0 = max(int(np.floor(p[:, 1].min())), 0)
    x1 = min(int(np.ceil(p[:, 0].max())), size[0] - 1)
    y1 = min(int(np.ceil(p[:, 1].max())), size[1] - 1)
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def region_truth(
    net: Net,
    corners: np.ndarray,
    openings: tuple[tuple[int, int], ...],
    to_px,
    size: tuple[int, int],
) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """Box (image px) and size (net mm, along the net's x and y axes) of a union of openings."""
    pts = np.concatenate([opening_outline(net, corners, i, j) for i, j in openings])
    extent = pts.max(axis=0) - pts.min(axis=0)
    return px_box(to_px(pts), size), (float(extent[0]), float(extent[1]))


def segment_truth(
    net: Net,
    cross: tuple[np.ndarray, np.ndarray],
    seg: tuple[str, int, int],
    to_px,
    size: tuple[int, int],
) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """Box and (length, width) of a segment's clear part, between the edges of its crossers."""
    axis, k, m = seg
    cx, cy = cross
    strands = net.strands(axis)
    other = net.strands("h" if axis == "v" else "v")
    at = (cx[m, k], cx[m + 1, k]) if axis == "v" else (cy[k, m], cy[k, m + 1])
    t0 = float(other.centre_at(m, at[0]) + other.half_at(m, at[0]))
    t1 = float(other.centre_at(m + 1, at[1]) - other.half_at(m + 1, at[1]))
    t = np.linspace(t0, t1, 24)
    c, half = strands.centre_at(k, t), strands.half_at(k, t)
    across = np.concatenate([c - half, c + half])
    along = np.concatenate([t, t])
    pts = np.column_stack([across, along] if axis == "v" else [along, across])
    ta, tb = (cy[m, k], cy[m + 1, k]) if axis == "v" else (cx[k, m], cx[k, m + 1])
    width = float(strands.width_at(k, ta + (tb - ta) * _BAND).mean())  # as segment_widths
    return px_box(to_px(pts), size), (t1 - t0, width)

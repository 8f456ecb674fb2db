"""Strand bodies and knots, evaluated per pixel from the net-frame map, with exact AA edges."""

from __future__ import annotations

import logging

import numpy as np

from .net import Net
from .scene import Canvas
from .texture import Look, across_index
from .view import Box, View

logger = logging.getLogger(__name__)

KNOT_Z = 5.0
_ALONG = 5  # samples along a piece for its bounding box


def render_strands(
    canvas: Canvas, view: View, look: Look, cross: tuple[np.ndarray, np.ndarray]
) -> int:
    """Composite every strand piece (crossing to crossing) in view; returns the pieces drawn.

    Edge fuzz goes to a layer laid over the strands afterwards, so that it is seen but never
    hides yarn body from the label map (fuzz is no yarn body)."""
    net = view.net
    drawn = 0
    fuzz = None
    if look.fuzz is not None:
        h, w = canvas.alpha.shape
        fuzz = (np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32))
    for axis in ("h", "v"):
        tc = cross[1].T if axis == "v" else cross[0]  # (S, M) crossing positions along strands
        boxes, scales = _piece_boxes(view, axis, tc)
        for k in range(tc.shape[0]):
            cuts = net.cuts_on(axis, k)
            for m in range(tc.shape[1] - 1):
                box = boxes[k][m]
                if box is not None:
                    drawn += _piece(
                        canvas, view, look, axis, k, m, tc[k], cuts, box, float(scales[k, m]),
                        fuzz,
                    )  # fmt: skip
    if fuzz is not None:  # a strand passing over hides the other's fuzz
        premult, alpha = fuzz
        clear = 1 - canvas.body
        canvas.overlay(premult * clear[..., None], alpha * clear)
    return drawn


def _piece_boxes(view: View, axis: str, tc: np.ndarray) -> tuple[list, np.ndarray]:
    """Image boxes of all pieces of one strand set, and each piece's mm per px."""
    strands = view.net.strands(axis)
    f = np.linspace(0, 1, _ALONG)
    t = tc[:, :-1, None] + (tc[:, 1:] - tc[:, :-1])[..., None] * f  # (S, M-1, A)
    k = np.broadcast_to(np.arange(tc.shape[0])[:, None, None], t.shape)
    c = strands.centre_at(k, t)
    r = strands.half_at(k, t).max() * 1.3 + 1.0
    across = np.stack([c - r, c + r], axis=-1)  # (S, M-1, A, 2)
    along = np.broadcast_to(t[..., None], across.shape)
    uv = np.stack([across, along] if axis == "v" else [along, across], axis=-1)
    px = view.to_px(uv).reshape(tc.shape[0], tc.shape[1] - 1, -1, 2)
    length_px = np.linalg.norm(px[:, :, -2] - px[:, :, 0], axis=-1)
    scales = np.abs(tc[:, 1:] - tc[:, :-1]) / np.maximum(length_px, 1e-6)
    boxes = [[view.box(px[i, j]) for j in range(px.shape[1])] for i in range(px.shape[0])]
    return boxes, scales


def _piece(
    canvas: Canvas,
    view: View,
    look: Look,
    axis: str,
    k: int,
    m: int,
    tk: np.ndarray,
    cuts: list,
    box: Box,
    fp: float,
    fuzz_layer: tuple[np.ndarray, np.ndarray] | None = None,
) -> int:
    y0, y1, x0, x1 = box
    strands = view.net.strands(axis)
    u, v = view.u[y0:y1, x0:x1], view.v[y0:y1, x0:x1]
    t, x = (v, u) if axis == "v" else (u, v)
    ta, tb = float(tk[m]), float(tk[m + 1])
    inside = (t >= ta) & (t < tb)
    if not inside.any():
        return 0
    slope = strands.slope_at(k, t)
    half = 0.5 * strands.width_at(k, t)
    d = (x - strands.centre_at(k, t)) / np.sqrt(1 + slope * slope)
    geom = np.clip(0.5 + (half - np.abs(d)) / fp, 0, 1) * inside
    a = np.clip(d / half, -1, 1)
    fuzz = None
    if look.fuzz is not None:  # fibres standing out of the edges: seen, but not yarn body
        fuzz = look.fuzz_at(t, np.abs(d) - half, d, int(look.offset[axis][k])) * inside
    for cut in cuts:
        gone = cut.removes(t, a)
        geom[gone] = 0
        if fuzz is not None:
            fuzz[gone] = 0
    seen = geom if fuzz is None else np.maximum(geom, fuzz)
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    if not len(rows):
        return 0
    sub = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))  # shrink to the strand
    geom, a, t = geom[sub], a[sub], t[sub]
    factor, z = _crossing_shade(view.net, axis, k, m, t, ta, tb)
    cov = geom * look.opacity[across_index(a)]
    rgb = look.strand_rgb(axis, k, t, a, factor)
    tight = (y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1)
    if fuzz is not None and fuzz_layer is not None:
        f = fuzz[sub]
        premult, alpha = (layer[tight[0] : tight[1], tight[2] : tight[3]] for layer in fuzz_layer)
        premult *= (1 - f)[..., None]
        premult += rgb * (1.1 * f)[..., None]  # loose fibres catch more light than the body
        alpha += f * (1 - alpha)
    canvas.add(tight, cov.astype(np.float32), rgb, z, body=geom.astype(np.float32))
    return 1


def _crossing_shade(
    net: Net, axis: str, k: int, m: int, t: np.ndarray, ta: float, tb: float
) -> tuple[np.ndarray, np.ndarray | float]:
    """Brightness factor and depth near the two crossings that bound a piece.

    Knotted nets: fibres pressed into the knot look darker. Woven nets: a strand passing over
    arches up (lighter, on top); passing under, it lies in the other's shadow.
    """
    da, db = t - ta, tb - t
    ds = np.minimum(da, db)
    g = np.exp(-((ds / (0.9 * net.params.yarn_mm)) ** 2))
    if net.params.crossing != "woven":
        return 1 - 0.18 * g, 1.0
    # crossing (i, j): the vertical strand j passes over where i + j is even
    parity = (k + m) % 2 == 0
    over_a = parity if axis == "v" else not parity
    sign = np.where(da < db, 1.0 if over_a else -1.0, -1.0 if over_a else 1.0)
    factor = 1 + np.where(sign > 0, 0.10, -0.40) * g
    return factor, 1 + sign * g


def render_knots(
    canvas: Canvas,
    view: View,
    look: Look,
    cross: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    scale: float = 1.0,
) -> int:
    """A lumpy, textured knot over every intact crossing of a knotted net; returns the count.

    `scale` makes the knots bigger (appearance families) within the same bound."""
    net = view.net
    if net.params.crossing != "knot":
        return 0
    cx, cy = cross
    p = net.params
    # lumps reach 1.15 radius at most: they stay clear of the openings' central bands
    radius = min(
        rng.uniform(0.62, 0.78) * p.yarn_mm * scale, p.yarn_mm / 2 + 0.15 * min(p.opening_mm)
    )
    px = view.to_px(np.stack([cx, cy], axis=-1))
    drawn = 0
    fp = view.footprint(np.array([cx.mean(), cy.mean()]))
    for i, j in zip(*np.nonzero(np.ones(cx.shape, bool)), strict=True):
        if (i, j) in net.no_knot:
            continue
        box = view.box(px[i, j], pad=radius * 1.35 / fp + 2)
        if box is not None:
            shape = rng.uniform(-1, 1, 7)
            _knot(
                canvas,
                view,
                look,
                box,
                (cx[i, j], cy[i, j]),
                radius,
                shape,
                fp,
                look.colour["v"][j] * 0.9,
            )
            drawn += 1
    return drawn


def _knot(
    canvas: Canvas,
    view: View,
    look: Look,
    box: Box,
    centre: tuple[float, float],
    radius: float,
    shape: np.ndarray,
    fp: float,
    colour: np.ndarray,
) -> None:
    """A dome of wrapped yarn: lumpy outline, ply texture running across it diagonally."""
    y0, y1, x0, x1 = box
    du = view.u[y0:y1, x0:x1] - centre[0]
    dv = view.v[y0:y1, x0:x1] - centre[1]
    r = np.hypot(du, dv)
    th = np.arctan2(dv, du)
    rb = radius * (
        1
        + 0.06 * shape[0] * np.cos(2 * (th - shape[1] * np.pi))
        + 0.04 * shape[2] * np.cos(3 * th + shape[3] * np.pi)
        + 0.03 * shape[4] * np.cos(4 * th)
        + 0.02 * shape[5] * np.cos(6 * th)
    )
    cov = np.clip(0.5 + (rb - r) / fp, 0, 1).astype(np.float32)
    if not cov.any():
        return
    rho = np.clip(r / rb, 0, 0.999)
    nz = np.sqrt(1 - rho * rho)
    if look.backlit:
        light = 0.9 + 0.1 * nz
    else:
        inv = rho / np.maximum(r, 1e-6)
        lam = du * inv * look.light[0] + dv * inv * look.light[1] + nz * look.light[2]
        light = 0.3 + 0.75 * np.clip(lam, 0, None)
    beta = np.pi / 4 + shape[6] * 0.5
    along = du * np.cos(beta) + dv * np.sin(beta)
    across = (dv * np.cos(beta) - du * np.sin(beta)) / rb
    tex, _ = look.sample(along + 100 * (shape[0] + 1), np.clip(across, -1, 1), 0)
    rgb = (tex * light).astype(np.float32)[..., None] * colour
    canvas.add(box, cov, rgb, KNOT_Z, body=cov)

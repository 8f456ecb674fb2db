"""Is the whole view covered by the net? Where it is not, the net cannot pass.

Every part of the bench view that shows the net is yarn lattice around clear openings: each
clear region wholly in view (an opening, a merged tear, a fragment) explains its own box and
half a strand around it. What no region explains is the strip of openings cut by the frame
(less than one mesh cell deep) and lattice cells whose opening is hidden (a knot, a tuft).
A region unexplained over more than MAX_GAP_CELLS mesh cells in both axes is something else:
a blank band, a patch, a hole reaching the frame's edge (its clear region joins the world
outside the view, so it is no opening), a rope or fouling lying over the net. Nothing there
was measured and the net may hide a defect there, so the net fails with a reason that names
the region: most often something lies over the net (a defect of its own); where the image
is to blame, the reason says to inspect again. Measured in mesh cells, so it holds for any
mesh size, look and scale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from . import mesh as meshmod
from .domain import Verdict
from .rectify import Rectifier

logger = logging.getLogger(__name__)

MAX_GAP_CELLS = 1.5  # a square of this many mesh cells a side fits in no good view's gaps
GRID_PER_CELL = 4  # the view is checked on a grid this many steps to a mesh cell


@dataclass(frozen=True)
class Gap:
    """The largest region of the mesh-aligned view that no clear region explains."""

    box: tuple[float, float, float, float]  # x, y, w, h, mesh-aligned px
    cells: tuple[float, float]  # its extent in mesh cells, x and y


def find_gap(valid: np.ndarray, op: meshmod.Openings, px_per_mm: float,
             explained: list[tuple[float, float, float, float]] = ()) -> Gap | None:
    """The unexplained region of the view (uint8 `valid`, 255 in view) that holds a square of
    MAX_GAP_CELLS mesh cells, or None. `explained` are more boxes (x, y, w, h) accounted for:
    appearance findings lying over the net."""
    if len(op) < 2:
        return None  # no lattice to measure in: the engine's other checks answer that
    lat = meshmod.place_on_lattice(op, px_per_mm)
    step = min(lat.pitch_x, lat.pitch_y) / GRID_PER_CELL
    if not np.isfinite(step) or step < 1:
        return None
    h, w = valid.shape
    gw, gh = int(np.ceil(w / step)), int(np.ceil(h / step))
    # a grid cell is in view where its four corners are (the view is one smooth piece, the
    # image of the camera's frame); out-of-view cells are never a gap
    ys = np.minimum(np.round(np.arange(gh + 1) * step).astype(int), h - 1)
    xs = np.minimum(np.round(np.arange(gw + 1) * step).astype(int), w - 1)
    corner = valid[np.ix_(ys, xs)] > 0
    in_view = corner[:-1, :-1] & corner[1:, :-1] & corner[:-1, 1:] & corner[1:, 1:]
    strand_x = max(0.0, lat.pitch_x - float(np.median(op.bw)))
    strand_y = max(0.0, lat.pitch_y - float(np.median(op.bh)))
    boxes = np.stack([op.x0 - 0.5 * strand_x, op.y0 - 0.5 * strand_y,
                      op.bw + strand_x, op.bh + strand_y], 1).astype(np.float64)
    if len(explained):
        boxes = np.concatenate([boxes, np.asarray(explained, np.float64).reshape(-1, 4)])
    gap = in_view & ~_touched(boxes / step, (gh, gw))
    kx = max(1, round(MAX_GAP_CELLS * lat.pitch_x / step))
    ky = max(1, round(MAX_GAP_CELLS * lat.pitch_y / step))
    core = cv2.erode(gap.view(np.uint8), np.ones((ky, kx), np.uint8),
                     borderType=cv2.BORDER_CONSTANT, borderValue=0)
    if not core.any():
        return None
    # where such a square fits, not the thin strips of cut cells joined to it around the view
    wide = cv2.dilate(core, np.ones((ky, kx), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(wide, connectivity=4)
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh = (float(v) * step for v in stats[k, :4])
    return Gap((x, y, bw, bh), (bw / lat.pitch_x, bh / lat.pitch_y))


def _touched(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Grid cells that any box (x, y, w, h in grid steps) touches, by a 2-D difference array."""
    gh, gw = shape
    x0 = np.clip(np.floor(boxes[:, 0]).astype(int), 0, gw)
    y0 = np.clip(np.floor(boxes[:, 1]).astype(int), 0, gh)
    x1 = np.clip(np.ceil(boxes[:, 0] + boxes[:, 2]).astype(int), 0, gw)
    y1 = np.clip(np.ceil(boxes[:, 1] + boxes[:, 3]).astype(int), 0, gh)
    d = np.zeros((gh + 1, gw + 1), np.int32)
    np.add.at(d, (y0, x0), 1)
    np.add.at(d, (y0, x1), -1)
    np.add.at(d, (y1, x0), -1)
    np.add.at(d, (y1, x1), 1)
    return d.cumsum(0).cumsum(1)[:gh, :gw] > 0


def gap_reason(gap: Gap, back: np.ndarray, rect: Rectifier, px_per_mm: float,
               shape: tuple[int, ...]) -> str:
    """The sentence that names where the gap is, in the pixels of the input image (`back`
    turns mesh-aligned pixels into rectified ones)."""
    x, y, w, h = gap.box
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
    px = rect.rect_to_image(corners @ back[:, :2].T + back[:, 2])
    x0, y0 = np.floor(px.min(0)).clip(0).astype(int)
    x1 = int(min(np.ceil(px[:, 0].max()), shape[1]))
    y1 = int(min(np.ceil(px[:, 1].max()), shape[0]))
    return (f"part of the view shows no net: a region of {w / px_per_mm:.0f} x "
            f"{h / px_per_mm:.0f} mm at x={x0}, y={y0}, w={x1 - x0}, h={y1 - y0} px is neither "
            "yarn lattice nor whole openings (something lying on the net, a hole at the edge "
            "of the view, or a blank band in the image); if nothing lies on the net, lay it "
            "flat over the whole view and inspect again")


def fail_for_gap(verdict: Verdict, reasons: list[str], reason: str) -> tuple[Verdict, list[str]]:
    """A net with part of its view unseen fails, the gap's `reason` after any other; an
    error stays as it is."""
    if verdict == "error":
        return verdict, reasons
    return "fail", [*reasons, reason]

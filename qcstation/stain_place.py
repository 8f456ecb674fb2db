"""Stains must lie on the net: the model's stain findings judged by where they lie in the mesh.

A stain (mould, oil) is soaked into the yarn: it darkens strands, never the bench between them
(qcstation/synth/foreign.py `stain`: centred on a strand, radius 4-12 mm, strength times the
yarn body). The defect model sees colour only, so a dark knot or crack of a wood bench, or a
shadow on concrete, in the openings looks like a stain to it, and on some benches a region many
mesh cells wide is called a stain (phone-camera/0006 on wood: 238 x 284 mm). The engine knows
where the yarn is in the same mesh-aligned view (BenchView.yarn / open_mask), so:

* a stain finding whose cells lie mostly deep inside openings (more than OFF_YARN_MM clear of
  the yarn mask, past the blur of the model's 2 mm cells) is bench, not net: dropped;
* a stain finding covering far more than a stain can (MAX_STAIN_CELLS mesh cells) is not a
  stain on the net either: dropped.

Foreign matter is not judged here: a leaf or a plastic scrap lies over openings as often as on
strands (true foreign matter on the training-family sets has up to 89 % of its cells deep in
openings), so its position says nothing.

Shaped on the training families only: `qcstation synth --n 32 --seed 5301 --family F` for F in
golden-ply, dark-hairy, cocomesh-woven, phone-camera and wide, and two sets rendered for this
rule, seed 5360 (wide, phone-camera, cocomesh-woven, --mix appearance --extra-stains 2) and seed
5361 (all five training families, normal mix); measured with benchmarks/stain_place_measure.py.
"""

from __future__ import annotations

import cv2
import numpy as np

from .lattice import neighbour_pitch
from .mesh import Openings
from .structural import Appearance, Finding

OFF_YARN_MM = 2.0  # mm into an opening from the yarn's edge: past one model cell (2 mm) of blur
# share of a stain's cells deeper than OFF_YARN_MM in openings above which it is bench: true
# stains reach 0.24 (cocomesh-woven/0031 on wood), bench blotches start at 0.29 (wide/0010,
# uneven; wide/0023 on wood 0.31-0.71); about halfway between
MAX_OFF_YARN = 0.27
# mesh cells (pitch_x * pitch_y) a stain's cells may cover: true stains, merged ones included,
# cover up to 1.93 cells (app5360/0016, two extra stains); false ones up to 1.75 on the yarn,
# then 3.3, 5.5, 24 and 37 (bench and whole-view regions)
MAX_STAIN_CELLS = 2.5


def stains_on_net(seen: Appearance, yarn: np.ndarray, open_mask: np.ndarray, op: Openings,
                  px_per_mm: float) -> Appearance:
    """`seen` without the stain findings that lie off the yarn or are far bigger than a stain
    (see the module docstring), their cells no longer hidden. `yarn`, `open_mask`: uint8 0/1
    masks of the mesh-aligned bench view the findings' boxes are in; `op` its openings."""
    stains = [f for f in seen.findings if f.type == "stain"]
    if not stains:
        return seen
    cell_px2 = _cell_px2(op)
    dropped = [f for f in stains if not _on_net(f, seen, yarn, open_mask, px_per_mm, cell_px2)]
    return seen.without(dropped)


def off_yarn_share(finding: Finding, seen: Appearance, yarn: np.ndarray, open_mask: np.ndarray,
                   px_per_mm: float) -> tuple[float, int]:
    """Share of the finding's hidden pixels deeper than OFF_YARN_MM in an opening (clear of the
    yarn), and how many hidden pixels it has (0: none, share 0)."""
    margin = int(np.ceil(OFF_YARN_MM * px_per_mm)) + 1  # so distances see the yarn outside
    h, w = open_mask.shape
    x, y, bw, bh = finding.box
    x0, y0 = max(int(x), 0), max(int(y), 0)
    x1, y1 = min(int(np.ceil(x + bw)), w), min(int(np.ceil(y + bh)), h)
    if x1 <= x0 or y1 <= y0:
        return 0.0, 0
    # a row and a column that broadcast to the box: the cells are looked up once per line
    mine = seen.hidden_at((np.arange(x0, x1) + 0.5)[None, :], (np.arange(y0, y1) + 0.5)[:, None])
    n = int(mine.sum())
    if n == 0:
        return 0.0, 0
    cx0, cy0 = max(x0 - margin, 0), max(y0 - margin, 0)
    crop = (open_mask[cy0:y1 + margin, cx0:x1 + margin] > 0) & (yarn[cy0:y1 + margin,
                                                                    cx0:x1 + margin] == 0)
    dist = cv2.distanceTransform(crop.astype(np.uint8), cv2.DIST_L2, 3)
    deep = dist[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0] > OFF_YARN_MM * px_per_mm
    return float((mine & deep).sum()) / n, n


def _on_net(f: Finding, seen: Appearance, yarn: np.ndarray, open_mask: np.ndarray,
            px_per_mm: float, cell_px2: float | None) -> bool:
    share, n = off_yarn_share(f, seen, yarn, open_mask, px_per_mm)
    too_big = cell_px2 is not None and n > MAX_STAIN_CELLS * cell_px2
    return share <= MAX_OFF_YARN and not too_big


def _cell_px2(op: Openings) -> float | None:
    """One mesh cell's area in view px^2 (pitch_x * pitch_y), None where too few openings."""
    if len(op) == 0:
        return None
    pitch = neighbour_pitch(op.cx, op.cy, float(np.sqrt(np.median(op.area))))
    return None if pitch is None else pitch[0] * pitch[1]

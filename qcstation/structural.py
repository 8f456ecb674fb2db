"""Structural defects from the mesh lattice: holes, broken strands, irregular mesh, thin strands;
`measure` applies every structural rule to the openings of one bench view."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from . import mesh, segment
from .domain import MeshStats, Stat
from .errors import ImageError
from .lattice import local_pitch
from .mesh import Lattice, Openings, Segments

STACK_OVERLAP = 0.7  # two 2-cell regions side by side overlap by this share of their length
FRAGMENT_SHARE = 0.3  # a clear region under this share of the median opening area
MERGED_REACH = 0.3  # a region spans n cells once its box reaches n - this many pitches
IRREGULAR_SHIFT = 0.22  # a strand segment off its strand's course by this share of an opening
IRREGULAR_ROWS = 3  # the course: the strand's median over this many segments on each side
IRREGULAR_SIDE = 0.18  # ... and the openings beside it wider / narrower by this share
IRREGULAR_RUN_SIDE = 0.25  # a bow over crossings: openings along it wider / narrower by this
IRREGULAR_RUN_SPREAD = 4.0  # ... and by this many robust std of the openings in view
COVERING = ("foreign_matter", "loose_fibres")  # defects that lie over openings, hiding them
FAINT_SHARE = 0.25  # a faint strand: a band this share of the yarn-bench gap above the
# openings (cut strands on the renders: 0.01-0.05, at most 0.18 with frayed stubs)
SHOWN_SHARE = 0.5  # on a textured bench a strand the view shows parts openings: a band this
# share of the way from the openings' score to the yarn's around them (_strand_level relative;
# thin/* seeds 5391-5395: cut strands 0.01-0.44, at 0.72 one stub hung with loose fibres on a
# plain light table; strands the mask lost to grain and lit plies on wood 0.63-1.39)
FAINT_EDGE = 0.15  # a faint strand's light is summed across while its cover is above this share
LIGHT_SAMPLES, LIGHT_MIN = 24, 5  # sound segments per axis that scale a faint strand's light
SEEN_WHOLE = 0.85  # an opening under a covering finding with this share of a typical opening's
# area is seen whole, and measured
HIDDEN_GAP = 0.7  # merged openings whose missing yarn is hidden this much are not reported
FRAYED_BODY = 0.5  # a strand beside a tear with less body than this share of a strand's is cut
TEAR_GAP = 0.8  # merged regions closer than this share of a strand width are one tear
STACK_GAP = 1.5  # ... and pairs of merged openings side by side, one strand apart
TORN_AREA_SLACK = 0.6  # merged openings: each cell's area at least 0.4 of an opening's
MAX_SHARED_CELLS = 0.2  # a read with more clear regions sharing a mesh cell is unreliable
# ... and one with more of its mesh cells merged in the mask, parted only by faint strands
# (training sets: 0-0.17 on readable photos, 0.32 on a chipboard bench where a hole passed)
MAX_PARTED_CELLS = 0.2
THIN_SPREAD = 2.5  # a thin strand's body lies this many robust std of its axis's bodies
# below their median (thin_findings); rule/* seed 5301 and thin/* seeds 5391-5395: true thin
# strands 2.9-15 std below, sound strands read under the limit on wood 1-5.4 std
BODY_SHARE = 0.85  # the core is the strands' body where it fills this share of the yarn across
# a typical strand (median over the view); rule/* seed 5301: good reads 0.86-1.00, reads
# whose core is broken up (bench scored as yarn, lit plies read as bench on wood) 0.44-0.81


@dataclass(frozen=True)
class Finding:
    """A structural defect in mesh-aligned pixels, before mapping to the input image."""

    type: str
    box: tuple[float, float, float, float]  # x, y, w, h
    size_px: tuple[float, float]
    score: float
    members: tuple[int, ...]  # opening indices involved


@dataclass(frozen=True)
class Appearance:
    """What the defect model saw in a bench view: its findings, and where foreign matter or a
    stain hides the yarn or the bench under it (cells of `cell_px` view pixels)."""

    findings: list[Finding]
    hidden: np.ndarray  # uint8 (rows, cols) of cells, 1 = hidden
    cell_px: float

    def scaled(self, k: float) -> Appearance:
        """The same, in the pixels of a view `k` times finer."""
        found = [Finding(f.type, (f.box[0] * k, f.box[1] * k, f.box[2] * k, f.box[3] * k),
                         (f.size_px[0] * k, f.size_px[1] * k), f.score, f.members)
                 for f in self.findings]
        return Appearance(found, self.hidden, self.cell_px * k)

    def without(self, dropped: list[Finding]) -> Appearance:
        """The same less the findings `dropped`, hidden only inside the boxes of those kept."""
        if not dropped:
            return self
        kept = [f for f in self.findings if not any(f is d for d in dropped)]
        inside = np.zeros_like(self.hidden)
        c = self.cell_px
        for f in kept:
            x, y, w, h = (round(v / c) for v in f.box)
            inside[max(y, 0):y + h, max(x, 0):x + w] = 1
        return Appearance(kept, self.hidden & inside, c)

    def hidden_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether each view pixel (x, y) is hidden (points off the cell grid take its edge);
        `x` and `y` broadcast against each other (a row and a column give a box)."""
        c = self.cell_px
        cols = np.clip((np.asarray(x) // c).astype(int), 0, self.hidden.shape[1] - 1)
        rows = np.clip((np.asarray(y) // c).astype(int), 0, self.hidden.shape[0] - 1)
        return self.hidden[rows, cols] > 0

    def hidden_share(self, x: float, y: float, r: float) -> float:
        """Share of the square within `r` view pixels of (x, y) that is hidden."""
        c = self.cell_px
        x0, y0 = max(0, int((x - r) // c)), max(0, int((y - r) // c))
        x1, y1 = int((x + r) // c) + 1, int((y + r) // c) + 1
        cells = self.hidden[y0:y1, x0:x1]
        return float(cells.mean()) if cells.size else 0.0


def merged_cells(op: Openings, lat: Lattice) -> np.ndarray:
    """How many lattice cells each opening spans (1 for a regular opening): merged_shape."""
    nx, ny = merged_shape(op, lat)
    return nx * ny


def merged_shape(op: Openings, lat: Lattice) -> tuple[np.ndarray, np.ndarray]:
    """How many lattice cells each opening spans across and along, from its box in local
    pitches (lattice.local_pitch: cells seen larger at the near side of a slanted view are not
    merged ones). Two merged openings reach 1.9-2.1 pitches; the wide opening beside a bowed
    strand (irregular mesh) reaches about 1.5, and is not two cells."""
    reg = np.ones(len(op), bool)
    for _ in range(2):  # the strand estimate uses the regular openings found so far
        strand_x = lat.pitch_x - np.median(op.span_w[reg])
        strand_y = lat.pitch_y - np.median(op.span_h[reg])
        px, py = local_pitch(op.cx, op.cy, lat.row, lat.col, lat.grid, reg,
                             (lat.pitch_x, lat.pitch_y))
        nx = np.maximum(1, np.floor((op.bw + strand_x * px / lat.pitch_x) / px + MERGED_REACH))
        ny = np.maximum(1, np.floor((op.bh + strand_y * py / lat.pitch_y) / py + MERGED_REACH))
        reg = nx * ny == 1
    return nx.astype(np.int64), ny.astype(np.int64)


def fragments(op: Openings, cells: np.ndarray) -> np.ndarray:
    """Clear regions far smaller than an opening: pieces of one cut off by a tuft or a
    scrap lying over it. They are not measured (a real narrow opening keeps > 1/3 area)."""
    single = cells == 1
    if not single.any():
        return np.zeros(len(op), bool)
    return single & (op.area < FRAGMENT_SHARE * np.median(op.area[single]))


def merged_findings(op: Openings, cells: np.ndarray, gap_px: float, stack_px: float = 0.0,
                    joins: tuple[np.ndarray, np.ndarray] = (np.zeros(0, int), np.zeros(0, int))
                    ) -> list[Finding]:
    """Merged openings: two cells a broken strand, three or more a hole.

    Openings in `joins` (pairs a, b) are one region: the strand between them is cut though
    loose fibres still bridge it in the mask. Merged regions closer than `gap_px` are one
    tear: a loose knot with its frayed fibres can lie across a tear and split it in the mask.
    Two tears with a whole strand between them are a strand width apart, so `gap_px` is set
    below that (TEAR_GAP). Two pairs of merged openings stacked side by side, less
    than `stack_px` apart, are one hole of 2 x 2 cells: the strand between them crosses a torn
    crossing (the strand that crossed it is missing on both sides), whether or not loose
    fibres still tie it to the other side. Pairs end to end (1 x 4) stay two broken strands.
    """
    group = np.arange(len(op))

    def join(a: int, b: int) -> None:
        ga, gb = group[a], group[b]
        if ga != gb:
            group[group == gb] = ga

    for a, b in zip(*joins, strict=True):
        join(int(a), int(b))
    joined = np.bincount(group, minlength=len(op))[group] > 1
    idx = np.flatnonzero((cells > 1) | joined)
    x0, y0 = op.x0[idx], op.y0[idx]
    x1, y1 = x0 + op.bw[idx], y0 + op.bh[idx]
    for i in range(len(idx)):
        for k in range(i + 1, len(idx)):
            if cells[idx[i]] < 2 or cells[idx[k]] < 2:
                continue
            apart = max(x0[k] - x1[i], x0[i] - x1[k], y0[k] - y1[i], y0[i] - y1[k])
            if apart < gap_px or (
                    apart < stack_px and cells[idx[i]] == 2 and cells[idx[k]] == 2
                    and _stacked((x0[i], y0[i], x1[i], y1[i]), (x0[k], y0[k], x1[k], y1[k]))):
                join(int(idx[i]), int(idx[k]))
    out = []
    for g in np.unique(group[idx]):
        members = idx[group[idx] == g]
        n = int(cells[members].sum())
        k = np.searchsorted(idx, members)
        gx0, gy0 = x0[k].min(), y0[k].min()
        box = (float(gx0), float(gy0), float(x1[k].max() - gx0), float(y1[k].max() - gy0))
        size = ((float(op.span_w[members[0]]), float(op.span_h[members[0]]))
                if len(members) == 1 else (box[2], box[3]))
        out.append(Finding("broken_strand" if n == 2 else "hole", box, size,
                           float(min(1.0, 0.6 + 0.1 * n)), tuple(int(i) for i in members)))
    return out


def _stacked(a, b) -> bool:
    """Whether boxes (x0, y0, x1, y1) of two 2-cell regions lie side by side along their
    long axis (overlapping by most of their length there), not end to end."""
    wa, ha, wb, hb = a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1]
    if (wa > ha) != (wb > hb):
        return False
    lo, hi = (0, 2) if wa > ha else (1, 3)
    overlap = min(a[hi], b[hi]) - max(a[lo], b[lo])
    return overlap >= STACK_OVERLAP * min(a[hi] - a[lo], b[hi] - b[lo])


def irregular_findings(op: Openings, lat: Lattice, measured: np.ndarray) -> list[Finding]:
    """Displaced strands: a strand segment far off the course of its own strand.

    Each strand segment between two measured neighbours lies midway between the facing edges
    of the openings on its two sides (centroid plus or minus half the clear span). Its course is
    the median position of the same strand over the IRREGULAR_ROWS segments before and after
    it, so a strand that is merely offset or gently wavy along its whole length (hand-made
    spacing) is not flagged, and the one or two displaced segments of a bowed strand stand
    out. A segment off its course by more than IRREGULAR_SHIFT of the median opening, that
    also widens the opening on one side and narrows the one on the other (each by
    IRREGULAR_SIDE against the same course of their spans), flags both openings; an edge
    misread on one side only (a tuft, a scrap, a shadow) moves one opening, not both.
    """
    flagged = np.zeros(len(op), bool)
    score = np.zeros(len(op))
    grid = np.full(lat.grid.shape, -1)
    grid[lat.row[measured], lat.col[measured]] = np.flatnonzero(measured)
    for g, c, span in ((grid, op.cx, op.span_w), (grid.T, op.cy, op.span_h)):
        a, b = g[:, :-1], g[:, 1:]  # openings before and after each segment, (segments, strands)
        ok = (a >= 0) & (b >= 0)
        if ok.sum() < 4:
            continue
        pos = np.full(a.shape, np.nan)
        pos[ok] = 0.5 * (c[a[ok]] + 0.5 * span[a[ok]] + c[b[ok]] - 0.5 * span[b[ok]])
        width = np.full(g.shape, np.nan)
        width[g >= 0] = span[g[g >= 0]]
        median = float(np.median(span[measured]))
        grow_raw = (width - _course(width, IRREGULAR_ROWS)) / median
        # a noisy read (fouling in the openings, a slanted view) spreads every opening: a
        # displaced strand must stand out of that spread as well
        side_limit = max(IRREGULAR_SIDE, IRREGULAR_RUN_SPREAD * _spread(grow_raw))
        limit = max(IRREGULAR_SHIFT, side_limit) * median
        grow = np.nan_to_num(grow_raw)
        hit = np.zeros(ok.shape, bool)
        for _ in range(2):  # the course again without the displaced segments found first
            off = np.nan_to_num(pos - _course(np.where(hit, np.nan, pos), IRREGULAR_ROWS))
            side = np.sign(off)
            both = (side * grow[:, :-1] > side_limit) & (-side * grow[:, 1:] > side_limit)
            hit = ok & (np.abs(off) > limit) & both
        run = _bowed_run(width, ok, median)  # a strand bowed over several crossings
        hit |= run
        off = np.where(run & (np.abs(off) < limit), limit, off)
        for ends in (a[hit], b[hit]):
            flagged[ends] = True
            score[ends] = np.maximum(score[ends], np.minimum(1.0, 0.5 * np.abs(off[hit]) / limit))
    return _group(op, lat, flagged, score) if flagged.any() else []


def _spread(dev: np.ndarray) -> float:
    """Robust standard deviation (from the median absolute deviation) of the finite values."""
    known = dev[np.isfinite(dev)]
    if len(known) < 8:
        return 0.0
    return 1.4826 * float(np.median(np.abs(known - np.median(known))))


def _bowed_run(width: np.ndarray, ok: np.ndarray, median: float) -> np.ndarray:
    """Segments of a strand bowed over several crossings, judged by the openings it makes:
    the opening on one side wider than the openings along its row (their median over
    IRREGULAR_ROWS on each side) and the one on the other side narrower, each by
    IRREGULAR_RUN_SIDE of the median opening, on two or more consecutive segments of the strand
    with the bow to the same side, and beyond IRREGULAR_RUN_SPREAD times the spread of the
    openings over the view. The strand's own course moves with a long bow; the rows of
    openings across it do not. `width` is (strands along, openings across)."""
    dev = (width - _course(width.T, IRREGULAR_ROWS).T) / median
    if np.isfinite(dev).sum() < 8:
        return np.zeros(ok.shape, bool)
    # a hand-made net's openings vary: a bow must stand out of that spread too
    limit = max(IRREGULAR_RUN_SIDE, IRREGULAR_RUN_SPREAD * _spread(dev))
    across = np.nan_to_num(dev)
    side = np.sign(across[:, :-1])
    opp = ok & (side * across[:, :-1] > limit) & (-side * across[:, 1:] > limit)
    same = np.zeros(opp.shape, bool)
    same[1:] = opp[:-1] & opp[1:] & (side[:-1] == side[1:])  # with the segment before
    run = same.copy()
    run[:-1] |= same[1:]  # ... or with the one after
    return run


def _course(pos: np.ndarray, k: int) -> np.ndarray:
    """Median of each column of `pos` over the k rows before and after (not the row itself);
    NaN where fewer than 3 of them are known."""
    n = pos.shape[0]
    near = np.full((2 * k,) + pos.shape, np.nan)
    shifts = [d for d in range(-k, k + 1) if d]
    for i, d in enumerate(shifts):
        lo, hi = max(0, -d), min(n, n - d)
        near[i, lo:hi] = pos[lo + d:hi + d]
    known = (~np.isnan(near)).sum(0)
    near.sort(axis=0)  # NaN last
    lo = np.take_along_axis(near, np.maximum(known - 1, 0)[None] // 2, 0)[0]
    hi = np.take_along_axis(near, known[None] // 2, 0)[0]
    course = 0.5 * (lo + hi)
    course[known < 3] = np.nan
    return course


def _group(op: Openings, lat: Lattice, flagged: np.ndarray, score: np.ndarray) -> list[Finding]:
    """One finding per group of flagged openings that touch on the lattice."""
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
        box = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        out.append(Finding("irregular_mesh", box, (box[2], box[3]),
                           float(score[members].max()), tuple(int(m) for m in members)))
    return out


def cut_segments(seg: Segments, hair_px: float, core_px: float = 1.0) -> np.ndarray:
    """Segments cut somewhere though loose fibres still bridge them in the mask: narrower than
    a hair (`hair_px`), or with less strand body (core) than `core_px` across at one of the
    samples (by default none)."""
    return (seg.min_px < hair_px) | (seg.core_px < core_px)


def thin_findings(seg: Segments, min_strand_px: float,
                  faint: list[Finding] = ()) -> list[Finding]:
    """Strand segments whose body is narrower than `min_strand_px` along their length: the
    median over the samples of the core (mesh.strand_segments), not of the yarn mask. The
    mask's edge is the middle of the blurred step from bench to yarn, which the hairs and the
    soft flank of a strand push 0.3-0.8 mm outward on each side (the rendered truth of
    rule/dark-hairy and rule/cocomesh-woven, seed 5301: true 2.6-3.0 mm strands read 4.0-4.7
    mm); the body, where the yarn is most of the way to its own level, is not pushed out.
    The median, not the narrowest sample: a groove between plies narrows one sample, a thin
    strand is thin all along.

    A thin strand also stands out of the read's own spread: where the strands along one axis
    are typically over the limit, a segment must be thinner than their median by THIN_SPREAD
    robust std of their bodies (_spread). On a textured bench (wood grain beside the strand,
    a flank turned from the light read as bench) the bodies of sound strands scatter by a
    millimetre or more and the thinnest of them fall under the limit; a strand spun thin lies
    far below its row. Each axis by itself: light from one side shades the flanks of the
    strands along one axis only, and grain runs along one axis.

    `faint`: strands the mask lost, under the limit by their light (_faint_thin), judged with
    the measured ones of their axis: kept where _thin keeps them (a sound strand that a bench
    of the yarn's colour hid under-reads, but stays within its axis's spread)."""
    body = seg.body
    faint_width = np.array([f.size_px[1] for f in faint], np.float64)
    faint_vertical = np.array([f.box[3] > f.box[2] for f in faint], bool)
    thin = _thin(np.concatenate([body, faint_width]),
                 np.concatenate([seg.vertical, faint_vertical]), min_strand_px)
    out = [f for f, keep in zip(faint, thin[len(body):], strict=True) if keep]
    for k in np.flatnonzero(thin[:len(body)]):
        x, y, w, h = (float(v) for v in seg.box[k])
        length, width = (h, w) if seg.vertical[k] else (w, h)
        width = min(width, float(body[k]))
        score = _thin_score(float(body[k]), min_strand_px)
        out.append(Finding("thin_strand", (x, y, w, h), (length, width), score,
                           (int(seg.a[k]), int(seg.b[k]))))
    return out


def _thin_score(width: float, min_strand_px: float) -> float:
    """A thin strand's score: 0.5 at the limit, 1 at half of it and below."""
    return float(min(1.0, 0.5 + (1 - width / min_strand_px)))


def _thin(body: np.ndarray, vertical: np.ndarray, min_strand_px: float) -> np.ndarray:
    """Segments under the limit that stand out of their axis's spread (thin_findings)."""
    thin = body < min_strand_px
    for axis in (vertical, ~vertical):
        if not axis.any():
            continue
        typical = float(np.median(body[axis]))
        if typical >= min_strand_px:  # a net thin all over fails by the limit alone
            thin[axis] &= typical - body[axis] > THIN_SPREAD * _spread(body[axis])
    return thin


@dataclass(frozen=True)
class Measurement:
    """Mesh statistics and structural findings of one bench view."""

    stats: MeshStats
    regular: np.ndarray
    findings: tuple[Finding, ...]


def measure(op: Openings, px_per_mm: float, min_strand_mm: float,
            seen: Appearance | None = None, flat: np.ndarray | None = None,
            textured: bool = False) -> Measurement:
    """Lattice, strand segments, statistics and structural defects from the openings of one
    mesh-aligned bench view at `px_per_mm`: every structural rule, behind this one call.

    `seen` is what the defect model saw in the same view. Openings under foreign matter or a
    fibre tuft are left out of the mesh statistics: what lies on them is the defect, not the
    mesh. A strand hidden under foreign matter or a stain is missing from the yarn mask, so
    merged openings whose missing yarn is mostly hidden are not reported as broken: the net
    fails for the foreign matter anyway, and a stain is judged as a stain. Strands of covered
    openings are still checked for thinness. ImageError where the clear regions are not one
    per mesh cell (the yarn mask is wrong: nothing it measures could be trusted).
    `flat` (the flattened yarn score, segment.flat_u8) shows strands too faint or blurred for
    the yarn mask: merged openings whose parting strands it shows all along are not a tear,
    and each such strand is as wide as the light it takes (_faint_thin): under the spec's
    minimum, it is a thin strand.
    `textured`: the bench has a texture of its own (the yarn was read off a smoothed fit,
    segment.fit_separation): there the mask's edges, and so its cuts and merges, follow grain
    and lit plies, and the view decides whether a strand parts openings (SHOWN_SHARE).
    """
    s = px_per_mm
    lat = mesh.place_on_lattice(op, s)
    shared = mesh.shared_cells(lat)
    if shared > MAX_SHARED_CELLS:  # a good read has one opening per cell (0-9 % shared)
        raise ImageError(f"yarn and openings were not told apart reliably: {shared:.0%} of the "
                         "clear regions share a mesh cell with another; even out the light "
                         "or use a backlit panel or light table, and inspect again")
    cells = merged_cells(op, lat)
    single = (cells == 1) & ~fragments(op, cells)
    appearance = seen.findings if seen else []
    # an opening seen whole (an opening's area) is not hidden by what the model saw around it:
    # a finding's box can reach far past what lies on the net
    covered = _under(op, [f.box for f in appearance if f.type in COVERING])
    if covered.any() and single.any():
        covered &= op.area < SEEN_WHOLE * float(np.median(op.area[single]))
    regular = single & ~covered
    a, b, vertical = mesh.neighbour_pairs(lat, single)
    seg = mesh.strand_segments(op, a, b, vertical, 0.5 * (lat.pitch_x + lat.pitch_y))
    cut = cut_segments(seg, segment.HAIR_MM * s)
    regular[seg.a[cut]] = regular[seg.b[cut]] = False
    clear = seg.subset(regular[seg.a] & regular[seg.b])
    strand_px = float(np.median(seg.width_px)) if len(seg.width_px) else 0.0
    # strands between a tear (merged openings, or openings joined by a cut) and the openings
    # beside it: cut, they widen the tear; there a frayed stub reaching across the gap has a
    # body of a few fibres only
    faint = _faint_strands(op, flat, strand_px, textured)
    cells = _by_area(op, cells, single)
    thin_faint: list[Finding] = []
    if faint is not None:  # merged or cut in the mask, parted by a faint strand in the view
        nx, ny = merged_shape(op, lat)
        parted = [i for i in np.flatnonzero(cells > 1) if faint([i], (nx[i], ny[i]))]
        _check_parted(cells, parted)
        cells[parted] = 1
        cut = _unless_faint(cut, seg, faint)
        if not textured:  # there the flattened score is the yarn's cover (not on grain)
            scale = _light_scale(_judged_by_body(clear), op, flat, strand_px) if parted else None
            thin_faint = [f for i in parted
                          for f in _faint_thin([i], (nx[i], ny[i]), op, flat, strand_px,
                                               min_strand_mm * s, scale)]
    joins = (seg.a[cut], seg.b[cut])
    torn = np.flatnonzero(cells > 1)
    torn = np.union1d(torn, np.concatenate(joins)) if cut.any() else torn
    if len(torn):
        near = mesh.strand_segments(op, *mesh.beside(op, torn, lat),
                                       0.5 * (lat.pitch_x + lat.pitch_y))
        body = float(np.median(seg.core_px)) if len(seg.core_px) else 0.0
        near_cut = cut_segments(near, segment.HAIR_MM * s,
                                           max(1.0, FRAYED_BODY * body))
        if faint is not None:
            near_cut = _unless_faint(near_cut, near, faint)
        joins = (np.concatenate([joins[0], near.a[near_cut]]),
                 np.concatenate([joins[1], near.b[near_cut]]))
    merged = merged_findings(op, cells, TEAR_GAP * strand_px, STACK_GAP * strand_px,
                             joins)
    findings = ([f for f in merged
                 if not (seen and _gap_hidden(f.box, op, lat, seen, strand_px) >= HIDDEN_GAP)]
                + irregular_findings(op, lat, single)
                + thin_findings(_judged_by_body(seg.subset(~cut & ~_in_pairs(seg, joins))),
                                min_strand_mm * s, thin_faint))
    return Measurement(_mesh_stats(op, regular, clear, s), regular, tuple(findings))


def _check_parted(cells: np.ndarray, parted: list[int]) -> None:
    """ImageError where more than MAX_PARTED_CELLS of the mesh cells (`cells` per opening) lie
    in merged openings that only strands too faint for the yarn mask keep apart (`parted`):
    the mask has lost the lattice there, and a tear among them would be read as parted too."""
    total = float(cells[cells >= 1].sum())
    share = float(cells[parted].sum()) / total if total else 0.0
    if share > MAX_PARTED_CELLS:
        raise ImageError(f"yarn and openings were not told apart reliably: {share:.0%} of the "
                         "mesh cells merge with a neighbour in the yarn mask, kept apart only by "
                         "strands too faint to measure; use a plain bench (a backlit panel or a "
                         "light table) and inspect again")


def _judged_by_body(seg: Segments) -> Segments:
    """The segments, their width judged by the core (the body) where the core fills most of
    the yarn across a typical strand (BODY_SHARE), else by the yarn mask: where the core is
    broken up all over the view it describes no strand's body."""
    if seg.body_px is None or not len(seg.a):
        return seg
    share = float(np.median(seg.body_px / np.maximum(seg.width_px, 1.0)))
    return seg if share >= BODY_SHARE else replace(seg, body_px=None)


def _in_pairs(seg: Segments, pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Segments whose two openings are one of `pairs` (a, b): strands found cut beside a tear
    (frayed, with little body) are part of the tear, not thin strands."""
    n = int(max(seg.a.max(initial=0), seg.b.max(initial=0), pairs[0].max(initial=0),
                pairs[1].max(initial=0))) + 1
    return np.isin(seg.a * n + seg.b, pairs[0] * n + pairs[1])


def _inner_lines(box, lat: Lattice, strand_px: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (x, y) along the inner lattice lines of a box of merged openings (where the
    strands that should part its cells run), a point every half strand width; and whether
    each lies on a vertical line."""
    x, y, w, h = box
    nx = max(1, round((w + strand_px) / lat.pitch_x))
    ny = max(1, round((h + strand_px) / lat.pitch_y))
    step = max(1.0, 0.5 * strand_px)
    along_y, along_x = np.arange(y, y + h, step), np.arange(x, x + w, step)
    lines_x = x + np.arange(1, nx) * (w + strand_px) / nx - 0.5 * strand_px
    lines_y = y + np.arange(1, ny) * (h + strand_px) / ny - 0.5 * strand_px
    px = np.concatenate([np.repeat(lines_x, len(along_y)), np.tile(along_x, len(lines_y))])
    py = np.concatenate([np.tile(along_y, len(lines_x)), np.repeat(lines_y, len(along_x))])
    vertical = np.arange(len(px)) < len(lines_x) * len(along_y)
    return px, py, vertical


def _by_area(op: Openings, cells: np.ndarray, single: np.ndarray) -> np.ndarray:
    """Cells of each region no more than its area holds: openings merged by a tear are as
    large as the openings they were and the strand between (a cell's share at least
    1 - TORN_AREA_SLACK each); a sliver of clear bench that reaches across two cells (a torn
    edge of fouling, a strand pushed aside by a fibre tuft) is not two openings."""
    if not single.any():
        return cells.copy()
    typical = float(np.median(op.area[single]))
    held = np.maximum(1, np.floor(op.area / typical + TORN_AREA_SLACK)).astype(np.int64)
    return np.minimum(cells, held)


def _unless_faint(cut: np.ndarray, seg: Segments, faint) -> np.ndarray:
    """`cut` less the segments that a faint strand still parts."""
    out = cut.copy()
    for k in np.flatnonzero(cut):
        shape = (2, 1) if seg.vertical[k] else (1, 2)  # a vertical strand parts left and right
        out[k] = not faint([int(seg.a[k]), int(seg.b[k])], shape)
    return out


def _faint_strands(op: Openings, flat: np.ndarray | None, strand_px: float,
                   textured: bool = False):
    """A test of openings (a merged region, or two joined by a cut): does a strand too faint
    for the yarn mask still part them? None where it does not apply: without the score, or
    where the yarn has a core (a dark body on a light bench: there the core rule decides) on a
    plain bench. With a core on a textured bench the test is whether the view shows a strand
    there at all: a band at least SHOWN_SHARE of the way from the openings to the yarn around
    them (a cut leaves bench with a few loose fibres; a sound strand whose lit plies read as
    wood is still a band of yarn)."""
    if flat is None or (op.core_sums is not None and not textured):
        return None
    if op.core_sums is not None:
        def shown(members, shape) -> bool:
            level = _strand_level(members, shape, op, flat, strand_px, relative=True)
            return level >= SHOWN_SHARE

        return shown
    step = FAINT_SHARE * (segment.FLAT_YARN - segment.FLAT_BENCH)

    def faint(members, shape) -> bool:
        return _strand_level(members, shape, op, flat, strand_px) >= step

    return faint


def _strand_level(members, shape: tuple[int, int], op: Openings, flat: np.ndarray,
                  strand_px: float, relative: bool = False) -> float:
    """How far the strands that should part the openings `members` (one merged region of
    `shape` cells across x along, or two openings joined by a cut) still show, above the
    openings' own score: the least, over the inner lattice lines, of how far each shows.

    A line shows as much as the best band half a strand wide (a strand's body is that wide;
    fibres lying along a cut are single lines) within its cell-wide window: the band's median
    flattened score over the central half of the stretch where the openings lie on both sides
    of it. Every inner line must show: a 2 x 2 tear with one strand hanging into it is still
    a tear along the other line. `relative`: that height as a share of the yarn's own height
    above the openings (_yarn_level), where the yarn-bench gap of the flattened score is not
    the one seen (grain, lit plies and shade move both levels).

    A strand blurred by motion or seen through murky water stays a band of yarn-coloured
    light though the edge rule cuts it into dashes; a cut leaves the bench there but for a few
    crossing hairs (the median passes over them) and the frayed stubs at its ends."""
    x, y, inside, box = _region(members, op, flat)
    if box.shape != inside.shape or not inside.any():
        return 0.0
    reach = max(1, int(round(0.5 * strand_px)))
    body = max(1, int(round(0.5 * strand_px)))
    shows = []
    for f_box, in_box, n in ((box, inside, shape[0]), (box.T, inside.T, shape[1])):
        if n < 2:
            continue
        level = _line_levels(f_box, in_box, reach, body)
        cell = f_box.shape[1] / n
        for k in range(1, n):
            window = level[int(k * cell - 0.5 * cell):int(k * cell + 0.5 * cell)]
            shows.append(float(window.max()) if window.size else -np.inf)
    if not shows or not np.isfinite(min(shows)):
        return 0.0
    clear = _clear_level(inside, box)
    if not relative:
        return min(shows) - clear
    return (min(shows) - clear) / max(_yarn_level(members, op, flat, strand_px) - clear, 1.0)


def _region(members, op: Openings, flat: np.ndarray
            ) -> tuple[int, int, np.ndarray, np.ndarray]:
    """The box of openings `members`: its corner (x, y), the openings' pixels in it (uint8 0/1)
    and the flattened score over it."""
    members = list(members)
    x, y = int(op.x0[members].min()), int(op.y0[members].min())
    w = int((op.x0[members] + op.bw[members]).max()) - x
    h = int((op.y0[members] + op.bh[members]).max()) - y
    inside = np.zeros((h, w), np.uint8)
    cv2.drawContours(inside, [op.contours[i] for i in members], -1, 1, cv2.FILLED,
                     offset=(-x, -y))
    return x, y, inside, flat[y:y + h, x:x + w]


def _clear_level(inside: np.ndarray, box: np.ndarray) -> float:
    """The openings' own flattened score: the lower quartile over their pixels (`inside`) of
    the score `box` (hairs crossing them and frayed stubs stay above it)."""
    return float(np.percentile(box[inside > 0], 25))


def _row_extents(in_box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the 0/1 `in_box`, its first and last column that is set (the row's length
    and -1 where none is)."""
    n = in_box.shape[1]
    has = in_box.any(axis=1)
    return (np.where(has, in_box.argmax(axis=1), n),
            np.where(has, n - 1 - in_box[:, ::-1].argmax(axis=1), -1))


def _faint_thin(members, shape: tuple[int, int], op: Openings, flat: np.ndarray,
                strand_px: float, min_strand_px: float, scale: tuple[float, float]
                ) -> list[Finding]:
    """Strands under `min_strand_px` among the faint ones that part merged openings `members`
    (`shape` cells across x along): each inner line's width is the light it takes, summed
    across it (_light_width), times its axis's `scale` (vertical, horizontal: _light_scale).
    The light is read over the line's cell-wide window, on the central half of the rows where
    the openings lie on both sides. `measure` then judges them as measured strands (_thin)."""
    x, y, inside, box = _region(members, op, flat)
    if box.shape != inside.shape or not inside.any():
        return []
    clear = _clear_level(inside, box)
    height = max(_yarn_level(members, op, flat, strand_px) - clear, 1.0)
    out = []
    for f_box, in_box, n, vertical in ((box, inside, shape[0], True),
                                       (box.T, inside.T, shape[1], False)):
        cell = f_box.shape[1] / n
        first, last = _row_extents(in_box)
        for k in range(1, n):
            c0, c1 = max(0, int((k - 0.5) * cell)), int((k + 0.5) * cell)
            rows = np.flatnonzero((first < k * cell - strand_px) & (last > k * cell + strand_px))
            if len(rows) < 4:
                continue
            along0, along1 = float(rows[0]), float(rows[-1] + 1)
            light, centre = _light_width(f_box[rows, c0:c1], clear, height)
            width = light * scale[0 if vertical else 1]
            if width >= min_strand_px:
                continue
            centre += c0
            score = _thin_score(width, min_strand_px)
            if vertical:
                fbox = (x + centre - width / 2, y + along0, width, along1 - along0)
            else:
                fbox = (x + along0, y + centre - width / 2, along1 - along0, width)
            out.append(Finding("thin_strand", fbox, (along1 - along0, width), score,
                               tuple(int(m) for m in members)))
    return out


def _light_width(window: np.ndarray, clear: float, height: float) -> tuple[float, float]:
    """The width (px) of the strand running along the rows of `window` (rows along it, columns
    across) by the light it takes, and the column of its middle.

    Blur and a phone's softness spread a strand's light over more pixels but keep its sum: the
    sum across of its cover (the flattened score `height` above `clear` is 1) is the strand's
    width, sharp or not. The cover of a column is its median over the central half of the rows
    (hairs crossing pass under the median), summed over the run around its peak while above
    FAINT_EDGE (bench grain and noise farther out are not summed)."""
    rows = window[len(window) // 4:len(window) - len(window) // 4]
    cover = np.clip((np.median(rows, axis=0) - clear) / height, 0, 1)
    peak = int(np.argmax(cover))
    above = cover > FAINT_EDGE  # the run around the peak: up to the first pixel not above
    lo = peak - int(np.argmin(np.append(above[peak::-1], False))) + 1
    hi = peak + int(np.argmin(np.append(above[peak:], False)))
    return float(cover[lo:hi].sum()), 0.5 * (lo + hi)


def _light_scale(seg: Segments, op: Openings, flat: np.ndarray, strand_px: float
                 ) -> tuple[float, float]:
    """Per axis (vertical, horizontal strands), the median of body over light (_light_width)
    of up to LIGHT_SAMPLES of the sound segments `seg`: a faint strand's light times it is read
    as their bodies are (where the flattened score under-reads every strand alike, as on some
    benches, it scales all of them); 1 where fewer than LIGHT_MIN show it."""
    out = []
    for axis in (seg.vertical, ~seg.vertical):
        ks = np.flatnonzero(axis)
        if len(ks):
            ks = ks[np.linspace(0, len(ks) - 1, min(len(ks), LIGHT_SAMPLES)).astype(int)]
        ratio = []
        for k in ks:
            a, b = int(seg.a[k]), int(seg.b[k])
            _, _, inside, box = _region([a, b], op, flat)
            if not inside.any():
                continue
            clear = _clear_level(inside, box)
            height = _yarn_level([a, b], op, flat, strand_px) - clear
            bx, by, bw, bh = (int(v) for v in seg.box[k])
            pad = int(strand_px)
            if seg.vertical[k]:  # rows along the strand, columns across
                window = flat[by:by + bh, max(0, bx - pad):bx + bw + pad]
            else:
                window = flat[max(0, by - pad):by + bh + pad, bx:bx + bw].T
            if height < 1.0 or window.shape[0] < 4 or window.shape[1] < 2:
                continue
            light, _ = _light_width(window.astype(np.float32), clear, height)
            if light > 0:
                ratio.append(float(seg.body[k]) / light)
        out.append(float(np.median(ratio)) if len(ratio) >= LIGHT_MIN else 1.0)
    return out[0], out[1]


def _yarn_level(members, op: Openings, flat: np.ndarray, strand_px: float) -> float:
    """The flattened score of the yarn around openings `members`: the median over their box
    grown by a strand width on every side, less every clear pixel in it (the strands that
    ring them)."""
    members = list(members)
    pad = max(1, int(round(strand_px)))
    h, w = flat.shape
    x0 = max(0, int(op.x0[members].min()) - pad)
    y0 = max(0, int(op.y0[members].min()) - pad)
    x1 = min(w, int((op.x0[members] + op.bw[members]).max()) + pad)
    y1 = min(h, int((op.y0[members] + op.bh[members]).max()) + pad)
    s = op.clear_sums  # one pixel of the clear mask from its integral image
    clear = (s[y0 + 1:y1 + 1, x0 + 1:x1 + 1] - s[y0:y1, x0 + 1:x1 + 1]
             - s[y0 + 1:y1 + 1, x0:x1] + s[y0:y1, x0:x1]) > 0
    ring = flat[y0:y1, x0:x1][~clear]
    return float(np.median(ring)) if ring.size else 0.0


def _line_levels(f_box: np.ndarray, in_box: np.ndarray, reach: int, body: int) -> np.ndarray:
    """For each column of `f_box`, the mean over `body` columns around it of the median score
    over the central half of the rows where `in_box` lies on both sides (-inf: none)."""
    n = f_box.shape[1]
    first, last = _row_extents(in_box)
    levels = np.full(n, -np.inf)
    for c in range(reach, n - reach):
        rows = np.flatnonzero((first < c - reach) & (last > c + reach))
        if len(rows) >= 4:
            rows = rows[len(rows) // 4:len(rows) - len(rows) // 4]
            levels[c] = np.median(f_box[rows, c])
    ok = np.isfinite(levels)
    out = np.full(n, -np.inf)
    if ok.sum() >= body:
        smooth = np.convolve(np.where(ok, levels, 0), np.ones(body), "same")
        count = np.convolve(ok, np.ones(body), "same")
        good = count >= body
        out[good] = smooth[good] / count[good]
    return out


def _gap_hidden(box, op: Openings, lat: Lattice, seen: Appearance,
                strand_px: float) -> float:
    """How much of the yarn missing inside merged openings' `box` is hidden: a scrap or a
    light string lying over the strands (the yarn mask loses them where it lies), not a tear.

    The missing yarn is where the box's inner lattice lines (the strands that should part its
    cells) run through clear pixels; a tear leaves them clear along its length, a string
    passing over it hides only where it crosses. Where no inner line is clear (openings joined
    by a cut bridged with loose fibres), the middle of the box stands for the gap."""
    x, y, w, h = box
    px, py, _ = _inner_lines(box, lat, strand_px)
    sums = op.clear_sums
    xi = np.clip(px.astype(int), 0, sums.shape[1] - 2)
    yi = np.clip(py.astype(int), 0, sums.shape[0] - 2)
    clear = (sums[yi + 1, xi + 1] - sums[yi, xi + 1] - sums[yi + 1, xi] + sums[yi, xi]) > 0
    if not clear.any():
        return seen.hidden_share(x + w / 2, y + h / 2, strand_px)
    return float(seen.hidden_at(xi[clear], yi[clear]).mean())


def _under(op: Openings, boxes) -> np.ndarray:
    """Openings whose bounding box meets any of `boxes` (x, y, w, h), same pixels."""
    hit = np.zeros(len(op), bool)
    for x, y, w, h in boxes:
        hit |= ((op.x0 < x + w) & (op.x0 + op.bw > x) & (op.y0 < y + h) & (op.y0 + op.bh > y))
    return hit


def _mesh_stats(op: Openings, regular: np.ndarray, seg: Segments,
                s: float) -> MeshStats:
    pw = (op.cx[seg.b] - op.cx[seg.a])[seg.vertical] / s
    ph = (op.cy[seg.b] - op.cy[seg.a])[~seg.vertical] / s
    widths = seg.width_px / s
    return MeshStats(
        openings=int(regular.sum()),
        opening_w_mm=Stat.of(op.span_w[regular] / s),
        opening_h_mm=Stat.of(op.span_h[regular] / s),
        pitch_mm=Stat.of(np.concatenate([pw, ph])),
        strand_width_mm=Stat.of(widths),
        pitch_w_mm=float(pw.mean()) if len(pw) else float("nan"),
        pitch_h_mm=float(ph.mean()) if len(ph) else float("nan"),
    )

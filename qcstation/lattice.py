"""Lattice cells of the openings by linking each to its neighbours, so the count holds under
perspective, a curved net and a pitch that changes across the view.

A global period (one pitch for the whole view) drifts by a cell within a few meshes where the
net is seen at a slant or bulges: openings then share cells though the mask is right. Here each
opening is linked to its nearest neighbour on each side, a link kept only when the two choose
each other; cells are counted along the links (one step per link), and pieces of the net that no
link joins (parted by fouling, a tear or the view's edge) are placed by the local pitch from
their nearest placed opening. Every length is in pitches.
"""

from __future__ import annotations

from collections import deque

import numpy as np

REACH = (0.6, 1.4)  # a neighbour's centre lies this many pitches away along the axis
SLANT = 0.5  # ... and at most this share of that distance across it
LOCAL_PAIRS = 6  # the local pitch: from this many pairs of neighbours nearest an opening


def link_cells(cx: np.ndarray, cy: np.ndarray, pitch_x: float, pitch_y: float,
               linkable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) lattice cell of each opening centre, both from 0. Only `linkable` openings
    (of one cell's size: a merged region's centre lies between cells) are linked."""
    n = len(cx)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = _candidates(cx, cy, max(pitch_x, pitch_y))
    if linkable is not None:
        keep = linkable[a] & linkable[b]
        a, b = a[keep], b[keep]
    right = _mutual(a, b, cx[b] - cx[a], cy[b] - cy[a], pitch_x, n)
    down = _mutual(a, b, cy[b] - cy[a], cx[b] - cx[a], pitch_y, n)
    row, col = _walk(n, right, down)
    _place_rest(cx, cy, row, col, pitch_x, pitch_y)
    return row - row.min(), col - col.min()


def _candidates(cx: np.ndarray, cy: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b), a != b, whose centres lie in neighbouring buckets of one pitch."""
    bx = np.floor(cx / pitch).astype(np.int64)
    by = np.floor(cy / pitch).astype(np.int64)
    width = int(bx.max()) + 4
    key = (by + 2) * width + (bx + 2)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    a_out, b_out = [], []
    for dy in (-2, -1, 0, 1, 2):
        for dx in (-2, -1, 0, 1, 2):
            k = key + dy * width + dx
            lo = np.searchsorted(sorted_key, k, "left")
            hi = np.searchsorted(sorted_key, k, "right")
            most = int((hi - lo).max())
            for j in range(most):
                ok = lo + j < hi
                a_out.append(np.flatnonzero(ok))
                b_out.append(order[(lo + j)[ok]])
    a, b = np.concatenate(a_out), np.concatenate(b_out)
    keep = a != b
    return a[keep], b[keep]


def _mutual(a, b, along, across, pitch: float, n: int) -> np.ndarray:
    """Links (i, j): j is i's nearest neighbour after it along the axis and i is j's nearest
    before it. Returns (K, 2)."""
    fwd = _nearest(a, b, along, across, pitch, n)
    back = _nearest(a, b, -along, across, pitch, n)
    i = np.flatnonzero(fwd >= 0)
    j = fwd[i]
    ok = back[j] == i
    return np.stack([i[ok], j[ok]], 1)


def _nearest(a, b, along, across, pitch: float, n: int) -> np.ndarray:
    """For each opening, the nearest candidate ahead along the axis (-1 if none)."""
    ok = ((along > REACH[0] * pitch) & (along < REACH[1] * pitch)
          & (np.abs(across) < SLANT * along))
    a, b, d = a[ok], b[ok], np.hypot(along[ok], across[ok])
    order = np.lexsort((d, a))
    a, b = a[order], b[order]
    first = np.ones(len(a), bool)
    first[1:] = a[1:] != a[:-1]
    out = np.full(n, -1)
    out[a[first]] = b[first]
    return out


def _walk(n: int, right: np.ndarray, down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells counted along the links from the first opening of each linked piece; unlinked
    openings keep row = col = INT_MIN (placed after)."""
    steps: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
    for links, dr, dc in ((right, 0, 1), (down, 1, 0)):
        for i, j in links:
            steps[i].append((int(j), dr, dc))
            steps[j].append((int(i), -dr, -dc))
    unset = np.iinfo(np.int64).min
    row, col = np.full(n, unset), np.full(n, unset)
    piece = np.full(n, -1)
    # largest pieces first, so that smaller pieces are placed against them
    for start in np.argsort([-len(s) for s in steps], kind="stable"):
        if row[start] != unset or not steps[start]:
            continue
        row[start], col[start], piece[start] = 0, 0, start
        queue = deque([int(start)])
        while queue:
            i = queue.popleft()
            for j, dr, dc in steps[i]:
                if row[j] == unset:
                    row[j], col[j], piece[j] = row[i] + dr, col[i] + dc, start
                    queue.append(j)
    _join_pieces(row, col, piece)
    return row, col


def _join_pieces(row: np.ndarray, col: np.ndarray, piece: np.ndarray) -> None:
    """Only the largest linked piece keeps its cells: the others (parted from it by fouling or
    a tear) are placed by `_place_rest` from the openings nearest to them."""
    ids, sizes = np.unique(piece[piece >= 0], return_counts=True)
    if len(ids) > 1:
        others = (piece >= 0) & (piece != ids[int(np.argmax(sizes))])
        row[others] = col[others] = np.iinfo(np.int64).min


def _place_rest(cx, cy, row, col, pitch_x: float, pitch_y: float) -> None:
    """Place unplaced openings by the local pitch from the nearest placed opening, nearest
    first, so a run of unlinked openings is stepped across a cell at a time."""
    unset = np.iinfo(np.int64).min
    placed = row != unset
    if not placed.any():  # nothing linked: the global pitch from the first opening
        row[:] = np.round((cy - cy[0]) / pitch_y).astype(np.int64)
        col[:] = np.round((cx - cx[0]) / pitch_x).astype(np.int64)
        return
    while not placed.all():
        todo = np.flatnonzero(~placed)
        done = np.flatnonzero(placed)
        d = np.hypot((cx[todo, None] - cx[done]) / pitch_x, (cy[todo, None] - cy[done]) / pitch_y)
        k = np.argmin(d, axis=1)
        # the closest of them all is placed first; all within 1.6 pitches of a placed one
        # go together (they do not lean on each other)
        near = d[np.arange(len(todo)), k]
        go = near <= max(1.6, float(near.min()))
        i, j = todo[go], done[k[go]]
        row[i] = row[j] + np.round((cy[i] - cy[j]) / pitch_y).astype(np.int64)
        col[i] = col[j] + np.round((cx[i] - cx[j]) / pitch_x).astype(np.int64)
        placed[i] = True


def neighbour_pitch(cx: np.ndarray, cy: np.ndarray, opening_px: float
                    ) -> tuple[float, float] | None:
    """The median spacing (x, y) of each opening to its nearest neighbour along each axis, or
    None with too few neighbours. `opening_px`, a typical opening's side, bounds the search:
    a pitch is one opening and one strand, and a strand is thinner than an opening."""
    if len(cx) < 8:
        return None
    a, b = _candidates(cx, cy, 2.0 * opening_px)
    out = []
    for along, across in ((cx[b] - cx[a], cy[b] - cy[a]), (cy[b] - cy[a], cx[b] - cx[a])):
        ok = (along > 0.5 * opening_px) & (np.abs(across) < SLANT * along)
        if ok.sum() < 8:
            return None
        aa, d = a[ok], along[ok]
        order = np.lexsort((d, aa))
        aa, d = aa[order], d[order]
        first = np.ones(len(aa), bool)
        first[1:] = aa[1:] != aa[:-1]
        out.append(float(np.median(d[first])))
    return out[0], out[1]


def local_pitch(cx: np.ndarray, cy: np.ndarray, row: np.ndarray, col: np.ndarray,
                grid: np.ndarray, regular: np.ndarray, pitch: tuple[float, float]
                ) -> tuple[np.ndarray, np.ndarray]:
    """The pitch (x, y) around each opening: the median spacing of the LOCAL_PAIRS pairs of
    neighbouring regular openings (next to each other on the lattice) nearest to it; the
    view's pitch where there are fewer than 3 pairs."""
    out = []
    for axis, (dr, dc) in enumerate(((0, 1), (1, 0))):
        a = grid[:grid.shape[0] - dr, :grid.shape[1] - dc].ravel()
        b = grid[dr:, dc:].ravel()
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        ok = regular[a] & regular[b]
        a, b = a[ok], b[ok]
        result = np.full(len(cx), pitch[axis])
        if len(a) >= 3:
            step = (cx[b] - cx[a]) if axis == 0 else (cy[b] - cy[a])
            mx, my = 0.5 * (cx[a] + cx[b]), 0.5 * (cy[a] + cy[b])
            d2 = ((cx[:, None] - mx) / pitch[0]) ** 2 + ((cy[:, None] - my) / pitch[1]) ** 2
            k = min(LOCAL_PAIRS, len(a))
            nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
            result = np.median(step[nearest], axis=1)
        out.append(result)
    return out[0], out[1]

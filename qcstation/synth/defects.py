"""Structural defects planted into the net geometry: broken strands, holes, irregular mesh, thin
strands; with their ground-truth region (openings merged or affected, or the thin segment).

A segment is named (axis, strand k, m): strand k of that axis between its crossings m and m+1.
Vertical segment (v, j, i) borders openings (i, j-1) and (i, j); horizontal (h, i, j) borders
openings (i-1, j) and (i, j).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .net import FRAY_SAMPLES, GRID_MM, Cut, Net

logger = logging.getLogger(__name__)

STRUCTURAL = ("broken_strand", "hole", "irregular_mesh", "thin_strand")
Segment = tuple[str, int, int]
Opening = tuple[int, int]


@dataclass(frozen=True)
class Planted:
    """A structural defect: openings whose union is its region, or the thin segment."""

    type: str
    kind: str  # finer kind, e.g. "2x2" for a hole
    openings: tuple[Opening, ...]
    segment: Segment | None = None


def adjacent(seg: Segment) -> list[Opening]:
    axis, k, m = seg
    return [(m, k - 1), (m, k)] if axis == "v" else [(k - 1, m), (k, m)]


def ends(seg: Segment) -> list[tuple[int, int]]:
    """The crossings (i, j) at the two ends of a segment."""
    axis, k, m = seg
    return [(m, k), (m + 1, k)] if axis == "v" else [(k, m), (k, m + 1)]


def plant_structural(
    rng: np.random.Generator,
    net: Net,
    cross: tuple[np.ndarray, np.ndarray],
    inside: np.ndarray,
    kinds: list[str],
) -> list[Planted]:
    """Plant each kind at a free place whose openings and their neighbours are all in view."""
    used = np.zeros(inside.shape, bool)
    out = []
    for kind in kinds:
        segs, region, sub = _draw_place(rng, kind, inside, used)
        if region is None:
            logger.info("no room for a %s in this view; skipped", kind)
            continue
        i0, j0 = np.array(region).min(axis=0)
        i1, j1 = np.array(region).max(axis=0)
        used[max(i0 - 2, 0) : i1 + 3, max(j0 - 2, 0) : j1 + 3] = True
        _apply(rng, net, cross, kind, segs)
        out.append(Planted(kind, sub, tuple(region), segs[0] if kind == "thin_strand" else None))
    return out


def _draw_place(
    rng: np.random.Generator, kind: str, inside: np.ndarray, used: np.ndarray
) -> tuple[list[Segment], list[Opening] | None, str]:
    for _ in range(200):
        i, j = int(rng.integers(1, inside.shape[0] - 2)), int(rng.integers(1, inside.shape[1] - 2))
        segs, sub = _segments(rng, kind, i, j)
        region = sorted({o for s in segs for o in adjacent(s)})
        if _room(region, inside, used):
            return segs, region, sub
    return [], None, ""


def _segments(rng: np.random.Generator, kind: str, i: int, j: int) -> tuple[list[Segment], str]:
    """Segments a defect of `kind` changes, anchored at opening (i, j)."""
    vertical = bool(rng.random() < 0.5)
    if kind in ("broken_strand", "thin_strand"):
        return [("v", j + 1, i) if vertical else ("h", i + 1, j)], kind
    if kind == "irregular_mesh":
        n = 1 if rng.random() < 0.6 else 2
        segs = [("v", j + 1, i + d) if vertical else ("h", i + 1, j + d) for d in range(n)]
        return segs, f"{n} segment{'s' * (n > 1)} displaced"
    # hole: segments around crossing (i+1, j+1): up, right, down, left
    ring = [("v", j + 1, i), ("h", i + 1, j + 1), ("v", j + 1, i + 1), ("h", i + 1, j)]
    shape = rng.choice(["2x2", "T", "L"], p=[0.4, 0.3, 0.3])
    start = int(rng.integers(0, 4))
    count = {"2x2": 4, "T": 3, "L": 2}[str(shape)]
    return [ring[(start + n) % 4] for n in range(count)], str(shape)


def _room(region: list[Opening], inside: np.ndarray, used: np.ndarray) -> bool:
    """All openings of the region and their 8 neighbours are in view, and none is taken."""
    for i, j in region:
        if i < 1 or j < 1 or i + 2 > inside.shape[0] or j + 2 > inside.shape[1]:
            return False
        if not inside[i - 1 : i + 2, j - 1 : j + 2].all() or used[i, j]:
            return False
    return True


def _apply(
    rng: np.random.Generator,
    net: Net,
    cross: tuple[np.ndarray, np.ndarray],
    kind: str,
    segs: list[Segment],
) -> None:
    if kind == "broken_strand":
        _cut(rng, net, cross, segs, stub=(1.0, 3.0), fray=1.2)
    elif kind == "hole":
        _cut(rng, net, cross, segs, stub=(1.5, 4.5), fray=2.5)
        if len(segs) == 4:  # the crossing they share is torn out with them
            net.no_knot |= set.intersection(*(set(ends(s)) for s in segs))
    elif kind == "irregular_mesh":
        _displace(rng, net, cross, segs)
    else:
        _thin(rng, net, cross, segs[0])


def crossing_t(cross: tuple[np.ndarray, np.ndarray], axis: str, k: int) -> np.ndarray:
    """Positions of the crossings along strand k of `axis`."""
    cx, cy = cross
    return cy[:, k] if axis == "v" else cx[k, :]


def edge_t(
    net: Net, cross: tuple[np.ndarray, np.ndarray], axis: str, k: int, m: int, side: float
) -> float:
    """Where strand k meets the edge (side -1 near, +1 far) of the strand crossing it at m."""
    cx, cy = cross
    other = net.strands("h" if axis == "v" else "v")
    at = cx[m, k] if axis == "v" else cy[k, m]
    return float(other.centre_at(m, at) + side * other.half_at(m, at))


def _cut(
    rng: np.random.Generator,
    net: Net,
    cross: tuple[np.ndarray, np.ndarray],
    segs: list[Segment],
    stub: tuple[float, float],
    fray: float,
) -> None:
    """Remove segments; consecutive ones on a strand become one cut. Frayed stubs at the ends."""
    by_strand: dict[tuple[str, int], list[int]] = {}
    for axis, k, m in segs:
        by_strand.setdefault((axis, k), []).append(m)
    for (axis, k), ms in by_strand.items():
        ms.sort()
        groups = np.split(np.array(ms), np.flatnonzero(np.diff(ms) > 1) + 1)
        for g in groups:
            t0 = edge_t(net, cross, axis, k, int(g[0]), 1.0) + rng.uniform(*stub)
            t1 = edge_t(net, cross, axis, k, int(g[-1]) + 1, -1.0) - rng.uniform(*stub)
            net.cuts.append(Cut(axis, k, t0, t1, _fray(rng, fray), _fray(rng, fray)))


def _fray(rng: np.random.Generator, amount: float) -> np.ndarray:
    steps = rng.normal(0, 1, FRAY_SAMPLES)
    walk = np.abs(np.convolve(steps, np.ones(3) / 3, "same"))
    spikes = (rng.random(FRAY_SAMPLES) < 0.25) * rng.uniform(0, 1, FRAY_SAMPLES)
    return amount * np.clip(0.5 * walk + spikes, 0, 1.5)


def _profile(t: np.ndarray, ta: float, tb: float, ramp: float) -> np.ndarray:
    """1 between ta + ramp and tb - ramp, smoothly 0 at ta and tb, 0 outside."""

    def step(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, 0, 1)
        return x * x * (3 - 2 * x)

    return step((t - ta) / ramp) * step((tb - t) / ramp)


def _displace(
    rng: np.random.Generator, net: Net, cross: tuple[np.ndarray, np.ndarray], segs: list[Segment]
) -> None:
    """Shift 1-2 consecutive segments sideways by 35-55 % of the opening, ramping at the ends."""
    axis, k, m0 = segs[0]
    m1 = segs[-1][2] + 1
    tc = crossing_t(cross, axis, k)
    strands = net.strands(axis)
    across, along = (0, 1) if axis == "v" else (1, 0)
    shift = rng.choice([-1.0, 1.0]) * rng.uniform(0.35, 0.55) * net.params.opening_mm[across]
    ramp = 0.42 * net.params.pitch_mm[along]  # a smooth bow, nearly flat in the middle
    strands.centre[k] += shift * _profile(strands.grid(), float(tc[m0]), float(tc[m1]), ramp)


def _thin(
    rng: np.random.Generator, net: Net, cross: tuple[np.ndarray, np.ndarray], seg: Segment
) -> None:
    axis, k, m = seg
    tc = crossing_t(cross, axis, k)
    strands = net.strands(axis)
    thin = rng.uniform(1.8, 3.0)
    ramp = net.params.yarn_mm / 2 + rng.uniform(1.5, 3.0)
    p = _profile(strands.grid(), float(tc[m]), float(tc[m + 1]), ramp)
    n = strands.width.shape[1]
    wobble = 1 + 0.04 * np.sin(np.arange(n) * GRID_MM / rng.uniform(3, 7) + rng.uniform(0, 6))
    strands.width[k] = strands.width[k] * (1 - p) + np.clip(thin * wobble, 1.8, 3.0) * p

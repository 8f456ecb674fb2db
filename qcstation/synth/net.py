"""Net geometry in its own mm frame: wavy strands of varying width, crossings, cut segments.

Frames. The net frame (u, v) in mm lies on the bench plane; bench = R(angle) @ (u, v) + origin,
where the bench frame is the frame of the calibration board lying flat on the bench (z = 0).
Vertical strands ("v", index j, left to right) have their centre line at u = c_j(v); horizontal
strands ("h", index i, top to bottom) at v = c_i(u). Each strand has a perpendicular width w(t)
along its length t (t = v for vertical strands, t = u for horizontal ones); its edges at t lie at
c(t) -/+ half(t), with half(t) = w(t)/2 * sqrt(1 + c'(t)^2) (the cross-section across the net axis
of a strand w wide measured perpendicular to its centre line). Hairs are not part of the strand.
All functions of t are tabulated on a uniform grid (step 0.1 mm) and read by linear interpolation,
and both the renderer and the ground truth read the same tables.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..spec import Spec

logger = logging.getLogger(__name__)

GRID_MM = 0.1
FRAY_SAMPLES = 33  # fray length samples across a cut strand end


@dataclass
class StrandSet:
    """Parallel strands of one direction, tabulated along their length."""

    t0: float  # first grid coordinate along the strands, mm
    centre: np.ndarray  # (S, T) centre line position across the strand, mm
    width: np.ndarray  # (S, T) perpendicular width, mm

    @property
    def count(self) -> int:
        return self.centre.shape[0]

    @property
    def t_end(self) -> float:
        return self.t0 + (self.centre.shape[1] - 1) * GRID_MM

    def grid(self) -> np.ndarray:
        return self.t0 + GRID_MM * np.arange(self.centre.shape[1])

    def _cell(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = (np.asarray(t, np.float64) - self.t0) / GRID_MM
        k = np.clip(np.floor(f).astype(np.int64), 0, self.centre.shape[1] - 2)
        return k, f - k

    def _interp(self, table: np.ndarray, idx, t) -> np.ndarray:
        k, a = self._cell(t)
        return table[idx, k] * (1 - a) + table[idx, k + 1] * a

    def centre_at(self, idx, t) -> np.ndarray:
        return self._interp(self.centre, idx, t)

    def width_at(self, idx, t) -> np.ndarray:
        return self._interp(self.width, idx, t)

    def slope_at(self, idx, t) -> np.ndarray:
        k, _ = self._cell(t)
        return (self.centre[idx, k + 1] - self.centre[idx, k]) / GRID_MM

    def half_at(self, idx, t) -> np.ndarray:
        """Half the strand's extent across the net axis at t (edges at centre -/+ half)."""
        s = self.slope_at(idx, t)
        return 0.5 * self.width_at(idx, t) * np.sqrt(1 + s * s)


@dataclass(frozen=True)
class Cut:
    """A removed stretch of one strand (broken strand, hole): absent for t0 + f0 < t < t1 - f1."""

    axis: str  # "v" or "h"
    strand: int
    t0: float
    t1: float
    fray0: np.ndarray  # (FRAY_SAMPLES,) extra stub length across the strand end at t0, mm
    fray1: np.ndarray

    def removes(self, t: np.ndarray, a: np.ndarray) -> np.ndarray:
        """True where the strand is absent; `a` in [-1, 1] across the strand."""
        k = np.clip(
            ((a + 1) * 0.5 * (FRAY_SAMPLES - 1)).round().astype(np.int64), 0, FRAY_SAMPLES - 1
        )
        return (t > self.t0 + self.fray0[k]) & (t < self.t1 - self.fray1[k])


@dataclass(frozen=True)
class NetParams:
    """What is drawn per image before the strands: nominal sizes and how irregular the net is."""

    opening_mm: tuple[float, float]  # nominal clear opening, (across vertical strands, along)
    yarn_mm: float
    angle_deg: float  # net x axis from bench x axis towards bench y axis
    jitter: float = 0.03  # sigma of strand position jitter, fraction of the pitch
    wave_mm: float = 0.6  # amplitude of the centre line wave
    width_var: float = 0.12  # relative amplitude of the smooth width variation
    min_width_mm: float = 4.8  # a normal strand never gets thinner than this
    crossing: str = "knot"  # "knot" or "woven"

    @property
    def pitch_mm(self) -> tuple[float, float]:
        return (self.opening_mm[0] + self.yarn_mm, self.opening_mm[1] + self.yarn_mm)


@dataclass
class Net:
    """One net laid on the bench: both strand sets, its placement and its removed stretches."""

    params: NetParams
    v: StrandSet
    h: StrandSet
    origin_mm: np.ndarray  # bench coordinates of the net origin
    cuts: list[Cut] = field(default_factory=list)
    no_knot: set[tuple[int, int]] = field(default_factory=set)  # crossings (i, j) torn out

    def strands(self, axis: str) -> StrandSet:
        return self.v if axis == "v" else self.h

    def rotation(self) -> np.ndarray:
        a = math.radians(self.params.angle_deg)
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    def to_bench(self, uv: np.ndarray) -> np.ndarray:
        """(..., 2) net mm -> (..., 2) bench mm."""
        return np.asarray(uv, np.float64) @ self.rotation().T + self.origin_mm

    def from_bench(self, xy: np.ndarray) -> np.ndarray:
        return (np.asarray(xy, np.float64) - self.origin_mm) @ self.rotation()

    def cuts_on(self, axis: str, strand: int) -> list[Cut]:
        return [c for c in self.cuts if c.axis == axis and c.strand == strand]


def draw_params(rng: np.random.Generator, spec: Spec) -> NetParams:
    """Nominal sizes for one image: mostly near the spec, sometimes anywhere in 10-30 mm."""
    m = spec.mesh
    yarn = float(rng.uniform(4.8, 8.0))
    nominal = np.array(m.opening_mm, np.float64)
    if m.quantity == "pitch":
        nominal = nominal - yarn
    if rng.random() < 0.6:
        opening = nominal + rng.uniform(-0.6, 0.6) * m.tolerance_mm
        if rng.random() < 0.1:
            opening[1] = nominal[1] + rng.uniform(-0.6, 0.6) * m.tolerance_mm
        else:
            opening[1] = opening[0] + nominal[1] - nominal[0]
    else:
        opening = np.full(2, rng.uniform(10.0, 30.0))
        if rng.random() < 0.1:
            opening[1] = rng.uniform(10.0, 30.0)
    opening = np.clip(opening, 6.0, None)
    return NetParams(
        opening_mm=(round(float(opening[0]), 3), round(float(opening[1]), 3)),
        yarn_mm=round(yarn, 3),
        angle_deg=float(rng.uniform(-12, 12)),
        jitter=float(rng.uniform(0.02, 0.04)),
        wave_mm=float(rng.uniform(0.3, 1.0)),
        width_var=float(rng.uniform(0.10, 0.15)),
        min_width_mm=m.min_strand_mm + 0.8,
        crossing="knot" if rng.random() < 0.6 else "woven",
    )


def build_net(
    params: NetParams,
    rng: np.random.Generator,
    bench_box: np.ndarray,
    shift_mm: np.ndarray | None = None,
) -> Net:
    """Strands covering the bench region `bench_box` ((4, 2) corner points, mm) with margin.

    `shift_mm` places the strand grid (default: random within one pitch).
    """
    probe = Net(
        params,
        StrandSet(0, np.zeros((1, 2)), np.zeros((1, 2))),
        StrandSet(0, np.zeros((1, 2)), np.zeros((1, 2))),
        np.zeros(2),
    )
    uv = probe.from_bench(bench_box)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    pitch = np.array(params.pitch_mm)
    shift = rng.uniform(0, 1, 2) * pitch if shift_mm is None else np.asarray(shift_mm)
    start = np.floor((lo - 2.5 * pitch) / pitch) * pitch + shift
    v = _strand_set(
        rng,
        params,
        start[0],
        pitch[0],
        hi[0] + 2.5 * pitch[0],
        lo[1] - 3 * pitch[1],
        hi[1] + 3 * pitch[1],
    )
    h = _strand_set(
        rng,
        params,
        start[1],
        pitch[1],
        hi[1] + 2.5 * pitch[1],
        lo[0] - 3 * pitch[0],
        hi[0] + 3 * pitch[0],
    )
    return Net(params, v, h, np.zeros(2))


def _strand_set(
    rng: np.random.Generator,
    p: NetParams,
    first: float,
    pitch: float,
    last: float,
    t_lo: float,
    t_hi: float,
) -> StrandSet:
    n = int(math.floor((last - first) / pitch)) + 1
    pos = first + pitch * np.arange(n) + rng.normal(0, p.jitter * pitch, n)
    t = t_lo + GRID_MM * np.arange(int(math.ceil((t_hi - t_lo) / GRID_MM)) + 1)
    centre = pos[:, None] + _waves(rng, t, n, p.wave_mm * rng.uniform(0.6, 1.0, n), (80, 250))
    centre += _waves(rng, t, n, p.wave_mm * rng.uniform(0.15, 0.3, n), (25, 60))
    var = _waves(rng, t, n, np.full(n, 0.65), (40, 150)) + _waves(
        rng, t, n, np.full(n, 0.35), (15, 40)
    )
    own = 1 + rng.normal(0, 0.03, n)[:, None]
    width = p.yarn_mm * own * (1 + p.width_var * var)
    return StrandSet(float(t[0]), centre, np.maximum(width, p.min_width_mm))


def _waves(
    rng: np.random.Generator,
    t: np.ndarray,
    n: int,
    amp: np.ndarray,
    wavelength: tuple[float, float],
) -> np.ndarray:
    lam = rng.uniform(*wavelength, n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n)[:, None]
    return amp[:, None] * np.sin(2 * np.pi * t[None, :] / lam + phase)


def regular(params: NetParams, bench_box: np.ndarray, shift_mm: np.ndarray) -> Net:
    """A net with no jitter, wave or width variation (for analytic checks)."""
    flat = replace(params, jitter=0.0, wave_mm=0.0, width_var=0.0, min_width_mm=0.0)
    net = build_net(flat, np.random.default_rng(0), bench_box, shift_mm)
    net.v.width[:] = params.yarn_mm
    net.h.width[:] = params.yarn_mm
    return net


def crossings(net: Net) -> tuple[np.ndarray, np.ndarray]:
    """Centre-line intersections: (x, y) arrays (NH, NV) in net mm, crossing (i, j) = h_i x v_j."""
    nh, nv = net.h.count, net.v.count
    jj = np.broadcast_to(np.arange(nv)[None, :], (nh, nv))
    ii = np.broadcast_to(np.arange(nh)[:, None], (nh, nv))
    x = np.broadcast_to(net.v.centre[:, net.v.centre.shape[1] // 2][None, :], (nh, nv))
    y = np.broadcast_to(net.h.centre[:, net.h.centre.shape[1] // 2][:, None], (nh, nv))
    for _ in range(8):
        x = net.v.centre_at(jj, y)
        y = net.h.centre_at(ii, x)
    return x, y

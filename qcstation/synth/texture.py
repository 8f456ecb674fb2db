"""How coir yarn looks: a twisted-ply texture tile, strand colours and shading across a strand."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from .bench import Bench
from .families import HairStyle, YarnStyle

logger = logging.getLogger(__name__)

TILE_MM = 0.1  # tile sample step along the strand
TILE_LEN = 4096  # samples along (409.6 mm, then it repeats, offset per strand)
ACROSS = 33  # samples across the strand, a = -1 .. 1
ALONG_STEP_MM = 4.0  # step of the slow brightness variation along a strand
FUZZ_STEP_MM = 0.05  # fuzz tile sample step outwards from the yarn edge


@dataclass(frozen=True)
class Look:
    """Appearance of one net under one bench set-up."""

    tile: np.ndarray  # (TILE_LEN, ACROSS) float32 brightness, mean ~1
    profile: dict[str, np.ndarray]  # axis -> (ACROSS,) shading across a strand
    opacity: np.ndarray  # (ACROSS,) opacity across a strand (translucent fringe when backlit)
    colour: dict[str, np.ndarray]  # axis -> (S, 3) BGR per strand, lit
    along: dict[str, np.ndarray]  # axis -> (S, A) slow brightness variation along each strand
    along_t0: dict[str, float]
    offset: dict[str, np.ndarray]  # axis -> (S,) tile offsets (samples)
    base: np.ndarray  # (3,) BGR of this net's yarn, lit
    backlit: bool
    light: np.ndarray  # (3,) unit vector towards the front light in net (u, v, up) axes
    fuzz: np.ndarray | None = None  # (TILE_LEN, F) coverage of edge fuzz, out from the edge
    fuzz_mm: float = 0.0  # how far the fuzz reaches beyond the yarn body

    def fuzz_at(
        self, s: np.ndarray, out_mm: np.ndarray, side: np.ndarray, offset: int
    ) -> np.ndarray:
        """Fuzz coverage at along s (mm), `out_mm` beyond the body edge, on side +-1."""
        i_s = (s * (1 / TILE_MM)).astype(np.int64) + offset + np.where(side > 0, TILE_LEN // 2, 0)
        i_o = np.clip((out_mm * (1 / FUZZ_STEP_MM)).astype(np.int64), 0, self.fuzz.shape[1] - 1)
        return self.fuzz[i_s % TILE_LEN, i_o] * ((out_mm > 0) & (out_mm < self.fuzz_mm))

    def sample(self, s: np.ndarray, a: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
        """Tile value and across index at along-coordinate s (mm) and across a in [-1, 1]."""
        i_s = (s * (1 / TILE_MM) + offset).astype(np.int64) % TILE_LEN
        i_a = across_index(a)
        return self.tile[i_s, i_a], i_a

    def strand_rgb(
        self, axis: str, k: int, s: np.ndarray, a: np.ndarray, factor: np.ndarray | float = 1.0
    ) -> np.ndarray:
        """Lit colour (h, w, 3) of strand k of `axis` at along s (mm) and across a."""
        tex, i_a = self.sample(s, a, float(self.offset[axis][k]))
        slow = np.interp(
            s,
            self.along_t0[axis] + ALONG_STEP_MM * np.arange(self.along[axis].shape[1]),
            self.along[axis][k],
        )
        val = (tex * self.profile[axis][i_a] * slow * factor).astype(np.float32)
        return val[..., None] * self.colour[axis][k]


def across_index(a: np.ndarray) -> np.ndarray:
    """Nearest of the ACROSS samples for a in [-1, 1]."""
    return np.clip(((a + 1) * (0.5 * (ACROSS - 1)) + 0.5).astype(np.int64), 0, ACROSS - 1)


def draw_look(
    rng: np.random.Generator,
    bench: Bench,
    yarn_mm: float,
    angle_deg: float,
    strands: dict[str, tuple[int, float, float]],
    yarn: YarnStyle | None = None,
    hair: HairStyle | None = None,
) -> Look:
    """Yarn appearance; `strands` maps axis -> (count, t_start, t_end) of the strand set.

    `yarn` and `hair` (appearance families) set the colour, plies, twist, highlights and fuzz;
    without them the classic look is drawn."""
    base = _yarn_colour(rng) * bench.yarn_light
    if yarn is not None:
        base = np.array(yarn.colour_bgr, np.float32) * bench.yarn_light
    colour, along, along_t0, offset = {}, {}, {}, {}
    for axis, (n, t0, t1) in strands.items():
        shade = 1 + rng.normal(0, 0.07, (n, 1))
        hue = 1 + np.clip(rng.normal(0, 0.015, (n, 3)), -0.04, 0.04)
        colour[axis] = (base[None, :] * shade * hue).astype(np.float32)
        m = int((t1 - t0) / ALONG_STEP_MM) + 2
        slow = cv2.GaussianBlur(
            rng.standard_normal((n, m)).astype(np.float32), (0, 0), sigmaX=4.0, sigmaY=0.1
        )
        along[axis] = 1 + 0.25 * slow
        along_t0[axis] = t0
        offset[axis] = rng.integers(0, TILE_LEN, n)
    fuzz = None
    if hair is not None and hair.fuzz_per_mm > 0:
        fuzz = fuzz_tile(rng, hair.fuzz_per_mm, hair.fuzz_mm, 0.75 if bench.backlit else 0.9)
    return Look(
        tile=yarn_tile(rng, yarn_mm, yarn),
        profile=_profiles(bench, angle_deg),
        opacity=_opacity(bench),
        colour=colour,
        along=along,
        along_t0=along_t0,
        offset=offset,
        base=base.astype(np.float32),
        backlit=bench.backlit,
        light=_light(bench, angle_deg),
        fuzz=fuzz,
        fuzz_mm=hair.fuzz_mm if fuzz is not None else 0.0,
    )


def _yarn_colour(rng: np.random.Generator) -> np.ndarray:
    """BGR reflectance of coir yarn: golden to dark brown, not very saturated."""
    r = rng.uniform(0.32, 0.55)
    g = r * rng.uniform(0.70, 0.80)
    b = g * rng.uniform(0.62, 0.78)
    return np.array([b, g, r], np.float32)


def yarn_tile(
    rng: np.random.Generator, yarn_mm: float, style: YarnStyle | None = None
) -> np.ndarray:
    """Brightness of twisted yarn over (along, across): plies on a helix, fibre streaks, blotches.

    A ply helix on a cylinder projects to s = q + P/(2 pi) * arcsin(a): curved diagonal grooves.
    The twist is irregular (the phase wanders) and fibres run at scattered angles.
    """
    s = TILE_MM * np.arange(TILE_LEN, dtype=np.float64)[:, None]
    a = np.linspace(-1, 1, ACROSS)[None, :]
    turn = yarn_mm * rng.uniform(2.2, 3.4)  # length of one full turn of a ply
    plies = int(rng.choice([2, 3], p=[0.7, 0.3]))
    twist = rng.choice([-1.0, 1.0])
    if style is not None:
        turn, plies = yarn_mm * style.turn, style.plies
    wander = _noise1d(rng, TILE_LEN, 60.0)[:, None] * 0.35 * turn / plies
    q = s + wander + twist * turn / (2 * np.pi) * np.arcsin(np.clip(a, -0.999, 0.999))
    phase = (q * plies / turn) % 1.0
    groove = 0.5 + 0.5 * _noise1d(rng, TILE_LEN, 30.0)[:, None] ** 2
    if style is None:
        ply = 1 - (0.25 + 0.25 * groove) * (1 - np.sin(np.pi * phase) ** 0.5)
    else:  # deep grooves between the plies, bright highlights along their crests
        crest = np.sin(np.pi * phase)
        ply = 1 - np.clip(style.groove * groove, 0, 0.9) * (1 - crest**0.5)
        ply = ply + style.highlight * crest**6 * (1 - 0.7 * a * a)
    fibres = _fibres(rng, q, s, a, yarn_mm)
    blotch = cv2.GaussianBlur(
        rng.standard_normal((TILE_LEN, ACROSS)).astype(np.float32), (0, 0), sigmaX=2.0, sigmaY=40.0
    )
    tile = ply * (1 + fibres + 0.4 * blotch)
    return (tile / tile.mean()).astype(np.float32)


def fuzz_tile(
    rng: np.random.Generator, per_mm: float, reach_mm: float, alpha: float
) -> np.ndarray:
    """Coverage of short fibres standing out of a yarn edge, (TILE_LEN, F): along x outwards.

    The two halves of the tile along (offset TILE_LEN // 2) serve the two edges of a strand."""
    n_out = int(np.ceil(reach_mm / FUZZ_STEP_MM)) + 1
    n = int(per_mm * TILE_LEN * TILE_MM)
    start = rng.uniform(0, TILE_LEN, n)
    length = rng.uniform(0.25, 1.0, n) * reach_mm
    tilt = rng.normal(0, 0.6, n)  # radians from the edge's normal
    root = rng.uniform(-0.15, 0.0, n)  # fibres leave the body a little inside its edge
    x0 = start * 16
    y0 = (root / FUZZ_STEP_MM) * 16
    x1 = (start + np.sin(tilt) * length / TILE_MM) * 16
    y1 = ((root + np.cos(tilt) * length) / FUZZ_STEP_MM) * 16
    pts = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    img = np.zeros((n_out, TILE_LEN), np.uint8)
    cv2.polylines(img, list(np.round(pts).astype(np.int32)), False, 255, 1, cv2.LINE_AA, 4)
    cov = cv2.GaussianBlur(img.astype(np.float32) / 255, (0, 0), sigmaX=0.7, sigmaY=0.5)
    fade = 1 - 0.6 * np.linspace(0, 1, n_out)[:, None]  # fewer fibres reach far out
    return np.ascontiguousarray((np.clip(cov * 1.6, 0, 1) * fade * alpha).T).astype(np.float32)


def _noise1d(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Smooth periodic noise with unit standard deviation, correlation length ~sigma samples."""
    x = rng.standard_normal(n).astype(np.float32)
    x = cv2.GaussianBlur(np.tile(x, 3)[None, :], (0, 0), sigmaX=sigma)[0, n : 2 * n]
    return x / max(float(x.std()), 1e-6)


def _fibres(
    rng: np.random.Generator, q: np.ndarray, s: np.ndarray, a: np.ndarray, yarn_mm: float
) -> np.ndarray:
    """Streaks of single fibres: most follow the ply helix, some run along the strand."""
    n = 8192
    line = np.repeat(rng.standard_normal(n // 2), 2) + 0.5 * rng.standard_normal(n)
    helix = line[(q * 7.0).astype(np.int64) % n]
    helix = helix * (0.6 + 0.4 * _noise1d(rng, TILE_LEN, 25.0)[:, None])
    across_mm = a * yarn_mm / 2
    along = line[((across_mm * 9.0 + 0.013 * s).astype(np.int64) + 4000) % n]
    gate = _noise1d(rng, TILE_LEN, 15.0)[:, None] > 0.6
    return 0.09 * helix + 0.08 * along * gate


def _light(bench: Bench, angle_deg: float) -> np.ndarray:
    az = bench.light_azimuth - np.radians(angle_deg)
    e = bench.light_elevation
    return np.array([np.cos(e) * np.cos(az), np.cos(e) * np.sin(az), np.sin(e)], np.float32)


def _profiles(bench: Bench, angle_deg: float) -> dict[str, np.ndarray]:
    """Lambert shading across a round strand lit from the bench's front light (flat if backlit)."""
    a = np.linspace(-1, 1, ACROSS)
    if bench.backlit:
        flat = 0.85 + 0.15 * np.sqrt(1 - a * a)
        return {"v": flat.astype(np.float32), "h": flat.astype(np.float32)}
    net = np.radians(angle_deg)
    e, az = bench.light_elevation, bench.light_azimuth
    out = {}
    for axis, across in (("v", net), ("h", net + np.pi / 2)):
        proj = np.cos(az - across)
        lam = np.clip(a * np.cos(e) * proj + np.sqrt(1 - a * a) * np.sin(e), 0, None)
        prof = 0.28 + 0.72 * lam
        out[axis] = (prof / prof.max() * 1.05).astype(np.float32)
    return out


def _opacity(bench: Bench) -> np.ndarray:
    """Yarn edges are fibrous: a little light gets through them on a light panel."""
    a = np.abs(np.linspace(-1, 1, ACROSS))
    fringe = 0.35 if bench.backlit else 0.1
    return (1 - fringe * a**6).astype(np.float32)

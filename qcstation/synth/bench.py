"""Bench set-ups: what lies under the net, how it is lit, and the light field over the image."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from . import materials
from .materials import MATERIALS

logger = logging.getLogger(__name__)

BENCHES = ("backlit", "light_table", "dark_table", "uneven")
SURFACES = MATERIALS  # front-lit tables with a real-looking surface (appearance families only)


@dataclass(frozen=True)
class Bench:
    """One bench set-up, drawn per image."""

    kind: str  # one of BENCHES
    backlit: bool  # light panel under the net: yarn is a silhouette
    surface: tuple[float, float, float]  # BGR reflectance (front-lit) or panel radiance (backlit)
    grain: float  # relative amplitude of the surface texture
    yarn_light: float  # light falling on the yarn's visible side, relative to the surface's
    light_azimuth: float  # radians, direction the front light comes from, in the image plane
    light_elevation: float  # radians above the bench
    shadow: tuple[float, float, float, float] | None  # dx_mm, dy_mm, blur_mm, darkening
    gradient: float  # fall-off of the light across the image (0 = even)
    gradient_dir: float  # radians
    vignette: float
    hotspot: tuple[float, float, float, float] | None  # x, y (fractions), sigma (fraction), gain
    gain_dn: float  # DN for radiance 1.0
    material: str = "plain"  # "plain" or one of SURFACES


def draw_bench(rng: np.random.Generator, kind: str) -> Bench:
    """Draw the lighting and surface of one bench set-up."""
    if kind not in BENCHES + SURFACES:
        raise ValueError(f"unknown bench {kind!r}; expected one of {BENCHES + SURFACES}")
    backlit = kind == "backlit" or (kind == "uneven" and rng.random() < 0.4)
    look = _uneven(rng) if kind == "uneven" else {}
    if kind in SURFACES:
        look.update(_surface_table(rng, kind))
    elif backlit:
        look.update(_panel(rng))
    elif kind == "dark_table" or (kind == "uneven" and rng.random() < 0.4):
        look.update(_dark_table(rng))
    else:
        look.update(_light_table(rng))
    return Bench(
        kind=kind,
        backlit=backlit,
        light_azimuth=float(rng.uniform(0, 2 * np.pi)),
        light_elevation=float(np.radians(rng.uniform(45, 75))),
        gradient=look.pop("gradient", float(rng.uniform(0.03, 0.12))),
        gradient_dir=float(rng.uniform(0, 2 * np.pi)),
        hotspot=look.pop("hotspot", None),
        **look,
    )


def _panel(rng: np.random.Generator) -> dict:
    """A white light panel under the net; the yarn only gets the room's light from the front."""
    tint = np.clip(1 + rng.uniform(-0.02, 0.02, 3), 0, 1)
    return dict(
        surface=tuple(float(v) for v in tint),
        grain=0.006,
        shadow=None,
        yarn_light=rng.uniform(0.10, 0.22),
        gain_dn=rng.uniform(228, 250),
        vignette=rng.uniform(0.05, 0.2),
    )


def _dark_table(rng: np.random.Generator) -> dict:
    grey = rng.uniform(0.03, 0.10) * (1 + rng.uniform(-0.08, 0.08, 3))
    return dict(
        surface=tuple(float(v) for v in grey),
        grain=0.10,
        shadow=None,
        yarn_light=1.0,
        gain_dn=rng.uniform(280, 360),
        vignette=rng.uniform(0.05, 0.15),
    )


def _light_table(rng: np.random.Generator) -> dict:
    """Light grey to white, a touch warm; the yarn casts a soft shadow 1-3 mm to one side."""
    grey = rng.uniform(0.72, 0.88)
    warm = np.array([rng.uniform(-0.04, 0.0), 0.0, rng.uniform(0.0, 0.03)])
    a, off = rng.uniform(0, 2 * np.pi), rng.uniform(1, 3)
    shadow = (off * np.cos(a), off * np.sin(a), rng.uniform(0.6, 1.5), rng.uniform(0.15, 0.35))
    return dict(
        surface=tuple(float(v) for v in grey * (1 + warm)),
        grain=0.025,
        shadow=shadow,
        yarn_light=1.0,
        gain_dn=rng.uniform(230, 270),
        vignette=rng.uniform(0.05, 0.15),
    )


def _surface_table(rng: np.random.Generator, kind: str) -> dict:
    """A front-lit table of one of the materials (wood, fabric, ...), its light a little uneven."""
    tone = materials.colour(rng, kind)
    a, off = rng.uniform(0, 2 * np.pi), rng.uniform(1, 3)
    shadow = (off * np.cos(a), off * np.sin(a), rng.uniform(0.6, 1.5), rng.uniform(0.15, 0.35))
    out = dict(
        surface=tone,
        grain=0.0,
        shadow=shadow,
        yarn_light=1.0,
        gain_dn=float(np.clip(rng.uniform(170, 230) / max(tone), 200, 290)),  # yarn unclipped
        vignette=rng.uniform(0.05, 0.2),
        material=kind,
        gradient=float(rng.uniform(0.03, 0.3)),
    )
    if rng.random() < 0.25:
        out["hotspot"] = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)),
                          float(rng.uniform(0.15, 0.3)), float(rng.uniform(0.2, 0.5)))  # fmt: skip
    return out


def _uneven(rng: np.random.Generator) -> dict:
    """A strong gradient (40-60 % fall-off) and/or a hot spot."""
    mode = rng.choice(["gradient", "hotspot", "both"])
    out: dict = {"gradient": float(rng.uniform(0.4, 0.6)) if mode != "hotspot" else 0.1}
    if mode != "gradient":
        out["hotspot"] = (
            float(rng.uniform(0.2, 0.8)),
            float(rng.uniform(0.2, 0.8)),
            float(rng.uniform(0.12, 0.3)),
            float(rng.uniform(0.5, 0.9)),
        )
    return out


def illumination(bench: Bench, size: tuple[int, int]) -> np.ndarray:
    """Relative light over the image, float32 (H, W), computed coarse and resized (it is smooth)."""
    w, h = size
    cw, ch = max(w // 16, 8), max(h // 16, 8)
    x = (np.arange(cw, dtype=np.float32) + 0.5) / cw
    y = (np.arange(ch, dtype=np.float32) + 0.5) / ch
    xx, yy = np.meshgrid(x, y)
    along = (xx - 0.5) * np.cos(bench.gradient_dir) + (yy - 0.5) * np.sin(bench.gradient_dir)
    along = (along - along.min()) / max(float(np.ptp(along)), 1e-6)
    light = 1 - bench.gradient * along
    aspect = w / h
    r2 = ((xx - 0.5) * aspect) ** 2 + (yy - 0.5) ** 2
    light *= 1 - bench.vignette * r2 / (0.25 * aspect**2 + 0.25)
    if bench.hotspot:
        hx, hy, sig, gain = bench.hotspot
        d2 = ((xx - hx) * aspect) ** 2 + (yy - hy) ** 2
        light *= 1 + gain * np.exp(-d2 / (2 * sig * sig))
    light /= max(float(np.percentile(light, 90)), 1e-6)
    return cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def surface(
    bench: Bench, rng: np.random.Generator, size: tuple[int, int], px_per_mm: float = 4.0
) -> np.ndarray:
    """The bare bench surface, BGR float32 (H, W, 3): low-frequency blotches and fine grain, or
    the bench's material (wood, fabric, ...)."""
    if bench.material != "plain":
        return materials.texture(bench.material, rng, size, px_per_mm, bench.surface)
    w, h = size
    coarse = rng.standard_normal((max(h // 24, 4), max(w // 24, 4)), dtype=np.float32)
    coarse = cv2.resize(
        cv2.GaussianBlur(coarse, (0, 0), 1.5), (w, h), interpolation=cv2.INTER_CUBIC
    )
    fine = rng.standard_normal((h, w), dtype=np.float32)
    fine = cv2.GaussianBlur(fine, (0, 0), 0.8)
    tex = 1 + bench.grain * (1.5 * coarse + 0.6 * fine)
    return tex[..., None] * np.asarray(bench.surface, np.float32)

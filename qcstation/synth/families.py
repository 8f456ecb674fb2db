"""Appearance families: named, coherent looks (yarn, hairs, bench, camera) drawn per net.

`classic` is the renderer's original look and draws nothing extra, so its photos stay byte for
byte what they were. Every other family draws a `Style` per net from its ranges. The protocol
(which families are held out of training, threshold choice and rule-making) is in
docs/families.md; `HELD_OUT` names them here so that training code can refuse them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from ..spec import Spec
from .bench import BENCHES, SURFACES
from .net import NetParams
from .phone import PhoneLook, draw_phone

logger = logging.getLogger(__name__)

Range = tuple[float, float]

# BGR reflectance of coir yarn per colour name: (R range, G/R range, B/G range)
COLOURS = {
    "straw": ((0.62, 0.78), (0.80, 0.88), (0.60, 0.74)),
    "golden": ((0.50, 0.66), (0.70, 0.80), (0.45, 0.60)),
    "brown": ((0.30, 0.45), (0.64, 0.74), (0.55, 0.70)),
    "dark": ((0.13, 0.25), (0.60, 0.72), (0.55, 0.75)),
}
MAX_YARN_TO_PITCH = 0.55  # the thickest yarn real nets have, relative to their pitch


@dataclass(frozen=True)
class Family:
    """Ranges one family draws a net's look from (uniform within each range)."""

    name: str
    summary: str
    benches: tuple[str, ...]  # bench set-ups, cycled over the photos of a set
    colours: tuple[str, ...] = ("golden", "brown")
    plies: tuple[int, ...] = (2, 3)
    turn: Range = (2.2, 3.4)  # length of one ply turn / yarn thickness
    groove: Range = (0.25, 0.45)  # darkening of the grooves between plies
    highlight: Range = (0.0, 0.2)  # brightness added on the ply crests
    yarn_mm: Range = (4.8, 8.0)  # yarn thickness, at most MAX_YARN_TO_PITCH of the pitch
    hair: Range = (1.0, 1.5)  # strand hairs, times the classic density
    long_per_mm: Range = (0.0, 0.05)  # long stiff fibres per mm of strand
    long_max_mm: float = 8.0
    fuzz_per_mm: Range = (0.0, 0.0)  # fuzz fibres per mm of each strand edge
    fuzz_mm: Range = (0.5, 0.9)  # how far the fuzz reaches beyond the yarn body
    crossings: tuple[str, ...] = ("knot", "woven")
    wave_mm: Range = (0.3, 1.0)
    knot_scale: Range = (1.0, 1.0)
    phone: float = 0.0  # share of photos taken with a phone camera
    held_out: bool = False


@dataclass(frozen=True)
class YarnStyle:
    colour_bgr: tuple[float, float, float]
    plies: int
    turn: float
    groove: float
    highlight: float
    knot_scale: float


@dataclass(frozen=True)
class HairStyle:
    density: float  # times the classic density
    long_per_mm: float
    long_max_mm: float
    fuzz_per_mm: float
    fuzz_mm: float


@dataclass(frozen=True)
class Style:
    """One net's drawn look (not used by `classic`)."""

    family: str
    yarn: YarnStyle
    hair: HairStyle
    yarn_mm: float
    crossing: str
    wave_mm: float
    phone: PhoneLook | None

    def net_params(self, p: NetParams, spec: Spec) -> NetParams:
        """The classic draw with this style's yarn thickness, crossing and slack."""
        opening = np.array(p.opening_mm)
        thickest = MAX_YARN_TO_PITCH / (1 - MAX_YARN_TO_PITCH) * float(opening.min())
        yarn = max(min(self.yarn_mm, thickest), p.min_width_mm + 0.3)
        if spec.mesh.quantity == "pitch":  # keep the drawn pitch
            opening = np.clip(opening + p.yarn_mm - yarn, 6.0, None)
        return replace(
            p,
            opening_mm=(round(float(opening[0]), 3), round(float(opening[1]), 3)),
            yarn_mm=round(yarn, 3),
            crossing=self.crossing,
            wave_mm=self.wave_mm,
        )

    def to_json(self) -> dict:
        y, h = self.yarn, self.hair
        return {
            "yarn_bgr": [round(v, 3) for v in y.colour_bgr],
            "plies": y.plies,
            "ply_turn": round(y.turn, 2),
            "groove": round(y.groove, 2),
            "highlight": round(y.highlight, 2),
            "yarn_mm": round(self.yarn_mm, 3),
            "hair_density": round(h.density, 2),
            "long_fibres_per_mm": round(h.long_per_mm, 3),
            "fuzz_per_mm": round(h.fuzz_per_mm, 1),
            "fuzz_mm": round(h.fuzz_mm, 2),
            "wave_mm": round(self.wave_mm, 2),
            "phone": self.phone.to_json() if self.phone else None,
        }


_ALL_BENCHES = (*BENCHES, "wood", "concrete")
_WORKSHOP_BENCHES = ("chipboard", "painted", "kraft", "rubber", "blotches", "wood", "concrete")
FAMILIES = {
    f.name: f
    for f in (
        Family("classic", "the original look: golden-brown 2-3-ply yarn, classic hairs, the four "
               "benches, machine-vision camera", BENCHES),
        Family("golden-ply", "thick golden 2-3-ply yarn (5-12 mm, up to 0.55 of the pitch), bright "
               "highlights on the plies and dark grooves, light fuzz; light, uneven and dark "
               "benches", ("light_table", "uneven", "dark_table", "light_table"),
               colours=("golden", "straw"), turn=(1.6, 2.6), groove=(0.45, 0.75),
               highlight=(0.5, 1.0), yarn_mm=(5.0, 12.0), hair=(0.8, 1.5),
               fuzz_per_mm=(4, 10), knot_scale=(1.0, 1.15)),
        Family("dark-hairy", "dark-brown yarn with two to three times the hairs, long stiff "
               "stray fibres up to 12 mm and dense edge fuzz; mostly on the backlit panel",
               ("backlit", "light_table", "backlit", "dark_table"), colours=("dark", "brown"),
               groove=(0.2, 0.4), highlight=(0.0, 0.2), yarn_mm=(4.8, 9.0),
               hair=(2.0, 3.0), long_per_mm=(0.15, 0.4), long_max_mm=12.0,
               fuzz_per_mm=(10, 25), wave_mm=(0.4, 1.2)),
        Family("cocomesh-woven", "woven over-under cocomesh: thick, loosely twisted 2-ply "
               "yarn, slack wavy strands, fuzz; light and dark tables, wood, uneven light",
               ("light_table", "dark_table", "wood", "uneven"), colours=("brown", "golden"),
               plies=(2,), turn=(3.0, 5.0), groove=(0.3, 0.6), highlight=(0.2, 0.5),
               yarn_mm=(6.0, 12.0), hair=(1.0, 2.0), long_per_mm=(0.05, 0.15),
               long_max_mm=10.0, fuzz_per_mm=(6, 15), crossings=("woven",),
               wave_mm=(1.0, 2.2)),
        Family("phone-camera", "a phone instead of the station camera: colour casts, "
               "vignetting, sharpening, strong JPEG, mild motion blur, a hand's shadow; "
               "straw to brown yarn on light, dark, wood and concrete benches",
               ("light_table", "wood", "concrete", "dark_table"),
               colours=("straw", "golden", "brown"), hair=(1.0, 2.0), fuzz_per_mm=(3, 10),
               phone=1.0),
        Family("wide", "every training family's ranges at once, drawn per net (for training "
               "sets)", _ALL_BENCHES, colours=("straw", "golden", "brown", "dark"),
               turn=(1.6, 5.0), groove=(0.2, 0.75), highlight=(0.0, 1.0),
               yarn_mm=(4.8, 12.0), hair=(0.8, 3.0), long_per_mm=(0.0, 0.4),
               long_max_mm=12.0, fuzz_per_mm=(0, 25), wave_mm=(0.3, 2.2),
               knot_scale=(1.0, 1.15), phone=0.3),
        Family("knotted", "HELD OUT. knotted nets of 3-ply brown to dark yarn with big knots, "
               "highlights, hairs and fuzz; backlit panel, concrete, dark table, uneven light",
               ("backlit", "concrete", "dark_table", "uneven"),
               colours=("brown", "dark", "golden"), plies=(3,), turn=(1.8, 2.8),
               groove=(0.4, 0.7), highlight=(0.3, 0.7), yarn_mm=(5.5, 11.0),
               hair=(1.5, 2.5), long_per_mm=(0.08, 0.25), long_max_mm=12.0,
               fuzz_per_mm=(8, 20), crossings=("knot",), wave_mm=(0.5, 1.5),
               knot_scale=(1.15, 1.35), held_out=True),
        Family("fabric-bench", "HELD OUT. pale straw 2-ply yarn, fuzzy, laid on a hessian or "
               "cotton fabric and on a tarpaulin; some phone shots",
               ("fabric", "tarpaulin", "fabric", "tarpaulin"), colours=("straw", "golden"),
               plies=(2,), groove=(0.3, 0.5), highlight=(0.2, 0.5),
               yarn_mm=(4.8, 10.0), hair=(1.2, 2.2), long_per_mm=(0.03, 0.1),
               fuzz_per_mm=(8, 18), wave_mm=(0.5, 1.5), phone=0.3, held_out=True),
        Family("workshop", "every training family's yarn ranges (as `wide`) on generic workshop "
               "surfaces: chipboard, painted board, kraft paper, rubber mat, random blotches, "
               "wood, concrete (bench texture randomisation for training sets)",
               _WORKSHOP_BENCHES, colours=("straw", "golden", "brown", "dark"),
               turn=(1.6, 5.0), groove=(0.2, 0.75), highlight=(0.0, 1.0),
               yarn_mm=(4.8, 12.0), hair=(0.8, 3.0), long_per_mm=(0.0, 0.4),
               long_max_mm=12.0, fuzz_per_mm=(0, 25), wave_mm=(0.3, 2.2),
               knot_scale=(1.0, 1.15), phone=0.3),
    )
}
HELD_OUT = tuple(name for name, f in FAMILIES.items() if f.held_out)
assert all(b in (*BENCHES, *SURFACES) for f in FAMILIES.values() for b in f.benches)


def get_family(name: str) -> Family:
    """The family called `name`; ValueError naming the known ones otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"unknown appearance family {name!r}; one of {', '.join(FAMILIES)}"
        ) from None


def draw_style(rng: np.random.Generator, family: Family) -> Style | None:
    """One net's look in this family (None for `classic`, which draws nothing)."""
    if family.name == "classic":
        return None

    def u(r: Range) -> float:
        return float(rng.uniform(*r))

    yarn = YarnStyle(
        colour_bgr=yarn_colour(rng, str(rng.choice(family.colours))),
        plies=int(rng.choice(family.plies)),
        turn=u(family.turn),
        groove=u(family.groove),
        highlight=u(family.highlight),
        knot_scale=u(family.knot_scale),
    )
    hair = HairStyle(
        density=u(family.hair),
        long_per_mm=u(family.long_per_mm),
        long_max_mm=family.long_max_mm,
        fuzz_per_mm=u(family.fuzz_per_mm),
        fuzz_mm=u(family.fuzz_mm),
    )
    phone = draw_phone(rng) if rng.random() < family.phone else None
    return Style(family.name, yarn, hair, u(family.yarn_mm),
                 str(rng.choice(family.crossings)), u(family.wave_mm), phone)  # fmt: skip


def yarn_colour(rng: np.random.Generator, name: str) -> tuple[float, float, float]:
    """BGR reflectance of one named colour of coir yarn."""
    red, green, blue = COLOURS[name]
    r = rng.uniform(*red)
    g = r * rng.uniform(*green)
    b = g * rng.uniform(*blue)
    return float(b), float(g), float(r)

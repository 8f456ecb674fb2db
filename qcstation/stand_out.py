"""A defect stands out of its own view: the model's stain and foreign-matter findings judged
against the yarn and the bench of the same photo.

## Stains

A stain (mould, oil) darkens or discolours a few centimetres of yarn; the rest of the net keeps
its own look. On a bench or a yarn it was not tuned on, the defect model can read the net's
ordinary look as stain-like and fire all over it (17 findings on one concrete photo of the
`workshop` family, 8 on one wood photo): each such finding is no darker and no more off-hue
than a good part of the same net's yarn. So each stain finding is compared with the whole
view's yarn, smoothed over STAIN_BLUR_MM:

* dark share: the share of the view's yarn at least as dark as the finding's darkest
  STAIN_CORE_PERCENT of yarn;
* hue share: the share of the view's yarn at least as far from the yarn's median hue (log
  R/G, log G/B, each in units of its spread over the view) as the finding's most off-hue
  STAIN_CORE_PERCENT.

A stain covers a few hundred mm2 of the tens of thousands of mm2 of yarn in view, so its
core lies in the darkest or most off-hue per cent; a finding is kept only if one of its shares
is at most STAIN_MAX_SHARE. Brightness and hue are taken relative to the yarn's mean over LIGHT_MM
around each place, so a corner that vignetting or a hand's shadow darkens is not a stain. The
constant is a share of the net's yarn in view, not a colour or a brightness: it does not
depend on the yarn's colour, the bench or the light. (The darkest place of any view has a
small share by definition: a finding there is kept, as before this rule.)

Shaped on training families only (stain findings of defects-v4q after `stain_place`, matched
to the truth): `qcstation synth --n 40 --seed 6450|6454 --family workshop`, the rule sets
(`--n 32 --seed 5301 --family F`, F = golden-ply, dark-hairy, cocomesh-woven, phone-camera,
wide), old seed 21007 (`--n 120`), and two stain-rich sets, `--n 40 --seed 7001 --family
workshop --mix appearance --extra-stains 2` and `--n 40 --seed 7002` with the five other
training families, same mix. The smaller share of true stains: median 0.0008, 95th percentile
0.009, at most STAIN_MAX_SHARE for 105 of 110; of false ones: median 0.023, 56 of 166 at most
STAIN_MAX_SHARE (docs/families.md, Session 13).

## Foreign matter

A leaf, a plastic scrap or a string lies over the openings and the strands and is unlike both;
a bench the model was not tuned on can show it patches it reads as foreign matter (27 on one
blotched board of the `workshop` family), each like a good part of the same bench. So each
foreign-matter finding is compared with the view's bench (the openings) and with its yarn,
each smoothed over FOREIGN_BLUR_MM and relative to its own mean over LIGHT_MM: its far part
(the FOREIGN_CORE_PERCENT of its pixels farthest from the surface's median colour, log
brightness and both hues in units of their spreads) against the share of the surface at least
as far. Kept if the smaller of the two shares is at most FOREIGN_MAX_SHARE.

Shaped on the same training sets and old seeds 9 and 21007 (`--n 60|120`; long strings and
backlit scraps): true foreign matter has the smaller share at most 0.023 for 95 % and at most
FOREIGN_MAX_SHARE for 111 of 112; false findings have a median of 0.10 and 18 of 69 at most
FOREIGN_MAX_SHARE (workshop ev6454: 2 of 28; docs/families.md, Session 13).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .structural import Appearance, Finding

PX_PER_MM = 1.0  # the scale the view is compared at: a stain is 8-24 mm across
LIGHT_MM = 30.0  # the light field and colour cast: a surface's mean over a few mesh cells
# stains: smoothed wider than a stain's smallest radius is (4 mm), so that a shaded flank, a
# twist groove or a hair is averaged with the lit yarn beside it while a stain covers the strand
STAIN_BLUR_MM = 3.0
STAIN_CORE_PERCENT = 5.0  # the part of a stain's yarn that stands for it: darkest / most off-hue
STAIN_MAX_SHARE = 0.01  # a stain's core lies in at most this share of the view's yarn
FOREIGN_BLUR_MM = 2.0  # foreign matter is 100 mm2 and more: a hair or a fleck is averaged away
FOREIGN_CORE_PERCENT = 10.0  # the part of a finding farthest from the surface's colour
FOREIGN_MAX_SHARE = 0.04  # ... lies in at most this share of the view's bench or yarn
COARSE_SIGMA_PX = 4.0  # wider smoothing is done on a shrunk view
SAMPLE_EVERY = 4  # the median and spread of a surface from every 4th of its pixels
MIN_PX = 5  # a finding with fewer pixels on a surface (at PX_PER_MM) is not judged on it
EPS = 1e-4
NOT_JUDGED = float("nan")  # a share where a box holds too little of a surface to judge on it

Box = tuple[int, int, int, int]


def standing_out(seen: Appearance, view: np.ndarray, valid: np.ndarray, yarn: np.ndarray,
                 k: float) -> Appearance:
    """`seen` without the stain and foreign-matter findings that do not stand out of the view
    (module docstring), their cells no longer hidden. `view` (BGR), `valid` (uint8, nonzero
    inside the camera's view) and `yarn` (float 0..1, the share of each pixel that is yarn) are
    the bench view at PX_PER_MM, `k` times the scale of the findings' boxes."""
    stains = [f for f in seen.findings if f.type == "stain"]
    foreign = [f for f in seen.findings if f.type == "foreign_matter"]
    if not stains and not foreign:
        return seen
    colour = log_colour(view)
    dropped = []
    if stains:
        shares = stain_shares(colour, yarn, [_scaled(f, k) for f in stains], PX_PER_MM)
        dropped += [f for f, s in zip(stains, shares, strict=True)
                    if not _stands_out(s, STAIN_MAX_SHARE)]
    if foreign:
        shares = foreign_shares(colour, valid, yarn, [_scaled(f, k) for f in foreign],
                                PX_PER_MM)
        dropped += [f for f, s in zip(foreign, shares, strict=True)
                    if not _stands_out(s, FOREIGN_MAX_SHARE)]
    return seen.without(dropped)


def stain_shares(colour: np.ndarray, yarn: np.ndarray, boxes: list[Box],
                 px_per_mm: float) -> list[tuple[float, float]]:
    """(dark share, hue share) of each box (x, y, w, h in px) against the whole view's yarn
    (module docstring); `colour` is the view's `log_colour`. NOT_JUDGED where a box holds too
    little yarn to judge."""
    surface = _Surface.of(colour, yarn, STAIN_BLUR_MM * px_per_mm, px_per_mm)
    if surface is None:
        return [(NOT_JUDGED, NOT_JUDGED)] * len(boxes)
    lum = np.sort(surface.values[:, 0])
    off_hue = np.sort(surface.off_hue(surface.values))
    out = []
    for box in boxes:
        mine = surface.inside(box)
        if mine is None:
            out.append((NOT_JUDGED, NOT_JUDGED))
            continue
        core = np.percentile(mine[:, 0], STAIN_CORE_PERCENT)
        far = np.percentile(surface.off_hue(mine), 100 - STAIN_CORE_PERCENT)
        out.append((_share_at_most(lum, core), _share_at_least(off_hue, far)))
    return out


def foreign_shares(colour: np.ndarray, valid: np.ndarray, yarn: np.ndarray, boxes: list[Box],
                   px_per_mm: float) -> list[tuple[float, float]]:
    """(bench share, yarn share) of each box (x, y, w, h in px): the share of the view's bench,
    and of its yarn, at least as far from its median colour as the box's far part (module
    docstring); `colour` is the view's `log_colour`. NOT_JUDGED where a box holds too little of
    a surface."""
    bench = (1.0 - yarn) * (valid > 0)
    out = []
    for weight in (bench, yarn):
        surface = _Surface.of(colour, weight, FOREIGN_BLUR_MM * px_per_mm, px_per_mm)
        if surface is None:
            out.append([NOT_JUDGED] * len(boxes))
            continue
        far_all = np.sort(surface.distance(surface.values))
        shares = []
        for box in boxes:
            mine = surface.inside(box)
            far = None if mine is None else np.percentile(surface.distance(mine),
                                                          100 - FOREIGN_CORE_PERCENT)
            shares.append(NOT_JUDGED if far is None else _share_at_least(far_all, far))
        out.append(shares)
    return list(zip(*out, strict=True))


@dataclass(frozen=True)
class _Surface:
    """The view's colour over one surface (yarn or bench): smoothed, less the surface's mean
    around each place over LIGHT_MM (the light and cast there), with its median and spread."""

    smooth: np.ndarray  # (h, w, 3) log brightness, log R/G, log G/B
    on: np.ndarray  # bool (h, w): the surface
    values: np.ndarray  # smooth[on]
    median: np.ndarray
    spread: np.ndarray

    @staticmethod
    def of(colour: np.ndarray, weight: np.ndarray, blur_px: float,
           px_per_mm: float) -> _Surface | None:
        weight = weight.astype(np.float32)
        smooth = local_mean(colour, weight, blur_px) - local_mean(colour, weight,
                                                                  LIGHT_MM * px_per_mm)
        on = weight >= 0.5
        values = smooth[on]
        if len(values) < MIN_PX:
            return None
        some = values[::SAMPLE_EVERY]
        median = np.median(some, axis=0)
        spread = 1.4826 * np.median(np.abs(some - median), axis=0) + EPS
        return _Surface(smooth, on, values, median, spread)

    def inside(self, box: Box) -> np.ndarray | None:
        """The surface's smoothed colours inside `box`; None where there are too few."""
        x, y, w, h = box
        here = self.on[y:y + h, x:x + w]
        return self.smooth[y:y + h, x:x + w][here] if here.sum() >= MIN_PX else None

    def off_hue(self, values: np.ndarray) -> np.ndarray:
        """Distance of each row from the median hue (log R/G, log G/B), in spreads."""
        z = (values - self.median) / self.spread
        return np.hypot(z[:, 1], z[:, 2])

    def distance(self, values: np.ndarray) -> np.ndarray:
        """Distance of each row from the median colour (brightness and hues), in spreads."""
        z = (values - self.median) / self.spread
        return np.sqrt((z * z).sum(axis=1))


def local_mean(colour: np.ndarray, weight: np.ndarray, sigma_px: float) -> np.ndarray:
    """The `weight`-weighted mean `colour` (h, w, 3) around each pixel, Gaussian over
    `sigma_px` (computed on a view shrunk so that sigma is at most COARSE_SIGMA_PX, then
    enlarged)."""
    h, w = weight.shape
    shrink = max(1.0, sigma_px / COARSE_SIGMA_PX)
    size = (max(1, round(w / shrink)), max(1, round(h / shrink)))
    cover = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    weighted = cv2.resize(colour * weight[..., None], size, interpolation=cv2.INTER_AREA)
    cover = cv2.GaussianBlur(cover, (0, 0), sigma_px / shrink) + EPS
    weighted = cv2.GaussianBlur(weighted, (0, 0), sigma_px / shrink)
    mean = weighted / cover[..., None]
    return mean if shrink == 1.0 else cv2.resize(mean, (w, h), interpolation=cv2.INTER_LINEAR)


def log_colour(view: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32: log brightness, log(R/G), log(G/B) of a BGR view."""
    c = view.astype(np.float32) + 1.0
    b, g, r = c[..., 0], c[..., 1], c[..., 2]
    return np.stack([np.log((b + g + r) / 3), np.log(r / g), np.log(g / b)], axis=-1)


def _stands_out(shares: tuple[float, ...], limit: float) -> bool:
    """Whether the smallest share that could be judged is at most `limit` (True if none could:
    what cannot be judged is kept)."""
    judged = [v for v in shares if not np.isnan(v)]
    return not judged or min(judged) <= limit


def _share_at_most(ascending: np.ndarray, v: float) -> float:
    return float(np.searchsorted(ascending, v, side="right")) / len(ascending)


def _share_at_least(ascending: np.ndarray, v: float) -> float:
    return float(len(ascending) - np.searchsorted(ascending, v, side="left")) / len(ascending)


def _scaled(f: Finding, k: float) -> Box:
    x, y, w, h = f.box
    x0, y0 = max(int(np.floor(x * k)), 0), max(int(np.floor(y * k)), 0)
    return x0, y0, max(int(np.ceil((x + w) * k)) - x0, 1), max(int(np.ceil((y + h) * k)) - y0, 1)

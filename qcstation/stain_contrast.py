"""A stain stands out of its own net's yarn: the model's stain findings judged against the view.

A stain (mould, oil) darkens or discolours a few centimetres of yarn; the rest of the net keeps
its own look. On a bench or a yarn it was not tuned on, the defect model can read the net's
ordinary look as stain-like and fire all over it (17 findings on one concrete photo of the
`workshop` family, 8 on one wood photo): each such finding is no darker and no more off-hue
than a good part of the same net's yarn. So each stain finding is compared with the whole
view's yarn, smoothed over BLUR_MM:

* dark share: the share of the view's yarn at least as dark as the finding's darkest
  CORE_PERCENT of yarn;
* hue share: the share of the view's yarn at least as far from the yarn's median hue (log
  R/G, log G/B, each in units of its spread over the view) as the finding's most off-hue
  CORE_PERCENT.

A stain covers a few hundred mm2 of the tens of thousands of mm2 of yarn in view, so its
core lies in the darkest or most off-hue per cent; a finding is kept only if one of its shares
is at most MAX_SHARE. Brightness and hue are taken relative to the yarn's mean over LIGHT_MM
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
0.009, at most MAX_SHARE for 105 of 110; of false ones: median 0.023, 56 of 166 at most
MAX_SHARE (docs/families.md, Session 13).
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from .stain_place import hidden_under
from .structural import Appearance, Finding

PX_PER_MM = 1.0  # the scale the view's yarn is compared at: a stain is 8-24 mm across
# the smoothing, as a stain's smallest radius is wider (4 mm): a shaded flank, a twist groove
# or a hair is averaged with the lit yarn beside it, a stain covers the strand
BLUR_MM = 3.0
CORE_PERCENT = 5.0  # the part of a finding's yarn that stands for it (its darkest / most off-hue)
LIGHT_MM = 30.0  # the light field and colour cast: the yarn's mean over a few mesh cells
COARSE_SIGMA_PX = 4.0  # wider smoothing is done on a shrunk view
MAX_SHARE = 0.01  # a stain's core lies in at most this share of the view's yarn
SAMPLE_EVERY = 4
MIN_YARN_PX = 5  # a finding with fewer yarn pixels (at PX_PER_MM) is not judged here
EPS = 1e-4


def stains_standing_out(seen: Appearance, view: np.ndarray, yarn: np.ndarray,
                        k: float) -> Appearance:
    """`seen` without the stain findings that do not stand out of the view's yarn (module
    docstring), their cells no longer hidden. `view` (BGR) and `yarn` (float 0..1, the share of
    each pixel that is yarn) are the bench view at PX_PER_MM, `k` times the scale of the
    findings' boxes."""
    stains = [f for f in seen.findings if f.type == "stain"]
    if not stains:
        return seen
    shares = yarn_shares(view, yarn, [_scaled(f, k) for f in stains], PX_PER_MM)
    dropped = [f for f, share in zip(stains, shares, strict=True) if min(share) > MAX_SHARE]
    if not dropped:
        return seen
    kept = [f for f in seen.findings if not any(f is d for d in dropped)]
    return replace(seen, findings=kept, hidden=hidden_under(seen, kept))


def yarn_shares(view: np.ndarray, yarn: np.ndarray, boxes: list[tuple[int, int, int, int]],
                px_per_mm: float) -> list[tuple[float, float]]:
    """(dark share, hue share) of each box (x, y, w, h in `view` px) against the whole view's
    yarn (module docstring); (0, 0), kept, where a box holds too little yarn to judge."""
    colour = _log_colour(view)
    smooth = _yarn_mean(colour, yarn, BLUR_MM * px_per_mm)
    smooth -= _yarn_mean(colour, yarn, LIGHT_MM * px_per_mm)  # the light and cast around it
    on_yarn = yarn >= 0.5
    values = smooth[on_yarn]
    if len(values) < MIN_YARN_PX:
        return [(0.0, 0.0)] * len(boxes)
    some = values[::SAMPLE_EVERY]  # the median and spread of a few thousand pixels suffice
    median = np.median(some, axis=0)
    spread = 1.4826 * np.median(np.abs(some - median), axis=0) + EPS
    lum = np.sort(values[:, 0])
    off_hue = np.sort(_off_hue(values, median, spread))
    out = []
    for x, y, w, h in boxes:
        inside = on_yarn[y:y + h, x:x + w]
        if inside.sum() < MIN_YARN_PX:
            out.append((0.0, 0.0))
            continue
        mine = smooth[y:y + h, x:x + w][inside]
        dark = np.searchsorted(lum, np.percentile(mine[:, 0], CORE_PERCENT), side="right")
        far = np.percentile(_off_hue(mine, median, spread), 100 - CORE_PERCENT)
        hue = len(off_hue) - np.searchsorted(off_hue, far, side="left")
        out.append((dark / len(lum), hue / len(off_hue)))
    return out


def _yarn_mean(colour: np.ndarray, yarn: np.ndarray, sigma_px: float) -> np.ndarray:
    """The yarn's mean `colour` (h, w, 3) around each pixel, Gaussian-weighted over `sigma_px`
    (computed on a view shrunk so that sigma is at most COARSE_SIGMA_PX, then enlarged)."""
    h, w = yarn.shape
    shrink = max(1.0, sigma_px / COARSE_SIGMA_PX)
    size = (max(1, round(w / shrink)), max(1, round(h / shrink)))
    cover = cv2.resize(yarn, size, interpolation=cv2.INTER_AREA)
    weighted = cv2.resize(colour * yarn[..., None], size, interpolation=cv2.INTER_AREA)
    cover = cv2.GaussianBlur(cover, (0, 0), sigma_px / shrink) + EPS
    weighted = cv2.GaussianBlur(weighted, (0, 0), sigma_px / shrink)
    mean = weighted / cover[..., None]
    return mean if shrink == 1.0 else cv2.resize(mean, (w, h), interpolation=cv2.INTER_LINEAR)


def _off_hue(values: np.ndarray, median: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Distance of each (log brightness, log R/G, log G/B) row from the median hue, in spreads."""
    return np.hypot((values[:, 1] - median[1]) / spread[1], (values[:, 2] - median[2]) / spread[2])


def _log_colour(view: np.ndarray) -> np.ndarray:
    c = view.astype(np.float32) + 1.0
    b, g, r = c[..., 0], c[..., 1], c[..., 2]
    return np.stack([np.log((b + g + r) / 3), np.log(r / g), np.log(g / b)], axis=-1)


def _scaled(f: Finding, k: float) -> tuple[int, int, int, int]:
    x, y, w, h = f.box
    x0, y0 = max(int(np.floor(x * k)), 0), max(int(np.floor(y * k)), 0)
    return x0, y0, max(int(np.ceil((x + w) * k)) - x0, 1), max(int(np.ceil((y + h) * k)) - y0, 1)

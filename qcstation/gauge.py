"""Agreement with a hand gauge: the station's bias against calipers on a reference net, and the
repeatability of its mean opening over photos of the same net moved between shots.

Pure: takes inspection results and the engine's analysis, returns numbers. The bias is the
station minus the calipers (openings measured small: negative); `inspect` takes it off.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import mesh as meshmod
from .domain import Inspection
from .rectify import Rectifier

NEAR_PITCH = 0.5  # a hand position matches the opening whose centre lies within this many pitches


@dataclass(frozen=True)
class HandOpening:
    """One opening measured by hand: where (input-image px, or the 1-based lattice cell
    counted from the top-left whole opening in view) and its clear spans in mm."""

    across_mm: float
    along_mm: float
    x_px: float | None = None
    y_px: float | None = None
    row: int | None = None
    col: int | None = None


@dataclass(frozen=True)
class StationOpening:
    """The regular openings of one photo: centres in input-image px, lattice cells, spans."""

    x_px: np.ndarray
    y_px: np.ndarray
    row: np.ndarray  # 1-based from the top-left whole opening
    col: np.ndarray
    w_mm: np.ndarray
    h_mm: np.ndarray
    pitch_px: float  # in input-image px, near the centre of the view


@dataclass(frozen=True)
class GaugeReport:
    matched: int  # hand openings found in the reference photo
    given: int
    bias_w_mm: float  # station minus hand, across (w)
    bias_h_mm: float
    spread_w_mm: float  # std of the differences
    spread_h_mm: float
    photos: int  # photos with a mean opening (repeatability)
    mean_w_mm: tuple[float, ...]
    mean_h_mm: tuple[float, ...]
    repeat_w_mm: float  # std of the per-photo mean opening (NaN with fewer than 2 photos)
    repeat_h_mm: float
    tolerance_mm: float | None  # the spec's; the percentages are of its band (2 x tolerance)

    def percent_of_tolerance(self) -> dict[str, float] | None:
        """Gauge R&R style: 6 sigma of repeatability and |bias|, as % of the tolerance band."""
        if not self.tolerance_mm:
            return None
        band = 2.0 * self.tolerance_mm
        rep = max(self.repeat_w_mm, self.repeat_h_mm)
        bias = max(abs(self.bias_w_mm), abs(self.bias_h_mm))
        return {"repeatability": 100.0 * 6.0 * rep / band, "bias": 100.0 * bias / band}

    def to_json(self) -> dict:
        def r(v: float) -> float | None:
            return None if v != v else round(float(v), 3)

        return {
            "hand_openings": {"given": self.given, "matched": self.matched},
            "bias_mm": {"w": r(self.bias_w_mm), "h": r(self.bias_h_mm)},
            "spread_mm": {"w": r(self.spread_w_mm), "h": r(self.spread_h_mm)},
            "repeatability": {"photos": self.photos, "std_w_mm": r(self.repeat_w_mm),
                              "std_h_mm": r(self.repeat_h_mm),
                              "mean_w_mm": [r(v) for v in self.mean_w_mm],
                              "mean_h_mm": [r(v) for v in self.mean_h_mm]},
            "percent_of_tolerance": {k: r(v) for k, v in
                                     (self.percent_of_tolerance() or {}).items()} or None,
        }


def station_openings(analysis, rect: Rectifier) -> StationOpening:
    """The regular openings of an engine `Analysis`, placed in the input image."""
    op, reg, s = analysis.openings, analysis.regular, analysis.px_per_mm
    lat = meshmod.place_on_lattice(op, s)
    idx = np.flatnonzero(reg)
    back = cv2.invertAffineTransform(analysis.bench.to_mesh)
    mesh_pts = np.stack([op.cx[idx], op.cy[idx]], 1)
    img = rect.rect_to_image(mesh_pts @ back[:, :2].T + back[:, 2])
    row, col = lat.row[idx], lat.col[idx]
    # the pitch in image px: one lattice pitch at the view's middle, mapped back
    mid = np.array([[op.cx.mean(), op.cy.mean()], [op.cx.mean() + lat.pitch_x, op.cy.mean()]])
    pitch_img = rect.rect_to_image(mid @ back[:, :2].T + back[:, 2])
    pitch_px = float(np.linalg.norm(pitch_img[1] - pitch_img[0]))
    return StationOpening(img[:, 0], img[:, 1], row - row.min() + 1 if len(row) else row,
                          col - col.min() + 1 if len(col) else col,
                          op.span_w[idx] / s, op.span_h[idx] / s, pitch_px)


def match(hand: list[HandOpening], st: StationOpening) -> tuple[np.ndarray, np.ndarray]:
    """For each hand opening, the index of the station's opening it names (-1: none), and the
    differences station minus hand (K, 2) over the matched ones."""
    found = np.full(len(hand), -1)
    for k, h in enumerate(hand):
        if h.x_px is not None and len(st.x_px):
            d = np.hypot(st.x_px - h.x_px, st.y_px - h.y_px)
            i = int(np.argmin(d))
            found[k] = i if d[i] < NEAR_PITCH * st.pitch_px else -1
        elif h.row is not None:
            hit = np.flatnonzero((st.row == h.row) & (st.col == h.col))
            found[k] = int(hit[0]) if len(hit) else -1
    ok = found >= 0
    hand_mm = np.array([[h.across_mm, h.along_mm] for h in hand]).reshape(-1, 2)[ok]
    station_mm = np.stack([st.w_mm, st.h_mm], 1)[found[ok]]
    return found, station_mm - hand_mm


def report(hand: list[HandOpening], reference: StationOpening, results: list[Inspection],
           tolerance_mm: float | None = None) -> GaugeReport:
    """Bias and spread against the hand gauge on the reference photo; repeatability of the
    mean opening over every photo that got a verdict."""
    found, diff = match(hand, reference)
    means = [(r.mesh.opening_w_mm.mean, r.mesh.opening_h_mm.mean) for r in results
             if r.verdict != "error" and r.mesh is not None and r.mesh.openings > 0]
    m = np.array(means, np.float64).reshape(-1, 2)
    rep = m.std(axis=0, ddof=1) if len(m) > 1 else np.full(2, np.nan)
    bias = diff.mean(axis=0) if len(diff) else np.full(2, np.nan)
    spread = diff.std(axis=0, ddof=1) if len(diff) > 1 else np.full(2, np.nan)
    return GaugeReport(int((found >= 0).sum()), len(hand), float(bias[0]), float(bias[1]),
                       float(spread[0]), float(spread[1]), len(m), tuple(m[:, 0]),
                       tuple(m[:, 1]), float(rep[0]), float(rep[1]), tolerance_mm)



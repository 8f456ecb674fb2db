"""The inspection engine: one image in, one Inspection out. Pure: no camera, disk or database."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol

import cv2
import numpy as np

from . import mesh as meshmod
from . import segment, structural
from .domain import Calibration, Defect, Inspection, MeshStats, ModelInfo, Stat
from .errors import ImageError
from .judge import judge
from .quality import check_usable
from .rectify import Rectifier
from .spec import Spec

logger = logging.getLogger(__name__)

COVERING = ("foreign_matter", "loose_fibres")  # defects that lie over openings, hiding them
HIDDEN_GAP = 0.7  # merged openings whose missing yarn is hidden this much are not reported
FRAYED_BODY = 0.5  # a strand beside a tear with less body than this share of a strand's is cut
TEAR_GAP = 0.8  # merged regions closer than this share of a strand width are one tear
STACK_GAP = 1.5  # ... and pairs of merged openings side by side, one strand apart
MAX_SHARED_CELLS = 0.2  # a read with more clear regions sharing a mesh cell is unreliable
MIN_SEPARATION = 2.5  # yarn/background cluster distance in pooled std; below it there is no net


@dataclass(frozen=True)
class Analysis:
    """What the engine saw, in the mesh-aligned bench view; used to draw the overlay."""

    bench: BenchView
    openings: meshmod.Openings
    regular: np.ndarray
    findings: tuple[structural.Finding, ...]

    @property
    def px_per_mm(self) -> float:
        return self.bench.px_per_mm


class AppearanceModel(Protocol):
    """A detector of appearance defects (foreign matter, stains, loose fibres)."""

    info: ModelInfo
    px_per_mm: float  # the scale of the views it works on

    def analyse(self, view: np.ndarray, valid: np.ndarray,
                px_per_mm: float) -> structural.Appearance:
        """Findings in the pixels of `view`, the mesh-aligned bench view at `px_per_mm`, and
        where something hides the net."""
        ...


class Inspector:
    """Holds the spec, calibration, rectification and model; `inspect` judges one frame."""

    def __init__(self, spec: Spec, calibration: Calibration, px_per_mm: float | None = None,
                 model: AppearanceModel | None = None):
        self.spec = spec
        self.cal = calibration
        self.rect = Rectifier.build(calibration, px_per_mm)
        self.model = model

    def inspect(self, image: np.ndarray, name: str) -> tuple[Inspection, Analysis | None]:
        t0 = time.perf_counter()
        try:
            inspection, analysis = self._inspect(image, name)
        except ImageError as e:
            inspection, analysis = self._error(name, str(e)), None
        ms = (time.perf_counter() - t0) * 1000
        object.__setattr__(inspection, "timing_ms", {"total": ms})
        object.__setattr__(inspection, "calibration", self.cal.note())
        return inspection, analysis

    def _error(self, name: str, message: str) -> Inspection:
        return Inspection(image=name, verdict="error", reasons=(message,), spec=self.spec.name,
                          error=message, model=self.model.info if self.model else None)

    def _inspect(self, image: np.ndarray, name: str) -> tuple[Inspection, Analysis]:
        w, h = self.cal.image_size
        if image.shape[1] != w or image.shape[0] != h:
            raise ImageError(f"the image is {image.shape[1]}x{image.shape[0]} px but the "
                             f"calibration is for {w}x{h} px; use the calibration of this camera")
        check_usable(image)
        bv = self.bench_view(image)
        op = bv.openings()
        if len(op) < self.spec.mesh.min_openings:
            raise ImageError(
                f"only {len(op)} measurable openings in view, the spec needs at least "
                f"{self.spec.mesh.min_openings}; lay more of the net flat under the camera")
        seen = self.appearance(bv) if self.model else None
        m = measure(bv, op, self.spec.mesh.min_strand_mm, seen)
        m = replace(m, stats=m.stats.less_bias(*self.cal.opening_bias_mm))
        findings = list(m.findings) + (seen.findings if seen else [])
        back = cv2.invertAffineTransform(bv.to_mesh)
        defects = tuple(_to_defect(f, back, self.rect, bv.px_per_mm, image.shape)
                        for f in findings)
        verdict, reasons = judge(self.spec, m.stats, defects)
        insp = Inspection(image=name, verdict=verdict, reasons=tuple(reasons),
                          spec=self.spec.name, mesh=m.stats, defects=defects,
                          model=self.model.info if self.model else None,
                          error=reasons[0] if verdict == "error" else None)
        return insp, Analysis(bv, op, m.regular, tuple(findings))

    def appearance(self, bv: BenchView) -> structural.Appearance:
        """The defect model on a view made at its own scale straight from the rectified image
        (one resampling), its findings brought back to the bench view's pixels."""
        m = self.model.px_per_mm
        view, valid = bv.at_scale(m)
        return self.model.analyse(view, valid, m).scaled(bv.px_per_mm / m)

    def bench_view(self, image: np.ndarray) -> BenchView:
        """Rectify, separate yarn from openings, and turn the masks onto the mesh axes.

        Only one-channel images are turned (the colour view is turned when drawn).
        """
        s = self.rect.px_per_mm
        rect = self.rect.rectify(image)
        f = max(1, round(s / segment.FIT_PX_PER_MM))
        small, valid_small = rect[::f, ::f], self.rect.valid[::f, ::f]
        local_small = segment.local_brightness(small, s / f)
        sep, yarn_small = segment.fit_separation(small, valid_small, local_small)
        if sep.contrast < MIN_SEPARATION:
            raise ImageError("no net in view (yarn and bench cannot be told apart)")
        angle = segment.mesh_angle(yarn_small, valid_small)
        to_mesh, size = _rotation(self.rect.size, angle)

        def turn(img: np.ndarray, flags: int = cv2.INTER_NEAREST) -> np.ndarray:
            return cv2.warpAffine(img, to_mesh, size, flags=flags)

        score = turn(segment.score_u8(rect, sep), cv2.INTER_LINEAR)
        grey = segment.grey_mask(rect, sep)
        valid = turn(self.rect.valid)
        small_turn = to_mesh.copy()
        small_turn[:, 2] /= f
        local = cv2.warpAffine(local_small, small_turn, (-(-size[0] // f), -(-size[1] // f)),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        yarn, core = segment.decide(score, None if grey is None else turn(grey), sep, local, s)
        yarn &= valid > 0
        # Hairs and frayed fibres go before grooves are bridged, so fibres lying along a
        # strand's edge or along a cut are not joined into strand.
        yarn = segment.bridge_grooves(segment.remove_hairs(yarn, s), s)
        core = None if core is None else segment.bridge_grooves(core & yarn, s)
        open_mask = ((yarn == 0) & (valid > 0)).astype(np.uint8)
        return BenchView(rect, valid, yarn, open_mask, core, to_mesh, s)


@dataclass(frozen=True)
class BenchView:
    """One frame on the bench: the rectified image and, turned onto the mesh axes, its masks."""

    rect: np.ndarray  # BGR, bench axes
    valid: np.ndarray  # uint8, 255 where the mesh-aligned view shows the image
    yarn: np.ndarray  # uint8 0/1, hairs removed
    open_mask: np.ndarray  # uint8 0/1, not yarn
    core: np.ndarray | None  # uint8 0/1, the yarn's core (segment.decide); None: the yarn
    to_mesh: np.ndarray  # 2x3 affine: rectified px -> mesh-aligned px
    px_per_mm: float

    def openings(self) -> meshmod.Openings:
        return meshmod.find_openings(self.open_mask, self.valid, self.px_per_mm, self.core)

    def at_scale(self, px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """The colour view and its valid mask turned onto the mesh axes at another scale."""
        k = px_per_mm / self.px_per_mm
        h, w = self.valid.shape
        size = (max(1, round(w * k)), max(1, round(h * k)))
        m = self.to_mesh * k
        view = cv2.warpAffine(self.rect, m, size, flags=cv2.INTER_LINEAR)
        return view, cv2.resize(self.valid, size, interpolation=cv2.INTER_NEAREST)

    @cached_property
    def view(self) -> np.ndarray:
        """The colour view turned onto the mesh axes (for drawing)."""
        h, w = self.valid.shape
        return cv2.warpAffine(self.rect, self.to_mesh, (w, h), flags=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class Measurement:
    """Mesh statistics and structural findings of one bench view."""

    stats: MeshStats
    regular: np.ndarray
    findings: tuple[structural.Finding, ...]


def measure(bv: BenchView, op: meshmod.Openings, min_strand_mm: float,
            seen: structural.Appearance | None = None) -> Measurement:
    """Lattice, strand segments, statistics and structural defects from the openings.

    `seen` is what the defect model saw in the same view. Openings under foreign matter or a
    fibre tuft are left out of the mesh statistics: what lies on them is the defect, not the
    mesh. A strand hidden under foreign matter or a stain is missing from the yarn mask, so
    merged openings whose missing yarn is mostly hidden are not reported as broken: the net
    fails for the foreign matter anyway, and a stain is judged as a stain. Strands of covered
    openings are still checked for thinness. ImageError where the clear regions are not one
    per mesh cell (the yarn mask is wrong: nothing it measures could be trusted).
    """
    s = bv.px_per_mm
    lat = meshmod.place_on_lattice(op, s)
    shared = meshmod.shared_cells(lat)
    if shared > MAX_SHARED_CELLS:  # a good read has one opening per cell (0-9 % shared)
        raise ImageError(f"yarn and openings were not told apart reliably: {shared:.0%} of the "
                         "clear regions share a mesh cell with another; even out the light "
                         "or use a backlit panel or light table, and inspect again")
    cells = structural.merged_cells(op, lat)
    single = (cells == 1) & ~structural.fragments(op, cells)
    appearance = seen.findings if seen else []
    regular = single & ~_under(op, [f.box for f in appearance if f.type in COVERING])
    a, b, vertical = meshmod.neighbour_pairs(lat, single)
    seg = meshmod.strand_segments(op, a, b, vertical, 0.5 * (lat.pitch_x + lat.pitch_y))
    cut = structural.cut_segments(seg, segment.HAIR_MM * s)
    regular[seg.a[cut]] = regular[seg.b[cut]] = False
    clear = seg.subset(regular[seg.a] & regular[seg.b])
    strand_px = float(np.median(seg.width_px)) if len(seg.width_px) else 0.0
    # strands between a tear (merged openings, or openings joined by a cut) and the openings
    # beside it: cut, they widen the tear; there a frayed stub reaching across the gap has a
    # body of a few fibres only
    joins = (seg.a[cut], seg.b[cut])
    torn = np.flatnonzero(cells > 1)
    torn = np.union1d(torn, np.concatenate(joins)) if cut.any() else torn
    if len(torn):
        near = meshmod.strand_segments(op, *meshmod.beside(op, torn, lat),
                                       0.5 * (lat.pitch_x + lat.pitch_y))
        body = float(np.median(seg.core_px)) if len(seg.core_px) else 0.0
        near_cut = structural.cut_segments(near, segment.HAIR_MM * s,
                                           max(1.0, FRAYED_BODY * body))
        joins = (np.concatenate([joins[0], near.a[near_cut]]),
                 np.concatenate([joins[1], near.b[near_cut]]))
    merged = structural.merged_findings(op, cells, TEAR_GAP * strand_px, STACK_GAP * strand_px,
                                        joins)
    findings = ([f for f in merged
                 if not (seen and _gap_hidden(f.box, op, lat, seen, strand_px) >= HIDDEN_GAP)]
                + structural.irregular_findings(op, lat, single)
                + structural.thin_findings(seg.subset(~cut), min_strand_mm * s))
    return Measurement(_mesh_stats(op, regular, clear, s), regular, tuple(findings))


def _gap_hidden(box, op: meshmod.Openings, lat: meshmod.Lattice, seen: structural.Appearance,
                strand_px: float) -> float:
    """How much of the yarn missing inside merged openings' `box` is hidden: a scrap or a
    light string lying over the strands (the yarn mask loses them where it lies), not a tear.

    The missing yarn is where the box's inner lattice lines (the strands that should part its
    cells) run through clear pixels; a tear leaves them clear along its length, a string
    passing over it hides only where it crosses. Where no inner line is clear (openings joined
    by a cut bridged with loose fibres), the middle of the box stands for the gap."""
    x, y, w, h = box
    nx = max(1, round((w + strand_px) / lat.pitch_x))
    ny = max(1, round((h + strand_px) / lat.pitch_y))
    step = max(1.0, 0.5 * strand_px)
    along_y, along_x = np.arange(y, y + h, step), np.arange(x, x + w, step)
    lines_x = x + np.arange(1, nx) * (w + strand_px) / nx - 0.5 * strand_px
    lines_y = y + np.arange(1, ny) * (h + strand_px) / ny - 0.5 * strand_px
    px = np.concatenate([np.repeat(lines_x, len(along_y)), np.tile(along_x, len(lines_y))])
    py = np.concatenate([np.tile(along_y, len(lines_x)), np.repeat(lines_y, len(along_x))])
    sums = op.clear_sums
    xi = np.clip(px.astype(int), 0, sums.shape[1] - 2)
    yi = np.clip(py.astype(int), 0, sums.shape[0] - 2)
    clear = (sums[yi + 1, xi + 1] - sums[yi, xi + 1] - sums[yi + 1, xi] + sums[yi, xi]) > 0
    if not clear.any():
        return seen.hidden_share(x + w / 2, y + h / 2, strand_px)
    return float(seen.hidden_at(xi[clear], yi[clear]).mean())


def _under(op: meshmod.Openings, boxes) -> np.ndarray:
    """Openings whose bounding box meets any of `boxes` (x, y, w, h), same pixels."""
    hit = np.zeros(len(op), bool)
    for x, y, w, h in boxes:
        hit |= ((op.x0 < x + w) & (op.x0 + op.bw > x) & (op.y0 < y + h) & (op.y0 + op.bh > y))
    return hit


def _rotation(size: tuple[int, int], angle_deg: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine that turns the bench view so the mesh axes are the image axes, on a canvas
    large enough to keep every pixel."""
    w, h = size
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
    m[0, 2] += round((nw - w) / 2)  # whole pixels: an unturned view stays unresampled
    m[1, 2] += round((nh - h) / 2)
    return m, (nw, nh)


def _mesh_stats(op: meshmod.Openings, regular: np.ndarray, seg: meshmod.Segments,
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


def _to_defect(f: structural.Finding, back: np.ndarray, rect: Rectifier, s: float,
               shape: tuple[int, ...]) -> Defect:
    x, y, w, h = f.box
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
    in_rect = corners @ back[:, :2].T + back[:, 2]
    px = rect.rect_to_image(in_rect)
    x0, y0 = np.floor(px.min(0)).clip(0)
    x1, y1 = np.ceil(px.max(0))
    x1, y1 = min(x1, shape[1]), min(y1, shape[0])
    size = (f.size_px[0] / s, f.size_px[1] / s)
    return Defect(f.type, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)), size, f.score)

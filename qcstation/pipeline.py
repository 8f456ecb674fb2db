"""The inspection engine: one frame in, one Inspection out; a straight orchestrator of the
steps (quality, bench view, openings, appearance model, structural rules, judging).
Pure: no camera, disk or database."""

from __future__ import annotations

import copy
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol

import cv2
import numpy as np

from . import coverage, segment, stain_place, stand_out, structural
from . import mesh as meshmod
from . import threads as threadlimit
from .domain import Calibration, Defect, Frame, Inspection, ModelInfo
from .errors import ImageError
from .judge import judge
from .memory import keep_large_buffers
from .quality import NO_COLOUR, check_usable, has_colour
from .rectify import Rectifier
from .spec import Spec

logger = logging.getLogger(__name__)

MIN_SEPARATION = 2.5  # yarn/background cluster distance in pooled std; below it there is no net
MIN_LATTICE = segment.LATTICE_SEEN  # ... unless this share of the view lies in alike openings


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
    """Holds the spec, calibration, rectification and model; `inspect_frame` judges one frame.

    `bench` is a prebuilt Rectifier of this calibration (building one costs seconds at 5 MP):
    a station builds it once, and `with_spec` shares it. `threads` bounds the threads one
    inspection uses (OpenCV and the engine's helper thread; give the model the same number
    when loading it); None keeps OpenCV's default.
    """

    def __init__(self, spec: Spec, calibration: Calibration, bench: Rectifier | None = None,
                 model: AppearanceModel | None = None, threads: int | None = None,
                 *, px_per_mm: float | None = None):
        keep_large_buffers()  # every entry point inspects through here
        if bench is not None and bench.cal.image_size != calibration.image_size:
            raise ValueError("the prebuilt bench view belongs to another calibration")
        self.spec = spec
        self.cal = calibration
        self.rect = bench if bench is not None else Rectifier.build(calibration, px_per_mm)
        self.model = model
        self.threads = threads
        threadlimit.set_limit(threads)
        model_threads = getattr(model, "threads", None)
        if threads is not None and model_threads not in (None, threads):
            logger.warning("the defect model runs %s threads, the inspection is bounded to %d; "
                           "load the model with threads=%d", model_threads, threads, threads)

    def with_spec(self, spec: Spec) -> Inspector:
        """The same inspector judging against another spec; the bench view is shared."""
        other = copy.copy(self)
        other.spec = spec
        return other

    def inspect_frame(self, frame: Frame) -> tuple[Inspection, Analysis | None]:
        """Judge one frame; the Inspection names it (`image`) and refers to it (`frame_id`).
        A frame that came with an error (an unreadable file) is an `error` result."""
        if frame.error is not None:
            return replace(self._error(frame.label, frame.error), frame_id=frame.id), None
        inspection, analysis = self.inspect(frame.pixels, frame.label)
        return replace(inspection, frame_id=frame.id), analysis

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
        colour = has_colour(image)  # the defect model tells foreign matter by its colour
        bv, op, seen, colour = self._look(image, colour)
        if seen is not None:
            seen = findings_judged(seen, bv, op)
        m = measure(bv, op, self.spec.mesh.min_strand_mm, seen)
        m = replace(m, stats=m.stats.less_bias(*self.cal.opening_bias_mm))
        findings = list(m.findings) + (seen.findings if seen else [])
        back = cv2.invertAffineTransform(bv.to_mesh)
        defects = tuple(_to_defect(f, back, self.rect, bv.px_per_mm, image.shape)
                        for f in findings)
        verdict, reasons = judge(self.spec, m.stats, defects)
        gap = coverage.find_gap(bv.valid, op, bv.px_per_mm, [f.box for f in findings])
        if gap is not None:
            verdict, reasons = coverage.fail_for_gap(verdict, reasons, coverage.gap_reason(
                gap, back, self.rect, bv.px_per_mm, image.shape))
        if not colour:  # measured and shown, but not judged
            verdict, reasons = "error", [NO_COLOUR, *reasons]
        insp = Inspection(image=name, verdict=verdict, reasons=tuple(reasons),
                          spec=self.spec.name, mesh=m.stats, defects=defects,
                          model=self.model.info if self.model else None,
                          error=reasons[0] if verdict == "error" else None)
        return insp, Analysis(bv, op, m.regular, tuple(findings))

    def _look(self, image: np.ndarray, colour: bool
              ) -> tuple[BenchView, meshmod.Openings, structural.Appearance | None, bool]:
        """The bench view, its openings and what the defect model sees in the same view; the
        model runs on a second thread beside the segmentation (onnxruntime and OpenCV release
        the GIL), unless the inspection is bounded to one thread; OpenCV keeps to one thread
        meanwhile (the model's threads have the other core)."""
        t = self._turned(image)
        # a silhouette on a backlit panel holds no colour in a colour photo either: judged
        colour = colour or t.sep.silhouette
        beside = self.model is not None and colour and threadlimit.limit() != 1
        with (threadlimit.helper_pool() as pool,
              threadlimit.opencv_single() if beside else nullcontext()):
            seen = (pool.submit(self._appearance_of, t.rect, t.to_mesh, t.valid)
                    if self.model and colour else None)
            bv = self._segmented(t)
            op = bv.openings()
            if len(op) < self.spec.mesh.min_openings:
                raise ImageError(
                    f"only {len(op)} measurable openings in view, the spec needs at least "
                    f"{self.spec.mesh.min_openings}; lay more of the net flat under the camera")
            return bv, op, None if seen is None else seen.result(), colour

    def appearance(self, bv: BenchView) -> structural.Appearance:
        """The defect model on the bench view, its findings in the bench view's pixels; stains
        judged as `inspect` judges them (`findings_judged`)."""
        return findings_judged(self._appearance_of(bv.rect, bv.to_mesh, bv.valid), bv,
                             bv.openings())

    def _appearance_of(self, rect: np.ndarray, to_mesh: np.ndarray,
                       valid: np.ndarray) -> structural.Appearance:
        """The defect model on a view made at its own scale straight from the rectified image
        (one resampling), its findings brought back to the mesh-aligned bench view's pixels."""
        s, m = self.rect.px_per_mm, self.model.px_per_mm
        view, valid = _at_scale(rect, to_mesh, valid, m / s)
        return self.model.analyse(view, valid, m).scaled(s / m)

    def bench_view(self, image: np.ndarray) -> BenchView:
        """Rectify, separate yarn from openings, and turn the masks onto the mesh axes.

        Only one-channel images are turned (the colour view is turned when drawn).
        """
        return self._segmented(self._turned(image))

    def _turned(self, image: np.ndarray) -> _Turned:
        """Rectify; fit the yarn score and the mesh angle on every f-th pixel."""
        s = self.rect.px_per_mm
        rect = self.rect.rectify(image)
        f = max(1, round(s / segment.FIT_PX_PER_MM))
        # contiguous copies: every step below would otherwise copy the strided views again
        small = np.ascontiguousarray(rect[::f, ::f])
        valid_small = np.ascontiguousarray(self.rect.valid[::f, ::f])
        local_small = segment.local_brightness(small, s / f)
        sep, yarn_small = segment.fit_separation(small, valid_small, local_small)
        if sep.contrast < MIN_SEPARATION and sep.lattice < MIN_LATTICE:
            raise ImageError("no net in view (yarn and bench cannot be told apart)")
        angle = segment.mesh_angle(yarn_small, valid_small)
        to_mesh, size = _rotation(self.rect.size, angle)
        valid = cv2.warpAffine(self.rect.valid, to_mesh, size, flags=cv2.INTER_NEAREST)
        return _Turned(rect, valid, to_mesh, sep, local_small, f,
                       yarn_small if sep.textured else None)

    def _segmented(self, t: _Turned) -> BenchView:
        """Yarn, openings and the yarn's core, turned onto the mesh axes."""
        s, to_mesh, valid = self.rect.px_per_mm, t.to_mesh, t.valid
        size = (valid.shape[1], valid.shape[0])

        def turn(img: np.ndarray, flags: int = cv2.INTER_NEAREST) -> np.ndarray:
            return cv2.warpAffine(img, to_mesh, size, flags=flags)

        score, colour = segment.score_and_colour(t.rect, t.sep)
        score = turn(score, cv2.INTER_LINEAR)
        small_turn = to_mesh.copy()
        small_turn[:, 2] /= t.f
        local = cv2.warpAffine(t.local_small, small_turn,
                               (-(-size[0] // t.f), -(-size[1] // t.f)),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        flat = segment.flat_u8(score, t.sep, local)
        yarn, core = segment.decide(score, None if colour is None else turn(colour), t.sep,
                                    local, s, flat)
        yarn &= valid > 0
        if t.coarse_small is not None:  # a textured bench: the coarse mask decides off its edges
            coarse = cv2.warpAffine(t.coarse_small * 255, small_turn, local.shape[::-1][:2],
                                    flags=cv2.INTER_NEAREST)
            coarse = cv2.resize(coarse, size, interpolation=cv2.INTER_LINEAR)
            coarse = (coarse > 127).astype(np.uint8)
            yarn = segment.within_coarse(yarn, coarse, s)
            core = None if core is None else segment.within_coarse(core, coarse, s)
        # Hairs and frayed fibres go before grooves are bridged, so fibres lying along a
        # strand's edge or along a cut are not joined into strand.
        yarn = segment.bridge_grooves(segment.remove_hairs(yarn, s), s)
        core = None if core is None else segment.bridge_grooves(core & yarn, s)
        open_mask = ((yarn == 0) & (valid > 0)).astype(np.uint8)
        return BenchView(t.rect, valid, yarn, open_mask, core, to_mesh, s, flat,
                         t.coarse_small is not None)


@dataclass(frozen=True)
class _Turned:
    """A rectified frame, the turn onto its mesh axes and its yarn score, before segmentation."""

    rect: np.ndarray  # BGR, bench axes
    valid: np.ndarray  # uint8, 255 where the mesh-aligned view shows the image
    to_mesh: np.ndarray  # 2x3 affine: rectified px -> mesh-aligned px
    sep: segment.Separation
    local_small: np.ndarray  # local brightness of every f-th rectified pixel (float32)
    f: int
    coarse_small: np.ndarray | None = None  # uint8 0/1 yarn of the smoothed fit (textured bench)


def findings_judged(seen: structural.Appearance, bv: BenchView,
                    op: meshmod.Openings) -> structural.Appearance:
    """`seen` less the stain findings off the yarn (stain_place) and the stain and foreign-matter
    findings that do not stand out of the view (stand_out)."""
    seen = stain_place.stains_on_net(seen, bv.yarn, bv.open_mask, op, bv.px_per_mm)
    if not any(f.type in ("stain", "foreign_matter") for f in seen.findings):
        return seen
    view, valid, yarn = bv.yarn_at_scale(stand_out.PX_PER_MM)
    return stand_out.standing_out(seen, view, valid, yarn, stand_out.PX_PER_MM / bv.px_per_mm)


def measure(bv: BenchView, op: meshmod.Openings, min_strand_mm: float,
            seen: structural.Appearance | None = None) -> structural.Measurement:
    """`structural.measure` of the openings `op` of the bench view `bv`."""
    return structural.measure(op, bv.px_per_mm, min_strand_mm, seen, bv.flat, bv.textured)


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
    flat: np.ndarray | None = None  # uint8 yarn score, light divided out (segment.flat_u8)
    textured: bool = False  # read off the smoothed fit of a textured bench (coarse mask)

    def openings(self) -> meshmod.Openings:
        return meshmod.find_openings(self.open_mask, self.valid, self.px_per_mm, self.core)

    def at_scale(self, px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """The colour view and its valid mask turned onto the mesh axes at another scale."""
        return _at_scale(self.rect, self.to_mesh, self.valid, px_per_mm / self.px_per_mm)

    def yarn_at_scale(self, px_per_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The colour view and its valid mask at another scale, and the share of each of its
        pixels that is yarn (float32 0..1)."""
        view, valid = self.at_scale(px_per_mm)
        yarn = cv2.resize(self.yarn * np.uint8(255), (view.shape[1], view.shape[0]),
                          interpolation=cv2.INTER_AREA)
        return view, valid, yarn.astype(np.float32) / 255

    @cached_property
    def view(self) -> np.ndarray:
        """The colour view turned onto the mesh axes (for drawing)."""
        h, w = self.valid.shape
        return cv2.warpAffine(self.rect, self.to_mesh, (w, h), flags=cv2.INTER_LINEAR)


def _at_scale(rect: np.ndarray, to_mesh: np.ndarray, valid: np.ndarray,
              k: float) -> tuple[np.ndarray, np.ndarray]:
    """The rectified colour view turned onto the mesh axes at `k` times their scale (one
    resampling), and the mesh-aligned `valid` mask resized to it."""
    h, w = valid.shape
    size = (max(1, round(w * k)), max(1, round(h * k)))
    view = cv2.warpAffine(rect, to_mesh * k, size, flags=cv2.INTER_LINEAR)
    return view, cv2.resize(valid, size, interpolation=cv2.INTER_NEAREST)


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

"""Types that flow through qcstation: frames, calibration, mesh statistics, defects, inspections."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import numpy as np

DEFECT_TYPES = (
    "hole",
    "broken_strand",
    "irregular_mesh",
    "thin_strand",
    "foreign_matter",
    "stain",
    "loose_fibres",
)
STRUCTURAL_TYPES = ("hole", "broken_strand", "irregular_mesh", "thin_strand")
APPEARANCE_TYPES = ("foreign_matter", "stain", "loose_fibres")

Verdict = Literal["pass", "fail", "error"]


@dataclass(frozen=True, kw_only=True, eq=False)  # frames are compared by id, not pixels
class Frame:
    """One picture of the bench as a source delivered it: BGR pixels with an id, the moment it
    was captured (UTC) and where it came from ("folder:/path", "simulated", "usb:0", ...)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    pixels: np.ndarray  # BGR uint8 (height, width, 3)
    captured_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str
    name: str | None = None  # the file name for a folder source
    error: str | None = None  # why there are no pixels (an unreadable file): judged `error`

    def __post_init__(self) -> None:
        if self.captured_at.tzinfo is None:
            raise ValueError("a frame's captured_at must be timezone-aware (UTC)")

    @property
    def label(self) -> str:
        """How results name the frame: its file name, else its id."""
        return self.name or self.id


@dataclass(frozen=True)
class Calibration:
    """Camera intrinsics, lens distortion and the bench plane.

    `plane_homography` maps *undistorted* image pixels (pinhole camera with `camera_matrix`)
    to bench-plane millimetres (the axes of the chessboard that lay flat on the bench).
    """

    image_size: tuple[int, int]  # (width, height) px of the images this calibration is for
    camera_matrix: np.ndarray  # 3x3
    dist_coeffs: np.ndarray  # (5,) k1, k2, p1, p2, k3
    plane_homography: np.ndarray  # 3x3, undistorted px -> bench mm
    mm_per_px: float  # on the bench plane, at the image centre
    rms_px: float  # RMS reprojection error of the intrinsics fit
    board: tuple[int, int]  # inner corners (columns, rows)
    square_mm: float
    n_images: int
    created: str  # ISO 8601 date-time
    kind: Literal["chessboard", "scale"] = "chessboard"  # scale: no board, no lens model
    # station minus calipers on a reference net (`qcstation gauge`); inspect subtracts it
    opening_bias_mm: tuple[float, float] = (0.0, 0.0)  # across (w), along (h)
    gauge_note: str = ""  # when and on what the bias was measured
    # the same gauge check's std of the differences, and the repeatability (std) of the mean
    # opening over its photos, across and along; None where too few to tell
    gauge_spread_mm: tuple[float, float] | None = None
    gauge_repeat_mm: tuple[float, float] | None = None
    gauge_checked_at: str = ""  # ISO 8601 date-time of the gauge check

    def note(self) -> CalibrationNote:
        return CalibrationNote(self.kind, self.opening_bias_mm)


@dataclass(frozen=True)
class CalibrationNote:
    """What an inspection says about the calibration it was measured with."""

    kind: str  # "chessboard", or "scale": a plain mm-per-pixel, no lens model or plane
    opening_bias_mm: tuple[float, float]  # the gauge bias taken off the openings (w, h)

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.kind == "scale":
            out["note"] = ("a plain scale (qcstation calibrate --scale): no lens model or bench "
                           "plane; millimetres hold only for a photo taken straight down")
        if any(self.opening_bias_mm):
            out["opening_bias_mm"] = [round(float(v), 3) for v in self.opening_bias_mm]
        return out


@dataclass(frozen=True)
class Stat:
    """Summary of one measured quantity in millimetres."""

    mean: float
    std: float
    min: float
    max: float

    @staticmethod
    def of(values: np.ndarray) -> Stat:
        v = np.asarray(values, dtype=np.float64)
        if v.size == 0:
            return Stat(float("nan"), float("nan"), float("nan"), float("nan"))
        return Stat(float(v.mean()), float(v.std()), float(v.min()), float(v.max()))

    def shifted(self, d: float) -> Stat:
        return Stat(self.mean + d, self.std, self.min + d, self.max + d)


@dataclass(frozen=True)
class MeshStats:
    """Mesh geometry on the bench plane, over the regular openings wholly inside the view."""

    openings: int
    opening_w_mm: Stat  # clear span along the mesh x axis
    opening_h_mm: Stat  # clear span along the mesh y axis
    pitch_mm: Stat  # centre-to-centre strand spacing, both axes together
    strand_width_mm: Stat
    pitch_w_mm: float = float("nan")  # mean pitch along the mesh x axis
    pitch_h_mm: float = float("nan")  # mean pitch along the mesh y axis

    def less_bias(self, bias_w_mm: float, bias_h_mm: float) -> MeshStats:
        """The openings with a station's bias (station minus hand gauge) taken off; strands
        are as much narrower as the openings grow (the pitch does not change)."""
        if not (bias_w_mm or bias_h_mm):
            return self
        b = 0.5 * (bias_w_mm + bias_h_mm)
        return replace(self, opening_w_mm=self.opening_w_mm.shifted(-bias_w_mm),
                       opening_h_mm=self.opening_h_mm.shifted(-bias_h_mm),
                       strand_width_mm=self.strand_width_mm.shifted(b))

    def to_json(self) -> dict:
        r = 2
        return {
            "openings": self.openings,
            "opening_w_mm": _stat_json(self.opening_w_mm, r),
            "opening_h_mm": _stat_json(self.opening_h_mm, r),
            "pitch_mm": {
                "mean": _round(self.pitch_mm.mean, r),
                "std": _round(self.pitch_mm.std, r),
                "w_mean": _round(self.pitch_w_mm, r),
                "h_mean": _round(self.pitch_h_mm, r),
            },
            "strand_width_mm": {
                "mean": _round(self.strand_width_mm.mean, r),
                "min": _round(self.strand_width_mm.min, r),
            },
        }


@dataclass(frozen=True)
class Defect:
    """One defect: its type, box in input-image pixels, size on the bench and a score in [0, 1]."""

    type: str
    bbox_px: tuple[int, int, int, int]  # x, y, w, h in the input image
    size_mm: tuple[float, float]
    score: float
    detail: str = ""  # e.g. "2 openings merged"; used in reasons

    def __post_init__(self) -> None:
        if self.type not in DEFECT_TYPES:
            raise ValueError(f"unknown defect type {self.type!r}; expected one of {DEFECT_TYPES}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"defect score {self.score} is outside [0, 1]")

    def to_json(self) -> dict:
        return {
            "type": self.type,
            "bbox_px": [int(v) for v in self.bbox_px],
            "size_mm": [round(float(v), 1) for v in self.size_mm],
            "score": round(float(self.score), 3),
        }


@dataclass(frozen=True)
class ModelInfo:
    name: str
    sha256: str


@dataclass(frozen=True)
class Inspection:
    """The result of inspecting one frame (CONTRACT.md schema via `to_json`).

    `image` names the frame (its file name, else its id); `frame_id` is the frame's id.
    """

    image: str
    verdict: Verdict
    reasons: tuple[str, ...]
    spec: str
    error: str | None = None
    mesh: MeshStats | None = None
    defects: tuple[Defect, ...] = ()
    model: ModelInfo | None = None
    timing_ms: dict[str, float] = field(default_factory=dict)
    calibration: CalibrationNote | None = None
    frame_id: str | None = None

    def to_json(self) -> dict:
        return {
            "image": self.image,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "error": self.error,
            "spec": self.spec,
            "mesh": self.mesh.to_json() if self.mesh else None,
            "defects": [d.to_json() for d in self.defects],
            "model": {"name": self.model.name, "sha256": self.model.sha256} if self.model else None,
            "timing_ms": {k: round(v, 1) for k, v in self.timing_ms.items()},
            "calibration": self.calibration.to_json() if self.calibration else None,
        }


def _round(v: float, r: int) -> float | None:
    return None if v != v else round(float(v), r)  # NaN -> null in JSON


def _stat_json(s: Stat, r: int) -> dict:
    return {"mean": _round(s.mean, r), "std": _round(s.std, r), "min": _round(s.min, r),
            "max": _round(s.max, r)}

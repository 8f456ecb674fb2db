"""The calibration file format (JSON-able dict) and its validation."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .domain import Calibration
from .errors import CalibrationError
from .imageheader import size_problem

logger = logging.getLogger(__name__)

FORMAT = "qcstation-calibration/1"

_Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
# matrix entries of a size a camera can have: 1e300 is no focal length
_Entry = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e9, le=1e9)]
_Row3 = tuple[_Entry, _Entry, _Entry]
_Matrix3 = tuple[_Row3, _Row3, _Row3]
_Count = Annotated[int, Field(strict=True, ge=1, le=100_000)]
# the bench scale of any plausible set-up: from a macro view (0.02 mm/px) to a whole net
# seen by a small sensor (5 mm/px)
MM_PER_PX_RANGE = (0.02, 5.0)


class _Gauge(BaseModel):
    """The bias of this bench against a hand gauge (`qcstation gauge`): station minus calipers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opening_bias_mm: tuple[_Finite, _Finite]  # across (w), along (h)
    measured: str = ""  # when, and on what (free text)
    spread_mm: tuple[_Finite, _Finite] | None = None  # std of station minus calipers
    repeatability_mm: tuple[_Finite, _Finite] | None = None  # std of the mean over photos
    checked_at: str | None = None  # ISO 8601 date-time

    @field_validator("checked_at")
    @classmethod
    def _iso_time(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                datetime.fromisoformat(v)
            except ValueError:
                raise ValueError(f"{v!r} is not an ISO 8601 date-time") from None
        return v


class _CalibrationFile(BaseModel):
    """The JSON file; every key is required and unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["qcstation-calibration/1"]
    kind: Literal["chessboard", "scale"] = "chessboard"
    created: str
    image_size: tuple[_Count, _Count]
    # required for a chessboard calibration, absent for a plain scale (see _board_given)
    board: tuple[Annotated[int, Field(strict=True, ge=2, le=100)], ...] | None = Field(
        None, min_length=2, max_length=2
    )
    square_mm: _Finite | None = Field(None, gt=0, le=1000)
    n_images: Annotated[int, Field(strict=True, ge=0, le=100_000)]  # 0: a hand-made camera
    rms_px: _Finite = Field(ge=0, le=1000)
    mm_per_px: _Finite = Field(ge=MM_PER_PX_RANGE[0], le=MM_PER_PX_RANGE[1])
    camera_matrix: _Matrix3
    dist_coeffs: tuple[_Entry, _Entry, _Entry, _Entry, _Entry]
    plane_homography: _Matrix3
    gauge: _Gauge | None = None

    @model_validator(mode="after")
    def _board_given(self) -> _CalibrationFile:
        if self.kind == "chessboard" and (self.board is None or self.square_mm is None):
            raise ValueError("a chessboard calibration needs the keys 'board' and 'square_mm'")
        return self

    @field_validator("created")
    @classmethod
    def _iso_time(cls, v: str) -> str:
        try:
            datetime.fromisoformat(v)
        except ValueError:
            raise ValueError(
                f"{v!r} is not an ISO 8601 date-time such as 2025-01-31T09:00:00+00:00"
            ) from None
        return v

    @field_validator("image_size")
    @classmethod
    def _size(cls, v: tuple[int, int]) -> tuple[int, int]:
        problem = size_problem(v)
        if problem:
            raise ValueError(f"the image size is out of range ({problem})")
        return v

    @field_validator("camera_matrix")
    @classmethod
    def _camera(cls, v: tuple) -> tuple:
        k = np.array(v)
        if k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ValueError(f"fx = {k[0, 0]:g} and fy = {k[1, 1]:g} must both be positive")
        if k[1, 0] != 0 or tuple(k[2]) != (0.0, 0.0, 1.0):
            raise ValueError("expected [[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
        return v

    @field_validator("plane_homography")
    @classmethod
    def _homography(cls, v: tuple) -> tuple:
        s = np.linalg.svd(np.array(v), compute_uv=False)
        if s[0] == 0 or s[-1] / s[0] < 1e-13:
            raise ValueError("the homography is singular; run qcstation calibrate again")
        return v


def calibration_to_dict(cal: Calibration) -> dict:
    """A JSON-able dict of the calibration (the file format)."""
    d = {
        "format": FORMAT,
        "kind": cal.kind,
        "created": cal.created,
        "image_size": [int(v) for v in cal.image_size],
        "board": [int(v) for v in cal.board],
        "square_mm": float(cal.square_mm),
        "n_images": int(cal.n_images),
        "rms_px": float(cal.rms_px),
        "mm_per_px": float(cal.mm_per_px),
        "camera_matrix": np.asarray(cal.camera_matrix, np.float64).tolist(),
        "dist_coeffs": np.asarray(cal.dist_coeffs, np.float64).ravel().tolist(),
        "plane_homography": np.asarray(cal.plane_homography, np.float64).tolist(),
    }
    if cal.kind == "scale":  # no board was used
        del d["board"], d["square_mm"]
    if any(cal.opening_bias_mm) or cal.gauge_checked_at:
        d["gauge"] = {"opening_bias_mm": [float(v) for v in cal.opening_bias_mm],
                      "measured": cal.gauge_note}
        for key, value in (("spread_mm", cal.gauge_spread_mm),
                           ("repeatability_mm", cal.gauge_repeat_mm)):
            if value is not None:
                d["gauge"][key] = [float(v) for v in value]
        if cal.gauge_checked_at:
            d["gauge"]["checked_at"] = cal.gauge_checked_at
    return d


def calibration_from_dict(d: object, source: str = "<calibration>") -> Calibration:
    """Validate a dict read from a calibration file; `source` names the file in errors."""
    if not isinstance(d, dict):
        raise CalibrationError(
            f"{source}: expected a JSON object with the calibration keys, got {type(d).__name__}."
        )
    try:
        f = _CalibrationFile.model_validate(d)
    except ValidationError as e:
        raise CalibrationError(f"{source}: {_describe(e)}") from None
    cal = Calibration(
        image_size=(f.image_size[0], f.image_size[1]),
        camera_matrix=np.array(f.camera_matrix, np.float64),
        dist_coeffs=np.array(f.dist_coeffs, np.float64),
        plane_homography=np.array(f.plane_homography, np.float64),
        mm_per_px=f.mm_per_px,
        rms_px=f.rms_px,
        board=(f.board[0], f.board[1]) if f.board else (0, 0),
        square_mm=f.square_mm or 0.0,
        n_images=f.n_images,
        created=f.created,
        kind=f.kind,
        opening_bias_mm=f.gauge.opening_bias_mm if f.gauge else (0.0, 0.0),
        gauge_note=f.gauge.measured if f.gauge else "",
        gauge_spread_mm=f.gauge.spread_mm if f.gauge else None,
        gauge_repeat_mm=f.gauge.repeatability_mm if f.gauge else None,
        gauge_checked_at=(f.gauge.checked_at or "") if f.gauge else "",
    )
    _check_horizon(cal, source)
    _check_scale(cal, source)
    return cal


def _check_scale(cal: Calibration, source: str) -> None:
    """The homography's bench scale must be plausible and agree with the file's mm_per_px."""
    k = cal.camera_matrix
    centre = np.array([k[0, 2], k[1, 2], 1.0])
    probe = np.array([centre, centre + [1.0, 0, 0], centre + [0, 1.0, 0]])
    mapped = probe @ cal.plane_homography.T
    mm = mapped[:, :2] / mapped[:, 2:]
    scale = float(np.sqrt(np.linalg.norm(mm[1] - mm[0]) * np.linalg.norm(mm[2] - mm[0])))
    lo, hi = MM_PER_PX_RANGE
    if not lo <= scale <= hi:
        raise CalibrationError(
            f"{source}: key 'plane_homography' gives {scale:.3g} mm per pixel on the bench, "
            f"outside the plausible {lo}-{hi}; run qcstation calibrate again."
        )
    if not 0.5 <= scale / cal.mm_per_px <= 2.0:
        raise CalibrationError(
            f"{source}: key 'plane_homography' gives {scale:.3g} mm per pixel but key "
            f"'mm_per_px' says {cal.mm_per_px:.3g}; the file was edited, run qcstation "
            "calibrate again."
        )


def _check_horizon(cal: Calibration, source: str) -> None:
    """The whole image must map to a finite part of the bench (no horizon inside it)."""
    w, h = cal.image_size
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], np.float64)
    scale = corners @ cal.plane_homography[2]
    if not (np.all(scale > 0) or np.all(scale < 0)):
        raise CalibrationError(
            f"{source}: key 'plane_homography' maps part of the image beyond the bench's horizon; "
            "run qcstation calibrate again with the board lying flat on the bench."
        )


_SHAPES = {
    "image_size": "[width, height] in pixels",
    "board": "[columns, rows] of inner corners",
    "camera_matrix": "a 3x3 matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]",
    "dist_coeffs": "5 numbers [k1, k2, p1, p2, k3]",
    "plane_homography": "a 3x3 matrix",
}
_SHAPE_ERRORS = {"missing", "too_short", "too_long", "tuple_type", "list_type"}


def _describe(e: ValidationError) -> str:
    """One clause per bad key: the key, the value found and what was expected."""
    parts: dict[str, str] = {}  # first problem of each key
    for err in e.errors():
        loc = err["loc"]
        key = str(loc[0]) if loc else "(top level)"
        item = "".join(f"[{i}]" for i in loc[1:])
        where = f"key '{key}'" + (f" item {item}" if item else "")
        kind = err["type"]
        if key == "format":
            found = "missing" if kind == "missing" else _short(err.get("input"))
            text = (
                f"not a calibration file this qcstation reads (key 'format' is {found}, expected "
                f"{FORMAT!r}); give a file written by qcstation calibrate"
            )
        elif kind == "extra_forbidden":
            text = f"unknown key '{key}'; remove it"
        elif kind == "missing" and len(loc) == 1:
            text = f"missing key '{key}'; write the file with qcstation calibrate"
        elif key in _SHAPES and kind in _SHAPE_ERRORS:
            text = f"key '{key}' must be {_SHAPES[key]}"
        elif kind == "value_error":  # our own checks: the message says what is wrong
            text = f"{where}: {err['msg'].removeprefix('Value error, ')}"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            text = f"{where} has value {_short(err.get('input'))}: {msg}"
        parts.setdefault(key, text)
    if "format" in parts:  # another kind of file: its other keys do not matter
        return parts["format"] + "."
    return "; ".join(parts.values()) + "."


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

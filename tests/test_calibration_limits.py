"""Calibration files outside what a bench can be are refused with one sentence, not obeyed.

Each case was once read: a 100000 x 100000 image size (6.6 GB of maps, then MemoryError), a
homography whose bench scale was a million times off, numbers of 5000 digits or nested arrays
(ValueError, RecursionError tracebacks), /dev/zero (no end).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from netimg import ideal_calibration

from qcstation.calibration_format import calibration_to_dict
from qcstation.calibration_io import load_calibration
from qcstation.errors import CalibrationError


def _good() -> dict:
    return calibration_to_dict(ideal_calibration(800, 600, 4.0))


def _rows_scaled(k: float):
    def edit(d):
        h = np.array(d["plane_homography"])
        h[:2] *= k  # the bench millimetres k times larger
        d["plane_homography"] = h.tolist()
    return edit


def _set(key, value):
    def edit(d):
        d[key] = value
    return edit


BAD = [
    ("16000x12000 image", _set("image_size", [16000, 12000]), "image_size"),
    ("100000 squared image", _set("image_size", [100000, 100000]), "image_size"),
    ("homography scaled 1e6", _rows_scaled(1e6), "plane_homography"),
    ("homography scaled 1e-6", _rows_scaled(1e-6), "plane_homography"),
    ("mm_per_px disagrees", _set("mm_per_px", 2.0), "mm_per_px"),
    ("mm_per_px 1e6", _set("mm_per_px", 1e6), "mm_per_px"),
    ("mm_per_px 0", _set("mm_per_px", 0.0), "mm_per_px"),
    ("focal length 1e300", lambda d: d["camera_matrix"][0].__setitem__(0, 1e300),
     "camera_matrix"),
    ("bool as size", _set("image_size", [True, 600]), "image_size"),
]


@pytest.mark.parametrize(("edit", "key"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_out_of_range_calibration_is_refused(tmp_path, edit, key):
    d = _good()
    edit(d)
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(CalibrationError) as e:
        load_calibration(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and f"'{key}'" in msg and "\n" not in msg


def test_the_whole_homography_scaled_is_the_same_plane(tmp_path):
    """A projective matrix times any factor maps alike: not an error."""
    d = _good()
    d["plane_homography"] = (np.array(d["plane_homography"]) * 1e6).tolist()
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    assert load_calibration(path).image_size == (800, 600)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(_good()).replace('"rms_px": 0.0', '"rms_px": ' + "9" * 5000),
        '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps(_good()).replace('"rms_px": 0.0', '"rms_px": NaN'),
        json.dumps(_good()).replace('"rms_px": 0.0', '"rms_px": 1e999'),
    ],
    ids=["5000 digits", "deep nesting", "NaN", "overflow to inf"],
)
def test_unreadable_numbers_are_one_sentence(tmp_path, text):
    path = tmp_path / "cal.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError) as e:
        load_calibration(path)
    assert str(e.value).startswith(f"{path}: ") and "\n" not in str(e.value)


def test_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "cal.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_good()).encode())
    assert load_calibration(path).image_size == (800, 600)


def test_only_regular_files(tmp_path):
    with pytest.raises(CalibrationError, match="device"):
        load_calibration("/dev/zero")
    fifo = tmp_path / "cal.json"
    os.mkfifo(fifo)
    with pytest.raises(CalibrationError, match="pipe"):
        load_calibration(fifo)

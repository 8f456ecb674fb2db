"""`qcstation calibrate` on 13 real photos, checked against OpenCV's own calibration of them.

The reference (`left_intrinsics.yml`, read with cv2.FileStorage) is an independent answer,
computed with the aspect ratio fixed to 1. Its fit is pulled by a few corners on left02.jpg
(that view's error is 1.18 px): refining corners with OpenCV's usual fixed 11 px half-window
reproduces it (fx = 536.1 px, left02.jpg 1.22 px), because on that photo the window reaches the
neighbouring corner; leaving left02.jpg out gives fx = 534.1 px. Ours keeps the window clear of
neighbouring corners and fits the aspect ratio freely: fx = fy = 533.2 px (0.5 % below the
reference), principal point within 1.6 px, RMS 0.18 px against the reference's 0.39 px. Fixing
the aspect ratio would move fx by 0.04 px. Hence the bounds: focal lengths within 1 %, principal
point within 3 px, RMS below 0.5 px and below the reference's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

DATA = Path(__file__).parents[1].parent / "shared/data/opencv-chessboard"
pytestmark = pytest.mark.skipif(
    not (DATA / "left_intrinsics.yml").is_file(),
    reason=f"real chessboard photos not present at {DATA} (shared data folder absent)",
)


def _reference() -> tuple[np.ndarray, float]:
    fs = cv2.FileStorage(str(DATA / "left_intrinsics.yml"), cv2.FILE_STORAGE_READ)
    try:
        k = fs.getNode("camera_matrix").mat()
        rms = fs.getNode("avg_reprojection_error").real()
    finally:
        fs.release()
    return k, rms


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path_factory.mktemp("cal") / "nested" / "opencv-left.json"
    images = sorted(str(p) for p in DATA.glob("left*.jpg"))
    cmd = [sys.executable, "-m", "qcstation", "calibrate", "--board", "9x6", "--square-mm", "25"]
    proc = subprocess.run(
        [*cmd, *images, "-o", str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(out.read_text(encoding="utf-8"))


def test_intrinsics_match_opencv_reference(calibrated):
    # given 13 real photos and OpenCV's calibration of them
    _, cal = calibrated
    ref, _ = _reference()
    k = np.array(cal["camera_matrix"])
    # then the focal lengths agree within 1 % and the principal point within 3 px
    assert k[0, 0] == pytest.approx(ref[0, 0], rel=0.01)
    assert k[1, 1] == pytest.approx(ref[1, 1], rel=0.01)
    assert abs(k[0, 2] - ref[0, 2]) < 3.0
    assert abs(k[1, 2] - ref[1, 2]) < 3.0
    # and the pixels are square, as they are on this camera (the reference assumed so)
    assert k[0, 0] / k[1, 1] == pytest.approx(1.0, abs=0.002)


def test_fit_quality_and_report(calibrated):
    proc, cal = calibrated
    _, ref_rms = _reference()
    # every photo shows the board, and our corners fit better than the reference's
    assert cal["n_images"] == 13
    assert cal["rms_px"] < 0.5
    assert cal["rms_px"] < ref_rms
    assert cal["dist_coeffs"][0] == pytest.approx(-0.27, abs=0.03)  # visible barrel distortion
    # the printed report names the numbers that matter
    assert "boards found: 13 of 13" in proc.stdout
    assert f"RMS reprojection error: {cal['rms_px']:.3f} px" in proc.stdout
    assert f"{cal['mm_per_px']:.4f} mm per px" in proc.stdout
    # left01.jpg, the default plane board, is held up tilted: the one warning is that
    assert proc.stderr.count("\n") == 1
    assert "left01.jpg is tilted 18 degrees" in proc.stderr


def test_bench_plane_maps_first_photo_to_board_mm(calibrated):
    # the default bench plane is the first photo (left01.jpg): its corners land on the board's mm
    from qcstation.calibration import board_points_mm, find_board, image_to_bench_mm

    _, cal = calibrated
    corners = find_board(cv2.imread(str(DATA / "left01.jpg"), cv2.IMREAD_GRAYSCALE))
    mm = image_to_bench_mm(
        corners,
        np.array(cal["camera_matrix"]),
        np.array(cal["dist_coeffs"]),
        np.array(cal["plane_homography"]),
    )
    err = np.linalg.norm(mm - board_points_mm((9, 6), 25.0), axis=1)
    # 0.2 px of corner noise at ~0.8 mm/px
    assert err.max() < 0.4
    assert 0.5 < cal["mm_per_px"] < 1.0

"""Calibration refuses views that cannot fix the lens, and says which board sets the bench plane.

Boards are rendered with exact geometry by tests/boardimg.py (one pinhole camera, f = 800 px).
Six copies of one photo used to calibrate with RMS 0.049 px and no warning; a tilted first
board silently set the bench plane.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from boardimg import board_homography, render_board

from qcstation.calibration import calibrate_images
from qcstation.errors import CalibrationError
from qcstation.imageio import write_image

TILTS = [(0, 0), (25, 0), (-25, 10), (10, 30), (-20, -25), (30, 20), (-5, -30)]


def board(i: int, tilt=(0.0, 0.0), distance_mm=600.0):
    img, _ = render_board(board_homography(angle_deg=15 * i - 40, tilt_deg=tilt,
                                           distance_mm=distance_mm), seed=i)
    return img


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A flat board square to the camera, six tilted ones, as files."""
    folder = tmp_path_factory.mktemp("views")
    paths = []
    for i, tilt in enumerate(TILTS):
        paths.append(folder / f"board{i}.png")
        write_image(paths[-1], board(i, tilt))
    return paths


def _calibrate(*args) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "qcstation", "calibrate", "--board", "9x6", "--square-mm", "25",
           *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_copies_of_one_photo_are_refused():
    img = board(1, (25, 0))
    with pytest.raises(CalibrationError, match="only 1 different") as e:
        calibrate_images([img] * 6, (9, 6), 25.0)
    assert "copies of one photo" in str(e.value)


def test_boards_only_slid_and_turned_on_the_bench_are_refused():
    """All boards parallel to the image plane: the focal length is not fixed by them."""
    imgs = [board(i, (0, 0), 550 + 30 * i) for i in range(6)]
    with pytest.raises(CalibrationError, match="nearly the same angle"):
        calibrate_images(imgs, (9, 6), 25.0)


def test_tilted_boards_still_calibrate():
    cal = calibrate_images([board(i, t) for i, t in enumerate(TILTS)], (9, 6), 25.0)
    assert cal.camera_matrix[0, 0] == pytest.approx(800, rel=0.02)  # boardimg's f_px


def test_cli_refuses_copies_in_one_sentence(tmp_path, photos):
    proc = _calibrate(*[photos[1]] * 6, "-o", tmp_path / "c.json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "copies of one photo" in proc.stderr
    assert not (tmp_path / "c.json").exists()


def test_cli_warns_when_a_tilted_first_board_sets_the_plane(tmp_path, photos):
    proc = _calibrate(*photos[1:], "-o", tmp_path / "c.json")
    assert proc.returncode == 0, proc.stderr
    assert f"bench plane: the board in {photos[1]} (the first image" in proc.stdout
    assert "warning" in proc.stderr and "tilted 25 degrees" in proc.stderr
    assert "--plane" in proc.stderr


def test_cli_names_a_flat_plane_board_without_warning(tmp_path, photos):
    proc = _calibrate("--plane", photos[0], *photos[1:], "-o", tmp_path / "c.json")
    assert proc.returncode == 0, proc.stderr
    assert f"bench plane: the board in {photos[0]} (--plane), 0." in proc.stdout
    assert "warning" not in proc.stderr

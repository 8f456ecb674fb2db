"""`qcstation calibrate` as a user runs it: refusals are one line on stderr with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from boardimg import board_homography, render_board

from qcstation.imageio import write_image


def _calibrate(*args: str, cwd=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "qcstation", "calibrate", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


def _one_line_refusal(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def board_photos(tmp_path_factory):
    """Seven rendered photos of a 9x6 board, one camera, varied tilts (tests/boardimg.py)."""
    folder = tmp_path_factory.mktemp("boards")
    paths = []
    tilts = [(0, 0), (25, 0), (-25, 10), (10, 30), (-20, -25), (30, 20), (-5, -30)]
    for i, tilt in enumerate(tilts):
        img, _ = render_board(board_homography(angle_deg=15 * i - 40, tilt_deg=tilt), seed=i)
        paths.append(folder / f"board{i}.png")
        write_image(paths[-1], img)
    return paths


def test_too_few_boards(tmp_path):
    blanks = []
    for i in range(3):
        blanks.append(tmp_path / f"blank{i}.png")
        write_image(blanks[-1], np.full((480, 640, 3), 180, np.uint8))
    proc = _calibrate("--square-mm", "25", *map(str, blanks), "-o", str(tmp_path / "c.json"))
    line = _one_line_refusal(proc)
    assert "chessboard found in 0 of 3 images" in line and "at least 5" in line
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("board", ["9by6", "9x", "1x6", "nine"])
def test_bad_board_argument(tmp_path, board):
    proc = _calibrate("--board", board, "--square-mm", "25", "a.jpg", "-o", "c.json", cwd=tmp_path)
    line = _one_line_refusal(proc)
    assert "--board" in line and repr(board) in line


@pytest.mark.parametrize("square", ["0", "-25", "nan", "wide"])
def test_bad_square_argument(tmp_path, square):
    proc = _calibrate("--square-mm", square, "a.jpg", "-o", "c.json", cwd=tmp_path)
    assert "--square-mm" in _one_line_refusal(proc)


def test_unreadable_plane_image(tmp_path, board_photos):
    proc = _calibrate(
        "--square-mm",
        "25",
        "--plane",
        str(tmp_path / "missing.jpg"),
        *map(str, board_photos),
        "-o",
        str(tmp_path / "c.json"),
    )
    line = _one_line_refusal(proc)
    assert "missing.jpg" in line and "not found" in line


def test_plane_image_without_board(tmp_path, board_photos):
    plane = tmp_path / "bench.png"
    write_image(plane, np.full((480, 640, 3), 180, np.uint8))
    proc = _calibrate(
        "--square-mm",
        "25",
        "--plane",
        str(plane),
        *map(str, board_photos),
        "-o",
        str(tmp_path / "c.json"),
    )
    line = _one_line_refusal(proc)
    assert "bench.png" in line and "no 9x6-corner chessboard" in line


def test_unreadable_images_are_skipped_and_counted(tmp_path, board_photos):
    # given seven good photos, a corrupt file and a missing one
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "new" / "folder" / "cal.json"
    args = [*map(str, board_photos), str(bad), str(tmp_path / "gone.jpg")]
    proc = _calibrate("--board", "9x6", "--square-mm", "20", *args, "-o", str(out))
    # then it calibrates, reports each bad file on stderr and counts them as not found
    assert proc.returncode == 0, proc.stderr
    assert "boards found: 7 of 9 images" in proc.stdout
    err = proc.stderr.strip().splitlines()
    assert len(err) == 2 and "corrupt.jpg" in err[0] and "gone.jpg" in err[1]
    # and writes the file, creating its folder; the rendered boards have no lens distortion
    cal = json.loads(out.read_text(encoding="utf-8"))
    assert cal["n_images"] == 7 and cal["square_mm"] == 20.0
    assert cal["rms_px"] < 0.2
    # the first photo is square on, 600 mm from an 800 px focal length: 600 / 800 mm per px
    # for the rendered 25 mm squares, which we declared as 20 mm
    assert cal["mm_per_px"] == pytest.approx(0.75 * 20 / 25, rel=0.005)
    assert f"{cal['mm_per_px']:.4f} mm per px" in proc.stdout


def test_help_explains_every_option():
    proc = subprocess.run(
        [sys.executable, "-m", "qcstation", "calibrate", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    for option in ("--board", "--square-mm", "--plane", "--output", "IMAGES"):
        assert option in proc.stdout

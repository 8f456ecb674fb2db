"""`qcstation calibrate --scale`: a calibration without a chessboard, marked so in the file and
in every inspection made with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from netimg import grid_net

from qcstation.calibration_io import load_calibration
from qcstation.imageio import write_image
from qcstation.rectify import image_to_bench

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "kr-coirnet-25.toml"


def qc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qcstation", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_scale_file_is_marked_and_maps_pixels_to_mm(tmp_path):
    out = tmp_path / "cal.json"
    r = qc("calibrate", "--scale", "0.25", "--size", "800x600", "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["kind"] == "scale" and "board" not in data and data["n_images"] == 0
    cal = load_calibration(out)
    assert cal.kind == "scale" and cal.image_size == (800, 600) and cal.mm_per_px == 0.25
    # every pixel is 0.25 mm: 400 px apart are 100 mm apart, anywhere in the image
    mm = image_to_bench(cal, np.array([[0.0, 0.0], [400.0, 0.0], [100.0, 500.0]]))
    assert np.allclose(mm[1] - mm[0], [100.0, 0.0]) and np.allclose(mm[2] - mm[0], [25.0, 125.0])


@pytest.mark.parametrize("args, words", [
    (["--scale", "0.4"], "--scale and --size go together"),
    (["--size", "640x480"], "--scale and --size go together"),
    (["--scale", "0.4", "--size", "640x480", "a.jpg"], "give no photos"),
    (["--scale", "0", "--size", "640x480"], "positive length"),
    (["--scale", "0.4", "--size", "640by480"], "not an image size"),
    ([], "--scale MM_PER_PX --size WxH"),
])
def test_scale_refusals_are_one_line(tmp_path, args, words):
    r = qc("calibrate", *args, "-o", str(tmp_path / "c.json"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "c.json").exists()


def test_inspect_says_the_calibration_is_a_plain_scale(tmp_path):
    # a drawn net of 25 mm openings at 4 px/mm (tests/netimg.py): the scale is 0.25 mm/px
    write_image(tmp_path / "net.png", grid_net(width=800, height=600, px_per_mm=4.0))
    cal = tmp_path / "cal.json"
    assert qc("calibrate", "--scale", "0.25", "--size", "800x600", "-o", str(cal)).returncode == 0
    r = qc("inspect", "--spec", str(SPEC), "--calibration", str(cal), str(tmp_path / "net.png"),
           "--json", "--no-model")
    result = json.loads(r.stdout.splitlines()[0])
    note = result["calibration"]
    assert note["kind"] == "scale" and "no lens model" in note["note"]
    assert abs(result["mesh"]["opening_w_mm"]["mean"] - 25.0) < 0.5, result["mesh"]

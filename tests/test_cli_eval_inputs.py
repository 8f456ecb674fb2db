"""`eval` refuses malformed ground truth in one sentence, and no command changes an input file.

A malformed NNNN.json once gave a traceback, and a missing image exit 0 with NaN in the table.
The set here is made by hand: tests/netimg.py grids, 0001 with the nominal 25 mm openings (truth:
pass), 0002 with 31 mm ones (truth: fail, outside 25 +- 3 mm), on an ideal camera.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from boardimg import board_homography, render_board
from netimg import grid_net, ideal_calibration

from qcstation.calibration_io import save_calibration
from qcstation.domain import Inspection
from qcstation.errors import DataError
from qcstation.evaluate import evaluate, format_table, parse_truth
from qcstation.imageio import write_image

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "kr-coirnet-25.toml"
S = 4.0


def _look(img: np.ndarray) -> np.ndarray:
    img = cv2.GaussianBlur(img, (0, 0), 0.8)
    return np.clip(img + np.random.default_rng(0).normal(0, 2.5, img.shape), 0, 255).astype(
        np.uint8)


def _truth(image: str, verdict: str, opening: float) -> dict:
    return {"image": image, "verdict": verdict, "reasons": [], "bench": "ideal",
            "mesh": {"opening_w_mm": {"mean": opening}, "opening_h_mm": {"mean": opening}},
            "defects": []}


@pytest.fixture(scope="module")
def truth_set(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("truth")
    save_calibration(ideal_calibration(1200, 900, S), d / "calibration.json")
    (d / "dataset.json").write_text(json.dumps({"spec_path": str(SPEC)}))
    for i, opening, verdict in [(1, 25.0, "pass"), (2, 31.0, "fail")]:
        write_image(d / f"{i:04d}.jpg", _look(grid_net(1200, 900, S, (opening, opening))), 92)
        (d / f"{i:04d}.json").write_text(json.dumps(_truth(f"{i:04d}.jpg", verdict, opening)))
    return d


def qc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qcstation", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _copy(truth_set: Path, tmp_path: Path) -> Path:
    d = tmp_path / "set"
    shutil.copytree(truth_set, d)
    return d


def test_eval_of_the_hand_made_set(truth_set):
    r = qc("eval", str(truth_set), "--no-model", "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)["all"]
    assert figures["images"] == 2 and figures["verdict_accuracy"] == 1.0
    assert figures["mesh_mae_mm"] < 0.5


MALFORMED = [
    ("not JSON", "{oops"),
    ("a list", "[1, 2]"),
    ("unknown verdict", json.dumps(_truth("0001.jpg", "ok", 25.0))),
    ("image outside the folder", json.dumps(_truth("../0001.jpg", "pass", 25.0))),
    ("image a number", json.dumps(_truth("0001.jpg", "pass", 25.0) | {"image": 1})),
    ("bbox of three", json.dumps(_truth("0001.jpg", "pass", 25.0)
                                 | {"defects": [{"type": "hole", "bbox_px": [1, 2, 3]}]})),
    ("mesh without mean", json.dumps(_truth("0001.jpg", "pass", 25.0)
                                     | {"mesh": {"opening_w_mm": {}}})),
    ("bench a list", json.dumps(_truth("0001.jpg", "pass", 25.0) | {"bench": ["a"]})),
    ("5000 digits", json.dumps(_truth("0001.jpg", "pass", 25.0)).replace("25.0", "9" * 5000)),
    ("deep nesting", '{"image": ' + "[" * 100_000 + "]" * 100_000 + "}"),
]


@pytest.mark.parametrize("text", [c[1] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_ground_truth_is_one_sentence(truth_set, tmp_path, text):
    d = _copy(truth_set, tmp_path)
    (d / "0001.json").write_text(text)
    r = qc("eval", str(d), "--no-model")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and f"{d / '0001.json'}:" in r.stderr


def test_an_unusable_photo_may_have_no_mesh_means():
    # `synth` writes a blank bench's truth with null means (no net, nothing measured)
    blank = _truth("0001.jpg", "error", 25.0)
    blank["mesh"]["opening_w_mm"]["mean"] = blank["mesh"]["opening_h_mm"]["mean"] = None
    assert parse_truth(json.dumps(blank), "0001.json")["verdict"] == "error"
    with pytest.raises(DataError, match="opening_w_mm"):
        parse_truth(json.dumps(blank | {"verdict": "pass"}), "0001.json")


def test_a_missing_image_is_refused_not_a_nan_table(truth_set, tmp_path):
    d = _copy(truth_set, tmp_path)
    (d / "0002.jpg").unlink()
    r = qc("eval", str(d), "--no-model")
    assert r.returncode == 2 and r.stdout == ""
    assert "0002.jpg" in r.stderr and r.stderr.count("\n") == 1


def test_a_table_without_measurements_shows_dashes_not_nan():
    """Every image an error: no mesh compared and no time; the table says '-', never nan."""
    truth = _truth("0001.jpg", "pass", 25.0)
    result = Inspection(image="0001.jpg", verdict="error", reasons=("x",), spec="S", error="x")
    table = format_table(evaluate([(truth, result)]))
    assert "nan" not in table.lower()
    assert "| all | 1 | 0.0% |" in table


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_no_command_changes_an_input_file(truth_set, tmp_path):
    inputs = _copy(truth_set, tmp_path)
    boards = inputs / "boards"
    tilts = [(0, 0), (25, 0), (-25, 10), (10, 30), (-20, -25), (30, 20), (-5, -30)]
    for i, tilt in enumerate(tilts):
        img, _ = render_board(board_homography(angle_deg=15 * i - 40, tilt_deg=tilt), seed=i)
        write_image(boards / f"board{i}.png", img)
    before = _digests(inputs)
    out = tmp_path / "out"
    r = qc("calibrate", "--square-mm", "25", *map(str, sorted(boards.glob("*.png"))),
           "-o", str(out / "cal.json"))
    assert r.returncode == 0, r.stderr
    images = sorted(map(str, inputs.glob("[0-9]*.jpg")))
    r = qc("inspect", "--spec", str(SPEC), "--calibration", str(inputs / "calibration.json"),
           "--no-model", "--out", str(out / "overlays"), *images)
    assert r.returncode == 0, r.stderr
    r = qc("eval", str(inputs), "--no-model", "--out", str(out / "eval-overlays"))
    assert r.returncode == 0, r.stderr
    r = qc("inspect", "--spec", str(SPEC), "--calibration", str(inputs / "calibration.json"),
           "--no-model", "--out", str(inputs), *images)  # refused: the inputs' own folder
    assert r.returncode == 2
    assert _digests(inputs) == before
    assert len(list((out / "overlays").glob("*.jpg"))) == 2


def test_eval_to_a_full_disk_is_one_sentence(truth_set):
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "qcstation", "eval", str(truth_set),
                            "--no-model"], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "No space left on device" in r.stderr

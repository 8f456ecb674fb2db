"""`qcstation inspect` and `eval` as a user runs them, on rendered nets with ground truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from qcstation.cli.outputs import overlay_stem

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "kr-coirnet-25.toml"
CONTRACT_KEYS = {"image", "verdict", "reasons", "error", "spec", "mesh", "defects", "model",
                 "timing_ms", "calibration"}


def qc(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qcstation", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def nets(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nets")
    r = qc("synth", "--out", str(out), "--n", "8", "--seed", "21", "--size", "1200x900",
           "--px-per-mm", "3.0-3.4", "--workers", "2")
    assert r.returncode == 0, r.stderr
    r = qc("calibrate", "--board", "9x6", "--square-mm", "25", *map(str, sorted(
        (out / "calib").glob("*.png"))), "-o", str(out / "calibration.json"))
    assert r.returncode == 0, r.stderr
    return out


def inspect(nets: Path, *images: Path, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return qc("inspect", "--spec", str(SPEC), "--calibration", str(nets / "calibration.json"),
              *map(str, images), "--json", *extra)


def test_json_lines_follow_the_contract_and_the_truth(nets, tmp_path):
    images = sorted(nets.glob("[0-9]*.jpg"))
    r = inspect(nets, *images, extra=("--out", str(tmp_path)))
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == len(images)
    truths = [json.loads(p.with_suffix(".json").read_text()) for p in images]
    # the exit code the ground truth calls for: 1 when any image is truly unusable
    assert r.returncode == (1 if any(t["verdict"] == "error" for t in truths) else 0), r.stderr
    agree = 0
    for got, truth in zip(lines, truths, strict=True):
        assert set(got) == CONTRACT_KEYS
        assert got["spec"] == "KR-CN-25"
        agree += got["verdict"] == truth["verdict"]
        if truth["verdict"] == "error":
            assert got["verdict"] == "error" and got["error"]  # never a pass
            continue
        for axis in ("opening_w_mm", "opening_h_mm"):  # the ground truth of the renderer
            assert abs(got["mesh"][axis]["mean"] - truth["mesh"][axis]["mean"]) < 1.0
        for d in got["defects"]:
            x, y, w, h = d["bbox_px"]
            assert 0 <= x < 1200 and 0 <= y < 900 and w > 0 and h > 0
    assert agree >= len(images) - 1
    written = sorted(p.name for p in tmp_path.glob("*.jpg"))
    assert written == sorted(f"{overlay_stem(p)}.jpg" for p in images)  # one per input
    overlay = cv2.imread(str(tmp_path / written[0]))
    assert overlay is not None and 800 < overlay.shape[1] <= 1600  # the bench view, scaled


def test_eval_prints_the_accuracy_table(nets):
    r = qc("eval", str(nets))
    assert r.returncode == 0, r.stderr
    assert "| all | 8 |" in r.stdout and "mesh MAE mm" in r.stdout
    assert "unusable images that passed: 0" in r.stdout


@pytest.mark.parametrize(
    "name, content, words",
    [("corrupt.jpg", b"\xff\xd8\xff\xe0garbage" * 20, "truncated"),
     ("empty.jpg", b"", "empty"),
     ("notimage.png", b"hello, world", "not a readable image"),
     ("small.png", cv2.imencode(".png", np.zeros((480, 640, 3), np.uint8))[1].tobytes(),
      "640x480")],
)
def test_bad_images_are_errors_not_crashes(nets, tmp_path, name, content, words):
    bad = tmp_path / name
    bad.write_bytes(content)
    good = sorted(nets.glob("[0-9]*.jpg"))[0]
    r = inspect(nets, bad, good)
    assert r.returncode == 1
    first, second = (json.loads(line) for line in r.stdout.splitlines())
    assert first["verdict"] == "error" and words in first["error"]
    truth = json.loads(good.with_suffix(".json").read_text())
    assert second["verdict"] == truth["verdict"] and second["image"] == str(good)
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args, words",
    [(("--spec", "nope.toml"), "spec file not found"),
     (("--spec", "GARBAGE"), "not valid TOML"),
     (("--calibration", "GARBAGE"), "calibration"),
     (("--calibration", "missing.json"), "missing.json")],
)
def test_bad_spec_or_calibration_exit_2_with_one_line(nets, tmp_path, args, words):
    garbage = tmp_path / "garbage"
    garbage.write_text("[[[ not toml or json")
    values = [str(garbage) if a == "GARBAGE" else a for a in args]
    base = {"--spec": str(SPEC), "--calibration": str(nets / "calibration.json")}
    base[values[0]] = values[1]
    image = sorted(nets.glob("[0-9]*.jpg"))[0]
    r = qc("inspect", "--spec", base["--spec"], "--calibration", base["--calibration"],
           str(image))
    assert r.returncode == 2
    assert words in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_missing_arguments_exit_2(nets):
    r = qc("inspect", "--spec", str(SPEC))
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_eval_over_several_folders_gives_one_table(nets, tmp_path):
    r = qc("eval", str(nets), str(nets), "--no-model")
    assert r.returncode == 0, r.stderr
    assert "| all | 16 |" in r.stdout
    r = qc("eval", str(nets), str(nets), "--calibration", str(nets / "calibration.json"))
    assert r.returncode == 2 and "--calibration applies to one folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

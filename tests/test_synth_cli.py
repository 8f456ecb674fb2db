"""`qcstation synth` as a user runs it: the files it writes, and one-line refusals of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--size", "640x480", "--px-per-mm", "1.6-1.8"]


def synth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qcstation", "synth", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nets")
    r = synth("--out", str(out), "--n", "3", "--seed", "4", "--masks", "--workers", "2", *SMALL)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and "wrote 3 net photos" in r.stdout
    return out


def test_writes_calibration_photos_sorted_plane_first(written):
    names = sorted(p.name for p in (written / "calib").glob("*.png"))
    assert names[0] == "00-plane.png" and len(names) == 15
    gray = cv2.imread(str(written / "calib" / names[0]), cv2.IMREAD_GRAYSCALE)
    assert gray.shape == (480, 640)
    assert cv2.findChessboardCorners(gray, (9, 6))[0]


def test_writes_photos_truth_and_masks(written):
    for i in (1, 2, 3):
        image = cv2.imread(str(written / f"{i:04d}.jpg"))
        assert image.shape == (480, 640, 3)
        truth = json.loads((written / f"{i:04d}.json").read_text())
        assert truth["image"] == f"{i:04d}.jpg" and truth["seed"] == [4, i - 1]
        assert truth["verdict"] in ("pass", "fail", "error") and truth["spec"] == "KR-CN-25"
        assert set(truth) >= {"bench", "unusable", "reasons", "mesh", "defects", "net", "px_per_mm"}
        mask = cv2.imread(str(written / "masks" / f"{i:04d}.png"), cv2.IMREAD_UNCHANGED)
        assert mask.shape == (480, 640) and mask.dtype == np.uint8 and mask.max() <= 4
    meta = json.loads((written / "dataset.json").read_text())
    assert meta["seed"] == 4 and meta["n"] == 3 and meta["spec_name"] == "KR-CN-25"
    assert meta["camera"]["image_size"] == [640, 480]
    assert 1.6 * 0.97 < meta["camera"]["px_per_mm"] < 1.8 * 1.03


def test_image_i_does_not_depend_on_n(written, tmp_path):
    r = synth("--out", str(tmp_path), "--n", "2", "--seed", "4", "--workers", "1", *SMALL)
    assert r.returncode == 0, r.stderr
    for name in ("0001.jpg", "0002.jpg", "0001.json", "calib/00-plane.png", "calib/07.png"):
        assert (tmp_path / name).read_bytes() == (written / name).read_bytes(), name
    assert not (tmp_path / "0003.jpg").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--size", "1600x"], "--size"),
        (["--size", "big"], "--size"),
        (["--px-per-mm", "0"], "--px-per-mm"),
        (["--px-per-mm", "5-3"], "--px-per-mm"),
        (["--n", "0"], "--n"),
        (["--n", "many"], "--n"),
        (["--workers", "0"], "--workers"),
        (["--spec", "specs/missing.toml"], "spec"),
        (["--size", "800x600", "--px-per-mm", "9"], "does not fit"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(tmp_path, args, words):
    base = {"--out": str(tmp_path / "o"), "--n": "1", "--seed": "1"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    r = synth(*[x for kv in base.items() for x in kv])
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert words in r.stderr


def test_missing_out_is_refused(tmp_path):
    r = synth("--n", "1", "--seed", "1")
    assert r.returncode == 2 and "--out" in r.stderr and r.stderr.count("\n") == 1

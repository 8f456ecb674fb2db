"""`qcstation gauge` as a user runs it: drawn nets of known openings (tests/netimg.py), hand
measurements written with a known offset, the bias found, stored and taken off by `inspect`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from netimg import grid_net, ideal_calibration

from qcstation.calibration_io import load_calibration, save_calibration
from qcstation.imageio import write_image

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "kr-coirnet-25.toml"
S = 4.0  # px per mm
PITCH, STRAND = 31.0, 6.0  # grid_net's 25 mm openings between 6 mm strands


def qc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qcstation", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def centre_px(k: int, offset_mm: float) -> float:
    """Centre of the k-th opening after the first strand (strands at offset + k pitch)."""
    return (offset_mm + k * PITCH + STRAND + 12.5) * S


@pytest.fixture()
def bench(tmp_path):
    """Three photos of one net moved between shots, an ideal calibration, hand measurements of
    six openings of the first photo: the true 25 mm plus 0.8 mm (calipers reading large)."""
    offsets = [(7.0, 5.0), (12.5, 9.0), (3.0, 17.5)]
    photos = []
    for i, off in enumerate(offsets):
        photos.append(tmp_path / f"ref{i}.png")
        write_image(photos[-1], grid_net(1200, 900, S, (25.0, 25.0), STRAND, offset=off))
    cal = tmp_path / "cal.json"
    save_calibration(ideal_calibration(1200, 900, S), cal)
    lines = ["x_px,y_px,across_mm,along_mm"]
    for kx, ky in [(2, 2), (3, 2), (4, 3), (5, 4), (6, 2), (3, 5)]:
        lines.append(f"{centre_px(kx, 7.0):.0f},{centre_px(ky, 5.0):.0f},25.8,25.8")
    hand = tmp_path / "hand.csv"
    hand.write_text("\n".join(lines) + "\n")
    return photos, cal, hand


def test_gauge_finds_the_bias_and_inspect_takes_it_off(bench):
    photos, cal, hand = bench
    r = qc("gauge", "--calibration", str(cal), "--hand", str(hand), *map(str, photos), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["hand_openings"] == {"given": 6, "matched": 6}
    assert out["bias_mm"]["w"] == pytest.approx(-0.8, abs=0.15)
    assert out["bias_mm"]["h"] == pytest.approx(-0.8, abs=0.15)
    assert out["repeatability"]["photos"] == 3 and out["repeatability"]["std_w_mm"] < 0.15
    assert out["percent_of_tolerance"]["bias"] == pytest.approx(100 * 0.8 / 6, abs=3)
    saved = load_calibration(cal)
    stored = saved.opening_bias_mm
    assert stored == pytest.approx((out["bias_mm"]["w"], out["bias_mm"]["h"]), abs=1e-3)
    # the rest of the check is kept beside the bias (the settings page shows it)
    assert saved.gauge_spread_mm == pytest.approx(
        (out["spread_mm"]["w"], out["spread_mm"]["h"]), abs=1e-3)
    assert saved.gauge_repeat_mm == pytest.approx(
        (out["repeatability"]["std_w_mm"], out["repeatability"]["std_h_mm"]), abs=1e-3)
    age = datetime.now(UTC) - datetime.fromisoformat(saved.gauge_checked_at)
    assert timedelta(0) <= age < timedelta(minutes=10)
    r = qc("inspect", "--spec", str(SPEC), "--calibration", str(cal), str(photos[1]), "--json",
           "--no-model")
    result = json.loads(r.stdout)
    assert result["mesh"]["opening_w_mm"]["mean"] == pytest.approx(25.8, abs=0.2)
    assert result["calibration"]["opening_bias_mm"] == pytest.approx(list(stored), abs=1e-3)
    # gauging again measures without the stored bias: the same bias, not twice it
    r = qc("gauge", "--calibration", str(cal), "--hand", str(hand), *map(str, photos), "--json")
    assert json.loads(r.stdout)["bias_mm"]["w"] == pytest.approx(stored[0], abs=1e-3)


def test_positions_by_cell_and_no_save(bench, tmp_path):
    photos, cal, _ = bench
    hand = tmp_path / "cells.csv"
    hand.write_text("row,col,across_mm,along_mm\n2,2,24.5,24.5\n3,4,24.5,24.5\n")
    r = qc("gauge", "--calibration", str(cal), "--hand", str(hand), str(photos[0]), "--no-save")
    assert r.returncode == 0, r.stderr
    assert "matched: 2 of 2" in r.stdout and "across +0.5" in r.stdout
    assert load_calibration(cal).opening_bias_mm == (0.0, 0.0)


@pytest.mark.parametrize("text, words", [
    ("x_px,y_px,across_mm,along_mm\n10,10,wide,25\n", "line 2"),
    ("x_px,y_px,across_mm,along_mm\n", "no hand measurements"),
    ("x_px,y_px,across_mm,along_mm\n5,5,25,25\n", "none of the 1 hand openings"),
])
def test_bad_hand_files_are_refused_in_one_line(bench, tmp_path, text, words):
    photos, cal, _ = bench
    hand = tmp_path / "bad.csv"
    hand.write_text(text)
    r = qc("gauge", "--calibration", str(cal), "--hand", str(hand), str(photos[0]))
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr

"""Two photos of a real, intact square-mesh net (../shared/data/real-net-solaqua/, CC BY-SA 4.0,
(c) SINTEF Ocean; see the README there). They carry no scale, so each is inspected with a plain
scale calibration (`calibrate --scale`) at 0.3 to 0.6 mm per pixel. The oracle is the
person who looked: one lattice, about 20 x 12 openings, no tear. A good read is a verdict (not
`error`), at least 60 whole openings and no hole or broken strand, at every scale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the checkout; a worktree under wt/NAME/ has it two levels up
CANDIDATES = [ROOT.parent / "shared", ROOT.parents[1] / "shared"]
DATA = next((p / "data" / "real-net-solaqua" for p in CANDIDATES
             if (p / "data" / "real-net-solaqua" / "net-A.jpg").exists()), None)
FRAMES = ("net-A.jpg", "net-B-fouling.jpg")
SPEC = """[spec]
name = "real"
[mesh]
opening_mm = [21.0, 21.0]
quantity = "pitch"
tolerance_mm = 9.0
max_opening_mm = 35.0
min_strand_mm = 1.0
[defects.max_count]
hole = 0
broken_strand = 0
irregular_mesh = 0
thin_strand = 0
foreign_matter = 0
stain = 99
loose_fibres = 99
"""

pytestmark = pytest.mark.skipif(DATA is None, reason="the real net photos are not here "
                                 "(../shared/data/real-net-solaqua/ beside the checkout)")


def qc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qcstation", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("mm_per_px", [0.3, 0.36, 0.42, 0.45, 0.51, 0.6])
def test_intact_real_nets_read_as_one_lattice_without_tears(tmp_path, mm_per_px):
    cal, spec = tmp_path / "cal.json", tmp_path / "spec.toml"
    spec.write_text(SPEC)
    r = qc("calibrate", "--scale", str(mm_per_px), "--size", "1280x720", "-o", str(cal))
    assert r.returncode == 0, r.stderr
    r = qc("inspect", "--spec", str(spec), "--calibration", str(cal),
           *(str(DATA / f) for f in FRAMES), "--json")
    results = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(results) == 2, r.stderr
    for frame, res in zip(FRAMES, results, strict=True):
        tears = [d for d in res["defects"] if d["type"] in ("hole", "broken_strand")]
        assert res["verdict"] != "error", (frame, res["error"])
        assert res["mesh"]["openings"] >= 60, (frame, res["mesh"])
        assert not tears, (frame, tears)
        assert res["calibration"]["kind"] == "scale"

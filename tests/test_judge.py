"""Verdicts against a spec, and the accuracy tally: literal inputs, expected outputs by hand."""

import numpy as np
import pytest

from qcstation.domain import Defect, Inspection, MeshStats, Stat
from qcstation.evaluate import evaluate, format_table, match_defects, overlap, summary
from qcstation.judge import judge
from qcstation.spec import load_spec

SPEC = load_spec("specs/kr-coirnet-25.toml")


def mesh(w=25.0, h=25.0, n=100, wmax=27.0, pitch=31.0) -> MeshStats:
    return MeshStats(n, Stat(w, 0.8, w - 2, wmax), Stat(h, 0.8, h - 2, h + 2),
                     Stat(pitch, 0.5, pitch - 1, pitch + 1), Stat(6.0, 0.3, 5.0, 7.0),
                     pitch, pitch)


def defect(kind, x=100, y=200) -> Defect:
    return Defect(kind, (x, y, 40, 30), (10.0, 8.0), 0.9)


@pytest.mark.parametrize(
    "m, defects, verdict, words",
    [(mesh(), [], "pass", []),
     (mesh(w=28.1), [], "fail", ["mean opening width 28.1 mm outside 25.0 ± 3.0 mm"]),
     (mesh(h=21.9), [], "fail", ["mean opening height 21.9 mm outside"]),
     (mesh(w=27.9, h=22.1), [], "pass", []),
     (mesh(wmax=36.0), [], "fail", ["largest opening 36.0 mm exceeds 35.0 mm"]),
     (mesh(), [defect("hole")], "fail", ["hole at (120, 215) px: 10 x 8 mm"]),
     (mesh(), [defect("stain"), defect("stain")], "pass", []),  # 2 stains allowed
     (mesh(), [defect("stain")] * 3, "fail", ["3 stain found, at most 2 allowed"]),
     (mesh(n=19), [], "error", ["only 19 measurable openings"]),
     (mesh(w=float("nan")), [], "fail", ["mean opening width nan mm outside"])],
)
def test_judge_table(m, defects, verdict, words):
    got, reasons = judge(SPEC, m, defects)
    assert got == verdict
    for w in words:
        assert any(w in r for r in reasons), reasons
    assert bool(reasons) == (verdict != "pass")


def test_pitch_spec_judges_pitch_not_opening():
    spec = SPEC.model_copy(update={"mesh": SPEC.mesh.model_copy(update={"quantity": "pitch",
                                                                        "opening_mm": (31.0, 31.0),
                                                                        "max_opening_mm": 40.0})})
    assert judge(spec, mesh(w=25.0, pitch=31.5), [])[0] == "pass"
    verdict, reasons = judge(spec, mesh(w=25.0, pitch=34.5), [])
    assert verdict == "fail" and "mean pitch across 34.5 mm" in reasons[0]


def test_overlap_and_matching():
    assert overlap((0, 0, 10, 10), (5, 5, 10, 10)) == pytest.approx(0.25)
    assert overlap((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    truth = [{"type": "hole", "bbox_px": [0, 0, 100, 100]},
             {"type": "thin_strand", "bbox_px": [200, 0, 10, 80]}]
    found = [{"type": "hole", "bbox_px": [10, 10, 80, 80]},  # matches
             {"type": "broken_strand", "bbox_px": [0, 0, 100, 100]},  # wrong type
             {"type": "thin_strand", "bbox_px": [400, 0, 10, 80]}]  # elsewhere
    matched, fp = match_defects(truth, found)
    assert matched == {"hole": 1}
    assert fp == {"broken_strand": 1, "thin_strand": 1}


def test_tally_counts_verdicts_errors_and_mesh():
    good = Inspection("a", "pass", (), "KR-CN-25", mesh=mesh(w=25.2, h=24.9))
    bad = Inspection("b", "pass", (), "KR-CN-25", mesh=mesh())
    truth_a = {"verdict": "pass", "bench": "backlit", "defects": [],
               "mesh": mesh().to_json()}
    truth_b = {"verdict": "error", "bench": "backlit", "defects": [], "mesh": None}
    s = summary(evaluate([(truth_a, good), (truth_b, bad)])["all"])
    assert s["verdict_accuracy"] == 0.5
    assert s["unusable_passed"] == 1
    assert s["mesh_mae_mm"] == pytest.approx(np.mean([0.2, 0.1]))


def test_table_says_dash_where_nothing_was_there_to_count():
    """A set without structural defects has no structural recall (not 0 %), and none of its
    photos is structural-only when each carries an appearance defect."""
    stain = {"type": "stain", "bbox_px": [10, 10, 40, 40]}
    found = Inspection("a", "fail", ("stain",), "KR-CN-25", mesh=mesh(),
                       defects=(Defect("stain", (12, 12, 38, 38), (10.0, 10.0), 0.9),))
    truth = {"verdict": "fail", "bench": "light_table", "defects": [stain],
             "mesh": mesh().to_json()}
    tallies = evaluate([(truth, found)])
    s = summary(tallies["all"])
    assert s["structural_recall"] is None and s["structural_verdict_accuracy"] is None
    assert s["recall"]["stain"] == 1.0
    row = format_table(tallies).splitlines()[2]
    assert row.startswith("| all | 1 | 100.0% | - |") and "| - | 0.000 |" in row

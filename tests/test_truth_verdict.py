"""The renderer's true verdict has its own rule code (qcstation.synth.verdict); both it and the
judge under test (qcstation.judge) must give the verdict written here by hand from the spec's
words, so `eval` checks the judge's rules instead of comparing the judge with itself."""

import ast
from pathlib import Path

import numpy as np
import pytest

from qcstation.domain import Defect, MeshStats, Stat
from qcstation.judge import judge
from qcstation.spec import parse_spec
from qcstation.synth.verdict import truth_verdict

SPEC_TEXT = """
[spec]
name = "T"
[mesh]
opening_mm = [25.0, 20.0]
tolerance_mm = 3.0
min_openings = 20
max_opening_mm = 35.0
min_strand_mm = 4.0
[defects.max_count]
hole = 0
broken_strand = 0
irregular_mesh = 0
thin_strand = 0
foreign_matter = 0
stain = 2
loose_fibres = 1
"""
SPEC = parse_spec(SPEC_TEXT)
PITCH_SPEC = parse_spec(SPEC_TEXT.replace("min_strand_mm", 'quantity = "pitch"\nmin_strand_mm'))


def mesh(n=60, w=25.0, h=20.0, w_max=None, h_max=None, strand_min=5.0, pitch=(30.0, 25.0)):
    """Mesh statistics as a true measurement gives them (hand-picked means and extremes)."""
    return MeshStats(n, Stat(w, 0.5, w - 1, w_max or w + 1), Stat(h, 0.5, h - 1, h_max or h + 1),
                     Stat(float(np.mean(pitch)), 0.5, 0, 0), Stat(5.5, 0.3, strand_min, 6.0),
                     pitch[0], pitch[1])


def defects(*types):
    return [Defect(t, (10 * i, 10, 5, 5), (3.0, 3.0), 1.0) for i, t in enumerate(types)]


CASES = [
    # (why, spec, mesh, defects, expected verdict)
    ("nominal mesh, no defect", SPEC, mesh(), [], "pass"),
    ("width at nominal + tolerance exactly", SPEC, mesh(w=28.0), [], "pass"),
    ("width just above nominal + tolerance", SPEC, mesh(w=28.01), [], "fail"),
    ("height below nominal - tolerance", SPEC, mesh(h=16.9), [], "fail"),
    ("each axis has its own nominal: 20 mm wide is out", SPEC, mesh(w=20.0, h=25.0), [], "fail"),
    ("no opening measured: NaN mean", SPEC, mesh(w=float("nan")), [], "fail"),
    ("one opening larger than max_opening_mm", SPEC, mesh(h_max=35.5), [], "fail"),
    ("largest opening at the limit", SPEC, mesh(w_max=35.0), [], "pass"),
    ("19 openings, the spec needs 20", SPEC, mesh(n=19), [], "error"),
    ("one hole, none allowed", SPEC, mesh(), defects("hole"), "fail"),
    ("a thin strand, found and thin", SPEC, mesh(strand_min=2.5), defects("thin_strand"), "fail"),
    ("two stains, two allowed", SPEC, mesh(), defects("stain", "stain"), "pass"),
    ("three stains, two allowed", SPEC, mesh(), defects("stain", "stain", "stain"), "fail"),
    ("two tufts, one allowed", SPEC, mesh(), defects("loose_fibres", "loose_fibres"), "fail"),
    ("pitch spec: spans off, pitch at nominal", PITCH_SPEC, mesh(w=10.0, h=10.0, pitch=(25, 20)),
     [], "pass"),
    ("pitch spec: pitch off", PITCH_SPEC, mesh(pitch=(29.0, 20.0)), [], "fail"),
]


@pytest.mark.parametrize("why, spec, m, found, expected", CASES, ids=[c[0] for c in CASES])
def test_truth_and_judge_both_follow_the_spec(why, spec, m, found, expected):
    truth, truth_reasons = truth_verdict(spec, m, found)
    verdict, reasons = judge(spec, m, found)
    assert truth == expected, (why, truth_reasons)
    assert verdict == expected, (why, reasons)
    assert (truth == "pass") == (not truth_reasons)


def test_truth_rule_code_does_not_use_the_judge():
    """The renderer's verdict must not come from the code it is meant to check."""
    for name in ("verdict.py", "render.py"):
        tree = ast.parse(Path("qcstation/synth", name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.endswith("judge") for m in imported), (name, imported)

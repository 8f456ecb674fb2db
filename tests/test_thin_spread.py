"""A thin strand stands out of the read's own spread (structural.thin_findings, THIN_SPREAD).

On wood the bodies of sound 4.8-5.2 mm strands scatter by a millimetre (grain beside the
strand, a flank turned from the light read as bench) and the thinnest fell under the 4 mm
limit: dozens of false thin strands on a clean phone-camera net. Each case renders one photo
in-process (camera of seed 5386, rng [5386, index], a training family on its wood bench).
"""

import numpy as np
import pytest
import renders
from renders import STRUCTURAL
from renders import structural_findings as _structural

from qcstation import structural
from qcstation.evaluate import match_defects

SEED = 5386


camera, inspector = renders.fixtures(SEED)


def _render(camera, family, index, kinds=()):
    return renders.render(camera, SEED, index, family, "wood", renders.structural_plan(kinds))


def test_clean_net_on_wood_has_no_thin_strand(camera, inspector):
    """main: 54 thin strands, a passing net failed."""
    sample = _render(camera, "phone-camera", 2)
    result, _ = inspector.inspect(sample.image, "clean.png")
    assert _structural(result) == []
    assert result.verdict == sample.truth["verdict"] == "pass", result.reasons


@pytest.mark.parametrize("family, index, before", [
    ("phone-camera", 2, "main: found among 31 false thin strands"),
    ("phone-camera", 0, "main: found with 1 false thin strand"),
    ("wide", 3, "main: found"),
])
def test_thin_strand_on_wood_is_found_alone(camera, inspector, family, index, before):
    sample = _render(camera, family, index, ("thin_strand",))
    result, _ = inspector.inspect(sample.image, "thin.png")
    truth = [d for d in sample.truth["defects"] if d["type"] in STRUCTURAL]
    assert [d["type"] for d in truth] == ["thin_strand"]
    matched, false_pos = match_defects(truth, _structural(result))
    assert matched["thin_strand"] == 1 and not false_pos, (_structural(result), before)
    assert result.verdict == "fail"


def test_thin_is_judged_against_its_axis():
    """Bodies in px at a 4 px limit: a scattered axis keeps only the strand far below it; a
    tight axis flags whatever is under the limit; an axis thin all over fails by the limit."""
    scattered = np.array([5, 6, 4, 5, 6, 3.5, 5, 6, 4, 5, 6, 5, 1.0])
    tight = np.array([6.0] * 12 + [3.5])
    thin_net = np.array([3.0, 3.5, 3.0, 3.5, 3.0, 3.5, 3.0, 3.5, 3.0, 3.5, 5.0])
    for bodies, want in ((scattered, [12]), (tight, [12]), (thin_net, list(range(10)))):
        vertical = np.ones(len(bodies), bool)
        assert np.flatnonzero(structural._thin(bodies, vertical, 4.0)).tolist() == want
        both = np.concatenate([bodies, bodies])
        axes = np.arange(len(both)) < len(bodies)
        got = np.flatnonzero(structural._thin(both, axes, 4.0)).tolist()
        assert got == want + [k + len(bodies) for k in want]

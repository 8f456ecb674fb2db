"""The engine on rendered photos that once went wrong (seed 7 of the README's eval set).

Each case renders one photo exactly as `qcstation synth --seed 7` does and checks that the
structural defects of its ground truth are found, with their type, where the truth says.
"""

import numpy as np
import pytest

from qcstation.evaluate import match_defects
from qcstation.pipeline import Inspector
from qcstation.spec import load_spec
from qcstation.synth.dataset import BENCHES, camera_for
from qcstation.synth.render import render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")
STRUCTURAL = {"hole", "broken_strand", "irregular_mesh", "thin_strand"}


@pytest.fixture(scope="module")
def camera():
    return camera_for(7, (1600, 1200), (3.2, 4.8))


def render(camera, index):
    rng = np.random.default_rng([7, index])
    return render_sample(camera, rng, SPEC, bench=BENCHES[index % len(BENCHES)])


@pytest.mark.parametrize("index, why", [
    (116, "backlit L-shaped hole whose frayed ends nearly meet across the cut"),
    (194, "dark-table T-shaped hole: loose fibres fill the cut beside the dangling knot"),
    (154, "dark-table strand displaced over two segments of a very uneven net"),
    (59, "displaced strand in a net whose whole strands are offset by hand"),
])
def test_structural_defects_found(camera, index, why):
    sample = render(camera, index)
    truth = [d for d in sample.truth["defects"] if d["type"] in STRUCTURAL]
    assert truth, "the case must hold a structural defect"
    result, _ = Inspector(SPEC, camera.calibration()).inspect(sample.image, f"{index}.png")
    found = [d.to_json() for d in result.defects if d.type in STRUCTURAL]
    matched, false_pos = match_defects(truth, found)
    assert sum(matched.values()) == len(truth), (why, truth, found)
    assert not false_pos, (why, found)
    assert result.verdict == "fail"

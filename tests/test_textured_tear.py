"""On a textured bench a tear is judged by the view, not the mask (structural.SHOWN_SHARE).

On wood the yarn is read off a smoothed fit and the pixel decision near its edges follows the
grain and the lit plies: a sound strand comes out with a clear sliver across it, two openings
merge in the mask and are reported as a broken strand or a hole. The view still shows the
strand as a band of yarn all along; a cut leaves bench there. Each case renders one photo
in-process (camera of the set's seed, rng [seed, index], the wide family on its wood bench):
photo 29 of thin/wide-5394 and photo 23 of thin/wide-5391.
"""

import numpy as np
import pytest

from qcstation.evaluate import match_defects
from qcstation.pipeline import Inspector
from qcstation.spec import load_spec
from qcstation.synth.dataset import camera_for
from qcstation.synth.render import render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")
TEARS = {"hole", "broken_strand"}


@pytest.mark.parametrize("seed, index, kind, before", [
    (5394, 28, "hole", "main: the hole found, with 1 false hole and 2 false broken strands"),
    (5391, 22, "broken_strand", "main: the broken strand found, with 1 false broken strand"),
])
def test_tear_on_wood_is_found_alone(seed, index, kind, before):
    camera = camera_for(seed, (1600, 1200), (3.2, 4.8))
    inspector = Inspector(SPEC, camera.calibration(), threads=1)
    sample = render_sample(camera, np.random.default_rng([seed, index]), SPEC, bench="wood",
                           family="wide")
    result, _ = inspector.inspect(sample.image, "tear.png")
    truth = [d for d in sample.truth["defects"] if d["type"] in TEARS]
    assert [d["type"] for d in truth] == [kind]
    found = [d.to_json() for d in result.defects if d.type in TEARS]
    matched, false_pos = match_defects(truth, found)
    assert matched[kind] == 1 and not false_pos, (found, before)
    assert result.verdict == "fail"

"""The mean opening on one rendered net with and without edge fuzz (docs/geometry.md, "Fuzz on
the strand edges").

The truth defines an opening by the yarn body; fuzz (short fibres 0.5-0.9 mm beyond the body)
is seen but is no body. Without fuzz the station reads the truth; with dense fuzz it still
reads the openings about 1 mm small. That is a known, open bias: the fuzzy case is an xfail
(strict) that states the target, so the day a rule meets it the test says so.
"""

from dataclasses import replace

import numpy as np
import pytest

from qcstation.pipeline import Inspector
from qcstation.spec import load_spec
from qcstation.synth.dataset import camera_for
from qcstation.synth.families import draw_style, get_family
from qcstation.synth.render import Plan, render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")
BARE_TOL_MM = 0.15  # classic's mean-opening error on seed 7 is 0.12 mm MAE, -0.03 mm bias
FUZZ_TOL_MM = 0.3  # the target for fuzzy families (mean-opening MAE)


def _mean_opening_error(bench: str, fuzz_per_mm: float) -> float:
    """(measured - truth) of the mean opening, mm, averaged over both axes, for one dark-hairy
    net rendered with `fuzz_per_mm` fibres per mm of edge reaching 0.9 mm (no stray hairs)."""
    fam = get_family("dark-hairy")
    style = draw_style(np.random.default_rng(3), fam)
    style = replace(style, hair=replace(style.hair, fuzz_per_mm=fuzz_per_mm, fuzz_mm=0.9,
                                        long_per_mm=0.0))
    camera = camera_for(5310, (1600, 1200), (3.6, 3.6))  # a training seed (5302-5399)
    sample = render_sample(camera, np.random.default_rng([5310, 0]), SPEC, bench=bench,
                           plan=Plan("clean"), family="dark-hairy", style=style)
    result, _ = Inspector(SPEC, camera.calibration()).inspect(sample.image, "net.png")
    truth = sample.truth["mesh"]
    assert result.verdict != "error", result.reasons
    return 0.5 * sum(getattr(result.mesh, a).mean - truth[a]["mean"]
                     for a in ("opening_w_mm", "opening_h_mm"))


@pytest.mark.parametrize("bench", ["backlit", "uneven"])
def test_bare_edges_read_the_truth(bench):
    assert abs(_mean_opening_error(bench, 0.0)) < BARE_TOL_MM


@pytest.mark.xfail(strict=True, reason="open: dense edge fuzz reads as yarn body "
                   "(docs/geometry.md, Fuzz on the strand edges)")
@pytest.mark.parametrize("bench", ["backlit", "uneven"])
def test_fuzzy_edges_read_the_truth(bench):
    assert abs(_mean_opening_error(bench, 25.0)) < FUZZ_TOL_MM

"""In-process renders for engine tests: a camera per seed, an inspector calibrated on it, and
one photo of a family on a bench (rng [seed, index]) with its ground truth."""

import numpy as np
import pytest

from qcstation.pipeline import Inspector
from qcstation.spec import load_spec
from qcstation.synth.dataset import camera_for
from qcstation.synth.render import Plan, render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")
STRUCTURAL = {"hole", "broken_strand", "irregular_mesh", "thin_strand"}


def camera(seed: int):
    return camera_for(seed, (1600, 1200), (3.2, 4.8))


def inspector(cam, spec=SPEC) -> Inspector:
    return Inspector(spec, cam.calibration(), threads=1)


def render(cam, seed: int, index: int, family: str, bench: str, plan: Plan | None = None,
           spec=SPEC):
    return render_sample(cam, np.random.default_rng([seed, index]), spec, bench=bench,
                         plan=plan or Plan("clean"), family=family)


def structural_plan(kinds=()) -> Plan:
    return Plan("structural", structural=tuple(kinds)) if kinds else Plan("clean")


def structural_findings(result) -> list[dict]:
    return [d.to_json() for d in result.defects if d.type in STRUCTURAL]


def fixtures(seed: int):
    """Module fixtures `camera, inspector = renders.fixtures(SEED)`: one camera of `seed` and an
    inspector calibrated on it, made once per test module."""

    @pytest.fixture(scope="module")
    def camera_fixture():
        return camera(seed)

    @pytest.fixture(scope="module")
    def inspector_fixture(camera):  # the module's `camera` fixture (pytest matches the name)
        return inspector(camera)

    return camera_fixture, inspector_fixture

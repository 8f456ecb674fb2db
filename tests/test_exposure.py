"""Dark yarn on a dark table is a dim photo, not an under-exposed one.

Dark-brown yarn on the dark table puts the frame's 98th grey percentile at 37-54 levels; the
old under-exposure limit (45) refused such passing nets. A shot under-exposed by the renderer
(the brightest channel's 99th percentile at 6-20 levels) is still refused (quality.MAX_DARK_P98).
Renders of the training family dark-hairy, camera of seed 5330.
"""

import cv2
import numpy as np
import pytest
import renders

from qcstation.synth.render import Plan

SEED = 5330
OLD_LIMIT = 45.0


camera, inspector = renders.fixtures(SEED)


def _p98(image: np.ndarray) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (gray.shape[1] // 4, gray.shape[0] // 4),
                       interpolation=cv2.INTER_AREA)
    return float(np.percentile(small, 98))


def _render(camera, index: int, unusable: str | None = None):
    plan = Plan("unusable", unusable=unusable) if unusable else None
    return renders.render(camera, SEED, index, "dark-hairy", "dark_table", plan)


@pytest.mark.parametrize("index", [1, 2])
def test_dark_yarn_on_a_dark_table_is_judged(camera, inspector, index):
    sample = _render(camera, index)
    assert _p98(sample.image) < OLD_LIMIT  # the case: refused as under-exposed before
    result, _ = inspector.inspect(sample.image, "dark.png")
    assert result.error is None
    assert result.verdict == sample.truth["verdict"] == "pass", result.reasons


@pytest.mark.parametrize("index", [1, 2, 3])
def test_under_exposed_render_is_refused(camera, inspector, index):
    sample = _render(camera, index, "underexposed")
    assert sample.truth["verdict"] == "error"
    result, _ = inspector.inspect(sample.image, "under.png")
    assert result.verdict == "error" and "under-exposed" in result.error

"""The faster paths give the very results of the plain ones (docs/speed.md)."""

import threading
from dataclasses import replace

import cv2
import numpy as np
import pytest

from qcstation import threads
from qcstation.model import DefectModel
from qcstation.model.preprocess import normalise, pad_to_multiple
from qcstation.pipeline import Inspector
from qcstation.quality import _percentiles_u8
from qcstation.spec import load_spec
from qcstation.synth.dataset import camera_for
from qcstation.synth.render import render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")


@pytest.mark.parametrize("seed", range(6))
def test_percentiles_from_the_histogram_are_numpys(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 300, 2)
    top = int(rng.integers(1, 257))
    img = rng.integers(max(0, top - 12 * (seed % 2)), top + 1, (h, w)).clip(0, 255)
    img = img.astype(np.uint8)
    qs = (2, 5, 98, 0, 50, 100)
    assert _percentiles_u8(img, qs) == [float(v) for v in np.percentile(img, qs)]


def test_normalise_padded_in_place_is_normalise_then_padded():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (101, 87, 3)).astype(np.uint8)
    valid = np.zeros((101, 87), np.uint8)
    valid[10:90, 5:80] = 255
    padded = normalise(img, valid, multiple=16)
    assert padded.shape == (3, 112, 96)
    assert np.array_equal(padded, pad_to_multiple(normalise(img, valid), 16))


def _inspected(inspector, image):
    result, analysis = inspector.inspect(image, "net.png")
    return replace(result, timing_ms=None), analysis


def test_model_beside_the_geometry_judges_as_the_model_after_it():
    """The model runs on a helper thread while the yarn is segmented; bounded to one thread
    it runs first on the caller's thread. Both give the same inspection."""
    camera = camera_for(7, (1600, 1200), (3.2, 4.8))
    rng = np.random.default_rng([7, 4])
    image = render_sample(camera, rng, SPEC, bench="light_table").image
    inspector = Inspector(SPEC, camera.calibration(), model=DefectModel.load())
    side_by_side, analysis = _inspected(inspector, image)
    cv_threads = cv2.getNumThreads()
    try:
        threads.set_limit(1)
        in_turn, _ = _inspected(inspector, image)
    finally:
        threads.set_limit(None)
        cv2.setNumThreads(cv_threads)
    assert side_by_side.verdict in ("pass", "fail")
    assert side_by_side.mesh.openings > 0
    assert side_by_side == in_turn
    assert analysis.bench.view.shape[:2] == analysis.bench.valid.shape


def test_opencv_single_gives_back_opencvs_count_when_the_last_inspection_leaves():
    """Two inspections overlapping on two threads: OpenCV stays on one thread until both
    have left, then has its own count again (not the 1 the second one found)."""
    before = cv2.getNumThreads()
    entered, first_left, seen = threading.Event(), threading.Event(), []

    def second():
        with threads.opencv_single():
            entered.set()
            first_left.wait(10)
            seen.append(cv2.getNumThreads())

    with threads.opencv_single():
        worker = threading.Thread(target=second)
        worker.start()
        assert entered.wait(10)
        assert cv2.getNumThreads() == 1
    first_left.set()
    worker.join(10)
    assert seen == [1]
    assert cv2.getNumThreads() == before

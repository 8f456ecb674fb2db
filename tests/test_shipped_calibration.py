"""The shipped calibration of the demo's simulated camera measures the bench as that camera's
exact geometry does (the oracle: the simulator's own camera model)."""

from itertools import combinations

import numpy as np

from qcstation.calibration_io import load_calibration
from qcstation.rectify import image_to_bench
from qcstation.synth.dataset import camera_for


def test_demo_camera_calibration_matches_the_simulated_camera():
    # given the shipped file and the demo's camera (qcstation demo: seed 3, 1600x1200)
    cal = load_calibration("calibration/demo-camera.json")
    exact = camera_for(3, (1600, 1200), (3.2, 4.8)).calibration()
    assert cal.image_size == exact.image_size
    # when image points across the frame are mapped onto the bench by both
    px = np.array([[x, y] for x in (100, 800, 1500) for y in (100, 600, 1100)], np.float64)
    ours, truth = image_to_bench(cal, px), image_to_bench(exact, px)
    # then every distance between them agrees within 0.3 % (the board's origin differs)
    for i, j in combinations(range(len(px)), 2):
        d, t = np.linalg.norm(ours[i] - ours[j]), np.linalg.norm(truth[i] - truth[j])
        assert abs(d - t) <= 0.003 * t
    assert abs(cal.mm_per_px - exact.mm_per_px) <= 0.01 * exact.mm_per_px
    assert cal.rms_px < 0.5

"""The overlay a person reads: verdict banner above the bench view, defects boxed."""

import cv2
import numpy as np
from netimg import grid_net, ideal_calibration

from qcstation.overlay import VERDICT_COLOUR, ascii_text, draw
from qcstation.pipeline import Inspector
from qcstation.spec import load_spec

SPEC = load_spec("specs/kr-coirnet-25.toml")


def test_failed_net_shows_red_banner_and_a_box_over_the_defect():
    img = grid_net(1200, 900, 4.0)
    img[int(42 * 4):int(67 * 4), int(100 * 4):int(106 * 4)] = 220  # a broken strand
    img = cv2.GaussianBlur(img, (0, 0), 0.8)
    inspector = Inspector(SPEC, ideal_calibration(1200, 900, 4.0))
    result, analysis = inspector.inspect(img, "net.jpg")
    assert result.verdict == "fail"
    out = draw(img, analysis, result, SPEC)
    view_h = analysis.bench.valid.shape[0]
    banner = out[: out.shape[0] - view_h]
    assert banner.shape[0] > 60  # the verdict and one line per reason sit above the view
    red = np.all(banner == VERDICT_COLOUR["fail"], axis=2)
    assert red.sum() > 500  # the word FAIL, big, in red
    view = out[out.shape[0] - view_h:]
    boxed = np.all(view == VERDICT_COLOUR["fail"], axis=2)
    ys, xs = np.nonzero(boxed)
    assert len(xs) > 100 and xs.min() < 103 * 3.0 < xs.max()  # around the cut (3 px/mm view)


def test_error_result_is_drawn_on_the_input_image():
    inspector = Inspector(SPEC, ideal_calibration(640, 480, 4.0))
    blank = np.full((480, 640, 3), 128, np.uint8)
    result, analysis = inspector.inspect(blank, "blank.jpg")
    assert result.verdict == "error" and analysis is None
    out = draw(blank, None, result, SPEC)
    assert out.shape[1] == 640 and out.shape[0] > 480
    assert np.all(out[-480:] == 128)  # the photo itself, unchanged, under the banner


def test_the_engines_symbols_are_spelt_out_and_other_characters_escaped():
    # a judge reason reads "mean opening width 7.0 mm outside 25.0 ± 3.0 mm"; the overlay's
    # font has no "±", and an escape ("\xb1") is not something an inspector can read
    assert ascii_text("outside 25.0 ± 3.0 mm, 12 × 20 mm") == "outside 25.0 +/- 3.0 mm, 12 x 20 mm"
    assert ascii_text("망-01.jpg") == "\\ub9dd-01.jpg"

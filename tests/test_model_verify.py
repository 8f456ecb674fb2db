"""The second-stage verifier on literal inputs: region features, the decision, its card entry."""

import cv2
import numpy as np
import pytest

from qcstation.model.card import CLASSES, DEFECT_CLASSES, Thresholds
from qcstation.model.regions import find_defects
from qcstation.model.verify import (
    FEATURES,
    THICK_PX,
    Verifier,
    cell_colours,
    expand,
    parse_verifiers,
    region_features,
)

STAIN = CLASSES.index("stain")
YARN = CLASSES.index("yarn")
YARN_BGR = (60, 90, 130)  # golden-brown yarn


def scene(shape=(40, 60)):
    """Probabilities and a 4 px/cell view: everything yarn of one colour."""
    p = np.zeros((5, *shape), np.float32)
    p[YARN] = 1.0
    view = np.empty((shape[0] * 4, shape[1] * 4, 3), np.uint8)
    view[:] = YARN_BGR
    return p, view


def plant(p, view, cells, bgr, prob=0.8):
    """Mark `cells` (a boolean cell mask) as a stain candidate of colour `bgr` in the view."""
    p[STAIN][cells] = prob
    p[YARN][cells] = 1 - prob
    px = np.kron(cells.astype(np.uint8), np.ones((4, 4), np.uint8)).astype(bool)
    view[px] = bgr


def oil_disc():
    """An oil-like stain on yarn alone: a 6x6-cell disc, darker and redder than the yarn."""
    p, view = scene()
    yy, xx = np.mgrid[:40, :60]
    disc = (yy - 20) ** 2 + (xx - 30) ** 2 <= 9
    plant(p, view, disc, (20, 35, 70))
    return p, view, disc


def features(p, view):
    mask = (p[STAIN] > 0.5).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    valid = np.ones(p.shape[1:], np.uint8)
    x = region_features(p, labels, stats, "stain", view, valid, 2.0, 4)
    return dict(zip(FEATURES, x[0], strict=True)), x


def test_cell_colours_are_block_means():
    view = np.zeros((8, 12, 3), np.uint8)
    view[:4, :4] = (40, 80, 120)
    view[4:, 4:8, 2] = 100  # half of a 4x4 block's column range is outside the 10 px view
    got = cell_colours(view[:, :10], (2, 3), 4)
    assert got.shape == (2, 3, 3)
    assert np.allclose(got[0, 0], (40, 80, 120))
    assert np.allclose(got[1, 1], (0, 0, 100))
    assert np.allclose(got[1, 2], 0)  # padding outside the view is black


def test_a_browner_darker_blob_differs_in_brightness_and_hue():
    p, view, disc = oil_disc()
    f, x = features(p, view)
    assert x.shape == (1, len(FEATURES))
    assert f["log_area_mm2"] == pytest.approx(np.log(disc.sum() * 4.0), abs=1e-4)
    assert f["mean_prob"] == pytest.approx(0.8, abs=1e-5)
    assert f["peak_logit"] == pytest.approx(np.log(0.8 / 0.2), abs=1e-4)
    assert f["elongation"] > 0.99 and f["fill"] == pytest.approx(disc.sum() / 49)
    lum = np.log((20 + 35 + 70 + 3) / 3) - np.log((60 + 90 + 130 + 3) / 3)
    assert f["d_lum"] == pytest.approx(lum, abs=1e-3)
    assert f["d_red_green"] == pytest.approx(np.log(71 / 36) - np.log(131 / 91), abs=1e-3)
    assert f["d_chroma"] > 0.2
    assert f["ring_lum_std"] == pytest.approx(0.0, abs=1e-3)  # even yarn around it
    assert f["other_prob"] == 0.0
    # every pixel of it is dark (0.45 of the yarn's brightness) and it is wider than a groove
    assert f["dark_share"] == pytest.approx(1.0) and f["thick_dark_share"] > 0.8
    assert f["dark_d_red_green"] == pytest.approx(f["d_red_green"], abs=1e-3)
    assert f["dark_d_chroma"] > 0.2


def test_a_region_in_the_padding_cells_past_the_view_has_no_pixel_features():
    # the cell grid covers the input padded to the network's multiple, so it can reach past
    # the view; a one-cell candidate there (seen in verify fits) has no pixels to measure
    p, view, disc = oil_disc()
    p[STAIN, 20, 59], p[YARN, 20, 59] = 0.8, 0.2  # in the last cell column
    narrow = view[:, : 59 * 4 - THICK_PX - 1]  # the view ends before that cell and its margin
    _, x = features(p, narrow)
    dark = FEATURES.index("dark_share")
    assert x.shape == (2, len(FEATURES))
    assert np.all(x[1, dark:] == 0)  # the padding region: cell features only
    _, whole = features(p, view)
    assert np.allclose(x[0], whole[0])  # the stain inside the view is measured as before


def test_a_dark_groove_keeps_the_hue_and_is_thin():
    # a twist groove: a 1-cell wide, 14-cell long line, only darker (same colour ratios)
    p, view = scene()
    line = np.zeros((40, 60), bool)
    line[20, 20:34] = True
    plant(p, view, line, (30, 45, 65))
    f, _ = features(p, view)
    assert f["d_lum"] < -0.5
    assert f["d_chroma"] < 0.02
    assert f["elongation"] < 0.1
    assert f["fill"] == pytest.approx(1.0)
    # dark, but only 4 px wide: an opening wider than a groove leaves nothing of it
    assert f["dark_share"] == pytest.approx(1.0) and f["thick_dark_share"] == 0.0
    assert f["dark_d_chroma"] < 0.02


def test_a_striped_strand_is_partly_dark_and_thin_a_soaked_one_wholly_dark_and_thick():
    # twist grooves: dark 2-px stripes across a strand every 6 px; a stain soaks it all
    yy, xx = np.mgrid[:40, :60]
    strand = (yy >= 18) & (yy < 21) & (xx >= 20) & (xx < 40)  # 3 cells (12 px) wide
    p, view = scene()
    plant(p, view, strand, YARN_BGR)
    px = np.kron(strand, np.ones((4, 4), bool))
    stripes = px & ((np.arange(px.shape[1]) % 6) < 2)[None, :]
    view[stripes] = (20, 30, 45)
    grooves, _ = features(p, view)
    p2, soaked = scene()
    plant(p2, soaked, strand, (20, 30, 45))
    stain, _ = features(p2, soaked)
    assert grooves["dark_share"] == pytest.approx(1 / 3, abs=0.03)
    assert grooves["thick_dark_share"] == 0.0
    assert stain["dark_share"] == pytest.approx(1.0) and stain["thick_dark_share"] > 0.7


def test_a_small_stain_on_a_light_bench_is_measured_on_its_strand_not_the_bench():
    # a thin strand (8 px) soaked dark, in a 4x4-cell region whose other half is bright bench
    p, view = scene()
    box = np.zeros((40, 60), bool)
    box[18:22, 28:32] = True
    plant(p, view, box, (235, 235, 235))  # the bench between the strand's edges
    px = np.kron(box, np.ones((4, 4), bool))
    rows = np.zeros(px.shape[0], bool)
    rows[76:84] = True  # 8 of the region's 16 pixel rows are strand
    soaked = px & rows[:, None]
    view[soaked] = (25, 35, 50)
    f, _ = features(p, view)
    assert f["yarn_share"] == pytest.approx(0.5)
    stain = np.log((25 + 35 + 50 + 3) / 3) - np.log((60 + 90 + 130 + 3) / 3)
    assert f["fg_d_lum"] == pytest.approx(stain, abs=1e-3)
    assert f["d_lum"] > stain + 0.5  # diluted by the bench: barely darker than the yarn
    assert f["dark_share"] == pytest.approx(0.5) and f["fg_dark_share"] == pytest.approx(1.0)
    assert f["fg_thick_dark_share"] > 0.9  # 8 px wide: more than a groove
    assert f["fg_d_red_green"] == pytest.approx(np.log(51 / 36) - np.log(131 / 91), abs=1e-3)
    assert f["fg_d_green_blue"] == pytest.approx(np.log(36 / 26) - np.log(91 / 61), abs=1e-3)


def test_a_region_of_yarn_alone_is_all_strand():
    p, view, _ = oil_disc()
    f, _ = features(p, view)
    assert f["yarn_share"] == 1.0
    assert f["fg_d_lum"] == pytest.approx(f["d_lum"], abs=1e-3)
    assert f["fg_dark_share"] == f["dark_share"]


def test_without_yarn_around_a_region_it_has_no_colour_contrast():
    p, view = scene()
    p[YARN] = 0.0
    p[0] = 1.0  # all background
    cells = np.zeros((40, 60), bool)
    cells[10:14, 10:14] = True
    plant(p, view, cells, (20, 35, 70))
    f, _ = features(p, view)
    assert f["d_lum"] == 0.0 and f["d_chroma"] == 0.0 and f["ring_lum_std"] == 0.0


def verifier(threshold=0.5) -> Verifier:
    # keeps what changes the hue: P = sigmoid(10 * (d_chroma - 0.1))
    return Verifier(("d_chroma",), np.zeros(1), np.ones(1), np.array([10.0]), -1.0, threshold)


def test_find_defects_keeps_the_stain_and_drops_the_groove():
    p, view = scene()
    yy, xx = np.mgrid[:40, :60]
    plant(p, view, (yy - 10) ** 2 + (xx - 10) ** 2 <= 9, (20, 35, 70))
    line = np.zeros((40, 60), bool)
    line[30, 30:44] = True
    plant(p, view, line, (30, 45, 65))
    th = Thresholds(*(dict.fromkeys(DEFECT_CLASSES, v) for v in (0.5, 8.0, 0.5, 6.0)))
    valid = np.ones(p.shape[1:], bool)
    plain = find_defects(p, valid, 2.0, 4.0, th)
    assert len(plain) == 2  # without the verifier both are stains
    found = find_defects(p, valid, 2.0, 4.0, th, {"stain": verifier()}, view, 4)
    assert [(f.type, f.box) for f in found] == [("stain", (28.0, 28.0, 28.0, 28.0))]
    assert 0.5 <= found[0].score <= 1.0
    assert find_defects(p, valid, 2.0, 4.0, th, {"stain": verifier(0.999)}, view, 4) == []
    with pytest.raises(ValueError, match="needs the view"):
        find_defects(p, valid, 2.0, 4.0, th, {"stain": verifier()})


def test_verifier_round_trips_through_json():
    v = Verifier(("d_lum", "fill"), np.array([0.1, 0.5]), np.array([1.0, 2.0]),
                 np.array([-1.0, 3.0]), 0.25, 0.4)
    back = parse_verifiers({"stain": v.to_json()}, DEFECT_CLASSES)["stain"]
    x = np.zeros((3, len(FEATURES)))
    x[:, FEATURES.index("d_lum")] = (-1, 0, 1)
    x[:, FEATURES.index("fill")] = (0.2, 0.5, 0.9)
    assert np.allclose(back.probability(x), v.probability(x))
    z = -1.0 * (x[:, 5] - 0.1) / 1.0 + 3.0 * (x[:, 3] - 0.5) / 2.0 + 0.25
    assert np.allclose(v.probability(x), 1 / (1 + np.exp(-z)))


def test_quadratic_terms_follow_the_linear_ones():
    z = np.array([[1.0, 2.0, 3.0]])
    assert expand(z, False) is z
    assert expand(z, True).tolist() == [[1, 2, 3, 1, 2, 3, 4, 6, 9]]
    v = Verifier(("d_lum", "fill"), np.zeros(2), np.ones(2), np.array([0, 0, 1.0, 0, -1.0]),
                 0.0, 0.5, quadratic=True)  # z = d_lum^2 - fill^2
    x = np.zeros((2, len(FEATURES)))
    x[0, FEATURES.index("d_lum")] = 2.0
    x[1, FEATURES.index("fill")] = 2.0
    assert np.allclose(v.probability(x), 1 / (1 + np.exp([-4.0, 4.0])))
    back = parse_verifiers({"stain": v.to_json()}, DEFECT_CLASSES)["stain"]
    assert back.quadratic and np.allclose(back.probability(x), v.probability(x))


GOOD = {"features": ["d_lum"], "mean": [0.0], "scale": [1.0], "weights": [1.0],
        "bias": 0.0, "threshold": 0.5}


@pytest.mark.parametrize(
    "entry, message",
    [
        ({**GOOD, "features": ["colourfulness"]}, "features must be"),
        ({**GOOD, "weights": [1.0, 2.0]}, "weights must be a list of 1"),
        ({**GOOD, "scale": [0.0]}, "scales must be positive"),
        ({**GOOD, "threshold": 1.5}, "threshold must lie"),
        ({**GOOD, "bias": "high"}, "bias must be a finite number"),
        ({k: v for k, v in GOOD.items() if k != "mean"}, "lacks \\['mean'\\]"),
        ({**GOOD, "quadratic": True}, "weights must be a list of 2"),
        ({**GOOD, "quadratic": "yes"}, "quadratic must be true or false"),
    ],
)
def test_malformed_verifier_is_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        parse_verifiers({"stain": entry}, DEFECT_CLASSES)


def test_verifier_for_an_unknown_class_is_refused():
    with pytest.raises(ValueError, match="unknown classes"):
        parse_verifiers({"scratch": GOOD}, DEFECT_CLASSES)

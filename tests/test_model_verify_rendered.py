"""The shipped stain verifier on rendered photos: it drops what the network half-sees on a clean
light table (dark twist grooves, knots) and keeps planted stains."""

import cv2
import numpy as np
import pytest
from test_model_planted import render, view_box

from qcstation.evaluate import overlap
from qcstation.model import DefectModel
from qcstation.model.card import load_card
from qcstation.model.preprocess import normalise, to_model_scale
from qcstation.model.regions import class_masks
from qcstation.model.runtime import DEFAULT_MODEL
from qcstation.model.verify import Verifier, region_features
from qcstation.rectify import Rectifier


@pytest.fixture(scope="module")
def model():
    return DefectModel.load(threads=1)


def candidates(model, seed: int, kind: str):
    """The stain candidates (box in model-view px, verifier P) of one rendered light-table
    photo at the card's candidate threshold and area, and the planted stain's box."""
    sample, cal = render(seed, "light_table", kind)
    rect = Rectifier.build(cal)
    m = model.card.px_per_mm
    img = to_model_scale(rect.rectify(sample.image), rect.px_per_mm, m)
    val = to_model_scale(rect.valid, rect.px_per_mm, m, cv2.INTER_NEAREST)
    probs = model.probabilities(normalise(img, val))
    cells = cv2.resize(val, probs.shape[:0:-1], interpolation=cv2.INTER_NEAREST) > 0
    th = model.card.thresholds
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        class_masks(probs, cells, th)["stain"], connectivity=8
    )
    s = model.card.output_stride
    cell_mm = s / m
    x = region_features(probs, labels, stats, "stain", img, cells, cell_mm, s)
    p = model.verifiers["stain"].probability(x)
    big = stats[1:, 4] * cell_mm**2 >= th.min_area_mm2["stain"]
    boxes = [tuple(float(v) * s for v in b) for b in stats[1:, :4][big]]
    truth = [d for d in sample.truth["defects"] if d["type"] == "stain"]
    planted = (
        tuple(v * m / rect.px_per_mm for v in view_box(rect, truth[0]["bbox_px"]))
        if truth else None
    )
    return list(zip(boxes, p[big], strict=True)), planted


def test_shipped_card_has_a_stain_verifier():
    card = load_card(DEFAULT_MODEL)
    v = Verifier.from_json(card.verify["stain"])
    assert set(card.verify) == {"stain"}
    assert v.quadratic and 0 < v.threshold < 1
    assert {"yarn_share", "fg_d_lum", "fg_dark_share"} <= set(v.features)  # strand, not bench
    assert card.thresholds.prob["stain"] < 0.3  # candidates below the network's own cut
    assert card.training["verify"]["stain"]["chosen"]["fp_per_image"] <= 0.05


@pytest.mark.parametrize("seed", [14, 18, 26])  # clean renders where the network marks grooves
def test_dark_grooves_on_a_clean_light_table_are_candidates_but_rejected(model, seed):
    found, _ = candidates(model, seed, "clean")
    assert found  # the network marks something stain-like at the candidate threshold
    v = model.verifiers["stain"]
    assert all(p < v.threshold for _, p in found), found


@pytest.mark.parametrize("seed", [12, 13, 18])
def test_planted_stain_on_a_light_table_is_accepted(model, seed):
    found, planted = candidates(model, seed, "stain")
    v = model.verifiers["stain"]
    kept = [b for b, p in found if p >= v.threshold]
    assert any(overlap(b, planted) >= 0.3 for b in kept), (found, planted)
    assert all(overlap(b, planted) >= 0.3 for b in kept)  # and nothing else


def test_malformed_verifier_in_the_card_stops_loading(tmp_path):
    import json
    import shutil

    from qcstation.errors import ModelError

    path = tmp_path / "m.onnx"
    shutil.copy(DEFAULT_MODEL, path)
    card = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    n = len(card["verify"]["stain"]["features"])
    weights = n + n * (n + 1) // 2  # linear and pairwise terms
    card["verify"]["stain"]["weights"] = card["verify"]["stain"]["weights"][:-1]
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=f"malformed .*weights must be a list of {weights}"):
        DefectModel.load(path)
    assert np.isfinite(card["verify"]["stain"]["bias"])

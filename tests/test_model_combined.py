"""defects-v4 (docs/model-retrain.md), the float source of the shipped int8 defects-v4q: one ONNX
graph that runs defects-v2c (foreign matter, loose fibres; a fine-tune of defects-v2 with backlit
plastic) and defects-v1 (stains) on the same input (qcstation/train/combine.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_model_planted import model_input

from qcstation.model import DefectModel
from qcstation.model.card import CLASSES, DEFECT_CLASSES, sha256_of

ROOT = Path(__file__).resolve().parents[1]
V4 = ROOT / "models" / "defects-v4.onnx"
BASE = ROOT / "models" / "candidates" / "defects-v2c.onnx"
DONOR = ROOT / "models" / "defects-v1.onnx"
STAIN = CLASSES.index("stain")


def card(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def view_input() -> np.ndarray:
    """A real rendered photo with a stain, as the network's padded (1, 3, h, w) input."""
    return model_input(21, "light_table", "stain", card(V4)["px_per_mm"])[None]


def test_v4s_card_names_the_files_it_combines():
    c = card(V4)
    assert c["name"] == "defects-v4"
    combined = c["training"]["combined"]
    assert combined["base"]["sha256"] == sha256_of(BASE.read_bytes())
    assert combined["donor"]["sha256"] == sha256_of(DONOR.read_bytes())
    assert combined["donor"]["classes"] == ["stain"]


def test_each_class_keeps_the_setting_of_the_network_it_comes_from():
    c, base, donor = card(V4), card(BASE), card(DONOR)
    for field, per_class in c["thresholds"].items():
        for name in DEFECT_CLASSES:
            want = donor if name == "stain" else base
            assert per_class[name] == want["thresholds"][field][name], (field, name)
    assert c["verify"] == donor["verify"]  # the stain verifier of defects-v1, nothing else


def test_stain_is_v1s_and_the_rest_v2s_rescaled_on_a_real_photo(view_input):
    # given the three networks on one rendered photo
    shipped, v2, v1 = (DefectModel.load(p, threads=1).session.run(None, {"image": view_input})[0][0]
                  for p in (V4, BASE, DONOR))
    # then the stain channel is v1's, the others v2's times (1 - v1 stain) / (1 - v2 stain)
    assert np.abs(shipped[STAIN] - v1[STAIN]).max() < 1e-6
    others = [k for k in range(len(CLASSES)) if k != STAIN]
    scale = (1 - v1[STAIN]) / np.maximum(1 - v2[STAIN], 1e-6)
    assert np.abs(shipped[others] - v2[others] * scale).max() < 1e-5
    assert np.abs(shipped.sum(axis=0) - 1).max() < 1e-4  # still probabilities
    assert v1[STAIN].max() > 0.5  # the photo's stain is there for v1 to give
    assert not np.allclose(shipped[STAIN], v2[STAIN], atol=0.05)  # and v2's stain is not used

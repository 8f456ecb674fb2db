"""The shipped int8 model (defects-v4q) against its float source (defects-v4), and the command that
makes such a copy (`python -m qcstation.train.quantize`, docs/model-retrain.md)."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_model_planted import model_input

from qcstation.errors import DataError
from qcstation.model import DEFAULT_MODEL, DefectModel
from qcstation.model.card import load_card, sha256_of
from qcstation.synth.dataset import write_dataset

ROOT = Path(__file__).resolve().parents[1]
V4 = ROOT / "models" / "defects-v4.onnx"
V1 = ROOT / "models" / "defects-v1.onnx"
M = load_card(V4).px_per_mm  # the scale both models work at


def test_the_default_is_the_int8_copy_of_v4_with_v4s_thresholds():
    card, source = load_card(DEFAULT_MODEL), load_card(V4)
    assert DEFAULT_MODEL.name == "defects-v4q.onnx" and card.name == "defects-v4q"
    assert card.training["quantised"]["from"] == f"defects-v4 ({sha256_of(V4.read_bytes())[:12]})"
    assert card.thresholds == source.thresholds and card.verify == source.verify
    assert DEFAULT_MODEL.stat().st_size < 0.5 * V4.stat().st_size  # int8 weights


@pytest.mark.parametrize("seed,bench,kind", [(21, "light_table", "stain"),
                                             (13, "backlit", "plastic")])
def test_int8_and_float_models_see_the_same_defects(seed, bench, kind):
    # given one rendered photo through both models (the int8 one in one tile of 1536 px)
    x = model_input(seed, bench, kind, M)
    float_probs = DefectModel.load(V4, threads=2).probabilities(x)
    int8_probs = DefectModel.load(DEFAULT_MODEL, threads=2).probabilities(x)
    # then they pick the same class in nearly every cell, and the defect's cells alike
    assert (float_probs.argmax(0) == int8_probs.argmax(0)).mean() > 0.99
    assert np.abs(float_probs - int8_probs).mean() < 0.005
    defect = float_probs.argmax(0) >= 2
    assert defect.sum() > 20  # the photo's defect is there to compare
    assert abs(int(defect.sum()) - int((int8_probs.argmax(0) >= 2).sum())) < 0.05 * defect.sum()


def test_quantize_command_writes_a_loadable_int8_copy(tmp_path):
    from qcstation.train import quantize

    write_dataset(tmp_path / "set", 3, 6650, ROOT / "specs" / "kr-coirnet-25.toml", (1600, 1200),
                  (3.2, 4.8), False, 1)
    out = tmp_path / "models" / "v1q.onnx"  # a folder that does not exist yet
    assert quantize.main([str(V1), str(out), str(tmp_path / "set"), "--every", "1",
                          "--tile-px", "1024", "--threads", "1"]) == 0
    model = DefectModel.load(out, threads=1)  # checks sha256 and that it outputs probabilities
    card, source = model.card, load_card(V1)
    assert card.name == "v1q" and card.tile_px == 1024 and card.thresholds == source.thresholds
    assert card.training["quantised"]["calibration_inputs"] == 3
    assert card.training["quantised"]["command"].endswith(f"{out} {tmp_path / 'set'} --every 1 "
                                                          "--tile-px 1024 --threads 1")
    assert out.stat().st_size < 0.5 * V1.stat().st_size
    x = model_input(21, "light_table", "stain", M)
    agree = DefectModel.load(V1, threads=1).probabilities(x).argmax(0) == model.probabilities(
        x).argmax(0)
    assert agree.mean() > 0.98


def test_quantize_refuses_a_held_out_family(tmp_path):
    from qcstation.train import quantize

    (tmp_path / "dataset.json").write_text(json.dumps({"held_out_families": ["knotted"]}))
    with pytest.raises(DataError, match="held-out"):
        quantize.main([str(V1), str(tmp_path / "q.onnx"), str(tmp_path)])
    assert not (tmp_path / "q.onnx").exists()

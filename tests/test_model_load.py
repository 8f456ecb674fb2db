"""Loading the defect model: the shipped file, and clear errors for every way it can be broken."""

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from qcstation.cli import main
from qcstation.errors import ModelError
from qcstation.model import DEFAULT_MODEL, DefectModel
from qcstation.model.card import CLASSES, load_card


def copy_model(tmp_path: Path) -> Path:
    dst = tmp_path / "m.onnx"
    shutil.copy(DEFAULT_MODEL, dst)
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


def set_card(path: Path, **changes) -> None:
    card = path.with_suffix(".json")
    d = json.loads(card.read_text())
    d.update(changes)
    card.write_text(json.dumps(d))


def test_shipped_model_loads_and_names_itself():
    model = DefectModel.load()
    digest = hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()
    assert model.info.name == "defects-v4q"
    assert model.info.sha256 == digest
    card = load_card(DEFAULT_MODEL)
    assert card.classes == CLASSES
    assert DEFAULT_MODEL.stat().st_size < 4 * 2**20  # small enough to commit
    for net in ("base_training", "donor_training"):  # its two networks (train/combine.py)
        assert card.training[net]["parity_max_abs_diff"] < 1e-3


def test_missing_model(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        DefectModel.load(tmp_path / "nothing.onnx")


def test_missing_card(tmp_path):
    path = copy_model(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="card .* is missing"):
        DefectModel.load(path)


def test_truncated_model_does_not_match_its_card(tmp_path):
    path = copy_model(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="does not match the sha256"):
        DefectModel.load(path)


def test_corrupt_model_with_a_matching_card(tmp_path):
    # the card is rewritten for the damaged bytes, so only onnxruntime can tell
    path = copy_model(tmp_path)
    data = b"not an onnx file" + path.read_bytes()[100:4000]
    path.write_bytes(data)
    set_card(path, sha256=hashlib.sha256(data).hexdigest())
    with pytest.raises(ModelError, match="is not a valid ONNX model"):
        DefectModel.load(path)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"classes": ["background", "yarn", "stain"]}, "another kind of model"),
        ({"format": "something/9"}, "another kind of model"),
        ({"thresholds": "high"}, "malformed"),
        ({"unknown_key": 1}, "malformed"),
    ],
)
def test_bad_cards(tmp_path, change, message):
    path = copy_model(tmp_path)
    set_card(path, **change)
    with pytest.raises(ModelError, match=message):
        DefectModel.load(path)


def test_unreadable_card(tmp_path):
    path = copy_model(tmp_path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        DefectModel.load(path)


def test_train_without_torch_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("install the training extra: pip install -e .[train]")
    assert "\n" not in err

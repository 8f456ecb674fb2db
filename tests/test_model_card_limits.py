"""A model card out of range, or a network of another shape than its card, is refused at load.

Each case once loaded: tile 0 or stride 0 (a traceback at the first image), px_per_mm "2", 0 or
-2, a list for a card, and a valid ONNX network of another shape (a model that silently finds
nothing). The networks here are built in the test with onnx.helper: one convolution of stride 4
and a softmax over the classes, the shape of the shipped model's output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qcstation.errors import ModelError
from qcstation.model import DEFAULT_MODEL, DefectModel


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "m.onnx"
    shutil.copy(DEFAULT_MODEL, dst)
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


def _edit_card(path: Path, edit) -> None:
    card = path.with_suffix(".json")
    d = json.loads(card.read_text())
    d = edit(d)
    card.write_text(json.dumps(d))


def _set(key, value):
    def edit(d):
        d[key] = value
        return d
    return edit


@pytest.mark.parametrize(
    "edit",
    [_set("tile_px", 0), _set("output_stride", 0), _set("input_multiple", 0),
     _set("px_per_mm", 0), _set("px_per_mm", "2"), _set("px_per_mm", -2), _set("px_per_mm", True),
     _set("px_per_mm", 1e9), _set("tile_px", 770), lambda d: {**d, "overlap_px": d["tile_px"] // 2},
     _set("thresholds", [0.5, 0.5]), lambda d: [d]],
    ids=["tile 0", "stride 0", "multiple 0", "scale 0", "scale text", "scale negative",
         "scale bool", "scale huge", "tile not a multiple", "overlap too large",
         "thresholds a list", "card a list"],
)
def test_card_out_of_range_is_one_sentence(tmp_path, edit):
    path = _copy(tmp_path)
    _edit_card(path, edit)
    with pytest.raises(ModelError, match="malformed") as e:
        DefectModel.load(path)
    assert "\n" not in str(e.value) and str(path.with_suffix(".json")) in str(e.value)


def _network(classes: int, stride: int = 4, fixed: tuple[int, int] | None = None) -> bytes:
    """[n, 3, h, w] -> conv (stride `stride`) -> softmax over `classes` channels."""
    onnx = pytest.importorskip("onnx", reason="onnx comes with the training extra")
    from onnx import TensorProto, helper, numpy_helper

    h, w = fixed or ("h", "w")
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, h, w])
    y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", classes, "a", "b"])
    weights = np.random.default_rng(0).normal(0, 0.1, (classes, 3, stride, stride))
    nodes = [
        helper.make_node("Conv", ["image", "W"], ["logits"], strides=[stride, stride],
                         kernel_shape=[stride, stride]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(nodes, "probe", [x], [y],
                              [numpy_helper.from_array(weights.astype(np.float32), "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _with_network(tmp_path: Path, data: bytes) -> Path:
    path = _copy(tmp_path)
    path.write_bytes(data)
    _edit_card(path, _set("sha256", hashlib.sha256(data).hexdigest()))
    return path


def test_a_network_of_the_cards_shape_loads(tmp_path):
    """The check refuses shapes, not hand-made networks: five classes at stride 4 load."""
    model = DefectModel.load(_with_network(tmp_path, _network(5)))
    x = np.zeros((3, 64, 96), np.float32)
    assert model.probabilities(x).shape == (5, 16, 24)


@pytest.mark.parametrize(
    ("network", "words"),
    [(lambda: _network(3), "output [1, 3, 16, 16]"),
     (lambda: _network(5, stride=8), "output [1, 5, 8, 8]"),
     (lambda: _network(5, fixed=(768, 768)), "takes input")],
    ids=["three classes", "stride 8", "fixed input size"],
)
def test_a_network_of_another_shape_is_refused(tmp_path, network, words):
    path = _with_network(tmp_path, network())
    with pytest.raises(ModelError, match="restore") as e:
        DefectModel.load(path)
    assert words in str(e.value) and "\n" not in str(e.value)

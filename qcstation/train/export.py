"""Export to ONNX (batch norms folded, dynamic batch and size), graph check, parity with torch."""

from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .net import INPUT_MULTIPLE, UNet, convs, fused

logger = logging.getLogger(__name__)

OPSET = 18
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"


def to_onnx(model: UNet) -> bytes:
    """The serialised, checked ONNX graph of `model` (inference form)."""
    deploy = fused(model)
    x = torch.zeros(1, 3, 8 * INPUT_MULTIPLE, 8 * INPUT_MULTIPLE)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation chatter
        torch.onnx.export(
            deploy,
            (x,),
            buf,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=OPSET,
            dynamo=False,
            dynamic_axes={
                INPUT_NAME: {0: "n", 2: "h", 3: "w"},
                OUTPUT_NAME: {0: "n", 2: "h4", 3: "w4"},
            },
        )
    proto = onnx.load_from_string(buf.getvalue())
    proto.producer_name = "qcstation train"
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString()


def load_onnx_weights(data: bytes, classes: int = 5) -> UNet:
    """A torch model holding the weights of an exported ONNX file (its convolutions, in graph
    order), so the shipped file itself can be compared with torch."""
    proto = onnx.load_from_string(data)
    init = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    nodes = [n for n in proto.graph.node if n.op_type == "Conv"]
    out_channels = [init[n.input[1]].shape[0] for n in nodes]
    if len(out_channels) < 6:
        raise ValueError(f"the ONNX graph has {len(nodes)} convolutions, not a UNet")
    widths = (out_channels[0], out_channels[1], out_channels[3], out_channels[5])
    model = fused(UNet(classes, widths))
    targets = convs(model)
    if len(nodes) != len(targets):
        raise ValueError(
            f"the ONNX graph has {len(nodes)} convolutions, the network {len(targets)}"
        )
    with torch.no_grad():
        for node, conv in zip(nodes, targets, strict=True):
            conv.weight.copy_(torch.from_numpy(init[node.input[1]].copy()))
            conv.bias.copy_(torch.from_numpy(init[node.input[2]].copy()))
    return model.eval()


def torch_probabilities(model: UNet, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(torch.from_numpy(x)).numpy()


def parity(model: UNet, data: bytes, x: np.ndarray) -> float:
    """Max absolute difference of probabilities, torch vs onnxruntime, on input `x`."""
    from ..model.runtime import make_session

    session = make_session(data, 2)
    ort_out = session.run(None, {session.get_inputs()[0].name: x})[0]
    return float(np.abs(ort_out - torch_probabilities(model, x)).max())

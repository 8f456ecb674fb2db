"""An int8 copy of a defect model for the CPU, calibrated on training-seed photos.

    python -m qcstation.train.quantize SRC.onnx OUT.onnx DIR... [--every 4] [--tile-px N]

Static quantisation (onnxruntime, QDQ, weights int8 per output channel, activations uint8):
the convolutions, their ReLUs, the decoder's resizes and concatenations run in int8 on CPUs
with VNNI; the softmax and the node that writes the probabilities stay in float, so the
output still sums to 1 per cell (the runtime checks that). Activation ranges come from the
model's own input views of the photos in DIR (synth folders of training seeds; a held-out
family is refused), every `--every`-th photo, one tile each. The card is the source's, with
the new name and sha256, and `--tile-px` if given (a 5 MP view in one tile: the network's
own input size is free); thresholds and verifier are kept (measure the copy with
`qcstation eval` before shipping it: docs/model-retrain.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..model.card import ModelCard, card_path, load_card, sha256_of
from ..model.preprocess import normalise
from .sweep import cache

QUANTISED_OPS = ["Conv", "Relu", "Concat", "Resize"]


def calibration_inputs(src: Path, folders: list[Path], every: int, threads: int
                       ) -> list[np.ndarray]:
    """Normalised model inputs (1, 3, h, w), one tile of the card's size per photo used."""
    card = load_card(src)
    tile = card.tile_px
    out = []
    for folder in folders:
        for item in cache(folder, src, threads)[::every]:
            if item.view is not None:
                x = normalise(item.view, multiple=card.input_multiple)
                out.append(np.ascontiguousarray(x[None, :, :tile, :tile]))
    return out


def quantise(src: Path, out: Path, inputs: list[np.ndarray], tile_px: int | None = None,
             command: str = "") -> ModelCard:
    """Write the int8 copy of `src` to `out` with its card (recording `command`, the one that
    made it); returns the card."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.left = iter(inputs)

        def get_next(self):
            x = next(self.left, None)
            return None if x is None else {"image": x}

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        graph = onnx.load(str(pre))
        for i, node in enumerate(graph.graph.node):
            node.name = node.name or f"node{i}"
        outputs = {o.name for o in graph.graph.output}
        last = [n.name for n in graph.graph.node if set(n.output) & outputs]
        onnx.save(graph, str(pre))
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=QUANTISED_OPS,
                        nodes_to_exclude=last)
    source = load_card(src)
    training = dict(source.training)
    training["quantised"] = {
        "from": f"{source.name} ({source.sha256[:12]})",
        "calibration_inputs": len(inputs),
        "command": command,
    }
    card = replace(source, name=out.stem, sha256=sha256_of(out.read_bytes()),
                   tile_px=tile_px or source.tile_px, training=training)
    card.save(card_path(out))
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qcstation.train.quantize",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="the float model (.onnx, its card beside it)")
    ap.add_argument("out", type=Path, help="the int8 model to write (.onnx)")
    ap.add_argument("folders", type=Path, nargs="+", help="synth folders of training seeds")
    ap.add_argument("--every", type=int, default=4, help="use every n-th photo")
    ap.add_argument("--tile-px", type=int, help="the copy's tile size (default: the source's)")
    ap.add_argument("--threads", type=int, default=2)
    argv = sys.argv[1:] if argv is None else argv
    a = ap.parse_args(argv)
    inputs = calibration_inputs(a.src, a.folders, a.every, a.threads)
    card = quantise(a.src, a.out, inputs, a.tile_px,
                    "python -m qcstation.train.quantize " + " ".join(argv))
    print(json.dumps({"model": str(a.out), "name": card.name, "sha256": card.sha256,
                      "calibration_inputs": len(inputs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

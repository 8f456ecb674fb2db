"""Per-class choice between two defect models, as one ONNX file and card (docs/model-retrain.md).

The wide-renderer fine-tune (`defects-v2`) stopped calling stray fibres, fuzz and ply highlights
foreign matter or loose fibres, but its stain channel lost classic stains that `defects-v1`
finds. Rather than retrain until one network does both, the combined graph runs both networks on
the same input and takes one class's probability from the donor and the rest from the base.
The base's other four probabilities are rescaled by (1 - donor's) / (1 - base's) so that every
cell still sums to 1 (the runtime checks it, and `class_masks` compares classes by argmax);
where the two agree that the class is absent the factor is about 1. The card takes the base's
thresholds for the base's classes and the donor's thresholds and verifier for the donor's class,
so each class keeps the setting chosen for the network it comes from.

    python -m qcstation.train.combine BASE.onnx DONOR.onnx --take stain --out OUT.onnx

The two models must share the card's input contract (scale, multiple, stride, tiles, classes).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import onnx
from onnx import TensorProto, compose, helper

from ..model.card import CLASSES, DEFECT_CLASSES, ModelCard, Thresholds, sha256_of
from .export import INPUT_NAME, OPSET, OUTPUT_NAME

SAME = ("px_per_mm", "input_multiple", "output_stride", "tile_px", "overlap_px", "classes",
        "preprocessing")  # card fields both models must agree on to share one input
MIN_REST = 1e-6  # floor of (1 - base probability of the class): no division by zero where the
# base is certain of the class (probabilities are float32, so 1e-6 is its resolution near 1)


def combined_graph(base: onnx.ModelProto, donor: onnx.ModelProto, k: int) -> onnx.ModelProto:
    """One graph: the base's probabilities with channel `k` from the donor, the other channels
    rescaled to sum to 1 - donor's."""
    a, b = compose.add_prefix(base, "base_"), compose.add_prefix(donor, "donor_")
    nodes = list(a.graph.node) + list(b.graph.node)
    for n in nodes:  # both networks read the one input
        n.input[:] = [INPUT_NAME if i in (f"base_{INPUT_NAME}", f"donor_{INPUT_NAME}") else i
                      for i in n.input]
    pa, pb = f"base_{OUTPUT_NAME}", f"donor_{OUTPUT_NAME}"
    consts = [
        helper.make_tensor(name, TensorProto.INT64, [1], [v])
        for name, v in (("c_k0", k), ("c_k1", k + 1), ("c_axis", 1), ("c_zero", 0),
                        ("c_end", len(CLASSES)))
    ] + [helper.make_tensor("c_one", TensorProto.FLOAT, [], [1.0]),
         helper.make_tensor("c_min_rest", TensorProto.FLOAT, [], [MIN_REST])]
    nodes += [
        helper.make_node("Slice", [pb, "c_k0", "c_k1", "c_axis"], ["donor_k"]),
        helper.make_node("Slice", [pa, "c_k0", "c_k1", "c_axis"], ["base_k"]),
        helper.make_node("Sub", ["c_one", "donor_k"], ["donor_rest"]),
        helper.make_node("Sub", ["c_one", "base_k"], ["base_rest_raw"]),
        helper.make_node("Max", ["base_rest_raw", "c_min_rest"], ["base_rest"]),
        helper.make_node("Div", ["donor_rest", "base_rest"], ["rescale"]),
        helper.make_node("Mul", [pa, "rescale"], ["base_rescaled"]),
        helper.make_node("Slice", ["base_rescaled", "c_zero", "c_k0", "c_axis"], ["head"]),
        helper.make_node("Slice", ["base_rescaled", "c_k1", "c_end", "c_axis"], ["tail"]),
        helper.make_node("Concat", ["head", "donor_k", "tail"], [OUTPUT_NAME], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "qcstation-combined",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT,
                                       ["n", len(CLASSES), "h4", "w4"])],
        list(a.graph.initializer) + list(b.graph.initializer) + consts,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="qcstation.train.combine")
    model.ir_version = base.ir_version
    onnx.checker.check_model(model, full_check=True)
    return model


def combined_card(base: ModelCard, donor: ModelCard, cls: str, name: str, data: bytes,
                  command: str) -> ModelCard:
    """The base's card with the donor's thresholds and verifier for `cls`."""
    for f in SAME:
        if getattr(base, f) != getattr(donor, f):
            raise SystemExit(f"the two models differ in {f}; they cannot share one input")
    t, d = base.thresholds, donor.thresholds
    if t.area_after_merge != d.area_after_merge:
        raise SystemExit("the two cards measure a defect's area differently (area_after_merge)")
    th = Thresholds(*({**getattr(t, f), cls: getattr(d, f)[cls]}
                      for f in ("prob", "min_area_mm2", "min_score", "merge_gap_mm")),
                    t.area_after_merge)
    verify = {k: v for k, v in base.verify.items() if k != cls}
    if cls in donor.verify:
        verify[cls] = donor.verify[cls]
    training = {
        "combined": {
            "command": command,
            "base": {"name": base.name, "sha256": base.sha256,
                     "classes": [c for c in DEFECT_CLASSES if c != cls]},
            "donor": {"name": donor.name, "sha256": donor.sha256, "classes": [cls]},
            "rescale": "base probabilities of the other classes x (1 - donor's) / "
                       f"max(1 - base's, {MIN_REST})",
        },
        "base_training": base.training,  # how each network was made and checked
        "donor_training": donor.training,
    }
    if cls in donor.training.get("verify", {}):  # how the class's verifier was chosen
        training["verify"] = {cls: donor.training["verify"][cls]}
    return replace(base, name=name, sha256=sha256_of(data), thresholds=th,
                   verify=verify, params=base.params + donor.params, training=training,
                   evaluation={})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qcstation.train.combine")
    ap.add_argument("base", type=Path, help="ONNX model whose classes are kept")
    ap.add_argument("donor", type=Path, help="ONNX model that gives one class")
    ap.add_argument("--take", default="stain", choices=DEFECT_CLASSES,
                    help="the class taken from the donor (default stain)")
    ap.add_argument("--out", type=Path, required=True, help="the ONNX file to write")
    a = ap.parse_args(argv)
    cards = [ModelCard.from_json(json.loads(p.with_suffix(".json").read_text()))
             for p in (a.base, a.donor)]
    for p, c in zip((a.base, a.donor), cards, strict=True):
        if sha256_of(p.read_bytes()) != c.sha256:
            raise SystemExit(f"{p} does not match its card")
    model = combined_graph(onnx.load(a.base), onnx.load(a.donor), CLASSES.index(a.take))
    data = model.SerializeToString()
    command = "python -m qcstation.train.combine " + " ".join(sys.argv[1:] if argv is None
                                                               else argv)
    card = combined_card(*cards, a.take, a.out.stem, data, command)
    a.out.write_bytes(data)
    card.save(a.out.with_suffix(".json"))
    print(f"wrote {a.out} ({len(data) >> 10} KiB, sha256 {card.sha256[:12]}) and its card")
    return 0


if __name__ == "__main__":
    sys.exit(main())

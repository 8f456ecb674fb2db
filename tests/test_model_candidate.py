"""The retrained candidate model (models/candidates/defects-v2; docs/model-retrain.md): not shipped
alone (its stains fell on the old seeds), its fine-tune defects-v2c gives the foreign-matter and
loose-fibre channels of the shipped defects-v4; it loads like a shipped model, and its card
records the held-out protocol of docs/families.md."""

import hashlib
import json
from pathlib import Path

from qcstation.model import DEFAULT_MODEL, DefectModel
from qcstation.synth.families import HELD_OUT

ROOT = Path(__file__).resolve().parents[1]
CANDIDATE = ROOT / "models" / "candidates" / "defects-v2.onnx"
V1 = ROOT / "models" / "defects-v1.onnx"  # the model v2 was fine-tuned from


def card() -> dict:
    return json.loads(CANDIDATE.with_suffix(".json").read_text())


def test_candidate_loads_and_is_not_the_default():
    model = DefectModel.load(CANDIDATE)
    assert model.info.sha256 == hashlib.sha256(CANDIDATE.read_bytes()).hexdigest()
    assert model.info.name == "defects-v2"
    assert DEFAULT_MODEL.name == "defects-v4q.onnx"
    assert model.info.sha256 != DefectModel.load().info.sha256


def test_candidate_card_records_the_held_out_families_and_uses_none_of_them():
    t = card()["training"]
    assert set(t["held_out_families"]) == set(HELD_OUT) == {"knotted", "fabric-bench"}
    commands = " ".join(t["data_commands"] + t["verify"]["stain"]["data_commands"])
    assert all(f"--family {name}" not in commands for name in HELD_OUT)
    used = {d["seed"] for d in t["data"]}
    assert used.isdisjoint({7, 8, 9, 21007, 21008, 9100})  # no eval seed in training
    assert t["init_model"]["sha256"] == DefectModel.load(V1).info.sha256


def test_candidate_card_says_why_it_was_not_shipped():
    ev = card()["evaluation"]
    assert ev["ship_rule"].startswith("not shipped")
    e7 = ev["sets"]["e7"]
    assert e7["this_model"]["images"] == e7["shipped_defects_v1"]["images"] == 120
    held = ev["sets"]["k9100"]
    assert sum(held["this_model"]["fp_per_image"].values()) < sum(
        held["shipped_defects_v1"]["fp_per_image"].values())

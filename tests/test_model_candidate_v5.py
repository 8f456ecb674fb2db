"""The stain-session candidate (models/candidates/defects-v5c; docs/model-retrain.md; v5a not
kept): one network fine-tuned from defects-v2c, not shipped; it loads like a shipped model and
its card records the held-out protocol and why it was not shipped."""

import hashlib
import json
from pathlib import Path

import pytest

from qcstation.model import DEFAULT_MODEL, DefectModel
from qcstation.synth.families import HELD_OUT

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = ("defects-v5c",)
EVAL_SEEDS = {7, 8, 9, 21007, 21008, 5301, 9100}


@pytest.mark.parametrize("name", CANDIDATES)
def test_candidate_loads_and_is_not_the_default(name):
    path = ROOT / "models" / "candidates" / f"{name}.onnx"
    model = DefectModel.load(path)
    assert model.info.name == name
    assert model.info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert DEFAULT_MODEL.name == "defects-v4q.onnx"
    assert "stain" in model.card.verify


@pytest.mark.parametrize("name", CANDIDATES)
def test_candidate_card_keeps_the_held_out_protocol(name):
    card = json.loads((ROOT / "models" / "candidates" / f"{name}.json").read_text())
    t = card["training"]
    assert set(t["held_out_families"]) == set(HELD_OUT)
    commands = " ".join(t["data_commands"] + t["verify"]["stain"]["data_commands"])
    assert all(f"--family {h}" not in commands for h in HELD_OUT)
    assert {d["seed"] for d in t["data"]}.isdisjoint(EVAL_SEEDS)
    assert all(6400 <= d["seed"] <= 6699 for d in t["data"])
    assert card["evaluation"]["ship_rule"].startswith("not shipped")

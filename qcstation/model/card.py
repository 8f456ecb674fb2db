"""The model card: what a shipped defect model expects and how its output is read."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ModelError

logger = logging.getLogger(__name__)

CLASSES = ("background", "yarn", "foreign_matter", "stain", "loose_fibres")
DEFECT_CLASSES = CLASSES[2:]  # the classes that become Findings
CARD_FORMAT = "qcstation-defect-model/1"
PREPROCESSING = (
    "qcstation.model.preprocess: the bench view resized to px_per_mm (cv2.INTER_LINEAR); "
    "BGR minus the frame's per-channel mean, divided by one common standard deviation (both "
    "over every 4th valid pixel); pixels outside the camera's view 0; float32 NCHW, height "
    "and width padded with 0 to input_multiple; output: softmax over classes per "
    "output_stride x output_stride cell"
)


@dataclass(frozen=True)
class Thresholds:
    """How probability maps become defect regions, per defect class."""

    prob: dict[str, float]  # a cell belongs to a class at or above this probability
    min_area_mm2: dict[str, float]  # smaller regions are dropped
    min_score: dict[str, float]  # regions whose peak probability is lower are dropped
    merge_gap_mm: dict[str, float]  # regions of one class closer than this are one defect


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to run the model the way it was trained; JSON beside the .onnx file."""

    name: str
    sha256: str  # of the .onnx file
    classes: tuple[str, ...]
    px_per_mm: float  # the scale of the model's input (bench plane)
    input_multiple: int  # input height and width must be multiples of this
    output_stride: int  # output cells are this many input pixels
    tile_px: int
    overlap_px: int
    thresholds: Thresholds
    verify: dict = field(default_factory=dict)  # class -> second-stage verifier (verify.py)
    preprocessing: str = PREPROCESSING
    opset: int = 18
    params: int = 0
    training: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)
    format: str = CARD_FORMAT

    def to_json(self) -> dict:
        d = asdict(self)
        d["classes"] = list(self.classes)
        return d

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @staticmethod
    def from_json(d: dict) -> ModelCard:
        d = dict(d)
        d["classes"] = tuple(d["classes"])
        d["thresholds"] = Thresholds(**d["thresholds"])
        return ModelCard(**d)


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_card(model_path: Path) -> ModelCard:
    """Read and check the card beside `model_path`; ModelError with one sentence if unusable."""
    path = card_path(model_path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"the model card {path} is missing; it must lie beside the model "
            "file (retrain or restore both files)."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"the model card {path} cannot be read ({e}); restore it.") from None
    try:
        card = ModelCard.from_json(raw)
    except (TypeError, KeyError, AttributeError) as e:
        raise ModelError(f"the model card {path} is malformed ({e}); restore it.") from None
    if not _thresholds_ok(card.thresholds):
        raise ModelError(
            f"the model card {path} is malformed (its thresholds need a number for "
            f"each of {list(DEFECT_CLASSES)}); restore it."
        )
    try:
        verifiers(card)
    except ValueError as e:
        raise ModelError(f"the model card {path} is malformed ({e}); restore it.") from None
    if card.format != CARD_FORMAT or tuple(card.classes) != CLASSES:
        raise ModelError(
            f"the model card {path} is for another kind of model (format "
            f"{card.format!r}, classes {list(card.classes)}); use a card made by "
            "`qcstation train`."
        )
    return card


def verifiers(card: ModelCard) -> dict:
    """The card's second-stage verifiers by class (`verify.Verifier`); ValueError if malformed."""
    from .verify import parse_verifiers  # verify reads CLASSES from here

    return parse_verifiers(card.verify, DEFECT_CLASSES)


def _thresholds_ok(th: Thresholds) -> bool:
    tables = (th.prob, th.min_area_mm2, th.min_score, th.merge_gap_mm)
    return all(
        isinstance(t, dict) and all(isinstance(t.get(k), int | float) for k in DEFECT_CLASSES)
        for t in tables
    )

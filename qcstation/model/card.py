"""The model card: what a shipped defect model expects and how its output is read."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ModelError
from ..files import read_text_limited

MAX_CARD_BYTES = 4 << 20

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
    # min_area_mm2 is the merged defect's, not each piece's (classes without a verifier): a
    # string passing under strands shows in pieces; cards without the key judge each piece
    area_after_merge: bool = False


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
        raw = json.loads(read_text_limited(path, MAX_CARD_BYTES))
    except FileNotFoundError:
        raise ModelError(
            f"the model card {path} is missing; it must lie beside the model "
            "file (retrain or restore both files)."
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        reason = getattr(e, "strerror", None) or str(e)[:120]
        raise ModelError(f"the model card {path} cannot be read ({reason}); restore it.") from None
    if not isinstance(raw, dict):
        raise ModelError(f"the model card {path} is malformed (a JSON object was expected, not "
                         f"a {type(raw).__name__}); restore it.")
    problem = _geometry_problem(raw)
    if problem:
        raise ModelError(f"the model card {path} is malformed ({problem}); restore it.")
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


# key -> (whole number?, lowest, highest): the ranges a model made by `qcstation train` has
_GEOMETRY = {
    "px_per_mm": (False, 0.2, 20.0),
    "input_multiple": (True, 1, 1024),
    "output_stride": (True, 1, 64),
    "tile_px": (True, 16, 8192),
    "overlap_px": (True, 0, 4096),
}


def _geometry_problem(raw: dict) -> str | None:
    """Why the card's scale and tiling cannot be used, or None."""
    for key, (whole, lo, hi) in _GEOMETRY.items():
        v = raw.get(key)
        kind = int if whole else int | float
        if isinstance(v, bool) or not isinstance(v, kind) or not lo <= v <= hi:
            what = "a whole number" if whole else "a number"
            return f"key '{key}' is {v!r}; expected {what} from {lo} to {hi}"
    if raw["input_multiple"] % raw["output_stride"]:
        return "key 'input_multiple' must be a multiple of 'output_stride'"
    if raw["tile_px"] % raw["input_multiple"]:
        return "key 'tile_px' must be a multiple of 'input_multiple'"
    if 2 * raw["overlap_px"] + raw["output_stride"] >= raw["tile_px"]:
        return "key 'overlap_px' must be less than half of 'tile_px'"
    return None


def verifiers(card: ModelCard) -> dict:
    """The card's second-stage verifiers by class (`verify.Verifier`); ValueError if malformed."""
    from .verify import parse_verifiers  # verify reads CLASSES from here

    return parse_verifiers(card.verify, DEFECT_CLASSES)


def _thresholds_ok(th: Thresholds) -> bool:
    tables = (th.prob, th.min_area_mm2, th.min_score, th.merge_gap_mm)
    return isinstance(th.area_after_merge, bool) and all(
        isinstance(t, dict) and all(isinstance(t.get(k), int | float) for k in DEFECT_CLASSES)
        for t in tables
    )

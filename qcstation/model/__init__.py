"""The appearance-defect model: card, preprocessing, regions and the onnxruntime runner."""

from .card import CLASSES, DEFECT_CLASSES, ModelCard, Thresholds, load_card
from .runtime import DEFAULT_MODEL, DefectModel

__all__ = [
    "CLASSES",
    "DEFAULT_MODEL",
    "DEFECT_CLASSES",
    "DefectModel",
    "ModelCard",
    "Thresholds",
    "load_card",
]

"""The defect model at run time: the one module of qcstation that talks to onnxruntime."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from ..domain import ModelInfo
from ..errors import ModelError
from ..files import MB, read_limited
from ..resources import shipped
from ..structural import Appearance, Finding
from .card import CLASSES, ModelCard, load_card, sha256_of, verifiers
from .preprocess import normalise, pad_to_multiple, to_model_scale
from .regions import class_masks, find_defects
from .tiles import spans

logger = logging.getLogger(__name__)

HIDING = ("foreign_matter", "stain")  # classes that hide the yarn or bench under them

DEFAULT_MODEL = shipped("models/defects-v4q.onnx")  # docs/model-retrain.md (int8 defects-v4)
MAX_MODEL_BYTES = 512 * MB
_ORT_ERRORS = (
    ort_state.Fail,
    ort_state.InvalidArgument,
    ort_state.InvalidGraph,
    ort_state.InvalidProtobuf,
    ort_state.NoModel,
    ort_state.NotImplemented,
    ort_state.RuntimeException,
    RuntimeError,
    ValueError,
)


def make_session(data: bytes, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # idle spinning threads would slow the OpenCV steps that follow (PERF-NOTES.md)
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


class DefectModel:
    """Finds foreign matter, stains and loose fibres in a bench view (`AppearanceModel`)."""

    def __init__(self, session: ort.InferenceSession, card: ModelCard, threads: int | None = None):
        self.session = session
        self.threads = threads  # onnxruntime intra-op threads (None: not known)
        self.card = card
        self.info = ModelInfo(card.name, card.sha256)
        self.px_per_mm = card.px_per_mm  # the scale of the views it works on
        self._input = session.get_inputs()[0].name
        self.verifiers = verifiers(card)  # checked by load_card

    @staticmethod
    def load(path: Path | str = DEFAULT_MODEL, threads: int = 2) -> DefectModel:
        """Read, check and open a model; ModelError with one sentence when it cannot be used."""
        path = Path(path)
        try:
            data = read_limited(path, MAX_MODEL_BYTES)
        except FileNotFoundError:
            raise ModelError(
                f"the defect model {path} does not exist; give the path of a "
                "model made by `qcstation train` (the shipped one is "
                "models/defects-v4q.onnx)."
            ) from None
        except OSError as e:
            raise ModelError(f"the defect model {path} cannot be read ({e.strerror}).") from None
        card = load_card(path)
        if sha256_of(data) != card.sha256:
            raise ModelError(
                f"the defect model {path} does not match the sha256 in its card; "
                "the file is damaged or belongs to another card, restore both."
            )
        try:
            session = make_session(data, max(1, int(threads)))
        except _ORT_ERRORS as e:
            raise ModelError(
                f"the defect model {path} is not a valid ONNX model "
                f"({str(e).splitlines()[0][:120]}); restore it."
            ) from None
        _check_io(session, path)
        _check_shapes(session, card, path)
        logger.info("defect model %s (%s) loaded, %d threads", card.name, card.sha256[:12], threads)
        return DefectModel(session, card, max(1, int(threads)))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (C, H/stride, W/stride) of a normalised input (3, H, W), tiled;
        an input padded to the card's multiple gives them for the padded size."""
        c = self.card
        h, w = x.shape[1:]
        xp = pad_to_multiple(x, c.input_multiple)
        s = c.output_stride
        out = np.zeros((len(CLASSES), xp.shape[1] // s, xp.shape[2] // s), np.float32)
        for ty in spans(xp.shape[1], c.tile_px, c.overlap_px, c.input_multiple, s):
            for tx in spans(xp.shape[2], c.tile_px, c.overlap_px, c.input_multiple, s):
                tile = xp[None, :, ty.start : ty.start + ty.size, tx.start : tx.start + tx.size]
                if not tile.any():  # wholly outside the view: background
                    out[0, ty.keep0 : ty.keep1, tx.keep0 : tx.keep1] = 1.0
                    continue
                p = self._run(tile)[0]
                y0, x0 = ty.start // s, tx.start // s
                out[:, ty.keep0 : ty.keep1, tx.keep0 : tx.keep1] = p[
                    :, ty.keep0 - y0 : ty.keep1 - y0, tx.keep0 - x0 : tx.keep1 - x0
                ]
        return out[:, : -(-h // s), : -(-w // s)]

    def _run(self, tile: np.ndarray) -> np.ndarray:
        try:
            return self.session.run(None, {self._input: tile})[0]
        except _ORT_ERRORS as e:
            raise ModelError(
                f"the defect model failed to run ({str(e).splitlines()[0][:120]})."
            ) from None

    def find(self, view: np.ndarray, valid: np.ndarray, px_per_mm: float) -> list[Finding]:
        """Appearance defects in the pixels of `view`, a bench view at `px_per_mm`."""
        return self.analyse(view, valid, px_per_mm).findings

    def analyse(self, view: np.ndarray, valid: np.ndarray, px_per_mm: float) -> Appearance:
        """The findings, and where foreign matter or a stain hides what lies under it."""
        m = self.card.px_per_mm
        img = to_model_scale(view, px_per_mm, m)
        val = to_model_scale(valid, px_per_mm, m, cv2.INTER_NEAREST)
        s = self.card.output_stride
        x = normalise(img, val, multiple=self.card.input_multiple)  # padded once, here
        h, w = (-(-n // s) for n in img.shape[:2])
        probs = np.ascontiguousarray(self.probabilities(x)[:, :h, :w])
        cells = (
            cv2.resize(val, (probs.shape[2], probs.shape[1]), interpolation=cv2.INTER_NEAREST) > 0
        )
        scale = 0.5 * (img.shape[1] / view.shape[1] + img.shape[0] / view.shape[0])
        findings = find_defects(
            probs, cells, s / m, s / scale, self.card.thresholds, self.verifiers, img, s
        )
        masks = class_masks(probs, cells, self.card.thresholds)
        hides = np.zeros(cells.shape, np.uint8)
        c = s / scale
        for f in findings:  # only where a defect was found, not stray cells
            if f.type in HIDING:
                x, y, w, h = (round(v / c) for v in f.box)
                hides[y:y + h, x:x + w] |= masks[f.type][y:y + h, x:x + w]
        return Appearance(findings, hides, c)


def _check_io(session: ort.InferenceSession, path: Path) -> None:
    ins, outs = session.get_inputs(), session.get_outputs()
    if len(ins) != 1 or len(ins[0].shape) != 4 or len(outs) != 1:
        raise ModelError(
            f"the defect model {path} has the wrong inputs or outputs (expected "
            "one image batch in, one probability map out); restore it."
        )


def _check_shapes(session: ort.InferenceSession, card: ModelCard, path: Path) -> None:
    """The network must take any 3-channel image of the card's multiple and give the card's
    classes per output_stride cell as probabilities: a model of another shape would otherwise
    find nothing, or garbage, without a word."""
    shape = session.get_inputs()[0].shape
    if shape[1] != 3 or any(isinstance(d, int) for d in shape[2:]):
        raise ModelError(
            f"the defect model {path} takes input {shape}; qcstation needs [n, 3, h, w] with "
            "any h and w (its card and model do not belong together); restore both.")
    m, s = card.input_multiple, card.output_stride
    side = m * -(-64 // m)
    probe = np.random.default_rng(0).normal(0, 1, (1, 3, side, side)).astype(np.float32)
    try:
        out = session.run(None, {session.get_inputs()[0].name: probe})[0]
    except _ORT_ERRORS as e:
        raise ModelError(f"the defect model {path} does not run on a {side} x {side} input "
                         f"({str(e).splitlines()[0][:100]}); restore it.") from None
    want = (1, len(CLASSES), side // s, side // s)
    if tuple(out.shape) != want:
        raise ModelError(
            f"the defect model {path} gives output {list(out.shape)} for a {side} x {side} "
            f"input, its card says {list(want)} ({len(CLASSES)} classes, stride {s}); the card "
            "and the model do not belong together, restore both.")
    sums = out.sum(axis=1)
    if not (np.all(np.isfinite(out)) and np.all(np.abs(sums - 1) < 1e-3)):
        raise ModelError(f"the defect model {path} does not output class probabilities "
                         "(they do not sum to 1); restore it.")

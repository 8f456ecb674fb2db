"""The shipped model on photos from the real renderer, each with one planted appearance defect.

The oracle is the renderer's ground truth: the planted defect's type and box. The bench view is
made with the renderer's true camera, as `inspect` makes it from a calibration.
"""

import numpy as np
import pytest

from qcstation.domain import APPEARANCE_TYPES
from qcstation.evaluate import overlap
from qcstation.model import DefectModel
from qcstation.model.preprocess import normalise, to_model_scale
from qcstation.pipeline import Inspector
from qcstation.rectify import Rectifier, image_to_bench
from qcstation.spec import load_spec
from qcstation.synth import Plan, draw_camera, render_sample

SPEC = load_spec("specs/kr-coirnet-25.toml")


@pytest.fixture(scope="module")
def model():
    return DefectModel.load()


def render(seed: int, bench: str, kind: str, size=(800, 600)):
    rng = np.random.default_rng([seed, 1])
    camera = draw_camera(rng, size)
    plan = Plan("clean") if kind == "clean" else Plan("appearance", appearance=(kind,))
    sample = render_sample(camera, rng, SPEC, bench=bench, plan=plan)
    return sample, camera.calibration()


def model_input(seed: int, bench: str, kind: str, px_per_mm: float) -> np.ndarray:
    """The photo `render` makes as a network's normalised input (3, h, w) at `px_per_mm`,
    zero-padded to a multiple of 16 (the shipped models' input multiple)."""
    sample, cal = render(seed, bench, kind)
    rect = Rectifier.build(cal)
    img = to_model_scale(rect.rectify(sample.image), rect.px_per_mm, px_per_mm)
    return normalise(img, to_model_scale(rect.valid, rect.px_per_mm, px_per_mm), multiple=16)


def view_box(rect: Rectifier, bbox) -> tuple[float, float, float, float]:
    """An input-image box -> its bounding box in the rectified view."""
    x, y, w, h = bbox
    c = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
    px = (image_to_bench(rect.cal, c) - np.asarray(rect.origin_mm)) * rect.px_per_mm
    (x0, y0), (x1, y1) = px.min(axis=0), px.max(axis=0)
    return x0, y0, x1 - x0, y1 - y0


UNEVEN_NOTE = (
    "in these three uneven-light photos the front light is so weak that the yarn is a black "
    "silhouette against the lit bench; the planted stain does not show in the pixels, and the "
    "network gives it no stain probability at all (below 0.01), so no verifier can find it"
)
CASES = [
    ("plastic", "dark_table", "foreign_matter"),
    ("string", "light_table", "foreign_matter"),
    ("leaf", "uneven", "foreign_matter"),
    ("loose_fibres", "backlit", "loose_fibres"),
    ("loose_fibres", "light_table", "loose_fibres"),
    ("stain", "light_table", "stain"),
    ("stain", "dark_table", "stain"),
    pytest.param(
        "stain", "uneven", "stain", marks=pytest.mark.xfail(strict=True, reason=UNEVEN_NOTE)
    ),
]


def found_in(model, seed: int, kind: str, bench: str, expected: str) -> bool:
    """Whether the planted defect is found with its class, and nothing of another class."""
    sample, cal = render(seed, bench, kind)
    truth = [d for d in sample.truth["defects"] if d["type"] in APPEARANCE_TYPES]
    assert [d["type"] for d in truth] == [expected]  # the renderer planted it in view
    rect = Rectifier.build(cal)
    found = model.find(rect.rectify(sample.image), rect.valid, rect.px_per_mm)
    assert all(0.0 < f.score <= 1.0 for f in found)
    assert {f.type for f in found} <= {expected}  # never another class
    box = view_box(rect, truth[0]["bbox_px"])
    return any(overlap(f.box, box) >= 0.3 for f in found)


@pytest.mark.parametrize("kind, bench, expected", CASES)
def test_planted_defect_is_found_with_its_class(model, kind, bench, expected):
    # three photos per kind (seeds 11-13; a string may pass under the net, a leaf may be
    # small); the model's recall is measured over 240 photos by `qcstation eval`, here it
    # must find the planted kind in at least two of three and never call it something else
    hits = [found_in(model, seed, kind, bench, expected) for seed in (11, 12, 13)]
    assert sum(hits) >= 2, hits


@pytest.mark.parametrize("bench", ["backlit", "light_table", "dark_table", "uneven"])
def test_clean_net_has_no_appearance_defects(model, bench):
    sample, cal = render(12, bench, "clean")
    rect = Rectifier.build(cal)
    assert model.find(rect.rectify(sample.image), rect.valid, rect.px_per_mm) == []


def test_inspector_reports_the_model_and_its_defect(model):
    sample, cal = render(13, "light_table", "plastic", size=(1600, 1200))
    result, _ = Inspector(SPEC, cal, model=model).inspect(sample.image, "plastic.jpg")
    assert result.model == model.info
    assert result.verdict == "fail"
    found = [d for d in result.defects if d.type == "foreign_matter"]
    truth = [d for d in sample.truth["defects"] if d["type"] == "foreign_matter"]
    assert len(found) == 1 and overlap(found[0].bbox_px, truth[0]["bbox_px"]) >= 0.3
    assert result.to_json()["model"] == {"name": "defects-v4q", "sha256": model.info.sha256}

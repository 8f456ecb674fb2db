"""Export parity: onnxruntime and torch give the same probabilities on the same inputs.

Needs torch (the training extra); without it these tests are skipped, saying so.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="torch is not installed (pip install -e .[train]); parity needs both runtimes"
)
pytest.importorskip("onnx", reason="onnx is not installed (pip install -e .[train])")

from qcstation.model import DefectModel  # noqa: E402
from qcstation.model.preprocess import normalise  # noqa: E402
from qcstation.synth import Plan, draw_camera, render_sample  # noqa: E402
from qcstation.train.export import load_onnx_weights, parity, to_onnx  # noqa: E402
from qcstation.train.net import UNet  # noqa: E402

LIMIT = 1e-3
ROOT = Path(__file__).resolve().parents[1]


def net_input() -> np.ndarray:
    """A normalised photo from the renderer (a stain on a lit table), cropped to 320 x 416."""
    from qcstation.spec import load_spec

    rng = np.random.default_rng([21, 1])
    sample = render_sample(
        draw_camera(rng, (800, 600)),
        rng,
        load_spec("specs/kr-coirnet-25.toml"),
        bench="light_table",
        plan=Plan("appearance", appearance=("stain",)),
    )
    return normalise(sample.image[100:420, 200:616])[None]


@pytest.mark.parametrize("path", ["models/defects-v1.onnx", "models/candidates/defects-v2.onnx",
                                  "models/candidates/defects-v2c.onnx"])
def test_shipped_networks_match_torch_with_their_own_weights(path):
    # given one network of the shipped model (defects-v4 runs v1 and v2c, train/combine.py) and
    # a torch network holding the very same weights
    data = (ROOT / path).read_bytes()
    model = load_onnx_weights(data)
    noise = np.random.default_rng(3).standard_normal((2, 3, 128, 192)).astype(np.float32)
    # then both runtimes agree on a real photo and on noise
    for x in (net_input(), noise):
        assert parity(model, data, x) < LIMIT


def test_fresh_export_matches_torch():
    # a new network with non-trivial batch-norm statistics, exported as `qcstation train` does
    torch.manual_seed(0)
    model = UNet()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    data = to_onnx(model)
    x = np.random.default_rng(4).standard_normal((1, 3, 160, 224)).astype(np.float32)
    assert parity(model, data, x) < LIMIT


def test_tiles_agree_with_one_pass_over_a_whole_view():
    # the station runs overlapping tiles (each keeps its middle); a tile border cuts context
    # off, so cells near a seam may move a little; nearly all of the view is unchanged
    from test_model_planted import render

    from qcstation.model.preprocess import pad_to_multiple, to_model_scale
    from qcstation.rectify import Rectifier

    sample, cal = render(21, "light_table", "stain", size=(1600, 1200))
    rect = Rectifier.build(cal)
    shipped = DefectModel.load()
    # tiles smaller than the shipped ones, so this view has seams in both directions
    runtime = DefectModel(shipped.session, replace(shipped.card, tile_px=512, overlap_px=96))
    m = runtime.card.px_per_mm
    img = to_model_scale(rect.rectify(sample.image), rect.px_per_mm, m)
    x = normalise(img, to_model_scale(rect.valid, rect.px_per_mm, m))
    assert min(x.shape[1:]) > runtime.card.tile_px  # more than one tile each way
    tiled = runtime.probabilities(x)
    whole = shipped.session.run(None, {"image": pad_to_multiple(x, 16)[None]})[0][0]  # one pass
    whole = whole[:, : tiled.shape[1], : tiled.shape[2]]
    # measured on this view: mean 7e-4, class changed in 0.06 % of cells, defect in 0.02 %
    assert np.abs(tiled - whole).mean() < 2e-3
    assert (tiled.argmax(0) != whole.argmax(0)).mean() < 0.005
    defect_t, defect_w = tiled[2:].max(0) > 0.5, whole[2:].max(0) > 0.5
    assert (defect_t != defect_w).mean() < 0.001

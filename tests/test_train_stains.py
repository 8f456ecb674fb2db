"""Painted training stains (qcstation.train.stains) on a rendered light-table photo: the radius
asked for is the radius painted, on the yarn only, darker than the yarn, and it reaches the
training crops through augment.batch; the CLI refuses a range that makes no sense (and a share
of hard-negative crops above one half)."""

import numpy as np
import pytest
from test_model_planted import render

from qcstation.cli import main
from qcstation.rectify import Rectifier
from qcstation.train import augment
from qcstation.train.data import YARN, _sample
from qcstation.train.stains import STAIN, paint_stain

M = 2.0  # px per mm of the training samples


@pytest.fixture(scope="module")
def sample():
    s, cal = render(12, "light_table", "clean")
    return _sample("clean", s.image, s.labels, s.truth, Rectifier.build(cal), M)


def painted(sample, radius_mm, seed):
    """(stain pixels, image before, image after, labels before) of one stain painted on the
    middle of the view."""
    h, w = sample.labels.shape
    img = sample.image[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].copy()
    lab = sample.labels[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].copy()
    before, lab0 = img.copy(), lab.copy()
    assert paint_stain(np.random.default_rng(seed), img, lab, M, radius_mm)
    return lab == STAIN, before, img, lab0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_radius_paints_a_small_stain_on_the_yarn(sample, seed):
    small, before, after, lab0 = painted(sample, (4.0, 4.0), seed)
    large, *_ = painted(sample, (10.0, 10.0), seed)
    assert small.any() and large.sum() > 2 * small.sum()
    ys, xs = np.nonzero(small)
    # the blob's reach is 1.6 radii: 4 mm -> at most 2 * 1.6 * 4 mm = 25.6 px across
    assert np.ptp(xs) <= 2 * 1.6 * 4 * M + 1 and np.ptp(ys) <= 2 * 1.6 * 4 * M + 1
    assert (lab0[small] == YARN).all()  # soaked into the yarn only
    lum = lambda im: im[small].astype(np.float32).mean()  # noqa: E731
    assert lum(after) < 0.8 * lum(before)


def test_the_radius_reaches_the_training_crops(sample):
    def stain_cells(radius):
        _, t = augment.batch(
            np.random.default_rng(5), [sample], 24, 192, 4, 0.0, p_stain=1.0,
            stain_radius_mm=radius,
        )  # fmt: skip
        per_crop = (t == STAIN).reshape(len(t), -1).sum(axis=1)
        return per_crop[per_crop > 0]

    small, large = stain_cells((4.0, 5.0)), stain_cells((10.0, 12.0))
    assert len(small) >= 12 and len(large) >= 12  # most crops show yarn to paint on
    assert np.median(large) > 2.5 * np.median(small)


@pytest.mark.parametrize(
    "args",
    [
        ["--stain-radius-mm", "8", "4"],
        ["--stain-radius-mm", "0.5", "4"],
        ["--stain-radius-mm", "4", "40"],
        ["--p-hard", "0.7"],
    ],
)
def test_cli_refuses_a_bad_stain_radius_or_hard_share(tmp_path, capsys, args):
    code = main(["train", "--data", str(tmp_path), *args])
    assert code == 2
    assert args[0] in capsys.readouterr().err

"""Training-data options of the renderer (`synth --mix`, `--extra-stains`): they change what is
planted, never how a stain looks, and leave default renders (the eval sets) byte for byte alone."""

import hashlib

import numpy as np
import pytest

from qcstation.cli.synth import run as synth_run
from qcstation.errors import DataError
from qcstation.spec import load_spec
from qcstation.synth import draw_camera, draw_plan, render_sample
from qcstation.synth.render import MIX

SPEC = load_spec("specs/kr-coirnet-25.toml")

# sha256[:16] of image + labels of render_sample(camera seed [5, 0] at 640x480, rng [7, i]) as
# rendered before the options existed (commit f46c425)
BEFORE = {
    "light_table": "dfead5b9f45e26ec",
    "dark_table": "f76b9e032bf89795",
    "uneven": "318a1fb33acb2959",
    "backlit": "bdfbb6271a8164e2",
}


def _digest(sample) -> str:
    return hashlib.sha256(sample.image.tobytes() + sample.labels.tobytes()).hexdigest()[:16]


def test_default_renders_are_unchanged():
    cam = draw_camera(np.random.default_rng([5, 0]), (640, 480))
    for i, (bench, digest) in enumerate(BEFORE.items()):
        sample = render_sample(cam, np.random.default_rng([7, i]), SPEC, bench=bench)
        assert _digest(sample) == digest, bench


@pytest.mark.parametrize("seed", range(20))
def test_a_forced_mix_draws_the_same_numbers(seed):
    plain = draw_plan(np.random.default_rng(seed))
    forced = draw_plan(np.random.default_rng(seed), mix=plain.mix)
    assert forced == plain


def test_appearance_mix_plants_only_appearance_defects():
    plans = [draw_plan(np.random.default_rng(s), mix="appearance") for s in range(50)]
    assert all(p.mix == "appearance" and not p.structural and p.appearance for p in plans)
    assert all(p.unusable is None for p in plans)
    with pytest.raises(ValueError):
        draw_plan(np.random.default_rng(0), mix="stains")
    assert set(MIX) >= {"appearance", "clean"}


def test_extra_stains_are_added_but_never_on_backlit_benches():
    for s in range(20):
        lit = draw_plan(np.random.default_rng(s), mix="clean", extra_stains=2)
        assert lit.appearance == ("stain", "stain")
        dark = draw_plan(np.random.default_rng(s), backlit=True, mix="appearance", extra_stains=2)
        assert "stain" not in dark.appearance


def test_extra_stains_are_rendered_as_stains():
    cam = draw_camera(np.random.default_rng([5, 0]), (640, 480))
    sample = render_sample(
        cam, np.random.default_rng([7, 3]), SPEC, bench="light_table", mix="clean", extra_stains=2
    )
    stains = [d for d in sample.truth["defects"] if d["type"] == "stain"]
    assert 1 <= len(stains) <= 2  # one may fall on yarn that is out of view
    assert (sample.labels == 3).any()
    assert {d["type"] for d in sample.truth["defects"]} == {"stain"}


def test_cli_refuses_bad_extra_stains(tmp_path):
    import argparse

    from qcstation.cli.synth import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--out", str(tmp_path), "--n", "1", "--seed", "1", "--extra-stains", "11"])
    with pytest.raises(DataError, match="extra-stains"):
        synth_run(args)

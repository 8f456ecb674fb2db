"""Appearance families of the renderer: each renders, its truth comes from the yarn body (not
fuzz or hairs), classic stays byte for byte, unknown names are refused, eval groups by family."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from labelspans import label_span_errors

from qcstation.domain import Inspection, MeshStats, Stat
from qcstation.evaluate import evaluate, format_table
from qcstation.spec import load_spec
from qcstation.synth import draw_camera, render_sample
from qcstation.synth.families import (
    FAMILIES,
    HELD_OUT,
    MAX_YARN_TO_PITCH,
    draw_style,
    get_family,
)
from qcstation.synth.materials import MATERIALS, texture
from qcstation.synth.render import Plan

ROOT = Path(__file__).resolve().parents[1]
SPEC = load_spec("specs/kr-coirnet-25.toml")


@pytest.fixture(scope="module")
def camera():
    return draw_camera(np.random.default_rng(7), (800, 600), (2.0, 2.4))


def _digest(sample) -> str:
    return hashlib.sha256(sample.image.tobytes() + sample.labels.tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_renders_on_each_of_its_benches(camera, name):
    for i, bench in enumerate(dict.fromkeys(FAMILIES[name].benches)):
        sample = render_sample(
            camera, np.random.default_rng([1, i]), SPEC, bench=bench, plan=Plan("clean"),
            family=name,
        )  # fmt: skip
        assert sample.image.shape == (600, 800, 3)
        assert sample.truth["family"] == name and sample.truth["bench"] == bench
        assert sample.truth["verdict"] in ("pass", "fail")
        assert 0.1 < (sample.labels == 1).mean() < 0.9  # a net lies there
        lab = cv2.cvtColor(sample.image, cv2.COLOR_BGR2LAB).astype(np.float64)
        yarn, free = lab[sample.labels == 1].mean(axis=0), lab[sample.labels == 0].mean(axis=0)
        assert np.linalg.norm(yarn - free) > 10, (bench, yarn, free)  # the net stands out
        assert ("style" in sample.truth["render"]) == (name != "classic")


def test_classic_family_is_the_original_renderer():
    # sha256[:16] of image + labels of render_sample(camera seed [5, 0] at 640x480, rng [7, i]),
    # as in tests/test_model_synth_mix.py (rendered before families existed)
    before = {"light_table": "dfead5b9f45e26ec", "backlit": "bdfbb6271a8164e2"}
    cam = draw_camera(np.random.default_rng([5, 0]), (640, 480))
    for i, (bench, digest) in zip((0, 3), before.items(), strict=True):
        sample = render_sample(cam, np.random.default_rng([7, i]), SPEC, bench=bench,
                               family="classic")  # fmt: skip
        assert _digest(sample) == digest, bench


def test_fuzz_does_not_move_the_truth_or_the_yarn_label(camera):
    """The same net with and without edge fuzz: the truth (openings, strand widths) and the
    yarn-body label are identical; the image darkens just outside the body where fuzz is."""
    fam = get_family("dark-hairy")
    style = draw_style(np.random.default_rng(3), fam)
    fuzzy = replace(style, crossing="woven", hair=replace(style.hair, fuzz_per_mm=25,
                                                          fuzz_mm=0.9, long_per_mm=0.0))
    bare = replace(fuzzy, hair=replace(fuzzy.hair, fuzz_per_mm=0.0))
    a, b = (
        render_sample(camera, np.random.default_rng([2, 0]), SPEC, bench="backlit",
                      plan=Plan("clean"), family="dark-hairy", style=s)
        for s in (fuzzy, bare)
    )  # fmt: skip
    assert a.truth["mesh"] == b.truth["mesh"] and a.truth["net"] == b.truth["net"]
    assert np.array_equal(a.labels, b.labels)
    body = (a.labels == 1).astype(np.uint8)
    ring = cv2.dilate(body, np.ones((3, 3), np.uint8), iterations=2).astype(bool) & (body == 0)
    ga = cv2.cvtColor(a.image, cv2.COLOR_BGR2GRAY)[ring].mean()
    gb = cv2.cvtColor(b.image, cv2.COLOR_BGR2GRAY)[ring].mean()
    assert ga < gb - 15, (ga, gb)  # the fuzz is seen (dark on the panel) ...


def test_truth_openings_are_the_yarn_body_spans(camera):
    # second method, as for the classic look: the label map's clear span along the middle of
    # each counted opening equals the truth tables' edge-to-edge span (fuzz is no yarn body)
    sample = render_sample(camera, np.random.default_rng([4, 1]), SPEC, bench="light_table",
                           plan=Plan("clean"), family="golden-ply")  # fmt: skip
    errors = label_span_errors(camera, sample)
    scale = 1 / camera.px_per_mm()
    assert len(errors) > 10
    assert abs(errors.mean()) < 0.15 * scale and np.abs(errors).max() < 1.5 * scale


@pytest.mark.parametrize("name", [n for n in FAMILIES if n != "classic"])
def test_drawn_styles_stay_in_the_family_ranges(name):
    fam = FAMILIES[name]
    params = replace(render_params(), opening_mm=(12.0, 12.0))
    for seed in range(20):
        style = draw_style(np.random.default_rng(seed), fam)
        p = style.net_params(params, SPEC)
        assert p.yarn_mm / p.pitch_mm[0] <= MAX_YARN_TO_PITCH + 1e-3  # 12 mm openings
        thickest = MAX_YARN_TO_PITCH / (1 - MAX_YARN_TO_PITCH) * 12.0
        assert p.yarn_mm == pytest.approx(max(min(style.yarn_mm, thickest), 5.1), abs=1e-3)
        assert fam.yarn_mm[0] <= style.yarn_mm <= fam.yarn_mm[1]
        assert p.crossing in fam.crossings and style.yarn.plies in fam.plies
        assert fam.hair[0] <= style.hair.density <= fam.hair[1]
        assert style.hair.fuzz_mm < 1.0
        b, g, r = style.yarn.colour_bgr
        assert r > g > b > 0  # coir: straw to dark brown, never grey or blue


def render_params():
    from qcstation.synth.net import draw_params

    return draw_params(np.random.default_rng(0), SPEC)


def test_held_out_families_differ_in_yarn_and_bench():
    assert set(HELD_OUT) == {"knotted", "fabric-bench"}
    a, b = (FAMILIES[n] for n in HELD_OUT)
    assert not set(a.benches) & set(b.benches)
    assert a.crossings != b.crossings or a.plies != b.plies
    wide = FAMILIES["wide"]  # the training mix leaves the held-out benches out
    assert not {"fabric", "tarpaulin"} & set(wide.benches)


@pytest.mark.parametrize("kind", MATERIALS)
def test_bench_surfaces_are_textured_around_their_colour(kind):
    base = (0.3, 0.4, 0.5)
    tex = texture(kind, np.random.default_rng(1), (400, 300), 4.0, base)
    assert tex.shape == (300, 400, 3) and np.isfinite(tex).all() and tex.min() >= 0
    mean = tex.reshape(-1, 3).mean(axis=0)
    assert np.allclose(mean / np.array(base), mean[0] / base[0], rtol=1e-3)  # one hue
    assert 0.6 < mean[0] / base[0] < 1.3
    assert tex[..., 2].std() / mean[2] > 0.02  # a texture, not a flat colour


def test_unknown_family_is_refused(camera):
    with pytest.raises(ValueError, match="unknown appearance family 'hessian'.*golden-ply"):
        render_sample(camera, np.random.default_rng(0), SPEC, family="hessian")


def synth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qcstation", "synth", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize(
    "family, words",
    [(["nope"], "--family 'nope' is not an appearance family"),
     (["knotted", "knotted"], "names a family twice")],
)  # fmt: skip
def test_cli_refuses_bad_families_in_one_line(tmp_path, family, words):
    args = [x for f in family for x in ("--family", f)]
    r = synth("--out", str(tmp_path / "o"), "--n", "1", "--seed", "1", *args)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert words in r.stderr
    assert not (tmp_path / "o").exists()


def test_cli_takes_families_in_turn_and_records_them(tmp_path):
    r = synth("--out", str(tmp_path), "--n", "4", "--seed", "5", "--family", "golden-ply",
              "--family", "fabric-bench", "--workers", "1", "--size", "640x480",
              "--px-per-mm", "1.6-1.8")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "families: fabric-bench 2, golden-ply 2" in r.stdout
    truths = [json.loads((tmp_path / f"{i:04d}.json").read_text()) for i in (1, 2, 3, 4)]
    assert [t["family"] for t in truths] == ["golden-ply", "fabric-bench"] * 2
    benches = [t["bench"] for t in truths]
    assert benches == ["light_table", "fabric", "uneven", "tarpaulin"]
    meta = json.loads((tmp_path / "dataset.json").read_text())
    assert meta["families"] == ["golden-ply", "fabric-bench"]
    assert meta["held_out_families"] == ["fabric-bench"]
    # a set holding a held-out family never trains a model
    from qcstation.errors import DataError
    from qcstation.train.data import refuse_held_out

    with pytest.raises(DataError, match="held-out families fabric-bench are for eval only"):
        refuse_held_out(tmp_path)


def _mesh() -> MeshStats:
    return MeshStats(80, Stat(25.0, 1, 23, 27), Stat(25.0, 1, 23, 27), Stat(31.0, 0.5, 30, 32),
                     Stat(6.0, 0.3, 5, 7), 31.0, 31.0)  # fmt: skip


def test_eval_table_has_a_row_and_defect_columns_per_family():
    hole = {"type": "hole", "bbox_px": [10, 10, 60, 60]}
    truth = {"verdict": "fail", "bench": "light_table", "defects": [hole],
             "mesh": _mesh().to_json()}  # fmt: skip
    missed = Inspection("a", "pass", (), "KR-CN-25", mesh=_mesh())
    pairs = [({**truth, "family": "classic"}, missed), ({**truth, "family": "knotted"}, missed),
             ({**truth, "family": "knotted"}, missed)]  # fmt: skip
    table = format_table(evaluate(pairs))
    assert "| family classic | 1 | 0.0% |" in table and "| family knotted | 2 | 0.0% |" in table
    assert "classic recall (true) | classic FP/img | knotted recall (true)" in table
    assert "| hole | 0.0% (1) | 0.00 | 0.0% (2) | 0.00 |" in table
    one = format_table(evaluate(pairs[1:]))  # a set of one family: the table as before
    assert "family" not in one


@pytest.mark.slow
def test_full_size_render_time_per_family():
    cam = draw_camera(np.random.default_rng(3))
    for name in FAMILIES:
        start = time.perf_counter()
        render_sample(cam, np.random.default_rng([9, 0]), SPEC, family=name)
        assert time.perf_counter() - start < 4.0, name  # about 1 s on one free core


def test_help_names_every_family():
    import argparse

    from qcstation.cli.synth import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    text = next(a.help for a in parser._actions if "--family" in a.option_strings)
    assert all(name in text for name in FAMILIES), text


def test_workshop_is_a_training_family_on_generic_surfaces(camera):
    """Bench texture randomisation for training: `workshop` is not held out, draws the new
    surfaces (and wood, concrete), never the held-out family's woven fabric or tarpaulin, and
    every one of its benches renders a net that stands out."""
    fam = get_family("workshop")
    assert not fam.held_out and "workshop" not in HELD_OUT
    assert {"chipboard", "painted", "kraft", "rubber", "blotches"} <= set(fam.benches)
    assert not {"fabric", "tarpaulin"} & set(fam.benches)
    assert set(fam.benches) <= set(MATERIALS)
    # the same yarn ranges as `wide` (the training mix), only the benches differ
    wide = FAMILIES["wide"]
    assert replace(fam, name="wide", summary=wide.summary, benches=wide.benches) == wide

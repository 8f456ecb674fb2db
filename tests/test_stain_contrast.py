"""A stain stands out of its own net's yarn (qcstation.stain_contrast): a drawn yarn grid under
uneven light, and rendered training-family photos inspected in-process with the shipped model.
A stain darkens a few centimetres of yarn; a yarn that reads stain-like all over, or a corner
the light leaves dark, is the net's own look."""

import cv2
import numpy as np
import pytest
from test_stain_place import stains

from qcstation.evaluate import overlap
from qcstation.model import DefectModel
from qcstation.stain_contrast import MAX_SHARE, PX_PER_MM, yarn_shares

S = PX_PER_MM
PITCH, STRAND = int(25 * S), int(7 * S)  # px


def yarn_grid(h_mm: int = 300, w_mm: int = 400):
    """A golden yarn grid on a dark bench, lit from one corner (the far corner at 0.45 of the
    light), BGR; and the yarn's cover (float 0/1)."""
    h, w = int(h_mm * S), int(w_mm * S)
    yy, xx = np.mgrid[:h, :w]
    yarn = (((yy % PITCH) < STRAND) | ((xx % PITCH) < STRAND)).astype(np.float32)
    golden, bench = np.array([60, 150, 200], np.float32), np.array([30, 30, 30], np.float32)
    light = 1.0 - 0.55 * np.hypot(yy / h, xx / w) / np.sqrt(2)
    rng = np.random.default_rng(1)
    # each strand between two crossings a little lighter or darker (+-8 %), and a fine grain
    # of brightness and hue over the plies
    cells = rng.normal(1.0, 0.08, size=(h // PITCH + 1, w // PITCH + 1)).astype(np.float32)
    segment = cells[yy // PITCH, xx // PITCH]
    grain = 1 + 0.08 * cv2.GaussianBlur(rng.normal(size=(h, w, 3)).astype(np.float32), (0, 0), 2)
    view = np.where(yarn[..., None] > 0, golden, bench) * (light * segment)[..., None] * grain
    return view, yarn


def stain(view, x, y, r_mm=6.0, darken=0.55):
    """A dark-brown stain of radius `r_mm` centred at (x, y) px, soaked into the yarn only."""
    yy, xx = np.mgrid[:view.shape[0], :view.shape[1]]
    inside = np.hypot(yy - y, xx - x) <= r_mm * S
    view[inside] *= np.array([darken * 0.8, darken, darken * 1.1], np.float32)


def box_at(x, y, r_mm=8.0):
    r = int(r_mm * S)
    return (x - r, y - r, 2 * r, 2 * r)


def shares(view, yarn, boxes):
    return yarn_shares(np.clip(view, 0, 255).astype(np.uint8), yarn, boxes, S)


def test_a_stain_stands_out_of_its_nets_yarn():
    view, yarn = yarn_grid()
    x, y = 5 * PITCH + STRAND // 2, 4 * PITCH + 12 * int(S)  # on a vertical strand
    stain(view, x, y)
    dark, hue = shares(view, yarn, [box_at(x, y)])[0]
    assert min(dark, hue) <= MAX_SHARE


def test_a_corner_the_light_leaves_dark_is_not_a_stain():
    view, yarn = yarn_grid()
    h, w = yarn.shape
    x, y = (w // PITCH - 1) * PITCH + STRAND // 2, h - PITCH // 2  # the dimmest corner's yarn
    dark, hue = shares(view, yarn, [box_at(x, y)])[0]
    assert min(dark, hue) > MAX_SHARE


def blotchy(view, yarn, amount=0.25):
    """The yarn's brightness varied by about `amount` over patches 5-10 mm across, all over
    the net (a yarn the model reads as stain-like everywhere)."""
    rng = np.random.default_rng(2)
    noise = cv2.GaussianBlur(rng.normal(size=yarn.shape).astype(np.float32), (0, 0), 3 * S)
    noise *= amount / noise.std()
    view *= np.where(yarn > 0, np.exp(noise), 1.0)[..., None]


def strand_places(n):
    """`n` places on vertical strands, spread over the view."""
    return [(i * PITCH + STRAND // 2, j * PITCH + 12 * int(S)) for i in range(1, 15)
            for j in range(1, 11)][::140 // n][:n]


def test_a_blotchy_yarn_has_no_stains_standing_out_all_over():
    view, yarn = yarn_grid()
    blotchy(view, yarn)
    found = shares(view, yarn, [box_at(x, y) for x, y in strand_places(20)])
    standing_out = sum(min(dark, hue) <= MAX_SHARE for dark, hue in found)
    assert standing_out <= 2  # the darkest blotch of a view is always its darkest


def test_a_stain_on_a_blotchy_yarn_stands_out():
    view, yarn = yarn_grid()
    blotchy(view, yarn)
    x, y = strand_places(20)[7]
    stain(view, x, y)
    dark, hue = shares(view, yarn, [box_at(x, y)])[0]
    assert min(dark, hue) <= MAX_SHARE


@pytest.fixture(scope="module")
def model():
    return DefectModel.load(threads=1)


def test_a_burst_of_false_stains_on_concrete_is_mostly_dropped(model):
    # `qcstation synth --n 40 --seed 6454 --family workshop`, photo 0007 (concrete): no stain
    # on the net, 18 stain findings on its yarn before this rule, 5 after it
    found, true, truth, _ = stains(model, 6454, 6, "workshop")
    assert truth["bench"] == "concrete" and not true
    assert len(found) <= 6


def test_two_true_stains_on_a_light_table_are_kept(model):
    # the rule set phone-camera (seed 5301) photo 0021: two stains, both found before the rule
    found, true, truth, _ = stains(model, 5301, 20, "phone-camera")
    assert len(true) == 2
    assert all(any(overlap(t, f) >= 0.3 for f in found) for t in true)

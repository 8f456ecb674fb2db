"""A defect stands out of its own view (qcstation.stand_out): a drawn yarn grid under uneven
light, and rendered training-family photos inspected in-process with the shipped model. A stain
darkens a few centimetres of yarn; a yarn that reads stain-like all over, or a corner the light
leaves dark, is the net's own look. A leaf is unlike the bench and the yarn; a blotch of a
blotched board is like much of the board."""

import cv2
import numpy as np
import pytest
from test_stain_place import SPEC, photo, stains

from qcstation.evaluate import overlap
from qcstation.model import DefectModel
from qcstation.pipeline import Inspector
from qcstation.stand_out import (
    FOREIGN_MAX_SHARE,
    PX_PER_MM,
    STAIN_MAX_SHARE,
    foreign_shares,
    log_colour,
    stain_shares,
    standing_out,
)
from qcstation.structural import Appearance, Finding

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
    return stain_shares(log_colour(np.clip(view, 0, 255).astype(np.uint8)), yarn, boxes, S)


def test_a_stain_stands_out_of_its_nets_yarn():
    view, yarn = yarn_grid()
    x, y = 5 * PITCH + STRAND // 2, 4 * PITCH + 12 * int(S)  # on a vertical strand
    stain(view, x, y)
    dark, hue = shares(view, yarn, [box_at(x, y)])[0]
    assert min(dark, hue) <= STAIN_MAX_SHARE


def test_a_corner_the_light_leaves_dark_is_not_a_stain():
    view, yarn = yarn_grid()
    h, w = yarn.shape
    x, y = (w // PITCH - 1) * PITCH + STRAND // 2, h - PITCH // 2  # the dimmest corner's yarn
    dark, hue = shares(view, yarn, [box_at(x, y)])[0]
    assert min(dark, hue) > STAIN_MAX_SHARE


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
    standing_out = sum(min(dark, hue) <= STAIN_MAX_SHARE for dark, hue in found)
    assert standing_out <= 2  # the darkest blotch of a view is always its darkest


def test_a_stain_on_a_blotchy_yarn_stands_out():
    view, yarn = yarn_grid()
    blotchy(view, yarn)
    x, y = strand_places(20)[7]
    stain(view, x, y)
    dark, hue = shares(view, yarn, [box_at(x, y)])[0]
    assert min(dark, hue) <= STAIN_MAX_SHARE


def blotched_bench(view, yarn, amount=0.35):
    """A board of blotches 5-30 mm across in two paints under the net (yarn untouched)."""
    rng = np.random.default_rng(3)
    noise = sum(cv2.GaussianBlur(rng.normal(size=yarn.shape).astype(np.float32), (0, 0), r * S)
                for r in (3, 8))
    paint = (noise > 0)[..., None]
    board = np.where(paint, np.array([40, 70, 60], np.float32), np.array([30, 30, 30]))
    view[:] = np.where(yarn[..., None] > 0, view, board * (1 + amount * np.tanh(noise))[..., None])


def opening_places(n):
    """`n` places in the middle of openings, spread over the view."""
    c = STRAND + (PITCH - STRAND) // 2
    places = [(i * PITCH + c, j * PITCH + c) for i in range(1, 15) for j in range(1, 11)]
    return places[::140 // n][:n]


def foreign(view, view_shares, places, r_mm=9.0):
    """(bench share, yarn share) of the boxes around `places`."""
    colour = log_colour(np.clip(view, 0, 255).astype(np.uint8))
    return foreign_shares(colour, np.full(view.shape[:2], 255, np.uint8), view_shares,
                          [box_at(x, y, r_mm) for x, y in places], S)


def test_a_leaf_stands_out_of_a_blotched_board_and_its_blotches_do_not():
    view, yarn = yarn_grid()
    blotched_bench(view, yarn)
    places = opening_places(20)
    x, y = places[5]
    yy, xx = np.mgrid[:yarn.shape[0], :yarn.shape[1]]
    leaf = (((xx - x) / (12 * S)) ** 2 + ((yy - y) / (6 * S)) ** 2) <= 1  # 24 x 12 mm
    view[leaf] = (30, 120, 60)  # a green leaf
    found = foreign(view, yarn, places)
    assert min(found[5]) <= FOREIGN_MAX_SHARE
    blotches = [min(shares) <= FOREIGN_MAX_SHARE for i, shares in enumerate(found) if i != 5]
    assert sum(blotches) <= 1


def test_what_cannot_be_judged_is_kept_and_what_does_not_stand_out_goes():
    view, yarn = yarn_grid()
    blotchy(view, yarn)
    x, y = strand_places(20)[7]
    stain(view, x, y)
    h, w = yarn.shape
    c = 4.0  # the findings' view is 4x finer than the 1 px/mm one
    boxes = {"true": box_at(x, y), "plain": box_at(*strand_places(20)[2]),
             "off the yarn": (w // 2 + STRAND + 2, h // 2 + STRAND + 2, 3, 3)}  # in an opening
    found = [Finding("stain", tuple(v * c for v in b), (b[2] * c, b[3] * c), 0.9, ())
             for b in boxes.values()]
    seen = Appearance(found, np.ones((h, w), np.uint8), c)
    judged = standing_out(seen, np.clip(view, 0, 255).astype(np.uint8),
                          np.full((h, w), 255, np.uint8), yarn, 1 / c)
    assert judged.findings == [found[0], found[2]]  # the stain, and the one not judged
    assert judged.hidden[boxes["plain"][1] + 2, boxes["plain"][0] + 2] == 0  # no longer hidden


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


def test_patches_of_a_blotched_board_are_not_foreign_matter(model):
    # `qcstation synth --n 40 --seed 6454 --family workshop`, photo 0040 (blotches): 27 false
    # foreign-matter findings before this rule
    image, truth, cal = photo(6454, 39, "workshop")
    insp, _ = Inspector(SPEC, cal, model=model, threads=1).inspect(image, "x.jpg")
    true = [d for d in truth["defects"] if d["type"] == "foreign_matter"]
    found = [d for d in insp.defects if d.type == "foreign_matter"]
    assert truth["bench"] == "blotches" and not true
    assert len(found) <= 3


def test_a_scrap_that_stands_out_of_the_yarn_only_is_kept(model):
    # old seed 9 (`qcstation synth --n 60 --seed 9`) photo 0002, light table: a true foreign
    # matter like a tenth of the bench but unlike the yarn (yarn share 0.03)
    image, truth, cal = photo(9, 1, "classic")
    insp, _ = Inspector(SPEC, cal, model=model, threads=1).inspect(image, "x.jpg")
    true = [d["bbox_px"] for d in truth["defects"] if d["type"] == "foreign_matter"]
    found = [d.to_json()["bbox_px"] for d in insp.defects if d.type == "foreign_matter"]
    assert true and all(any(overlap(t, f) >= 0.3 for f in found) for t in true)

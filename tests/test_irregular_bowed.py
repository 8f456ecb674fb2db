"""Irregular mesh judged by the openings a bowed strand makes: a strand bowed over several
crossings moves its own course with it, but the openings beside it grow on one side and shrink
on the other along the whole bow (drawn nets, tests/netimg.py: the bow is drawn, so its size
and place are known exactly)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from netimg import grid_net, ideal_calibration

from qcstation.pipeline import Inspector
from qcstation.resources import shipped
from qcstation.spec import load_spec

S = 4.0  # px per mm
YARN = (40, 70, 110)
# grid_net strands: x = 7 + 31 k mm, y = 5 + 31 k mm, 6 mm wide; openings 25 mm


def bowed(bow_mm: float, first_row: int, crossings: int) -> np.ndarray:
    """A net whose vertical strand at x = 131..137 mm is bowed sideways by `bow_mm` over
    `crossings` crossings (ramping over 20 mm at each end, flat between)."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    y0 = 5 + 31 * first_row + 3.0  # the middle of the crossing where the bow starts
    y1 = y0 + 31 * (crossings + 1)
    img[int((y0 - 3) * S):int((y1 + 3) * S), int(131 * S):int(137 * S)] = 220
    for k in range(first_row, first_row + crossings + 2):  # the horizontal strands, whole
        y = 5 + 31 * k
        img[int(y * S):int((y + 6) * S), :] = YARN
    ys = np.linspace(y0, y1, 200)
    shift = bow_mm * np.clip(np.minimum(ys - y0, y1 - ys) / 20.0, 0, 1)
    pts = np.stack([(134 + shift) * S, ys * S], 1)
    cv2.polylines(img, [np.round(pts).astype(np.int32)], False, YARN, round(6 * S))
    return img


@pytest.fixture(scope="module")
def inspector():
    return Inspector(load_spec(shipped("specs/kr-coirnet-25.toml")),
                     ideal_calibration(1200, 900, S))


@pytest.mark.parametrize("bow_mm, crossings", [(9.0, 3), (10.0, 4), (11.0, 5)])
def test_strand_bowed_over_several_crossings_is_irregular(inspector, bow_mm, crossings):
    # 36-44 % of the 25 mm opening, over 3-5 crossings
    result, _ = inspector.inspect(cv2.GaussianBlur(bowed(bow_mm, 1, crossings), (0, 0), 0.8), "b")
    found = [d for d in result.defects if d.type == "irregular_mesh"]
    assert found and {d.type for d in result.defects} == {"irregular_mesh"}, result.defects
    x, y, w, h = found[0].bbox_px
    assert x < 131 * S < x + w and y < 70 * S and y + h > (36 + 31 * crossings) * S


def test_small_bow_and_straight_net_are_not_irregular(inspector):
    for img in (grid_net(1200, 900, S, (25.0, 25.0), 6.0), bowed(2.5, 1, 4)):  # 10 %: within
        result, _ = inspector.inspect(cv2.GaussianBlur(img, (0, 0), 0.8), "s")
        assert not result.defects, result.defects

"""mesh.find_openings on tiny literal masks: which clear regions are whole openings, and their
figures. Expected values are counted by hand from the drawn squares (pixel centres: a k x k
square has the polygon area (k-1)^2 of its outline, as cv2.contourArea gives)."""

import cv2
import numpy as np
import pytest

from qcstation.mesh import MIN_OPENING_MM2, find_openings

S = 1.0  # px per mm: MIN_OPENING_MM2 is then the smallest polygon area in pixels


def mask_with(*squares, shape=(60, 80)):
    """Clear (1) squares (x, y, size) on yarn (0)."""
    m = np.zeros(shape, np.uint8)
    for x, y, k in squares:
        m[y:y + k, x:x + k] = 1
    return m


def test_whole_opening_figures():
    # given one 12 x 12 clear square well inside the view
    m = mask_with((20, 10, 12))
    valid = np.full(m.shape, 255, np.uint8)
    # when
    op = find_openings(m, valid, S)
    # then its box, centroid, area and spans are those of the square
    assert len(op) == 1
    assert (op.x0[0], op.y0[0], op.bw[0], op.bh[0]) == (20, 10, 12, 12)
    assert (op.cx[0], op.cy[0]) == pytest.approx((25.5, 15.5))
    assert op.area[0] == pytest.approx(121.0)
    assert (op.span_w[0], op.span_h[0]) == (12, 12)


@pytest.mark.parametrize(
    "where, whole",
    [((30, 20), True),  # inside, 4 px from the edge of the view
     ((0, 20), False),  # on the image's frame
     ((30, 48), False),  # on the image's bottom row (12 + 48 = 60)
     ((51, 20), False),  # its right column 4-adjacent to a pixel out of view (x = 63)
     ((51, 8), False),  # its corner (62, 19) diagonally adjacent to out of view (63, 20)
     ((50, 40), True)],  # near the out-of-view block, not touching it
)
def test_regions_reaching_outside_the_view_are_not_openings(where, whole):
    # given a 12 x 12 clear square and a view whose right part is out of view
    m = mask_with((*where, 12))
    valid = np.full(m.shape, 255, np.uint8)
    valid[20:39, 63:] = 0
    m[valid == 0] = 0  # the pipeline's clear mask is clear only in view
    # when / then
    assert len(find_openings(m, valid, S)) == (1 if whole else 0)


def test_specks_inside_an_opening_do_not_shorten_it():
    # given a 16 x 16 opening with a 4 x 4 speck of yarn (a fibre clump) in its middle
    m = mask_with((10, 10, 16))
    m[16:20, 16:20] = 0
    valid = np.full(m.shape, 255, np.uint8)
    # when
    op = find_openings(m, valid, S)
    # then the clear span is the whole 16 px, and the speck is not an opening of its own
    assert len(op) == 1
    assert (op.span_w[0], op.span_h[0]) == (16, 16)


def test_small_gaps_are_not_openings():
    side = int(np.sqrt(MIN_OPENING_MM2))  # polygon area (side - 1)^2 < the minimum
    m = mask_with((10, 10, side), (40, 10, side + 2))
    op = find_openings(m, np.full(m.shape, 255, np.uint8), S)
    assert list(op.x0) == [40]


def test_matches_opencv_moments_on_irregular_regions():
    # given blobby clear regions (a second method: cv2.moments of each outline)
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.random((200, 240)).astype(np.float32), (0, 0), 5)
    m = (noise > np.percentile(noise, 60)).astype(np.uint8)
    valid = np.full(m.shape, 255, np.uint8)
    # when
    op = find_openings(m, valid, S)
    # then areas and centroids agree with OpenCV's moments of the same outlines
    assert len(op) > 5
    for k, c in enumerate(op.contours):
        mom = cv2.moments(c)
        assert op.area[k] == pytest.approx(mom["m00"])
        assert (op.cx[k], op.cy[k]) == pytest.approx((mom["m10"] / mom["m00"],
                                                      mom["m01"] / mom["m00"]))


@pytest.mark.parametrize(
    "cut, refused",
    [(None, False),
     ((slice(20, 30), slice(30, 40)), True),  # a hole in the view: refused
     ((slice(None), slice(60, 64)), False)],  # an island beside it: dropped
)
def test_the_view_is_one_piece_without_holes(cut, refused):
    # find_openings relies on it: a region reaching out of view reaches the image's frame
    from qcstation.errors import CalibrationError
    from qcstation.rectify import _one_piece

    valid = np.zeros((60, 80), np.uint8)
    valid[5:55, 5:75] = 255
    if cut:
        valid[cut] = 0
    if refused:
        with pytest.raises(CalibrationError, match="one piece"):
            _one_piece(valid)
        return
    main = _one_piece(valid)
    assert main.dtype == np.uint8 and set(np.unique(main)) == {0, 255}
    assert (main[5:55, 5:60] == 255).all()  # the main piece stays
    assert (main[:, 64:] == 0).all() if cut else (main == valid).all()

"""Calibration core: recovering a known camera, the corner finder, the file format, refusals."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from boardimg import board_homography, render_board

from qcstation.calibration import (
    FORMAT,
    board_points_mm,
    calibrate_from_corners,
    calibrate_images,
    calibration_from_dict,
    calibration_to_dict,
    find_board,
    image_to_bench_mm,
)
from qcstation.calibration_io import load_calibration, save_calibration
from qcstation.errors import CalibrationError

# The known camera: 1280x960, principal point at the image centre, slightly non-square pixels,
# barrel distortion k1 = -0.1 with some k2 and tangential terms.
SIZE = (1280, 960)
K = np.array([[1000.0, 0.0, 639.5], [0.0, 1003.0, 479.5], [0.0, 0.0, 1.0]])
DIST = np.array([-0.1, 0.03, 0.0008, -0.0005, 0.0])
BOARD, SQUARE = (9, 6), 25.0
PLANE_Z_MM = 600.0  # view 0: the board square to the camera, 600 mm away


def _pose(rot: tuple[float, float, float], centre_mm: tuple[float, float, float]):
    """rvec, tvec placing the board's centre at `centre_mm` in the camera frame."""
    r = cv2.Rodrigues(np.array(rot, np.float64))[0]
    board_centre = np.r_[board_points_mm(BOARD, SQUARE).mean(axis=0), 0.0]
    return cv2.Rodrigues(r)[0].ravel(), np.array(centre_mm, np.float64) - r @ board_centre


def _views(seed: int = 1):
    """12 views: a fronto-parallel plane view, then 11 tilted up to 35 degrees over the image."""
    rng = np.random.default_rng(seed)
    obj = np.c_[board_points_mm(BOARD, SQUARE), np.zeros(54)]
    a = np.deg2rad(35)
    truth = [_project(obj, _pose((0, 0, 0), (0, 0, PLANE_Z_MM)))]
    while len(truth) < 12:
        rot = (rng.uniform(-a, a), rng.uniform(-a, a), rng.uniform(-0.3, 0.3))
        px = _project(obj, _pose(rot, (rng.uniform(-330, 330), rng.uniform(-250, 250), 550)))
        if np.all((px > 5) & (px < np.array(SIZE) - 5)):  # whole board in view
            truth.append(px)
    noisy = [(t + rng.normal(0, 0.1, t.shape)).astype(np.float32) for t in truth]
    return truth, noisy


def _project(obj, pose) -> np.ndarray:
    return cv2.projectPoints(obj, pose[0], pose[1], K, DIST)[0].reshape(-1, 2)


@pytest.fixture(scope="module")
def views():
    return _views()


@pytest.fixture(scope="module")
def known_cal(views):
    _, noisy = views
    return calibrate_from_corners(noisy, BOARD, SQUARE, SIZE, plane_index=0)


def test_recovers_known_intrinsics(known_cal):
    k = known_cal.camera_matrix
    assert k[0, 0] == pytest.approx(K[0, 0], rel=0.005)
    assert k[1, 1] == pytest.approx(K[1, 1], rel=0.005)
    assert abs(k[0, 2] - K[0, 2]) < 0.005 * K[0, 0]
    assert abs(k[1, 2] - K[1, 2]) < 0.005 * K[0, 0]
    # 0.1 px noise per axis: the RMS of the residuals is near 0.1 * sqrt(2)
    assert 0.1 < known_cal.rms_px < 0.2
    assert known_cal.n_images == 12
    assert known_cal.board == BOARD and known_cal.image_size == SIZE


def test_recovers_known_distortion(known_cal):
    d = known_cal.dist_coeffs
    assert d.shape == (5,)
    assert d[0] == pytest.approx(DIST[0], abs=0.01)
    assert d[2:4] == pytest.approx(DIST[2:4], abs=5e-4)
    # k2 and k3 trade off against each other; the lens they describe must agree where the
    # boards were seen (the middle 80 % of the image): true rays through the fitted lens
    xs, ys = np.meshgrid(np.linspace(128, 1151, 9), np.linspace(96, 863, 7))
    px = np.c_[xs.ravel(), ys.ravel()]
    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
    rays = cv2.undistortPoints(px.reshape(-1, 1, 2), K, DIST, criteria=crit).reshape(-1, 2)
    rays3 = np.c_[rays, np.ones(len(rays))]
    fit_px = cv2.projectPoints(rays3, np.zeros(3), np.zeros(3), K, d)[0].reshape(-1, 2)
    assert np.abs(fit_px - px).max() < 1.0  # the lens moves them by up to 23 px


def test_plane_homography_maps_corners_to_board_mm(views):
    truth, noisy = views
    for plane in (0, 5):  # the square-on view and a tilted one
        cal = calibrate_from_corners(noisy, BOARD, SQUARE, SIZE, plane_index=plane)
        mm = image_to_bench_mm(
            truth[plane], cal.camera_matrix, cal.dist_coeffs, cal.plane_homography
        )
        assert np.abs(mm - board_points_mm(BOARD, SQUARE)).max() < 0.1


def test_mm_per_px_matches_analytic_value(known_cal):
    # Square on at distance Z, the mapping at the principal point (= image centre here) is
    # diag(Z/fx, Z/fy): lens distortion has unit slope there. Geometric mean: Z / sqrt(fx fy).
    expected = PLANE_Z_MM / math.sqrt(K[0, 0] * K[1, 1])
    assert known_cal.mm_per_px == pytest.approx(expected, rel=0.003)


def test_find_board_is_subpixel_accurate():
    # given a rendered board whose corners are known exactly (tests/boardimg.py)
    img, truth = render_board(board_homography())
    corners = find_board(img, BOARD)
    assert corners.shape == (54, 2) and corners.dtype == np.float32
    assert np.linalg.norm(corners - truth, axis=1).max() < 0.1


@pytest.mark.parametrize("flip", ["none", "rot180", "mirror", "upside_down"])
def test_find_board_orders_corners_like_the_image(flip):
    img, _ = render_board(board_homography())
    img = {
        "none": img,
        "rot180": img[::-1, ::-1],
        "mirror": img[:, ::-1],
        "upside_down": img[::-1],
    }[flip]
    grid = find_board(np.ascontiguousarray(img), BOARD).reshape(6, 9, 2)
    along, down = grid[0, -1] - grid[0, 0], grid[-1, 0] - grid[0, 0]
    assert along[0] > 0 and down[1] > 0  # columns run right, rows run down: no mirror image
    assert grid[0, 0].sum() == grid.reshape(-1, 2).sum(axis=1).min()  # starts at the top-left


def test_no_board_found_in_blank_image():
    assert find_board(np.full((480, 640), 128, np.uint8), BOARD) is None


@pytest.mark.parametrize("n_boards", [0, 4])
def test_too_few_boards_are_refused(n_boards):
    board_img, _ = render_board(board_homography())
    blank = np.full((480, 640), 200, np.uint8)
    images = [board_img] * n_boards + [blank] * 2
    with pytest.raises(CalibrationError, match=f"found in {n_boards} of {n_boards + 2} images"):
        calibrate_images(images, BOARD, SQUARE)


def test_no_images_or_corners_are_refused():
    with pytest.raises(CalibrationError, match="no images were given"):
        calibrate_images([], BOARD, SQUARE)
    with pytest.raises(CalibrationError, match="found in 0 of 0 images"):
        calibrate_from_corners([], BOARD, SQUARE, SIZE)


def test_images_of_different_sizes_are_refused():
    a, b = np.zeros((480, 640), np.uint8), np.zeros((960, 1280), np.uint8)
    with pytest.raises(CalibrationError, match="1280x960 px but image 1 is 640x480"):
        calibrate_images([a, a, b], BOARD, SQUARE)


def test_plane_image_without_board_is_refused():
    imgs = [render_board(board_homography(angle_deg=a), seed=i)[0] for i, a in enumerate(range(5))]
    with pytest.raises(CalibrationError, match="bench-plane image"):
        calibrate_images(imgs, BOARD, SQUARE, plane_image=np.zeros((480, 640), np.uint8))


def test_json_round_trip(known_cal, tmp_path):
    path = tmp_path / "sub" / "cal.json"
    save_calibration(known_cal, path)
    back = load_calibration(path)
    assert json.loads(path.read_text())["format"] == FORMAT
    for name in ("camera_matrix", "dist_coeffs", "plane_homography"):
        np.testing.assert_array_equal(getattr(back, name), getattr(known_cal, name))
    for name in ("image_size", "mm_per_px", "rms_px", "board", "square_mm", "n_images", "created"):
        assert getattr(back, name) == getattr(known_cal, name)


def _set(key, value):
    def edit(d):
        d[key] = value

    return edit


def _set_item(key, index, value):
    def edit(d):
        d[key][index] = value

    return edit


BAD_FILES = [
    ("missing key", lambda d: d.pop("camera_matrix"), "camera_matrix"),
    (
        "matrix of wrong shape",
        _set("camera_matrix", [[1000, 0, 320], [0, 1000, 240]]),
        "camera_matrix",
    ),
    ("four distortion terms", _set("dist_coeffs", [0.0, 0.0, 0.0, 0.0]), "dist_coeffs"),
    ("NaN distortion", _set_item("dist_coeffs", 0, math.nan), "dist_coeffs"),
    ("infinite scale", _set("mm_per_px", math.inf), "mm_per_px"),
    ("negative focal length", _set_item("camera_matrix", 0, [-1000.0, 0, 639.5]), "camera_matrix"),
    ("number as text", _set("square_mm", "25"), "square_mm"),
    ("singular homography", _set("plane_homography", [[0.0] * 3] * 3), "plane_homography"),
    (
        "rank-2 homography",
        _set("plane_homography", [[1, 2, 3], [2, 4, 6], [0, 0, 1]]),
        "plane_homography",
    ),
    (
        "horizon inside the image",
        _set("plane_homography", [[1, 0, 0], [0, 1, 0], [1e-3, 0, -0.5]]),
        "plane_homography",
    ),
    ("wrong format tag", _set("format", "other-tool/2"), "format"),
    ("unknown key", _set("colour", "red"), "colour"),
    ("bad date", _set("created", "yesterday"), "created"),
]


@pytest.mark.parametrize(
    ("edit", "field"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_calibration_file_is_refused(known_cal, tmp_path, edit, field):
    d = calibration_to_dict(known_cal)
    edit(d)
    path = tmp_path / "bad-cal.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(CalibrationError) as e:
        load_calibration(path)
    msg = str(e.value)
    assert str(path) in msg and f"'{field}'" in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "expected a JSON object"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (None, "not found"),
    ],
    ids=["not JSON", "JSON list", "binary", "missing file"],
)
def test_unreadable_calibration_file_is_refused(tmp_path, content, expected):
    path = tmp_path / "cal.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CalibrationError, match=expected) as e:
        load_calibration(path)
    assert str(path) in str(e.value)


def test_from_dict_names_the_source(known_cal):
    d = calibration_to_dict(known_cal)
    del d["rms_px"]
    with pytest.raises(CalibrationError, match=r"^upload\.json: missing key 'rms_px'"):
        calibration_from_dict(d, "upload.json")

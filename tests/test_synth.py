"""Synthetic renderer: camera model, exact ground truth, determinism, calibration boards, labels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from labelspans import label_span_errors

from qcstation.spec import load_spec
from qcstation.synth import board
from qcstation.synth.camera import Pose, draw_camera, rotation
from qcstation.synth.net import NetParams, build_net, crossings, draw_params, regular
from qcstation.synth.render import Plan, render_sample
from qcstation.synth.truth import (
    inside_image,
    measure_openings,
    merged_openings,
    mesh_stats,
    removed_segments,
    segment_widths,
)
from qcstation.synth.view import View, view_border

SPEC = load_spec("specs/kr-coirnet-25.toml")
SMALL = ((800, 600), (2.0, 2.4))  # a small camera keeps the tests fast


@pytest.fixture(scope="module")
def camera():
    return draw_camera(np.random.default_rng(7), *SMALL)


def _tilted(camera, deg: float) -> Pose:
    R = rotation(np.array([1.0, 0.3, 0.0]), np.radians(deg))
    return Pose(R @ camera.bench.R, camera.bench.t * 0.9)


@pytest.mark.parametrize("seed, size", [(1, (1600, 1200)), (2, (2448, 2048)), (3, (640, 480))])
def test_project_equals_opencv(seed, size):
    # oracle: cv2.projectPoints with the same K, distortion and pose
    cam = draw_camera(np.random.default_rng(seed), size)
    rng = np.random.default_rng(seed + 10)
    pts = np.column_stack(
        [rng.uniform(-150, 350, 200), rng.uniform(-150, 250, 200), rng.uniform(-40, 40, 200)]
    )
    for pose in (cam.bench, _tilted(cam, 25)):
        ours = cam.project(pts, pose)
        ref, _ = cv2.projectPoints(pts, pose.rvec, pose.t, cam.K, cam.dist)
        assert np.abs(ours - ref.reshape(-1, 2)).max() < 1e-6


def test_camera_is_within_the_drawn_ranges():
    for seed in range(5):
        cam = draw_camera(np.random.default_rng(seed))
        assert 3.2 * 0.97 <= cam.px_per_mm() <= 4.8 * 1.03
        assert -0.12 <= cam.dist[0] <= -0.03
        tilt = np.degrees(np.arccos(cam.bench.R[2, 2]))
        assert 1 <= tilt <= 4.01


def test_pixel_to_plane_inverts_project(camera):
    # oracle: projecting the plane point each pixel sees must land on that pixel
    for pose in (camera.bench, _tilted(camera, 30)):
        mx, my = camera.pixel_to_plane(pose, cache=False)
        assert mx.dtype == np.float32 and mx.shape == (600, 800)
        rows, cols = np.mgrid[0:600:7, 0:800:7]
        back = camera.project_plane(np.stack([mx[rows, cols], my[rows, cols]], axis=-1), pose)
        assert np.abs(back[..., 0] - cols).max() < 0.01
        assert np.abs(back[..., 1] - rows).max() < 0.01


def test_regular_net_truth_is_pitch_minus_yarn(camera):
    # oracle: without jitter, wave or width variation, clear span = pitch - yarn exactly
    params = NetParams(opening_mm=(20.0, 24.0), yarn_mm=6.0, angle_deg=7.0)
    net = regular(params, view_border(*camera.pixel_to_plane()), np.array([3.0, 5.0]))
    cross = crossings(net)
    op = measure_openings(net, cross)
    np.testing.assert_allclose(op.width, 20.0, atol=1e-6)
    np.testing.assert_allclose(op.height, 24.0, atol=1e-6)
    np.testing.assert_allclose(op.pitch_w, 26.0, atol=1e-6)
    np.testing.assert_allclose(op.pitch_h, 30.0, atol=1e-6)
    view = View.of(camera, net)
    inside = inside_image(view.to_px(op.corners), camera.size)
    # independent count: corners straight from the analytic grid positions
    xs, ys = net.v.centre[:, 0], net.h.centre[:, 0]
    grid = (
        np.stack(np.meshgrid(xs[:-1] + 3, ys[:-1] + 3), -1),
        np.stack(np.meshgrid(xs[1:] - 3, ys[1:] - 3), -1),
    )
    corners = np.stack(
        [
            grid[0],
            np.stack([grid[1][..., 0], grid[0][..., 1]], -1),
            grid[1],
            np.stack([grid[0][..., 0], grid[1][..., 1]], -1),
        ],
        axis=-2,
    )
    assert (inside == inside_image(view.to_px(corners), camera.size)).all()
    rv, rh = removed_segments(net, *cross)
    mesh = mesh_stats(op, inside & ~merged_openings(rv, rh), *segment_widths(net, *cross), rv, rh)
    assert mesh.openings == int(inside.sum()) > 50
    assert mesh.opening_w_mm.mean == pytest.approx(20.0) and mesh.opening_h_mm.std < 1e-6
    assert mesh.pitch_w_mm == pytest.approx(26.0) and mesh.pitch_h_mm == pytest.approx(30.0)
    assert mesh.strand_width_mm.min == pytest.approx(6.0)


def test_normal_strands_never_thinner_than_spec_plus_margin(camera):
    border = view_border(*camera.pixel_to_plane())
    for seed in range(6):
        rng = np.random.default_rng(seed)
        net = build_net(draw_params(rng, SPEC), rng, border)
        assert min(net.v.width.min(), net.h.width.min()) >= SPEC.mesh.min_strand_mm + 0.8 - 1e-9


def test_same_seed_same_bytes(camera):
    a = render_sample(camera, np.random.default_rng([3, 1]), SPEC, bench="light_table")
    b = render_sample(camera, np.random.default_rng([3, 1]), SPEC, bench="light_table")
    c = render_sample(camera, np.random.default_rng([3, 2]), SPEC, bench="light_table")
    assert a.image.tobytes() == b.image.tobytes() and a.truth == b.truth
    assert a.labels.tobytes() == b.labels.tobytes()
    assert a.image.tobytes() != c.image.tobytes()


def test_calibration_boards_are_found_and_recover_the_camera(camera):
    # oracle: the true corner projections and the true K / distortion of the camera
    objs, found = [], []
    for k in range(8):
        rng = np.random.default_rng([5, k])
        pose = camera.bench if k == 0 else board.tilted_pose(rng, camera)
        gray = cv2.cvtColor(board.render_board(camera, pose, rng), cv2.COLOR_BGR2GRAY)
        ok, corners = cv2.findChessboardCorners(gray, board.CORNERS)
        assert ok, f"board {k} not found"
        corners = cv2.cornerSubPix(
            gray,
            corners,
            (5, 5),
            (-1, -1),
            (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 1e-4),
        )
        true = camera.project(board.object_points(), pose)
        c = corners.reshape(-1, 2)
        err = min(np.abs(c - true).max(), np.abs(c[::-1] - true).max())
        assert err < 0.3
        objs.append(board.object_points().astype(np.float32))
        found.append(corners)
    rms, K, dist, _, _ = cv2.calibrateCamera(objs, found, camera.size, None, None)
    assert rms < 0.2
    assert K[0, 0] == pytest.approx(camera.K[0, 0], rel=0.01)
    assert dist.ravel()[0] == pytest.approx(camera.dist[0], abs=0.03)


def test_broken_strand_merges_two_openings_in_the_mask(camera):
    plan = Plan("structural", structural=("broken_strand",))
    sample = render_sample(camera, np.random.default_rng([11, 0]), SPEC, bench="backlit", plan=plan)
    (defect,) = sample.truth["defects"]
    assert defect["type"] == "broken_strand"
    n, lab, stats, _ = cv2.connectedComponentsWithStats((sample.labels == 0).astype(np.uint8), 4)
    h, w = lab.shape
    x, y, bw, bh, area = stats[1:].T
    interior = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    typical = np.median(area[interior])
    bx, by, bbw, bbh = defect["bbox_px"]
    merged = stats[lab[by + bbh // 2, bx + bbw // 2], cv2.CC_STAT_AREA]
    assert 1.6 < merged / typical < 2.6
    assert sample.truth["verdict"] == "fail"


@pytest.mark.parametrize("kind, min_openings", [("hole", 3), ("irregular_mesh", 2)])
def test_structural_regions_cover_their_openings(camera, kind, min_openings):
    plan = Plan("structural", structural=(kind,))
    sample = render_sample(
        camera, np.random.default_rng([12, 0]), SPEC, bench="dark_table", plan=plan
    )
    (defect,) = sample.truth["defects"]
    opening = sample.truth["net"]["opening_mm"]
    span = defect["size_mm"][0] * defect["size_mm"][1]
    assert span > min_openings * 0.8 * opening[0] * opening[1]


def test_thin_strand_truth(camera):
    plan = Plan("structural", structural=("thin_strand",))
    sample = render_sample(
        camera, np.random.default_rng([13, 0]), SPEC, bench="light_table", plan=plan
    )
    (defect,) = sample.truth["defects"]
    length, width = defect["size_mm"]
    assert 1.8 <= width <= 3.0 and length > 5
    assert sample.truth["mesh"]["strand_width_mm"]["min"] == pytest.approx(width, abs=0.01)


@pytest.mark.parametrize("kind, code", [("string", 2), ("stain", 3), ("loose_fibres", 4)])
def test_appearance_defects_are_labelled_where_their_box_is(camera, kind, code):
    plan = Plan("appearance", appearance=(kind,))
    sample = render_sample(
        camera, np.random.default_rng([14, 0]), SPEC, bench="light_table", plan=plan
    )
    (defect,) = sample.truth["defects"]
    x, y, w, h = defect["bbox_px"]
    inside = (sample.labels[y : y + h, x : x + w] == code).sum()
    assert inside == (sample.labels == code).sum() > 20


def test_unusable_shots_are_errors(camera):
    for kind in ("overexposed", "underexposed", "blank"):
        sample = render_sample(
            camera,
            np.random.default_rng([15, 0]),
            SPEC,
            bench="backlit",
            plan=Plan("unusable", unusable=kind),
        )
        assert sample.truth["verdict"] == "error" and sample.truth["unusable"] == kind
        gray = cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY)
        if kind == "overexposed":
            assert (gray >= 250).mean() > 0.5
        elif kind == "underexposed":
            assert np.percentile(gray, 99) < 30
        else:
            assert (sample.labels == 0).all() and gray.std() < 15


def test_mask_spans_agree_with_the_truth_edges(camera):
    # second method: read the clear span off the rendered label map along the middle of each
    # counted opening and compare with the strand edges of the truth tables
    sample = render_sample(
        camera, np.random.default_rng([0, 0]), SPEC, bench="light_table", plan=Plan("clean")
    )
    net = sample.net
    assert net.params.crossing == "knot" and net.params.opening_mm[0] < 15  # knots come close
    errors = label_span_errors(camera, sample)
    scale = 1 / camera.px_per_mm()
    assert len(errors) > 50
    assert abs(errors.mean()) < 0.1 * scale and np.abs(errors).max() < 1.5 * scale

"""The measurement engine on exact drawn nets (tests/netimg.py): spans, strands, defects.

Expected values come from the drawing itself: strands are filled rectangles of known size,
so the clear opening is the gap between rectangles (to within a pixel: 0.25 mm at 4 px/mm).
"""

import cv2
import numpy as np
import pytest
from netimg import grid_net, ideal_calibration

from qcstation.mesh import Segments
from qcstation.pipeline import Inspector
from qcstation.spec import load_spec
from qcstation.structural import Appearance, cut_segments, measure, thin_findings

SPEC = load_spec("specs/kr-coirnet-25.toml")
S = 4.0  # px per mm of the drawn nets


def camera_look(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """Defocus and sensor noise, so edges are not perfect steps."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(img, (0, 0), 0.8)
    return np.clip(img + rng.normal(0, 2.5, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def inspector():
    return Inspector(SPEC, ideal_calibration(1200, 900, S))


def run(inspector, img):
    result, analysis = inspector.inspect(camera_look(img), "t")
    return result, analysis


@pytest.mark.parametrize(
    "bench, yarn",
    [(225, (40, 70, 110)),  # light table: dark brown yarn
     (25, (70, 130, 185)),  # dark table: bright yarn
     (250, (20, 25, 30))],  # backlit: near-black silhouette
)
@pytest.mark.parametrize("opening", [(25.0, 25.0), (18.0, 27.0)])
def test_spans_match_drawn_gaps_on_every_bench(inspector, bench, yarn, opening):
    result, _ = run(inspector, grid_net(1200, 900, S, opening, 6.0, bench, yarn))
    m = result.mesh
    assert m.opening_w_mm.mean == pytest.approx(opening[0], abs=0.3)
    assert m.opening_h_mm.mean == pytest.approx(opening[1], abs=0.3)
    assert m.pitch_w_mm == pytest.approx(opening[0] + 6.0, abs=0.2)
    assert m.pitch_h_mm == pytest.approx(opening[1] + 6.0, abs=0.2)
    assert m.strand_width_mm.mean == pytest.approx(6.0, abs=0.4)
    assert result.defects == ()


def test_uneven_light_does_not_move_edges(inspector):
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0, 230, (50, 80, 120)).astype(np.float32)
    ramp = np.linspace(0.45, 1.0, img.shape[1], dtype=np.float32)[None, :, None]
    result, _ = run(inspector, (img * ramp).astype(np.uint8))
    assert result.mesh.opening_w_mm.mean == pytest.approx(25.0, abs=0.3)
    assert result.verdict == "pass"


def test_rotated_net_is_measured_along_its_own_axes(inspector):
    img = grid_net(1600, 1300, S, (22.0, 26.0), 6.0)
    rot = cv2.getRotationMatrix2D((800, 650), 9.0, 1.0)
    img = cv2.warpAffine(img, rot, (1600, 1300), flags=cv2.INTER_LINEAR)[200:1100, 200:1400]
    result, _ = run(inspector, img)
    assert result.mesh.opening_w_mm.mean == pytest.approx(22.0, abs=0.35)
    assert result.mesh.opening_h_mm.mean == pytest.approx(26.0, abs=0.35)


def test_hairs_do_not_shorten_spans(inspector):
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    rng = np.random.default_rng(3)
    for _ in range(600):  # thin dark hairs 0.25 mm, many crossing into openings
        x, y = rng.integers(0, 1200), rng.integers(0, 900)
        a = rng.uniform(0, np.pi)
        n = rng.uniform(8, 40)
        cv2.line(img, (x, y), (int(x + n * np.cos(a)), int(y + n * np.sin(a))), (40, 70, 110), 1)
    result, _ = run(inspector, img)
    assert result.mesh.opening_w_mm.mean == pytest.approx(25.0, abs=0.3)
    assert not [d for d in result.defects if d.type != "thin_strand"]


def cut(img, x0_mm, y0_mm, x1_mm, y1_mm, bench=220):
    img[int(y0_mm * S):int(y1_mm * S), int(x0_mm * S):int(x1_mm * S)] = bench
    return img


# Strands of the default grid start at x = 7 + 31 k mm, y = 5 + 31 k mm and are 6 mm wide.
@pytest.mark.parametrize(
    "cuts, expected",
    [([(100, 12, 106, 36)], "broken_strand"),  # one vertical segment between two crossings
     ([(100, 42, 106, 67)], "broken_strand"),
     ([(100, 42, 106, 67), (162, 42, 168, 67)], "broken_strand"),  # end to end: two
     ([(100, 73, 106, 98), (100, 42, 106, 67)], "hole"),  # cut on both sides of a crossing
     ([(100, 42, 106, 67), (107, 67, 130, 73)], "hole"),  # two segments: 3 openings merge
     ([(100, 42, 106, 67), (107, 67, 130, 73), (76, 67, 99, 73)], "hole")],
)
def test_merged_openings_are_holes_or_broken_strands(inspector, cuts, expected):
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    for c in cuts:
        cut(img, *c)
    result, _ = run(inspector, img)
    assert {d.type for d in result.defects} == {expected}
    assert len(result.defects) == (2 if len(cuts) == 2 and expected == "broken_strand" else 1)
    assert result.verdict == "fail"
    cx, cy = (cuts[0][0] + cuts[0][2]) / 2 * S, (cuts[0][1] + cuts[0][3]) / 2 * S
    assert any(x <= cx <= x + w and y <= cy <= y + h for x, y, w, h in
               (d.bbox_px for d in result.defects))
    # merged openings are not averaged into the mesh statistics
    assert result.mesh.opening_w_mm.max < 26.0


def test_displaced_strand_is_irregular_mesh(inspector):
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 131, 42, 137, 67)  # remove the segment of the strand at x = 131..137 mm
    img[42 * 4:67 * 4, 141 * 4:147 * 4] = (40, 70, 110)  # and lay it 10 mm to the right
    result, _ = run(inspector, img)
    kinds = [d.type for d in result.defects]
    assert kinds == ["irregular_mesh"]
    x, y, w, h = result.defects[0].bbox_px
    assert x < 131 * S < x + w and y < 50 * S < y + h


def test_strand_offset_along_its_whole_length_is_not_irregular(inspector):
    """Hand-made spacing: a whole strand laid 8 mm off makes its two neighbouring columns of
    openings differ by 16 mm, but no segment leaves the strand's own course."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    img[:, 131 * 4:137 * 4] = 220  # lift the strand at x = 131..137 mm off the whole net
    img[:, 139 * 4:145 * 4] = (40, 70, 110)  # and lay it 8 mm to the right
    result, _ = run(inspector, img)
    assert [d.type for d in result.defects] == []
    assert result.verdict == "pass"


def test_thin_strand_found_and_not_irregular(inspector):
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 131, 42, 137, 67)
    img[42 * 4:67 * 4, int(133 * 4):int(135.5 * 4)] = (40, 70, 110)  # 2.5 mm of yarn left
    result, _ = run(inspector, img)
    assert [d.type for d in result.defects] == ["thin_strand"]
    d = result.defects[0]
    assert d.size_mm[1] == pytest.approx(2.5, abs=0.5)
    assert result.mesh.strand_width_mm.min == pytest.approx(2.5, abs=0.5)
    assert any("thin_strand" in r for r in result.reasons)


def test_image_size_must_match_calibration(inspector):
    result, analysis = inspector.inspect(np.zeros((480, 640, 3), np.uint8), "small.jpg")
    assert result.verdict == "error" and analysis is None
    assert "640x480" in result.error and "1200x900" in result.error


@pytest.mark.parametrize(
    "make, word",
    [(lambda: np.full((900, 1200, 3), 128, np.uint8), "blank"),
     (lambda: np.full((900, 1200, 3), 252, np.uint8), "over-exposed"),
     # a backlit panel clipped white around dark yarn: its edges are lost in the glare
     (lambda: grid_net(1200, 900, S, bench=255, yarn=(20, 25, 30)), "clipped white"),
     (lambda: (grid_net(1200, 900, S) // 12).astype(np.uint8), "under-exposed"),
     (lambda: cv2.GaussianBlur(grid_net(1200, 900, S), (0, 0), 12), "out of focus")],
)
def test_unusable_images_are_errors_never_passes(inspector, make, word):
    result, _ = inspector.inspect(make(), "bad.jpg")
    assert result.verdict == "error"
    assert word in result.error


def test_too_few_openings_is_an_error(inspector):
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    img[:, 300:] = 220  # most of the view is bare bench
    result, _ = run(inspector, img)
    assert result.verdict == "error"
    assert "openings" in result.error


def test_openings_split_into_pieces_are_an_error_not_a_measurement(inspector):
    """Where the yarn mask cuts each opening into pieces (a misread under bad light), the
    pieces share mesh cells: the frame is an error, never measured or judged."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    for x in np.arange(13, 290, 31):  # a yarn-coloured band corner to corner in each opening
        for y in np.arange(11, 215, 31):
            cv2.line(img, (round(x * S), round(y * S)), (round((x + 25) * S), round((y + 25) * S)),
                     (40, 70, 110), round(2 * S))
    result, analysis = run(inspector, img)
    assert result.verdict == "error" and analysis is None
    assert "not told apart reliably" in result.error and "share a mesh cell" in result.error


def _seen(view_shape, hidden_box_px=None, cell_px=6.0):
    """What a defect model would report: nothing found, and a hidden area (or none)."""
    h, w = view_shape
    hidden = np.zeros((int(h // cell_px) + 1, int(w // cell_px) + 1), np.uint8)
    if hidden_box_px is not None:
        x0, y0, x1, y1 = (int(v // cell_px) for v in hidden_box_px)
        hidden[y0:y1 + 1, x0:x1 + 1] = 1
    return Appearance([], hidden, cell_px)


@pytest.mark.parametrize("hidden, expected", [(False, ["broken_strand"]), (True, [])])
def test_broken_strand_under_foreign_matter_is_not_reported(inspector, hidden, expected):
    """A scrap lying over a strand removes it from the yarn mask; where the model says the gap
    is hidden, the merged openings are not a broken strand (the scrap fails the net anyway)."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 100, 42, 106, 67)
    bv = inspector.bench_view(camera_look(img))
    op = bv.openings()
    s = bv.px_per_mm  # the bench view of this ideal camera is the image itself, 3 px/mm here
    box = (95 * s, 40 * s, 111 * s, 69 * s) if hidden else None  # the scrap over the gap
    m = measure(op, bv.px_per_mm, SPEC.mesh.min_strand_mm, _seen(bv.valid.shape, box))
    assert [f.type for f in m.findings] == expected


def _seen_along(view_shape, points_mm, width_mm, s, cell_px=6.0):
    """What a defect model would report for a string: hidden cells along its path."""
    h, w = view_shape
    hidden = np.zeros((int(h // cell_px) + 1, int(w // cell_px) + 1), np.uint8)
    pts = np.round(np.array(points_mm) * s / cell_px).astype(np.int32)
    cv2.polylines(hidden, [pts], False, 1, max(1, round(width_mm * s / cell_px)))
    return Appearance([], hidden, cell_px)


STRING_MM = [(55, 35), (160, 105)]  # a pale string across the net, through (103, 67)


@pytest.mark.parametrize("torn, hidden, expected", [
    (False, False, {"hole"}),  # without the model: the openings merged along it are a tear
    (False, True, set()),
    (True, True, {"hole"})])
def test_pale_string_across_the_net_is_no_tear_but_a_hole_under_it_is(
        inspector, torn, hidden, expected):
    """A pale string on a light table hides each strand it crosses, so openings merge along it
    in the yarn mask. Where the model says the string hides the yarn that is missing, there
    is no tear; a real hole the string crosses is still a hole: most of its missing yarn
    (its cut strands) is in plain sight."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    if torn:  # the vertical strand cut on both sides of the crossing at (103, 70)
        cut(img, 100, 42, 106, 67)
        cut(img, 100, 73, 106, 98)
    cv2.line(img, *(tuple(round(v * S) for v in p) for p in STRING_MM), (220, 220, 220),
             round(2.5 * S))
    bv = inspector.bench_view(camera_look(img))
    op = bv.openings()
    s = bv.px_per_mm
    seen = _seen_along(bv.valid.shape, STRING_MM, 8.0, s) if hidden else None
    m = measure(op, bv.px_per_mm, SPEC.mesh.min_strand_mm, seen)
    types = {f.type for f in m.findings}
    assert types == expected, [(f.type, f.box) for f in m.findings]
    if torn:
        x, y, w, h = next(f.box for f in m.findings if f.type == "hole")
        assert x < 103 * s < x + w and y < 55 * s < y + h and y < 85 * s < y + h


@pytest.mark.parametrize("both_bridged", [False, True])
def test_cut_bridged_by_fibres_beside_a_broken_strand_makes_it_a_hole(inspector, both_bridged):
    """An L-shaped tear on a light table: one strand cut clear (or bridged by a band of pale
    frayed fibres, no dark strand body across), the other bridged by pale fibres around one
    dark fibre (a body of 1 mm: beside a tear, too little for a strand). Neither is a strand,
    so the three openings are one hole, not a broken strand."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 100, 42, 106, 67)  # the openings left and right of it merge
    cut(img, 107, 67, 130, 73)  # bridged: the opening below the right one joins them
    img[int(67.5 * S):int(72.5 * S), int(108 * S):int(129 * S)] = (115, 130, 150)
    img[int(69.5 * S):int(70.5 * S), int(108 * S):int(129 * S)] = (40, 70, 110)
    if both_bridged:
        img[int(44 * S):int(65 * S), int(101 * S):int(105 * S)] = (115, 130, 150)
    result, _ = run(inspector, img)
    assert [d.type for d in result.defects] == ["hole"]
    x, y, w, h = result.defects[0].bbox_px
    assert x < 90 * S and x + w > 125 * S and y + h > 90 * S  # all three openings


def test_bowed_strand_is_irregular_mesh_not_a_broken_strand(inspector):
    """A strand segment bowed 21 mm sideways between its crossings: the opening on its outer
    side reaches 1.5 pitches across but is one opening, beside a narrowed one."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 131, 42, 137, 67)  # the segment of the strand at x = 131..137 mm
    bow = np.array([(134, 41), (155, 54.5), (134, 68)]) * S
    cv2.polylines(img, [np.round(bow).astype(np.int32)], False, (40, 70, 110), round(6 * S))
    result, _ = run(inspector, img)
    assert [d.type for d in result.defects] == ["irregular_mesh"]
    x, y, w, h = result.defects[0].bbox_px
    assert x < 120 * S and x + w > 155 * S and y < 50 * S < y + h


def test_frayed_fibres_across_a_cut_do_not_close_it(inspector):
    """A cut strand whose frayed ends reach across the gap: fibres lying along the strand,
    each thinner than a hair, are not a strand; the two openings are still merged."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 100, 42, 106, 67)
    rng = np.random.default_rng(3)
    for _ in range(40):  # fibres from both stubs, along the strand, overlapping in the middle
        x = rng.uniform(100.3, 105.7) * S
        top = rng.uniform(42, 56) * S
        length = rng.uniform(6, 14) * S
        y0, y1 = (top, top + length) if rng.random() < 0.5 else (67 * S - length, 67 * S)
        cv2.line(img, (round(x), round(y0)), (round(x + rng.normal(0, 3)), round(y1)),
                 (40, 70, 110), 1)
    result, _ = run(inspector, img)
    assert [d.type for d in result.defects] == ["broken_strand"]


def test_no_whole_opening_in_view_is_an_error(inspector):
    """Strands in view but every clear region runs off the edge: a clear error, not a crash."""
    img = grid_net(1200, 900, S, (200.0, 150.0), 6.0, bench=150, offset=(-50.0, -40.0))
    result, analysis = run(inspector, img)
    assert result.verdict == "error" and analysis is None
    assert "only 0 measurable openings" in result.error


def test_segment_bridged_only_by_loose_fibres_is_cut_not_thin():
    """Thin strands are thin all along; a cut bridged by fibres narrows below a hair somewhere,
    or (light bench) has no dark strand body across somewhere."""
    seg = Segments(a=np.array([0, 2, 4, 6]), b=np.array([1, 3, 5, 7]),
                   vertical=np.array([True, True, False, False]),
                   width_px=np.array([7.0, 8.0, 20.0, 18.0]),  # median widths, 3 px/mm
                   min_px=np.array([6.0, 2.0, 19.0, 17.0]),  # narrowest sample along each
                   core_px=np.array([4.0, 1.0, 12.0, 0.0]),  # narrowest sample of the core
                   box=np.array([[10, 0, 7, 60], [80, 0, 8, 60], [0, 90, 60, 20],
                                 [0, 190, 60, 18]], float))
    cut = cut_segments(seg, hair_px=3.6)
    assert cut.tolist() == [False, True, False, True]
    found = thin_findings(seg.subset(~cut), min_strand_px=12.0)
    assert [(f.type, f.members) for f in found] == [("thin_strand", (0, 1))]


def test_pale_fibres_across_a_cut_on_a_light_bench_are_not_a_strand(inspector):
    """On a light table a strand body is dark all along; a cut bridged by a band of pale
    loose fibres (as wide as a strand, so no hair test catches it) is still a broken strand."""
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0)
    cut(img, 100, 42, 106, 67)
    img[int(44 * S):int(65 * S), int(101 * S):int(105 * S)] = (115, 130, 150)  # pale fibres
    result, _ = run(inspector, img)
    assert [d.type for d in result.defects] == ["broken_strand"]
    x, y, w, h = result.defects[0].bbox_px
    assert x < 103 * S < x + w and y < 55 * S < y + h

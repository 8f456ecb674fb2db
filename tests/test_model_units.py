"""The model's pure parts on literal inputs: preprocessing, tiling, probability maps -> regions."""

from types import SimpleNamespace

import numpy as np
import pytest

from qcstation.model.card import CLASSES, ModelCard, Thresholds
from qcstation.model.preprocess import frame_stats, normalise, pad_to_multiple, to_model_scale
from qcstation.model.regions import find_defects, merge_close
from qcstation.model.runtime import DefectModel
from qcstation.model.tiles import spans

DEFECTS = CLASSES[2:]


def thresholds(prob=0.5, area=0.0, score=0.5, gap=12.0) -> Thresholds:
    return Thresholds(
        dict.fromkeys(DEFECTS, prob),
        dict.fromkeys(DEFECTS, area),
        dict.fromkeys(DEFECTS, score),
        dict.fromkeys(DEFECTS, gap),
    )


def card(tile=64, overlap=16) -> ModelCard:
    return ModelCard("t", "0" * 64, CLASSES, 2.0, 16, 4, tile, overlap, thresholds())


def test_normalise_ignores_gain_and_offset_and_zeroes_outside():
    # given a frame and the same frame brighter and with more contrast (an affine change)
    rng = np.random.default_rng(0)
    img = rng.integers(40, 120, (32, 48, 3)).astype(np.uint8)
    brighter = (img.astype(np.float32) * 1.5 + 20).astype(np.uint8)
    valid = np.full((32, 48), 255, np.uint8)
    valid[:, :8] = 0
    # then both normalise to the same input (up to the uint8 rounding), 0 outside the view
    a, b = normalise(img, valid), normalise(brighter, valid)
    assert a.shape == (3, 32, 48) and a.dtype == np.float32
    assert np.abs(a - b).max() < 0.05
    assert not a[:, :, :8].any()


def test_frame_stats_on_a_literal_frame():
    # two halves of known colour: the mean is their average, the spread half their difference
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4] = (10, 20, 30)
    img[:, 4:] = (30, 40, 50)
    st = frame_stats(img)
    # STATS_STEP=4 samples columns 0 and 4: one of each half
    assert np.allclose(st.mean, (20, 30, 40))
    assert st.std == pytest.approx(10.0)


def test_scale_and_pad():
    img = np.zeros((100, 200, 3), np.uint8)
    assert to_model_scale(img, 4.0, 2.0).shape == (50, 100, 3)
    assert to_model_scale(img, 2.0, 2.0) is img
    x = pad_to_multiple(np.ones((3, 50, 100), np.float32), 16)
    assert x.shape == (3, 64, 112) and x[:, 50:].sum() == 0 and x[:, :, 100:].sum() == 0


@pytest.mark.parametrize(
    "n, tile, overlap",
    [(48, 64, 16), (64, 64, 16), (200, 64, 16), (1024, 512, 64), (2048, 512, 64), (800, 512, 64)],
)
def test_tiles_cover_every_cell_once_with_overlap(n, tile, overlap):
    sp = spans(n, tile, overlap, 16, 4)
    cells = np.zeros(n // 4, int)
    for s in sp:
        assert s.size <= max(tile, n) and s.size % 16 == 0 and s.start % 4 == 0
        assert s.start // 4 <= s.keep0 < s.keep1 <= (s.start + s.size) // 4
        cells[s.keep0 : s.keep1] += 1
    assert (cells == 1).all()
    for a, b in zip(sp, sp[1:], strict=False):
        assert a.start + a.size - b.start >= overlap


class PoolingSession:
    """Stands in for onnxruntime: 4x4 mean of each channel, without context, so the tiled result
    must equal the untiled one exactly."""

    def get_inputs(self):
        return [SimpleNamespace(name="image", shape=[1, 3, "h", "w"])]

    def run(self, _, feeds):
        x = feeds["image"]
        n, c, h, w = x.shape
        p = x.reshape(n, c, h // 4, 4, w // 4, 4).mean(axis=(3, 5))
        return [np.concatenate([p, p[:, :2]], axis=1)]


def test_tiled_probabilities_equal_one_pass():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 150, 230)).astype(np.float32)
    model = DefectModel(PoolingSession(), card(tile=64, overlap=16))
    got = model.probabilities(x)
    whole = PoolingSession().run(None, {"image": pad_to_multiple(x, 16)[None]})[0][0]
    assert got.shape == (5, 38, 58)
    assert np.allclose(got, whole[:, :38, :58])


def blob_probs(shape=(40, 60)) -> np.ndarray:
    p = np.zeros((5, *shape), np.float32)
    p[0] = 1.0
    return p


def put(p, k, y0, y1, x0, x1, v=0.9):
    p[k, y0:y1, x0:x1] = v
    p[0, y0:y1, x0:x1] = 1 - v


def test_regions_boxes_scores_and_filters():
    p = blob_probs()
    put(p, 2, 5, 10, 5, 15)  # foreign matter, 5 x 10 cells
    put(p, 3, 30, 31, 50, 51)  # a one-cell stain: below the area limit
    put(p, 4, 20, 26, 30, 34, v=0.55)  # loose fibres with a weak peak
    valid = np.ones((40, 60), bool)
    th = thresholds(prob=0.5, area=8.0, score=0.6)  # cells of 2 mm: 4 mm2 each
    found = find_defects(p, valid, cell_mm=2.0, cell_px=8.0, th=th)
    assert [(f.type, f.box, f.size_px) for f in found] == [
        ("foreign_matter", (40.0, 40.0, 80.0, 40.0), (80.0, 40.0))
    ]
    assert found[0].score == pytest.approx(0.9)


def test_regions_outside_the_view_are_ignored():
    p = blob_probs()
    put(p, 2, 5, 10, 5, 15)
    valid = np.ones((40, 60), bool)
    valid[:, :20] = False
    assert find_defects(p, valid, 2.0, 1.0, thresholds()) == []


def test_pieces_of_one_string_merge_but_distant_ones_do_not():
    # a string passing under strands shows as pieces a few mm apart
    boxes = [
        ((0.0, 0.0, 10.0, 2.0), 0.8),
        ((13.0, 0.0, 10.0, 2.0), 0.9),
        ((60.0, 0.0, 5.0, 5.0), 0.7),
    ]
    got = merge_close(boxes, gap=6.0)
    assert sorted(got) == [((0.0, 0.0, 23.0, 2.0), 0.9), ((60.0, 0.0, 5.0, 5.0), 0.7)]


def test_a_string_in_pieces_is_judged_by_its_whole_area_when_the_card_says_so():
    # three pieces of one foreign-matter string, 2 x 3 cells each (24 mm2), parted by the two
    # strands it passes under (2 cells, 4 mm); the limit is 48 mm2
    p = blob_probs()
    for x0 in (5, 10, 15):
        put(p, 2, 10, 12, x0, x0 + 3)
    valid = np.ones((40, 60), bool)
    per_piece = thresholds(area=48.0, gap=6.0)
    assert find_defects(p, valid, 2.0, 1.0, per_piece) == []
    whole = Thresholds(per_piece.prob, per_piece.min_area_mm2, per_piece.min_score,
                       per_piece.merge_gap_mm, area_after_merge=True)
    found = find_defects(p, valid, 2.0, 1.0, whole)
    assert [(f.type, f.box) for f in found] == [("foreign_matter", (5.0, 10.0, 13.0, 2.0))]


def test_merging_sums_the_cells_of_the_pieces():
    got = merge_close([((0.0, 0.0, 2.0, 2.0), 0.8, 4), ((3.0, 0.0, 2.0, 2.0), 0.9, 4)], gap=2.0)
    assert got == [((0.0, 0.0, 5.0, 2.0), 0.9, 8)]


def test_each_cell_goes_to_one_defect_class():
    p = blob_probs()
    put(p, 2, 5, 10, 5, 15, v=0.6)
    p[3, 5:10, 5:15] = 0.7  # stain likelier in the same cells
    found = find_defects(p, np.ones((40, 60), bool), 2.0, 1.0, thresholds())
    assert [f.type for f in found] == ["stain"]

"""A read that leaves many mesh cells to the faint-strand test is no read (structural.
MAX_PARTED_CELLS): on a bench whose flakes look like yarn the mask merges openings all over
the net and only strands too faint to measure keep them apart; a hole among them is read as
parted too, and the net passed. Such a photo is refused, as one whose openings fall to pieces
is (MAX_SHARED_CELLS)."""

import numpy as np
import pytest
from test_stain_place import SPEC, photo

from qcstation.errors import ImageError
from qcstation.model import DefectModel
from qcstation.pipeline import Inspector
from qcstation.structural import MAX_PARTED_CELLS, _check_parted


def test_a_few_parted_cells_are_a_read_many_are_not():
    cells = np.array([1] * 80 + [2] * 8)  # 96 cells, 16 of them in merged pairs
    _check_parted(cells, list(range(80, 88)))  # 17 %: read
    cells = np.array([1] * 70 + [2] * 13)  # 96 cells, 26 in merged pairs
    with pytest.raises(ImageError, match="merge with a neighbour"):
        _check_parted(cells, list(range(70, 83)))
    assert 16 / 96 < MAX_PARTED_CELLS < 26 / 96


def test_a_hole_on_a_chipboard_bench_no_longer_passes():
    # `qcstation synth --n 40 --seed 6450 --family workshop`, photo 0029 (chipboard): a hole of
    # four cells and an irregular mesh; 32 % of the cells merge in the mask and are parted by
    # faint strands (flakes the colour of the yarn), and the net passed
    image, truth, cal = photo(6450, 28, "workshop")
    assert truth["bench"] == "chipboard" and truth["verdict"] == "fail"
    result, _ = Inspector(SPEC, cal, model=DefectModel.load(threads=1), threads=1).inspect(
        image, "0029.jpg")
    assert result.verdict == "error"
    assert "merge with a neighbour" in result.error

"""Buyer specs: the shipped ones load; every bad file is refused naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from qcstation.errors import SpecError
from qcstation.spec import Spec, load_spec, parse_spec

SPECS = Path(__file__).parents[1] / "specs"

GOOD = """\
[spec]
name = "TEST-25"

[mesh]
opening_mm = [25.0, 25.0]
tolerance_mm = 3.0
max_opening_mm = 35.0
min_strand_mm = 4.0

[defects.max_count]
stain = 2
"""


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_specs_load(path):
    spec = load_spec(path)
    assert isinstance(spec, Spec)
    assert spec.name.startswith("KR-CN-")
    lo, hi = spec.mesh.opening_mm
    assert spec.mesh.max_opening_mm > max(lo, hi) > 0


def test_minimal_spec_takes_defaults():
    spec = parse_spec(GOOD, "good.toml")
    assert spec.mesh.quantity == "opening"
    assert spec.mesh.min_openings == 20
    assert spec.defects.max_count.hole == 0  # a type not written: none allowed
    assert spec.defects.max_count.stain == 2


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# (case, file content, key the message must name)
BAD_SPECS = [
    ("unknown key", GOOD.replace("[mesh]\n", "[mesh]\ncolour = 'brown'\n"), "mesh.colour"),
    ("unknown table", GOOD + "[lighting]\nlux = 500\n", "lighting"),
    ("missing [mesh]", GOOD.split("[mesh]")[0], "mesh"),
    ("missing opening_mm", _replace("opening_mm = [25.0, 25.0]\n", ""), "mesh.opening_mm"),
    ("missing name", _replace('name = "TEST-25"\n', ""), "spec.name"),
    ("wrong type", _replace("tolerance_mm = 3.0", 'tolerance_mm = "three"'), "mesh.tolerance_mm"),
    (
        "negative tolerance",
        _replace("tolerance_mm = 3.0", "tolerance_mm = -1.0"),
        "mesh.tolerance_mm",
    ),
    ("opening_mm of length 3", _replace("[25.0, 25.0]", "[25.0, 25.0, 25.0]"), "mesh.opening_mm"),
    ("opening_mm out of range", _replace("[25.0, 25.0]", "[25.0, 500.0]"), "mesh.opening_mm"),
    (
        "max_opening equal to nominal",
        _replace("max_opening_mm = 35.0", "max_opening_mm = 25.0"),
        "mesh.max_opening_mm",
    ),
    (
        "max_opening below nominal",
        _replace("max_opening_mm = 35.0", "max_opening_mm = 20.0"),
        "mesh.max_opening_mm",
    ),
    ("bad quantity", GOOD.replace("[mesh]\n", '[mesh]\nquantity = "area"\n'), "mesh.quantity"),
    (
        "fractional min_openings",
        GOOD.replace("[mesh]\n", "[mesh]\nmin_openings = 2.5\n"),
        "mesh.min_openings",
    ),
    (
        "negative defect limit",
        _replace("stain = 2", "stain = -1"),
        "defects.max_count.stain",
    ),
    ("unknown defect type", _replace("stain = 2", "mould = 1"), "defects.max_count.mould"),
    # strict types: a bool is no count and a string no number; both were once converted, so
    # that `hole = true` allowed a hole
    ("bool count", _replace("stain = 2", "hole = true"), "defects.max_count.hole"),
    ("string count", _replace("stain = 2", 'hole = "1"'), "defects.max_count.hole"),
    ("float count", _replace("stain = 2", "hole = 1.0"), "defects.max_count.hole"),
    ("string tolerance", _replace("tolerance_mm = 3.0", 'tolerance_mm = "3.0"'),
     "mesh.tolerance_mm"),
    ("string min_openings", GOOD.replace("[mesh]\n", '[mesh]\nmin_openings = "20"\n'),
     "mesh.min_openings"),
    ("bool in opening_mm", _replace("[25.0, 25.0]", "[true, 25.0]"), "mesh.opening_mm.0"),
    ("string in opening_mm", _replace("[25.0, 25.0]", '["25", 25.0]'), "mesh.opening_mm.0"),
    ("bool tolerance", _replace("tolerance_mm = 3.0", "tolerance_mm = true"), "mesh.tolerance_mm"),
    ("infinite tolerance", _replace("tolerance_mm = 3.0", "tolerance_mm = inf"),
     "mesh.tolerance_mm"),
    ("nan opening", _replace("[25.0, 25.0]", "[nan, 25.0]"), "mesh.opening_mm.0"),
    ("number as name", _replace('name = "TEST-25"', "name = 25"), "spec.name"),
    ("no defect limits", GOOD.split("[defects.max_count]")[0], "[defects.max_count]"),
    ("empty defects table", GOOD.split("[defects.max_count]")[0] + "[defects]\n",
     "[defects.max_count]"),
]


@pytest.mark.parametrize(("text", "key"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "buyer.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ")
    assert (key if key.startswith("[") else f"'{key}'") in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[spec\nname = 1", "not valid TOML"),
        (b'[spec]\nname = "\xff\xfe"\n', "not UTF-8"),
        (None, "not found"),
    ],
    ids=["garbage TOML", "non-UTF-8 bytes", "missing file"],
)
def test_unreadable_spec_names_file(tmp_path, content, expected):
    path = tmp_path / "buyer.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SpecError, match=expected) as e:
        load_spec(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg


def test_several_problems_reported_together(tmp_path):
    text = _replace("tolerance_mm = 3.0", "tolerance_mm = -1.0\ncolour = 1")
    with pytest.raises(SpecError) as e:
        parse_spec(text, "two.toml")
    assert "'mesh.tolerance_mm'" in str(e.value) and "'mesh.colour'" in str(e.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_replace("tolerance_mm = 3.0", "tolerance_mm = " + "9" * 5000), "too long"),
        (_replace("tolerance_mm = 3.0", "tolerance_mm = " + "[" * 3000 + "]" * 3000),
         "nested too deeply"),
    ],
    ids=["5000-digit number", "deep nesting"],
)
def test_unreadable_numbers_and_nesting_are_one_sentence(tmp_path, text, expected):
    path = tmp_path / "buyer.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=expected) as e:
        load_spec(path)
    assert str(e.value).startswith(f"{path}: ") and "\n" not in str(e.value)


def test_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "buyer.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())  # as Windows Notepad saves UTF-8
    assert load_spec(path).name == "TEST-25"


def test_only_regular_files_of_sane_size(tmp_path):
    import os

    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)  # reading it would wait for a writer for ever
    with pytest.raises(SpecError, match="pipe") as e:
        load_spec(fifo)
    assert "\n" not in str(e.value)
    with pytest.raises(SpecError, match="device"):
        load_spec("/dev/zero")  # would never end
    big = tmp_path / "big.toml"
    big.write_text(GOOD + "#" * 400_000 + "\n")
    with pytest.raises(SpecError, match="more than"):
        load_spec(big)

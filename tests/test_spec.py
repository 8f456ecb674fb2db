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
    assert spec.defects.max_count.hole == 0


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# (case, file content, key the message must name)
BAD_SPECS = [
    ("unknown key", GOOD + "colour = 'brown'\n", "mesh.colour"),
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
        GOOD + "[defects.max_count]\nstain = -1\n",
        "defects.max_count.stain",
    ),
    ("unknown defect type", GOOD + "[defects.max_count]\nmould = 1\n", "defects.max_count.mould"),
]


@pytest.mark.parametrize(("text", "key"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "buyer.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ")
    assert f"'{key}'" in msg
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
    text = _replace("tolerance_mm = 3.0", "tolerance_mm = -1.0") + "colour = 1\n"
    with pytest.raises(SpecError) as e:
        parse_spec(text, "two.toml")
    assert "'mesh.tolerance_mm'" in str(e.value) and "'mesh.colour'" in str(e.value)

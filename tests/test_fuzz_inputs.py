"""Mutated inputs of failing nets (hypothesis): no traceback, no crash, and never a pass.

Two small failing nets (a hole each, rendered once per session at 800 x 600) are inspected with
their spec TOML, calibration JSON or JPEG bytes mutated: truncated, zeroed, bytes flipped,
values swapped for wrong ones, bands painted over the frame. Every outcome must be a verdict
(fail or error) or one of qcstation's own errors (one sentence for the user); a mutation may
never make the net pass. A spec that still allows no hole must not pass the net either, and a
limit written as a bool, a string or a fraction must be refused, not converted.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcstation.calibration import calibration_to_dict
from qcstation.calibration_io import load_calibration
from qcstation.cli import main
from qcstation.errors import QCError
from qcstation.imageio import decode_image
from qcstation.pipeline import Inspector
from qcstation.spec import load_spec, parse_spec
from qcstation.synth.bench import BENCHES
from qcstation.synth.dataset import camera_for
from qcstation.synth.render import Plan, render_sample

SPEC_PATH = Path("specs/kr-coirnet-25.toml")
SIZE = (800, 600)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WRONG_VALUES = ["true", "false", '"1"', '"3.0"', "0", "-1", "1e400", "-0.0", "nan", "inf",
                "99999999999999999999999", "[1, 2]", "{a = 1}", '""', "1.5", "[true, 25]",
                "0" * 400 + "1"]


@dataclass(frozen=True, repr=False)
class Failing:
    jpegs: tuple[bytes, ...]  # failing nets, a hole each
    spec_text: str
    cal_text: str
    inspector: Inspector  # the true spec and calibration
    folder: Path


@pytest.fixture(scope="module")
def failing(tmp_path_factory) -> Failing:
    camera = camera_for(7, SIZE, (1.6, 2.4))
    spec = load_spec(SPEC_PATH)
    inspector = Inspector(spec, camera.calibration())
    jpegs = []
    for i in (0, 2):  # backlit panel, dark table
        s = render_sample(camera, np.random.default_rng([7, 1000 + i]), spec,
                          bench=BENCHES[i % len(BENCHES)], plan=Plan("structural", ("hole",)))
        ok, buf = cv2.imencode(".jpg", s.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok and s.truth["verdict"] == "fail"
        jpegs.append(buf.tobytes())
        result, _ = inspector.inspect(decode_image(jpegs[-1], "net.jpg"), "net.jpg")
        assert result.verdict == "fail", result.reasons  # as rendered, before any mutation
    cal_text = json.dumps(calibration_to_dict(camera.calibration()), indent=1)
    folder = tmp_path_factory.mktemp("fuzz")
    return Failing(tuple(jpegs), SPEC_PATH.read_text(), cal_text, inspector, folder)


def verdict_of(inspector: Inspector, data: bytes) -> str:
    """The verdict the station gives these file bytes ('error' when they cannot be read)."""
    try:
        image = decode_image(data, "net.jpg")
    except QCError:
        return "error"
    result, _ = inspector.inspect(image, "net.jpg")
    assert result.verdict in ("fail", "error")
    assert (result.error is not None) == (result.verdict == "error")
    return result.verdict


@dataclass(frozen=True)
class Damage:
    """Bytes of a photo cut, zeroed or flipped (shown short when hypothesis reports a case)."""

    kind: str  # "truncate", "zero", "flip"
    at: tuple[int, ...]
    size: int = 0
    xor: int = 0

    def apply(self, data: bytes) -> bytes:
        buf = bytearray(data)
        if self.kind == "truncate":
            return bytes(buf[:self.at[0]])
        if self.kind == "zero":
            a = self.at[0]
            buf[a:a + self.size] = bytes(len(buf[a:a + self.size]))
        for pos in self.at if self.kind == "flip" else ():
            buf[pos] ^= self.xor
        return bytes(buf)


def damage(n: int) -> st.SearchStrategy[Damage]:
    """Truncation, a zeroed block of up to 8 KB or up to 8 flipped bytes, past the first 2."""
    where = st.integers(2, n - 1)
    return st.one_of(
        st.builds(Damage, st.just("truncate"), st.tuples(where)),
        st.builds(Damage, st.just("zero"), st.tuples(where), st.integers(1, 8192)),
        st.builds(Damage, st.just("flip"), st.lists(where, min_size=1, max_size=8).map(tuple),
                  st.just(0), st.integers(1, 255)))


@dataclass(frozen=True)
class Band:
    """A band of one colour over the frame, across or along, at least a tenth of it."""

    along: bool
    start: float  # share of the side
    length: float
    colour: str  # "median", "white", "black", "grey", "bright"

    def apply(self, data: bytes) -> bytes:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        pixels = img.reshape(-1, 3)
        value = {"median": np.median(pixels, 0), "white": 255, "black": 0, "grey": 128,
                 "bright": np.percentile(pixels, 98, axis=0)}[self.colour]
        side = img.shape[0 if self.along else 1]
        a = int(self.start * side)
        b = min(side, a + max(side // 10, int(self.length * side)))
        if self.along:
            img[a:b] = value
        else:
            img[:, a:b] = value
        return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


BANDS = st.builds(Band, st.booleans(), st.floats(0, 0.9), st.floats(0.1, 1.0),
                  st.sampled_from(["median", "white", "black", "grey", "bright"]))


@FUZZ
@given(net=st.integers(0, 1), data=st.data())
def test_image_bytes_mutated_never_pass(failing, net, data):
    jpeg = failing.jpegs[net]
    mutation = data.draw(damage(len(jpeg)), label="damage")
    assert verdict_of(failing.inspector, mutation.apply(jpeg)) != "pass"


@FUZZ
@given(net=st.integers(0, 1), band=BANDS)
def test_blank_bands_never_pass(failing, net, band):
    assert verdict_of(failing.inspector, band.apply(failing.jpegs[net])) != "pass"


@st.composite
def text_mutation(draw, text: str) -> str:
    """A value swapped for a wrong one, a line dropped, the text cut short, or a character
    replaced."""
    kind = draw(st.sampled_from(["value", "value", "drop", "truncate", "char"]))
    if kind == "value":
        spans = [m.span() for m in re.finditer(r"-?\d+(\.\d+)?(e-?\d+)?|true|false|\"[^\"]*\"",
                                               text)]
        a, b = draw(st.sampled_from(spans))
        new = draw(st.sampled_from(WRONG_VALUES) | st.floats(allow_nan=True).map(repr))
        return text[:a] + new + text[b:]
    if kind == "drop":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i] + lines[i + 1:])
    if kind == "truncate":
        return text[:draw(st.integers(0, len(text) - 1))]
    i = draw(st.integers(0, len(text) - 1))
    return text[:i] + draw(st.characters(codec="utf-8")) + text[i + 1:]


@FUZZ
@given(data=st.data())
def test_spec_text_mutated_never_passes_a_hole(failing, data):
    text = data.draw(text_mutation(failing.spec_text), label="spec")
    try:
        spec = parse_spec(text, "spec.toml")
    except QCError:
        return
    written = _hole_limit_as_written(text)
    # a hole limit is a whole number, read as written (none written: none allowed); a bool, a
    # string or a fraction is refused, not converted
    assert written == spec.defects.max_count.hole if written is not None else (
        spec.defects.max_count.hole == 0)
    assert written is None or type(written) is int, (written, spec.defects.max_count.hole)
    if spec.defects.max_count.hole > 0:
        return  # a spec that allows a hole may pass the net
    inspector = Inspector(spec, failing.inspector.cal)
    assert verdict_of(inspector, failing.jpegs[0]) != "pass"


def _hole_limit_as_written(text: str):
    limits = tomllib.loads(text).get("defects", {}).get("max_count", {})
    return limits.get("hole") if isinstance(limits, dict) else None


@FUZZ
@given(data=st.data())
def test_calibration_text_mutated_never_passes(failing, data):
    path = failing.folder / "cal.json"
    path.write_text(data.draw(text_mutation(failing.cal_text), label="calibration"),
                    encoding="utf-8")
    try:
        inspector = Inspector(failing.inspector.spec, load_calibration(path))
    except QCError:
        return
    assert verdict_of(inspector, failing.jpegs[0]) != "pass"


def _zeroed(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(4096) + data[mid + 4096:]


@pytest.mark.parametrize("what, edit", [
    ("truncated photo", lambda f: ("image", f.jpegs[0][:len(f.jpegs[0]) // 2])),
    ("4 KB zeroed in the photo", lambda f: ("image", _zeroed(f.jpegs[0]))),
    ("hole = true in the spec", lambda f: ("spec", f.spec_text.replace("hole = 0", "hole = true"))),
    ("calibration cut short", lambda f: ("cal", f.cal_text[:len(f.cal_text) // 3])),
    ("image size 100000 x 100000", lambda f: ("cal", re.sub(
        r'"image_size": \[\s*\d+,\s*\d+\s*\]', '"image_size": [100000, 100000]', f.cal_text))),
])
def test_cli_in_process_answers_in_one_sentence(failing, tmp_path, capsys, what, edit):
    """`qcstation inspect` run as a user runs it: exit 1 (an image error) or 2 (bad input),
    one line on stderr, no traceback, no PASS."""
    files = {"image": failing.jpegs[0], "spec": failing.spec_text.encode(),
             "cal": failing.cal_text.encode()}
    key, content = edit(failing)
    files[key] = content if isinstance(content, bytes) else content.encode()
    names = {"image": "net.jpg", "spec": "spec.toml", "cal": "cal.json"}
    for k, v in files.items():
        (tmp_path / names[k]).write_bytes(v)
    code = main(["inspect", "--no-model", "--json", "--spec", str(tmp_path / "spec.toml"),
                 "--calibration", str(tmp_path / "cal.json"), str(tmp_path / "net.jpg")])
    out, err = capsys.readouterr()
    assert code in (1, 2), (what, out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, (what, err)
    assert '"verdict": "pass"' not in out, what

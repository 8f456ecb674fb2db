"""What `inspect` writes: overlays that never replace a file, and no lost or garbled result.

Each case once went wrong: --out on the input folder replaced the photos, a/0003.jpg and
b/0003.jpg shared one overlay, an overlay write failure ended the batch with exit 2, a
non-UTF-8 file name crashed cv2.putText and put invalid UTF-8 into the JSON, and a closed pipe or
a full disk gave a traceback. The nets are tests/netimg.py grids: a/0003.jpg has the nominal
25 mm openings (pass), b/0003.jpg 31 mm ones (fail: outside 25 +- 3 mm).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from netimg import grid_net, ideal_calibration

from qcstation.calibration_io import save_calibration
from qcstation.cli.outputs import overlay_stem
from qcstation.imageio import write_image

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "kr-coirnet-25.toml"
S = 4.0  # px per mm of the test camera


def _look(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """Defocus and sensor noise, so edges are not perfect steps."""
    img = cv2.GaussianBlur(img, (0, 0), 0.8)
    noise = np.random.default_rng(seed).normal(0, 2.5, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bench")
    save_calibration(ideal_calibration(1200, 900, S), d / "cal.json")
    write_image(d / "a" / "0003.jpg", _look(grid_net(1200, 900, S)), 92)
    write_image(d / "b" / "0003.jpg", _look(grid_net(1200, 900, S, opening=(31.0, 31.0))), 92)
    return d


def qc(*args: str, **kw) -> subprocess.CompletedProcess:
    if "stdout" not in kw:
        kw["capture_output"] = True
    kw.setdefault("timeout", 300)
    return subprocess.run([sys.executable, "-m", "qcstation", *args], cwd=ROOT, **kw)


def inspect(bench: Path, *images: Path, extra: tuple[str, ...] = (), **kw):
    return qc("inspect", "--spec", str(SPEC), "--calibration", str(bench / "cal.json"),
              "--no-model", "--json", *map(str, images), *extra, **kw)


def _lines(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_base_names_and_two_runs_never_share_an_overlay(bench, tmp_path):
    a, b = bench / "a" / "0003.jpg", bench / "b" / "0003.jpg"
    out = tmp_path / "out"
    r = inspect(bench, a, b, extra=("--out", str(out)))
    assert r.returncode == 0, r.stderr
    assert [x["verdict"] for x in _lines(r)] == ["pass", "fail"]
    names = {f"{overlay_stem(a)}.jpg", f"{overlay_stem(b)}.jpg"}
    assert set(os.listdir(out)) == names and len(names) == 2
    first = _digests(out)
    r = inspect(bench, b, a, extra=("--out", str(out)))  # a second run into the same folder
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(out)) == 4
    assert {k: v for k, v in _digests(out).items() if k in first} == first  # nothing replaced


def test_out_on_the_input_folder_is_refused_and_the_inputs_kept(bench):
    before = _digests(bench)
    r = inspect(bench, bench / "a" / "0003.jpg", extra=("--out", str(bench / "a")))
    assert r.returncode == 2 and r.stdout == b""
    assert b"folder of the input" in r.stderr and r.stderr.count(b"\n") == 1
    assert _digests(bench) == before


@pytest.mark.parametrize("kind", ["file", "below a file"])
def test_bad_out_is_refused_before_the_first_image(bench, tmp_path, kind):
    f = tmp_path / "taken"
    f.write_text("not a folder")
    out = f if kind == "file" else f / "overlays"
    r = inspect(bench, bench / "a" / "0003.jpg", extra=("--out", str(out)))
    assert r.returncode == 2 and r.stdout == b""  # nothing was inspected and dropped
    assert r.stderr.startswith(b"qcstation inspect: --out") and r.stderr.count(b"\n") == 1


def test_an_overlay_that_cannot_be_written_is_that_images_error(bench, tmp_path):
    """A file-size limit below an overlay's size: every write fails (EFBIG), as on a full disk."""
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "out"
    out.mkdir()
    r = inspect(bench, bench / "a" / "0003.jpg", bench / "b" / "0003.jpg",
                extra=("--out", str(out)), preexec_fn=small_files)
    assert r.returncode == 1, r.stderr  # not 2: the arguments were fine
    got = _lines(r)
    assert len(got) == 2  # the batch went on
    for x in got:
        assert x["verdict"] == "error" and "overlay was not written" in x["error"]
    assert "judged pass" in got[0]["error"] and "judged fail" in got[1]["error"]
    assert os.listdir(out) == []  # no half-written file, no temp file left
    assert b"Traceback" not in r.stderr


def test_a_non_utf8_file_name_is_shown_and_drawn_safely(bench, tmp_path):
    raw = os.fsencode(tmp_path) + b"/net\xff\xfe.jpg"
    with open(raw, "wb") as f:
        f.write((bench / "a" / "0003.jpg").read_bytes())
    out = tmp_path / "out"
    r = inspect(bench, Path(os.fsdecode(raw)), extra=("--out", str(out)))
    assert r.returncode == 0, r.stderr
    (got,) = _lines(r)  # decoded strictly: valid UTF-8
    assert got["image"].endswith("net\\xff\\xfe.jpg") and got["verdict"] == "pass"
    (overlay,) = os.listdir(out)
    assert overlay.isascii() and cv2.imread(str(out / overlay)) is not None


def test_a_closed_pipe_ends_with_one_sentence(bench):
    a = str(bench / "a" / "0003.jpg")
    cmd = (f"{sys.executable} -m qcstation inspect --spec {SPEC} --calibration "
           f"{bench / 'cal.json'} --no-model --json {a} {a} {a} {a} | head -1")
    r = subprocess.run(["bash", "-c", cmd + "; echo rc=${PIPESTATUS[0]} >&2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert len(r.stdout.splitlines()) == 1
    err = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr
    assert err == ["qcstation inspect: the output was closed before every result was "
                   "written; the results after it are lost.", "rc=1"]


def test_a_full_disk_on_stdout_ends_with_one_sentence(bench):
    with open("/dev/full", "wb") as full:
        r = inspect(bench, bench / "a" / "0003.jpg", stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 1
    assert b"Traceback" not in r.stderr and r.stderr.count(b"\n") == 1
    assert b"No space left on device" in r.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--px-per-mm", v) for v in ("-1", "nan", "inf", "0", "30", "x")]
    + [("--threads", v) for v in ("0", "-2", "1000", "two")],
)
def test_out_of_range_options_are_refused(bench, option, value):
    r = inspect(bench, bench / "a" / "0003.jpg", extra=(option, value))
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.count(b"\n") == 1 and b"must be" in r.stderr


def test_px_per_mm_within_range_is_used(bench):
    r = inspect(bench, bench / "a" / "0003.jpg", extra=("--px-per-mm", "2.5"))
    assert r.returncode == 0, r.stderr
    assert _lines(r)[0]["verdict"] == "pass"


@pytest.mark.parametrize("args", [("--n", "0"), ("--n", "100000"), ("--seed", "-1")])
def test_demo_refuses_out_of_range_counts(tmp_path, args):
    r = qc("demo", "--batch", "--out", str(tmp_path / "demo"), "--no-model", *args)
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and b"must be" in r.stderr
    assert not (tmp_path / "demo").exists()  # refused before any work


def test_synth_refuses_sizes_inspect_would_refuse(tmp_path):
    r = qc("synth", "--out", str(tmp_path / "s"), "--n", "1", "--seed", "1",
           "--size", "12000x12000")  # 144 megapixels: more than an image may have
    assert r.returncode == 2 and b"megapixels" in r.stderr and r.stderr.count(b"\n") == 1


@pytest.mark.parametrize("which", ["--spec", "--calibration"])
@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_spec_or_calibration_that_is_no_file_is_refused_at_once(bench, tmp_path, which, kind):
    path = "/dev/zero"
    if kind == "fifo":
        path = str(tmp_path / "pipe")
        os.mkfifo(path)
    files = {"--spec": str(SPEC), "--calibration": str(bench / "cal.json"), which: path}
    r = qc("inspect", "--spec", files["--spec"], "--calibration", files["--calibration"],
           str(bench / "a" / "0003.jpg"), timeout=60)
    assert r.returncode == 2 and r.stdout == b"" and r.stderr.count(b"\n") == 1
    assert b"not a regular file" in r.stderr


def test_calibrate_output_onto_an_input_photo_is_refused(bench):
    photo = bench / "a" / "0003.jpg"
    before = photo.read_bytes()
    r = qc("calibrate", "--square-mm", "25", str(photo), "-o", str(photo))
    assert r.returncode == 2 and b"one of the input photos" in r.stderr
    assert photo.read_bytes() == before

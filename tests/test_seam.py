"""The seam between the engine and the station: Frame, a prebuilt bench view shared across
specs, one bound on the threads, and the heap setting applied by the Inspector itself.

Expected values come from the drawn nets (tests/netimg.py: strands are rectangles of known
size) and from the kernel's own page-fault count."""

import ast
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from netimg import grid_net, ideal_calibration

from qcstation import threads
from qcstation.domain import Frame
from qcstation.pipeline import Inspector
from qcstation.rectify import Rectifier
from qcstation.spec import load_spec

SPEC_25 = load_spec("specs/kr-coirnet-25.toml")
SPEC_20 = load_spec("specs/kr-coirnet-20.toml")
S = 4.0


@pytest.fixture(scope="module")
def bench():
    return Rectifier.build(ideal_calibration(1200, 900, S))


@pytest.fixture(scope="module")
def net25():
    img = grid_net(1200, 900, S, (25.0, 25.0), 6.0, 225, (40, 70, 110))
    return cv2.GaussianBlur(img, (0, 0), 0.8)


@pytest.fixture(autouse=True)
def _restore_threads():
    before = cv2.getNumThreads()
    yield
    threads.set_limit(None)
    cv2.setNumThreads(before)


def test_a_frame_has_an_id_a_utc_time_and_its_source():
    a = Frame(pixels=np.zeros((4, 4, 3), np.uint8), source="simulated")
    b = Frame(pixels=np.zeros((4, 4, 3), np.uint8), source="folder:/in", name="n1.jpg")
    assert len(a.id) == 32 and int(a.id, 16) >= 0 and a.id != b.id
    assert a.captured_at.tzinfo is not None and a.captured_at.utcoffset().total_seconds() == 0
    assert (a.label, b.label) == (a.id, "n1.jpg")
    with pytest.raises(ValueError, match="timezone"):
        Frame(pixels=a.pixels, source="x", captured_at=datetime(2026, 1, 1))


def test_an_inspection_refers_to_its_frame(bench, net25):
    inspector = Inspector(SPEC_25, bench.cal, bench=bench)
    frame = Frame(pixels=net25, source="simulated")
    result, analysis = inspector.inspect_frame(frame)
    assert result.frame_id == frame.id and result.image == frame.id
    assert result.verdict == "pass" and analysis is not None
    assert result.mesh.opening_w_mm.mean == pytest.approx(25.0, abs=0.3)  # the drawn gap
    named = inspector.inspect_frame(Frame(pixels=net25, source="file", name="a.jpg"))[0]
    assert named.image == "a.jpg" and "frame_id" not in named.to_json()  # CLI JSON unchanged


def test_with_spec_shares_the_bench_view_and_judges_the_new_spec(bench, net25):
    inspector = Inspector(SPEC_25, bench.cal, bench=bench)
    assert inspector.rect is bench  # prebuilt: not built again
    other = inspector.with_spec(SPEC_20)
    assert other.rect is bench and other.spec is SPEC_20 and inspector.spec is SPEC_25
    frame = Frame(pixels=net25, source="simulated")
    assert inspector.inspect_frame(frame)[0].verdict == "pass"
    # a 25 mm net against the 20 mm spec (tolerance well under 5 mm) fails on its openings
    assert other.inspect_frame(frame)[0].verdict == "fail"


def test_a_bench_view_of_another_camera_is_refused(bench):
    with pytest.raises(ValueError, match="another calibration"):
        Inspector(SPEC_25, ideal_calibration(640, 480, S), bench=bench)


def test_one_thread_bound_gives_the_same_result(bench, net25):
    frame = Frame(pixels=net25, source="simulated")
    free = Inspector(SPEC_25, bench.cal, bench=bench).inspect_frame(frame)[0]
    bounded = Inspector(SPEC_25, bench.cal, bench=bench, threads=1)
    assert cv2.getNumThreads() == 1 and threads.limit() == 1
    one = bounded.inspect_frame(frame)[0]
    assert one.mesh == free.mesh and one.defects == free.defects and one.verdict == free.verdict


def test_the_engine_helper_runs_on_the_callers_thread_when_bounded_to_one():
    threads.set_limit(1)
    with threads.helper_pool() as pool:
        assert pool.submit(threading.get_ident).result() == threading.get_ident()
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result()
    threads.set_limit(2)
    assert cv2.getNumThreads() == 2
    with threads.helper_pool() as pool:
        assert pool.submit(threading.get_ident).result() != threading.get_ident()


def test_the_model_runs_the_threads_it_was_given():
    from qcstation.model import DefectModel

    model = DefectModel.load(threads=1)
    assert model.threads == 1
    assert model.session.get_session_options().intra_op_num_threads == 1


PROBE = """
import resource, sys
import numpy as np
sys.path.insert(0, "tests")
from netimg import ideal_calibration
from qcstation.spec import load_spec
if sys.argv[1] == "inspector":
    from qcstation.pipeline import Inspector
    Inspector(load_spec("specs/kr-coirnet-25.toml"), ideal_calibration(64, 48, 1.0))
def faults_of_one_frame():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.ones((3000, 4000), np.int32)  # 48 MB, like a 12 MP frame's integral image
    del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_one_frame()
print(min(faults_of_one_frame() for _ in range(3)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_an_inspector_keeps_large_buffers_whatever_started_it():
    # given a fresh process that never runs the CLI, only builds an Inspector (as the station,
    # the web app and the benchmarks do), large buffers are reused, not faulted in again
    def faults(mode):
        out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True,
                             text=True, check=True)
        return int(out.stdout)

    assert faults("none") >= 20
    assert faults("inspector") <= 5


PKG = Path(__file__).resolve().parents[1] / "qcstation"


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside functions), first name after qcstation."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            mods = [node.module or ""]
        elif isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        else:
            continue
        for mod in mods:
            parts = mod.split(".")
            names.add(parts[1] if parts[0] == "qcstation" and len(parts) > 1 else parts[0])
    return names


@pytest.mark.parametrize("path", sorted((PKG / "station").rglob("*.py")),
                         ids=lambda p: p.relative_to(PKG).as_posix())
def test_the_station_does_not_load_the_renderer_or_training(path):
    assert not top_level_imports(path) & {"synth", "train", "torch"}


def test_only_the_opencv_source_opens_a_camera():
    users = sorted(p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py")
                   if "VideoCapture(" in p.read_text())
    assert users == ["station/sources/opencv.py"]

"""Frame sources on real parts: an HTTP MJPEG camera served here (and stopped and started
again), a video file written with cv2.VideoWriter, a real folder with files written slowly,
renamed into place or damaged, and the simulated camera. Each frame the servers send carries
its number in 16 black/white blocks, so a test reads which frame it got."""

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from qcstation.pipeline import Inspector
from qcstation.spec import load_spec
from qcstation.station import settings as st
from qcstation.station.sources import FrameSource, LiveSource, make_source
from qcstation.station.sources.opencv import StreamGrabber, UsbGrabber
from qcstation.station.sources.simulated import SimulatedCamera

BITS = 16


def numbered(i: int, size=(320, 240)) -> np.ndarray:
    """A frame whose number is written as BITS blocks (white = 1), readable after JPEG."""
    w, h = size
    img = np.full((h, w, 3), 40, np.uint8)
    bw = w // BITS
    for b in range(BITS):
        if i >> b & 1:
            img[:, b * bw:(b + 1) * bw] = 230
    return img


def number_of(img: np.ndarray) -> int:
    bw = img.shape[1] // BITS
    cols = img[:, : bw * BITS].mean(axis=(0, 2)).reshape(BITS, bw).mean(axis=1)
    return int(sum(1 << b for b in range(BITS) if cols[b] > 135))


class MjpegCamera:
    """An IP camera on 127.0.0.1: multipart/x-mixed-replace JPEG frames at `fps`."""

    def __init__(self, port: int = 0, start: int = 0, fps: float = 25.0):
        self.next, self.fps, self.frozen = start, fps, False
        self.stopping = threading.Event()
        cam = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while not cam.stopping.is_set():
                        i = cam.next if cam.frozen else cam.advance()
                        ok, buf = cv2.imencode(".jpg", numbered(i))
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         b"Content-Length: %d\r\n\r\n" % len(buf))
                        self.wfile.write(buf.tobytes() + b"\r\n")
                        time.sleep(1 / cam.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/video.mjpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def advance(self) -> int:
        self.next += 1
        return self.next

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def wait_for(cond, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def camera():
    cam = MjpegCamera()
    yield cam
    cam.stop()


def test_stream_gives_the_newest_frame_not_a_backlog(camera):
    source = LiveSource(StreamGrabber(camera.url))
    source.open()
    try:
        first = source.read(10.0)
        assert first is not None and source.state == "ok"
        assert first.source.startswith("stream:http://127.0.0.1")
        assert first.pixels.shape == (240, 320, 3)
        time.sleep(1.0)  # the station was busy inspecting: ~25 frames came meanwhile
        newest = source.read(2.0)
        sent = camera.next
        assert number_of(newest.pixels) >= sent - 3  # the newest, not the next in a queue
        assert number_of(newest.pixels) > number_of(first.pixels) + 15
    finally:
        source.close()


def test_stream_that_vanishes_is_lost_and_reconnects_when_it_returns():
    cam = MjpegCamera(start=0)
    port = cam.port
    source = LiveSource(StreamGrabber(cam.url), backoff_s=(0.2, 1.0))
    source.open()
    try:
        assert source.read(10.0) is not None
        cam.stop()  # the camera's power is cut
        assert wait_for(lambda: source.state == "lost", 10.0)
        assert "stream" in source.message
        assert source.read(0.5) is None  # no stale frame is handed out again
        back = MjpegCamera(port=port, start=5000)  # the camera comes back on the same address
        try:
            assert wait_for(lambda: source.state == "ok", 15.0)
            frame = source.read(5.0)
            assert frame is not None and number_of(frame.pixels) > 5000
            assert source.reconnects >= 1
        finally:
            back.stop()
    finally:
        source.close()


def test_a_camera_that_repeats_one_picture_is_frozen(camera):
    source = LiveSource(StreamGrabber(camera.url), frozen_s=1.0, backoff_s=(0.2, 0.5))
    source.open()
    try:
        assert source.read(10.0) is not None
        camera.frozen = True
        assert wait_for(lambda: source.state == "frozen", 8.0)
        assert "same picture" in source.message
        camera.frozen = False
        assert wait_for(lambda: source.state == "ok", 10.0)
    finally:
        source.close()


def test_a_camera_that_stops_sending_is_lost_before_its_read_times_out(camera):
    source = LiveSource(StreamGrabber(camera.url), lost_s=0.5)
    source.open()
    try:
        assert source.read(10.0) is not None
        camera.fps = 0.2  # one frame in 5 s: the connection stays, frames stop
        assert wait_for(lambda: source.state == "lost", 4.0)
        assert "no frame" in source.message
    finally:
        camera.fps = 25.0
        source.close()


@pytest.mark.parametrize("device", ["/dev/video97", 97])
def test_a_missing_usb_camera_is_lost_with_a_clear_message(device):
    source = make_source(st.UsbSource(type="usb", device=device, width=1920, height=1080))
    source.open()
    try:
        assert source.read(1.0) is None
        assert wait_for(lambda: source.state == "lost", 5.0)
        assert "camera" in source.message and "97" in source.message
        assert source.message.count(".") <= 1 and "Traceback" not in source.message
    finally:
        source.close()
    assert isinstance(source.grabber, UsbGrabber)


def write_video(path: Path, n: int, fps: float = 50.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
    assert writer.isOpened()
    for i in range(1, n + 1):
        writer.write(numbered(i))
    writer.release()


def test_video_file_replays_every_frame_in_order_then_ends(tmp_path):
    path = tmp_path / "bench-session.avi"
    write_video(path, 40)
    source = make_source(st.VideoSource(type="video", file=path))
    source.open()
    got = []
    t0 = time.monotonic()
    try:
        while (frame := source.read(2.0)) is not None:
            got.append(number_of(frame.pixels))
        took = time.monotonic() - t0
    finally:
        source.close()
    assert source.state == "ended"
    assert got == sorted(got) and got[-1] == 40 and len(got) >= 36  # paced: none skipped
    assert 0.6 <= took <= 4.0  # 40 frames at the recorded 50 fps: 0.8 s, not as fast as decoded


def test_a_missing_video_file_is_reported(tmp_path):
    source = make_source(st.VideoSource(type="video", file=tmp_path / "nope.avi"))
    source.open()
    try:
        assert wait_for(lambda: source.state == "lost", 5.0)
        assert "nope.avi" in source.message and "does not exist" in source.message
    finally:
        source.close()


def folder_source(path, data_dir, stable_s=0.3):
    return make_source(st.FolderSource(type="folder", path=path, poll_s=0.05,
                                       stable_s=stable_s), data_dir)


def jpeg_bytes(i: int) -> bytes:
    return cv2.imencode(".jpg", numbered(i))[1].tobytes()


def test_hot_folder_waits_for_a_file_being_written(tmp_path):
    inbox, data = tmp_path / "in", tmp_path / "data"
    inbox.mkdir()
    source = folder_source(inbox, data)
    source.open()
    data_bytes = jpeg_bytes(7)
    with open(inbox / "net-7.jpg", "wb") as f:  # a camera writing slowly over 1 s
        for k in range(0, len(data_bytes), len(data_bytes) // 8 + 1):
            f.write(data_bytes[k:k + len(data_bytes) // 8 + 1])
            f.flush()
            assert source.read(0.1) is None
            time.sleep(0.1)
    frame = source.read(3.0)
    assert frame is not None and frame.name == "net-7.jpg" and frame.error is None
    assert number_of(frame.pixels) == 7 and frame.source == f"folder:{inbox}"
    assert source.read(0.6) is None  # delivered once


def test_hot_folder_inspects_each_file_once_across_restarts(tmp_path):
    inbox, data = tmp_path / "in", tmp_path / "data"
    inbox.mkdir()
    for i in (1, 2, 3):
        tmp = inbox / f".net-{i}.jpg.part"  # written aside, renamed into place
        tmp.write_bytes(jpeg_bytes(i))
        os.replace(tmp, inbox / f"net-{i}.jpg")
    (inbox / "notes.txt").write_text("not an image")
    source = folder_source(inbox, data)
    source.open()
    frames = [source.read(3.0) for _ in range(3)]
    assert sorted(number_of(f.pixels) for f in frames) == [1, 2, 3]
    assert source.read(0.5) is None
    source.done(frames[0])
    source.done(frames[1])  # net 3's result was never stored: the station died first
    source.close()

    again = folder_source(inbox, data)
    again.open()
    redo = again.read(3.0)
    assert redo.name == frames[2].name  # only the unfinished one comes back
    assert again.read(0.6) is None
    again.done(redo)
    (inbox / "net-1.jpg").write_bytes(jpeg_bytes(11))  # a new picture under an old name
    newer = again.read(3.0)
    assert newer.name == "net-1.jpg" and number_of(newer.pixels) == 11


def test_an_unreadable_file_is_an_error_result_not_a_crash(tmp_path):
    inbox, data = tmp_path / "in", tmp_path / "data"
    inbox.mkdir()
    (inbox / "broken.jpg").write_bytes(jpeg_bytes(3)[:400])  # cut off in the middle
    (inbox / "good.jpg").write_bytes(jpeg_bytes(4))
    source = folder_source(inbox, data, stable_s=0.1)
    source.open()
    frames = {f.name: f for f in (source.read(3.0), source.read(3.0))}
    bad = frames["broken.jpg"]
    assert bad.error and "truncated" in bad.error and bad.pixels.size == 0
    assert number_of(frames["good.jpg"].pixels) == 4
    from netimg import ideal_calibration

    inspector = Inspector(load_spec("specs/kr-coirnet-25.toml"),
                          ideal_calibration(320, 240, 1.0))
    result, analysis = inspector.inspect_frame(bad)
    assert result.verdict == "error" and "truncated" in result.error and analysis is None
    assert result.frame_id == bad.id and result.image == "broken.jpg"
    source.done(bad)
    source.close()
    again = folder_source(inbox, data)
    again.open()
    assert again.read(1.0).name == "good.jpg"  # the reported bad file is not retried


def test_a_missing_hot_folder_is_lost_until_it_appears(tmp_path):
    inbox = tmp_path / "share"
    source = folder_source(inbox, tmp_path / "data")
    source.open()
    assert source.read(0.2) is None and source.state == "lost"
    assert str(inbox) in source.message
    inbox.mkdir()
    (inbox / "a.png").write_bytes(cv2.imencode(".png", numbered(5))[1].tobytes())
    frame = source.read(3.0)
    assert source.state == "ok" and number_of(frame.pixels) == 5


def test_simulated_camera_lays_nets_with_hands_and_empty_moments():
    cam = make_source(st.SimulatedSource(type="simulated", width=640, height=480, fps=10,
                                         nets=2, seed=3))
    assert isinstance(cam, SimulatedCamera)
    cam.realtime = False
    cam.open()
    shots, frames = [], 0
    while (frame := cam.read(1.0)) is not None:
        assert frame.pixels.shape == (480, 640, 3) and frame.source == "simulated"
        shots.append(cam.last_shot)
        frames += 1
    assert cam.state == "ended"
    phases = {s.phase for s in shots}
    assert phases == {"empty", "hand", "still"}
    assert {s.rest for s in shots if s.phase == "still"} >= {0, 1}
    times = [s.t_s for s in shots]
    assert np.allclose(np.diff(times), 0.1)
    assert cam.calibration().image_size == (640, 480)


def test_simulated_camera_keeps_its_frame_rate():
    cam = SimulatedCamera(640, 480, fps=20, seed=3, cycles=1)
    cam.open()
    t0 = time.monotonic()
    got = [cam.read(1.0) for _ in range(10)]
    took = time.monotonic() - t0
    assert all(f is not None for f in got)
    assert 0.4 <= took <= 1.5  # 10 frames at 20 fps
    at = [f.captured_at.timestamp() for f in got]
    gaps = np.diff(at).tolist()
    assert gaps == pytest.approx([0.05] * 9, abs=1e-6)


def test_a_recorded_bench_session_replays_into_the_auto_trigger(tmp_path):
    """Rendered nets laid by hand, recorded with cv2.VideoWriter at 10 fps, replayed 5x as
    fast (settle time 5x shorter): one inspection per net laid."""
    from qcstation.station.trigger import AutoTrigger

    cam = SimulatedCamera(640, 480, fps=10, seed=3, cycles=2, realtime=False)
    cam.open()
    path = tmp_path / "session.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 480))
    rests = set()
    while (frame := cam.read(1.0)) is not None:
        writer.write(frame.pixels)
        if cam.last_shot.phase == "still":
            rests.add(cam.last_shot.rest)
    writer.release()
    source = make_source(st.VideoSource(type="video", file=path, fps=50.0))
    trigger = AutoTrigger(settle_s=0.2)
    source.open()
    fired = frames = 0
    try:
        while (frame := source.read(2.0)) is not None:
            frames += 1
            fired += trigger.update(frame)
    finally:
        source.close()
    assert len(rests) == 2 and frames > 50  # the newest frame: a busy machine skips some
    assert fired == len(rests)


@pytest.mark.parametrize("settings", [
    st.UsbSource(type="usb", device=0),
    st.StreamSource(type="stream", url="rtsp://user:secret@10.0.0.9/live"),
    st.VideoSource(type="video", file=Path("bench.mp4")),
    st.FolderSource(type="folder", path=Path("incoming")),
    st.SimulatedSource(type="simulated"),
], ids=lambda s: s.type)
def test_every_kind_is_a_frame_source_named_without_secrets(settings, tmp_path):
    source = make_source(settings, tmp_path)  # nothing is opened yet
    assert isinstance(source, FrameSource)
    assert source.state == "connecting" and source.message is None
    assert "secret" not in source.name and source.name.split(":")[0] in (
        "usb", "stream", "video", "folder", "simulated")

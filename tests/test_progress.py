"""Progress bars: drawn on a terminal (count, rate, time left), silent when piped or --json."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from qcstation.progress import Progress, progress

ROOT = Path(__file__).resolve().parents[1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_shows_count_rate_and_time_left():
    out = Terminal()
    with Progress(4, "eval", stream=out) as bar:
        for _ in range(4):
            bar.done()
    text = out.getvalue()
    assert "4/4" in text and "/s" in text and "left" in text and text.endswith("\n")
    # half way after 2 s: 1.0 per second, 2 s left
    half = Progress(4, "x", enabled=True, stream=Terminal())
    half.count = 2
    assert "2/4" in half.line(2.0) and "1.0/s" in half.line(2.0) and "0:02 left" in half.line(2.0)


def test_silent_when_not_a_terminal_or_disabled():
    piped = io.StringIO()
    assert list(progress(range(5), 5, "synth", stream=piped)) == [0, 1, 2, 3, 4]
    assert piped.getvalue() == ""
    term = Terminal()
    assert list(progress(range(3), 3, "eval", enabled=False, stream=term)) == [0, 1, 2]
    assert term.getvalue() == ""


def _synth(tmp_path: Path, tty: bool) -> bytes:
    """stderr of a tiny `qcstation synth`, from a real pseudo-terminal or a pipe."""
    cmd = [sys.executable, "-m", "qcstation", "synth", "--out", str(tmp_path / "s"), "--n", "1",
           "--seed", "3", "--size", "640x480", "--px-per-mm", "1.5", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not tty:
        return subprocess.run(cmd, capture_output=True, timeout=300, env=env).stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(leader)
    return b"".join(chunks)


def test_synth_draws_on_a_terminal_only(tmp_path):
    assert b"synth [" in _synth(tmp_path, tty=True)
    assert b"synth [" not in _synth(tmp_path, tty=False)

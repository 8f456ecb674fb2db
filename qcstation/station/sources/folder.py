"""A hot folder: cameras and phones drop image files; each completely written file becomes one
frame, once, and a ledger in the data folder keeps it so across restarts."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ...domain import Frame
from ...errors import ImageError
from ...imageio import read_image

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class _Seen:
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        return f"{self.size}\t{self.mtime_ns}"


class HotFolder:
    """A FrameSource over a folder. A file is complete once its size and time are unchanged
    over `stable_s` (a writer still appending changes them; a file renamed into place is
    complete as soon as it has been seen unchanged). Call `done(frame)` once the frame's
    result is stored: only then is the file written to the ledger, so a crash before that
    inspects it again after the restart, and a stored one never twice."""

    def __init__(self, path: str | Path, data_dir: str | Path, poll_s: float = 0.5,
                 stable_s: float = 0.5):
        self.path = Path(path)
        self.name = f"folder:{self.path}"
        self.poll_s, self.stable_s = poll_s, stable_s
        digest = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:12]
        self.ledger = Path(data_dir) / "sources" / f"folder-{digest}.ledger"
        self._done: set[str] = set()
        self._delivered: dict[str, str] = {}  # frame id -> ledger line
        self._watch: dict[str, tuple[_Seen, float]] = {}  # name -> (stat, since)
        self._state, self._message = "connecting", None

    @property
    def state(self) -> str:
        return self._state

    @property
    def message(self) -> str | None:
        return self._message

    def open(self) -> None:
        self.ledger.parent.mkdir(parents=True, exist_ok=True)
        try:
            lines = self.ledger.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        self._done = set(lines)
        logger.info("%s: %d files already inspected (ledger %s)", self.name, len(lines),
                    self.ledger)

    def close(self) -> None:
        self._watch.clear()

    def read(self, timeout_s: float) -> Frame | None:
        """The oldest complete file not inspected yet, as a frame (an unreadable one as a
        frame with `error` set, for the runner to record); None if none within timeout_s."""
        end = time.monotonic() + timeout_s
        while True:
            ready = self._ready()
            if ready:
                return self._frame(ready)
            left = end - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(self.poll_s, left))

    def done(self, frame: Frame) -> None:
        """The frame's result is stored: its file is never delivered again."""
        line = self._delivered.pop(frame.id, None)
        if line is None or line in self._done:
            return
        with open(self.ledger, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self._done.add(line)

    def _ready(self) -> str | None:
        try:
            entries = list(os.scandir(self.path))
        except OSError as e:  # missing, unmounted or not readable: reported, tried again
            self._report("lost", f"the hot folder {self.path} cannot be read "
                                 f"({e.strerror or e}); create it or mount it")
            return None
        self._report("ok", None)
        now = time.monotonic()
        listed = {e.name for e in entries}
        self._watch = {n: v for n, v in self._watch.items() if n in listed}  # removed ones
        pending = {line.split("\t", 1)[0] for line in self._delivered.values()}
        candidates = []
        for entry in entries:
            name = entry.name
            if name.startswith(".") or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                st = entry.stat()
            except OSError:  # removed while listed
                continue
            seen = _Seen(st.st_size, st.st_mtime_ns)
            if f"{name}\t{seen.key}" in self._done or name in pending:
                continue
            before = self._watch.get(name)
            if before is None or before[0] != seen:
                self._watch[name] = (seen, now)
            elif now - before[1] >= self.stable_s and seen.size > 0:
                candidates.append((seen.mtime_ns, name))
        return min(candidates)[1] if candidates else None

    def _frame(self, name: str) -> Frame:
        seen, _ = self._watch.pop(name)
        path = self.path / name
        at = datetime.fromtimestamp(seen.mtime_ns / 1e9, UTC)
        try:
            pixels, error = read_image(path), None
        except ImageError as e:
            logger.warning("%s: %s", self.name, e)
            pixels, error = np.zeros((0, 0, 3), np.uint8), str(e)
        frame = Frame(pixels=pixels, captured_at=at, source=self.name, name=name, error=error)
        self._delivered[frame.id] = f"{name}\t{seen.key}"
        return frame

    def _report(self, state: str, message: str | None) -> None:
        if state != self._state:
            (logger.info if state == "ok" else logger.warning)("%s: %s%s", self.name, state,
                                                               f" ({message})" if message else "")
        self._state, self._message = state, message

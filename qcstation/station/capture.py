"""The capture loop: reads the frame source in its own thread, reopens it with back-off."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..domain import Frame

logger = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0


class CaptureLoop:
    """Hands each new frame to `on_frame`; a source that raises is closed and reopened
    (1, 2, 4 ... 30 s apart). `paused()` true: no frames are read (a hot folder waits while
    the disk is full). `on_state(state)` hears the camera's state after every read."""

    def __init__(self, source, on_frame: Callable[[Frame], None],
                 on_state: Callable[[str], None], paused: Callable[[], bool]) -> None:
        self.source, self.on_frame, self.on_state, self.paused = source, on_frame, on_state, \
            paused
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._close()

    def _run(self) -> None:
        opened, backoff = False, 1.0
        while not self._stop.is_set():
            if not opened:
                opened = self._open()
                if not opened:
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    continue
                backoff = 1.0
            if self.paused():
                self._stop.wait(1.0)
                continue
            try:
                frame = self.source.read(0.5)
            except Exception:  # noqa: BLE001 - a camera fault: log, reopen with back-off
                logger.exception("frame source %s failed; reopening", self.source.name)
                self.on_state("lost")
                self._close()
                opened = False
                continue
            self.on_state(self.source.state)
            if frame is not None:
                self.on_frame(frame)
            elif self.source.state == "ended":
                self._stop.wait(0.2)

    def _open(self) -> bool:
        try:
            self.source.open()
            return True
        except Exception as e:  # noqa: BLE001 - any camera failure: retried with back-off
            logger.error("cannot open the frame source %s: %s", self.source.name, e)
            self.on_state("lost")
            return False

    def _close(self) -> None:
        try:
            self.source.close()
        except Exception:  # noqa: BLE001 - closing a broken camera must not stop the station
            logger.exception("closing the frame source")

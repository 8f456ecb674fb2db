"""The capture loop of a camera or stream: a reader thread that keeps only the newest frame,
notices a lost or frozen camera, reconnects with back-off and reports its state."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from ...domain import Frame
from .base import SourceError

logger = logging.getLogger(__name__)


class EndOfStream(Exception):
    """A recorded video has no more frames."""


class Grabber(Protocol):
    """One kind of device, without threads: the LiveSource drives it."""

    name: str
    can_freeze: bool  # False for a file: a still scene replayed is not a frozen camera

    def connect(self) -> None:
        """Open the device; SourceError with one sentence when it cannot be."""

    def grab(self) -> np.ndarray | None:
        """The next BGR frame; None when none came (the device is lost); EndOfStream."""

    def release(self) -> None: ...


class LiveSource:
    """A FrameSource over a Grabber, read by its own thread (no backlog: newest frame only)."""

    def __init__(self, grabber: Grabber, *, lost_s: float = 3.0, frozen_s: float = 10.0,
                 backoff_s: tuple[float, float] = (0.5, 10.0)):
        self.grabber = grabber
        self.name = grabber.name
        self.lost_s, self.frozen_s = lost_s, frozen_s
        self.backoff_s = backoff_s
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state, self._message = "connecting", None
        self._newest: tuple[np.ndarray, datetime] | None = None
        self._seq = self._returned = 0
        self._last_frame_t = time.monotonic()
        self.reconnects = 0  # how many times the device was opened again after a fault

    @property
    def state(self) -> str:
        with self._cond:
            if self._state == "ok" and time.monotonic() - self._last_frame_t > self.lost_s:
                return "lost"  # the grab hangs: no new frame for lost_s
            return self._state

    @property
    def message(self) -> str | None:
        with self._cond:
            if self._state == "ok" and time.monotonic() - self._last_frame_t > self.lost_s:
                return f"{self.name} sent no frame for {self.lost_s:g} s"
            return self._message

    def open(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._last_frame_t = time.monotonic()
            self._thread = threading.Thread(target=self._run, name=f"capture {self.name}",
                                            daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def done(self, frame: Frame) -> None:
        """Nothing to keep: a live camera's frames are not delivered again anyway."""

    def read(self, timeout_s: float) -> Frame | None:
        """The newest frame not returned before; None if none arrives within timeout_s."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > self._returned or self._stop.is_set()
                                or self._state == "ended", timeout=timeout_s)
            if self._seq <= self._returned or self._newest is None:
                return None
            self._returned = self._seq
            pixels, at = self._newest
        return Frame(pixels=pixels, captured_at=at, source=self.name)

    def _set(self, state: str, message: str | None) -> None:
        with self._cond:
            if state != self._state:
                log = logger.info if state in ("ok", "connecting") else logger.warning
                log("%s: %s%s", self.name, state, f" ({message})" if message else "")
            self._state, self._message = state, message
            self._cond.notify_all()

    def _run(self) -> None:
        delay = self.backoff_s[0]
        connected = False
        same_since, last_sig, frozen_sig = 0.0, None, None
        while not self._stop.is_set():
            if not connected:
                connected = self._connect()
                if not connected:
                    self._stop.wait(delay)
                    delay = min(2 * delay, self.backoff_s[1])
                    continue
            try:
                pixels = self.grabber.grab()
            except EndOfStream:
                self._set("ended", f"{self.name} has no more frames")
                break
            except Exception:  # a driver fault: the loop goes on (loop boundary)
                logger.exception("%s: reading a frame failed", self.name)
                pixels = None
            if pixels is None:
                self._lose("lost", f"{self.name} sent no frame; reconnecting in {delay:g} s")
                connected, last_sig = False, None
                self._stop.wait(delay)
                delay = min(2 * delay, self.backoff_s[1])
                continue
            now = time.monotonic()
            sig = pixels[::16, ::16].copy()
            if self.grabber.can_freeze and last_sig is not None and np.array_equal(sig, last_sig):
                if now - same_since > self.frozen_s:
                    # reopened, and until another picture comes it stays frozen
                    self._lose("frozen", f"{self.name} sent the same picture for "
                                         f"{self.frozen_s:g} s; reconnecting")
                    connected, frozen_sig, same_since = False, sig, now
                    continue
                if frozen_sig is not None:
                    continue
            else:
                same_since, last_sig = now, sig
                if frozen_sig is not None and np.array_equal(sig, frozen_sig):
                    continue
                frozen_sig = None
            delay = self.backoff_s[0]
            self._publish(pixels, now)
        self.grabber.release()

    def _connect(self) -> bool:
        try:
            self.grabber.connect()
        except SourceError as e:
            self._set("lost", str(e))
            return False
        return True

    def _lose(self, state: str, message: str) -> None:
        self.grabber.release()
        self.reconnects += 1
        self._set(state, message)

    def _publish(self, pixels: np.ndarray, now: float) -> None:
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        with self._cond:
            self._newest = (pixels, datetime.now(UTC))
            self._seq += 1
            self._last_frame_t = now
            if self._state != "ok":
                self._state, self._message = "ok", None
                logger.info("%s: ok", self.name)
            self._cond.notify_all()

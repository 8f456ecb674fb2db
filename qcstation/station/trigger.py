"""When to inspect: automatically once a net lies still on the bench, or when the inspector
presses a key, a button or calls the API. Judged on small grey frames (160 x 120)."""

from __future__ import annotations

import logging
import threading

import cv2
import numpy as np

from ..domain import Frame

logger = logging.getLogger(__name__)

THUMB_SIZE = (160, 120)
MOTION_LEVEL = 12  # grey levels a pixel must change between frames to count as motion
MOTION_SHARE = 0.003  # ... over this share of the small frame: something moves (a hand)
PRESENT_TEXTURE = 6.0  # mean fine detail (grey levels) of a net; a bare bench has < 1
MOVED_LEVEL = 20  # grey levels a pixel must differ from the inspected scene ...
MOVED_SHARE = 0.05  # ... over this share of the frame: the net was moved, inspect again


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    """The frame as a small grey image: picked pixels, then averaged in 2 x 2 blocks."""
    w, h = THUMB_SIZE
    picked = cv2.resize(pixels, (2 * w, 2 * h), interpolation=cv2.INTER_NEAREST)
    grey = cv2.cvtColor(picked, cv2.COLOR_BGR2GRAY) if picked.ndim == 3 else picked
    return cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)


def motion_share(a: np.ndarray, b: np.ndarray, level: int = MOTION_LEVEL) -> float:
    """Share of pixels that changed by more than `level` between two small frames."""
    return cv2.countNonZero(cv2.compare(cv2.absdiff(a, b), level, cv2.CMP_GT)) / a.size


def texture(small: np.ndarray) -> float:
    """Mean fine detail: how far pixels stand from their blurred surroundings."""
    return float(cv2.absdiff(small, cv2.GaussianBlur(small, (0, 0), 2.0)).mean())


def changed_share(small: np.ndarray, reference: np.ndarray, level: int = MOVED_LEVEL) -> float:
    """Share of pixels that differ from the reference, after an overall change of light."""
    d = small.astype(np.int16) - reference.astype(np.int16)
    d -= np.int16(np.median(d))
    return float(np.count_nonzero(np.abs(d) > level)) / d.size


class AutoTrigger:
    """Fires once when a net lies on the bench and nothing has moved for `settle_s`
    (hands in view move); then waits until the bench is cleared (still and bare) or the net
    lies still somewhere else (moved), and fires again only then. Time is the frames'
    `captured_at`, so a replay or a simulation judges as the live camera would."""

    def __init__(self, settle_s: float = 1.0, present_texture: float = PRESENT_TEXTURE):
        self.settle_s = settle_s
        self.present_texture = present_texture
        self.state = "empty"  # "empty", "motion", "settling", "inspected"
        self._prev: np.ndarray | None = None
        self._still_since = 0.0
        self._inspected: np.ndarray | None = None  # the scene last fired on

    def update(self, frame: Frame) -> bool:
        """Look at one frame; True when it is the one to inspect."""
        if frame.pixels.size == 0:
            return False
        small = thumbnail(frame.pixels)
        t = frame.captured_at.timestamp()
        moving = self._prev is None or motion_share(small, self._prev) > MOTION_SHARE
        if moving:
            self._still_since = t
        self._prev = small
        still = t - self._still_since >= self.settle_s
        present = texture(small) > self.present_texture
        if self._inspected is not None:
            if still and not present:
                self._inspected = None  # cleared: armed for the next net
            elif not (still and changed_share(small, self._inspected) > MOVED_SHARE):
                self.state = "motion" if moving else "inspected"
                return False
        if present and still:
            self._inspected = small
            self.state = "inspected"
            logger.debug("auto trigger: net still for %.1f s", t - self._still_since)
            return True
        self.state = "motion" if moving else ("settling" if present else "empty")
        return False

    def reset(self) -> None:
        """Forget the inspected scene (e.g. a new lot): the net in view is inspected again."""
        self._inspected = None


class ManualTrigger:
    """A key (a USB foot pedal is a keyboard), a button in the web view or POST /api/trigger:
    `fire()` from any thread; the capture loop's `update(frame)` takes it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = False
        self._event = threading.Event()
        self.state = "waiting"

    def fire(self) -> None:
        with self._lock:
            self._pending = True
            self._event.set()

    def take(self) -> bool:
        """True once per fire (several fires before a frame count as one)."""
        with self._lock:
            fired, self._pending = self._pending, False
            self._event.clear()
        return fired

    def wait(self, timeout_s: float) -> bool:
        """Block until fired (or timeout); does not take it."""
        return self._event.wait(timeout_s)

    def update(self, frame: Frame) -> bool:
        return self.take()

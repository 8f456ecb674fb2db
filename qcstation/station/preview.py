"""The live view: the newest frame, downscaled and JPEG-encoded at most once per new frame."""

from __future__ import annotations

import threading

import cv2
import numpy as np

VERDICT_BGR = {"pass": (60, 170, 40), "fail": (40, 40, 220), "error": (0, 160, 230)}


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


class Preview:
    """Caches the JPEG of the newest frame; a new encode only when a new frame has come in."""

    def __init__(self, width_px: int = 960, quality: int = 70) -> None:
        self.width_px, self.quality = width_px, quality
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._seq = 0
        self._jpeg: bytes | None = None
        self._jpeg_seq = -1
        self._banner: tuple[str, str] | None = None  # (text, verdict)

    def offer(self, pixels: np.ndarray) -> None:
        """The capture loop hands every new frame here (cheap: a reference only)."""
        with self._lock:
            self._frame = pixels
            self._seq += 1

    def set_banner(self, text: str, verdict: str) -> None:
        with self._lock:
            self._banner = (text, verdict)
            self._jpeg_seq = -1  # redraw with the new verdict

    def jpeg(self) -> bytes | None:
        with self._lock:
            frame, seq, banner = self._frame, self._seq, self._banner
            if frame is None:
                return None
            if seq == self._jpeg_seq:
                return self._jpeg
        small = self._render(frame, banner)
        data = encode_jpeg(small, self.quality)
        with self._lock:
            if seq >= self._jpeg_seq:
                self._jpeg, self._jpeg_seq = data, seq
            return self._jpeg

    def _render(self, frame: np.ndarray, banner: tuple[str, str] | None) -> np.ndarray:
        h, w = frame.shape[:2]
        if w > self.width_px:
            size = (self.width_px, max(1, round(h * self.width_px / w)))
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        else:
            small = frame.copy()
        if banner is not None:
            text, verdict = banner
            bh = max(24, small.shape[0] // 16)
            cv2.rectangle(small, (0, 0), (small.shape[1], bh), VERDICT_BGR.get(verdict, (90,) * 3),
                          -1)
            cv2.putText(small, text, (8, int(bh * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, bh / 40,
                        (255, 255, 255), max(1, bh // 20), cv2.LINE_AA)
        return small

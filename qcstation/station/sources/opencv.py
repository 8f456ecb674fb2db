"""Cameras, IP streams and video files through OpenCV's VideoCapture (the only module here
that opens one)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from .base import SourceError
from .live import EndOfStream

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_MS = 5000  # an IP camera that does not answer within this is lost (FFmpeg)
READ_TIMEOUT_MS = 5000


class _Capture:
    """Shared by the three: one cv2.VideoCapture, opened by `_open`, read by `grab`."""

    name = "camera"
    can_freeze = True

    def __init__(self) -> None:
        self._cap: cv2.VideoCapture | None = None

    def _open(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def connect(self) -> None:
        self.release()
        self._cap = self._open()

    def grab(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        return image if ok and image is not None and image.size else None

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class UsbGrabber(_Capture):
    """A USB / V4L2 camera by index (0) or device path (/dev/video0)."""

    def __init__(self, device: int | str = 0, width: int | None = None,
                 height: int | None = None, fps: float | None = None,
                 exposure: float | None = None):
        super().__init__()
        self.device = int(device) if isinstance(device, str) and device.isdigit() else device
        self.name = f"usb:{self.device}"
        self.want = {cv2.CAP_PROP_FRAME_WIDTH: width, cv2.CAP_PROP_FRAME_HEIGHT: height,
                     cv2.CAP_PROP_FPS: fps}
        self.exposure = exposure

    def _open(self) -> cv2.VideoCapture:
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        if isinstance(self.device, str) and not Path(self.device).exists():
            raise SourceError(f"camera {self.device} does not exist; check the cable and "
                              "the device path (ls /dev/video*)")
        cap = cv2.VideoCapture(self.device, api)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"camera {self.device} cannot be opened; check that it is "
                              "plugged in and not in use by another program")
        for prop, value in self.want.items():
            if value is not None:
                cap.set(prop, float(value))
        if self.exposure is not None:
            cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, 1)  # V4L2: 1 = manual exposure
            cap.set(cv2.CAP_PROP_EXPOSURE, float(self.exposure))
        logger.info("%s opened: %dx%d at %.1f fps, exposure %s", self.name,
                    cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT),
                    cap.get(cv2.CAP_PROP_FPS), cap.get(cv2.CAP_PROP_EXPOSURE))
        return cap


class StreamGrabber(_Capture):
    """An IP camera: RTSP or HTTP MJPEG through OpenCV's FFmpeg backend."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.name = f"stream:{_without_password(url)}"

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS,
                                cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS])
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"the camera stream {_without_password(self.url)} cannot be "
                              "opened; check the address, the network and the camera")
        return cap


class VideoGrabber(_Capture):
    """A recorded bench session replayed at its own frame rate (or `fps`)."""

    can_freeze = False

    def __init__(self, file: str | Path, fps: float | None = None, loop: bool = False):
        super().__init__()
        self.file = Path(file)
        self.name = f"video:{self.file.name}"
        self.fps, self.loop = fps, loop
        self._next_t = 0.0
        self._period = 0.0

    def _open(self) -> cv2.VideoCapture:
        if not self.file.is_file():
            raise SourceError(f"the video file {self.file} does not exist; give the path "
                              "of a recorded bench session")
        cap = cv2.VideoCapture(str(self.file), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"the video file {self.file} cannot be read; is it a video?")
        rate = self.fps or cap.get(cv2.CAP_PROP_FPS) or 25.0
        self._period = 1.0 / rate
        self._next_t = time.monotonic()
        return cap

    def grab(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
        if not ok:
            raise EndOfStream
        self._next_t += self._period  # replay at the recorded pace, not as fast as decoded
        time.sleep(max(0.0, self._next_t - time.monotonic()))
        return image


def _without_password(url: str) -> str:
    """The URL as shown in logs and the web view: user:password@ becomes user@."""
    head, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    cred, host = rest.split("@", 1)
    return f"{head}://{cred.split(':', 1)[0]}@{host}"

"""Frame sources, one interface chosen by `type` in the station's `[source]` settings: a USB
camera, an IP camera stream, a video file, a hot folder or a simulated camera."""

from __future__ import annotations

from pathlib import Path

from .base import STATES, FrameSource, SourceError, SourceState
from .folder import HotFolder
from .live import LiveSource
from .opencv import StreamGrabber, UsbGrabber, VideoGrabber

__all__ = ["STATES", "FrameSource", "HotFolder", "LiveSource", "SourceError", "SourceState",
           "make_source"]


def make_source(settings, data_dir: str | Path = "data") -> FrameSource:
    """The source the `[source]` settings describe (settings.SourceSettings: the `type` picks
    the kind). `data_dir` holds the hot folder's ledger."""
    kind = settings.type
    live = {"lost_s": getattr(settings, "lost_s", 3.0),
            "frozen_s": getattr(settings, "frozen_s", 10.0)}
    if kind == "usb":
        return LiveSource(UsbGrabber(settings.device, settings.width, settings.height,
                                     settings.fps, settings.exposure), **live)
    if kind == "stream":
        return LiveSource(StreamGrabber(settings.url), **live)
    if kind == "video":
        return LiveSource(VideoGrabber(settings.file, settings.fps, settings.loop), **live)
    if kind == "folder":
        return HotFolder(settings.path, data_dir, settings.poll_s, settings.stable_s)
    if kind == "simulated":
        from .simulated import SimulatedCamera  # the renderer only where it is simulated

        return SimulatedCamera(settings.width, settings.height, settings.fps, settings.seed,
                               cycles=settings.nets)
    raise SourceError(f"unknown source type {kind!r}; use usb, stream, video, folder or "
                      "simulated")

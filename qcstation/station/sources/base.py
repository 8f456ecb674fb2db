"""What every frame source is: the FrameSource protocol, its states and its error."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from ...domain import Frame
from ...errors import QCError

SourceState = Literal["connecting", "ok", "lost", "frozen", "ended"]
STATES: tuple[str, ...] = ("connecting", "ok", "lost", "frozen", "ended")


class SourceError(QCError):
    """A frame source cannot be opened or read (a missing camera, a bad URL or path)."""


@runtime_checkable
class FrameSource(Protocol):
    """A camera, stream, video file, hot folder or simulated camera.

    `read` returns the newest frame not returned before, or None when none came within
    `timeout_s`; it never raises for a camera fault: `state` and `message` say what is wrong
    while the source reconnects by itself.
    """

    name: str

    @property
    def state(self) -> str: ...

    @property
    def message(self) -> str | None: ...

    def open(self) -> None: ...

    def read(self, timeout_s: float) -> Frame | None: ...

    def close(self) -> None: ...

    def done(self, frame: Frame) -> None:
        """The frame's result is stored (the hot folder keeps it in its ledger; others: no-op)."""

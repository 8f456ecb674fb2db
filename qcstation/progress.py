"""A one-line progress bar on a terminal (count, rate, time left); silent when not a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")
REDRAW_S = 0.2  # at most this often: drawing costs little, but a terminal scrolls slowly
BAR = 24


class Progress:
    """`done()` once per finished item; `close()` ends the line. Draws only when `enabled`
    (by default: `stream` is a terminal)."""

    def __init__(self, total: int, label: str, enabled: bool | None = None,
                 stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled and total > 0
        self.total, self.label = total, label
        self.count = 0
        self.start = time.monotonic()
        self.drawn = 0.0

    def done(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and (now - self.drawn >= REDRAW_S or self.count >= self.total):
            self.drawn = now
            self.stream.write("\r" + self.line(now - self.start))
            self.stream.flush()

    def line(self, elapsed_s: float) -> str:
        """'label [#####-----]  12/60  3.1/s  0:15 left'."""
        share = min(1.0, self.count / self.total)
        filled = int(round(share * BAR))
        rate = self.count / elapsed_s if elapsed_s > 0 else 0.0
        left = (self.total - self.count) / rate if rate > 0 else float("nan")
        eta = "--:--" if left != left else f"{int(left) // 60}:{int(left) % 60:02d}"
        return (f"{self.label} [{'#' * filled}{'-' * (BAR - filled)}] {self.count}/{self.total}"
                f"  {rate:.1f}/s  {eta} left ")

    def clear(self) -> None:
        """Erase the bar so a line printed now starts clean (the bar comes back on `done`)."""
        if self.enabled and self.count:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.count:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(items: Iterable[T], total: int, label: str, enabled: bool | None = None,
             stream: TextIO | None = None) -> Iterator[T]:
    """Yield `items`, drawing the bar as each is taken up again (i.e. after its work)."""
    with Progress(total, label, enabled, stream) as bar:
        for item in items:
            yield item
            bar.done()

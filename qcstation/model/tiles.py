"""Overlapping tiles over a large input, and where each tile's centre part goes in the output."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Span:
    """One tile along one axis: input pixels [start, start + size); it fills output cells
    [keep0, keep1) (global cell indices), the part of it farthest from its borders."""

    start: int
    size: int
    keep0: int
    keep1: int


def spans(n: int, tile: int, overlap: int, multiple: int, stride: int) -> list[Span]:
    """Tiles covering `n` input pixels (n a multiple of `multiple`), each at most `tile` px and
    a multiple of `multiple`, overlapping by at least `overlap`; equal sizes, so every tile
    wastes the same little and the whole axis is covered by the middles of the tiles."""
    if n <= tile:
        return [Span(0, n, 0, n // stride)]
    need = overlap + stride  # starts are rounded down to whole output cells
    count = math.ceil((n - need) / (tile - need))
    size = min(n, math.ceil((n + (count - 1) * need) / count / multiple) * multiple)
    last = n - size
    starts = [(last * i // (count - 1)) // stride * stride for i in range(count)]
    starts[-1] = last
    mids = [((a + size + b) // 2) // stride for a, b in zip(starts, starts[1:], strict=False)]
    cuts = [0, *mids, n // stride]
    return [Span(s, size, cuts[i], cuts[i + 1]) for i, s in enumerate(starts)]

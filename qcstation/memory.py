"""Large image buffers reused from the heap instead of fresh pages for every frame."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

logger = logging.getLogger(__name__)

# glibc serves an allocation over 32 MB (a 12 MP frame's integral image is 38 MB) with fresh
# pages that the kernel must zero, several ms per array, frame after frame; below this size
# freed buffers are reused instead, and the heap keeps up to the trim size when they are freed.
MMAP_THRESHOLD = 512 << 20
TRIM_THRESHOLD = 1 << 30
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


@cache  # once per process: every entry point (CLI, station, web, benchmarks) calls it
def keep_large_buffers() -> bool:
    """Set glibc's allocator to reuse large buffers; False (and nothing changed) elsewhere."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    logger.debug("large buffers kept in the heap: %s", ok)
    return ok

"""One bound on the threads one inspection uses: OpenCV's, the model's and the engine's own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager

import cv2

logger = logging.getLogger(__name__)

_limit: int | None = None  # None: OpenCV's default, the engine's second thread allowed
_lock = threading.Lock()
_single = [0, 0]  # inspections inside `opencv_single`; OpenCV's thread count before the first


def set_limit(threads: int | None) -> None:
    """Bound OpenCV's worker threads (process-wide) and the engine's own pool to `threads`;
    None leaves OpenCV's default. The model's onnxruntime threads are fixed when it is loaded
    (`DefectModel.load(threads=...)`): pass it the same number."""
    global _limit
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be 1 or more, not {threads}")
    _limit = threads
    if threads is not None:
        cv2.setNumThreads(threads)
        logger.debug("inspection threads bounded to %d", threads)


def limit() -> int | None:
    return _limit


class _Inline(Executor):
    """An executor that runs each call at once on the caller's thread."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as e:  # handed to the caller through .result(), as a pool would
            f.set_exception(e)
        return f


def helper_pool() -> Executor:
    """The engine's one helper thread, or the caller's own thread when bounded to 1."""
    return _Inline() if _limit == 1 else ThreadPoolExecutor(1)


@contextmanager
def opencv_single() -> Iterator[None]:
    """OpenCV on one thread while the defect model keeps the other core busy: its morphology
    and masks then take less time and CPU than when split over two threads that the model's
    threads also want (docs/speed.md). Counted, so that inspections on several threads at once
    give back OpenCV's own count when the last one leaves."""
    with _lock:
        if _single[0] == 0:
            _single[1] = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _single[0] += 1
    try:
        yield
    finally:
        with _lock:
            _single[0] -= 1
            if _single[0] == 0:
                cv2.setNumThreads(_single[1])

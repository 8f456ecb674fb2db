"""One bound on the threads one inspection uses: OpenCV's, the model's and the engine's own."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import cv2

logger = logging.getLogger(__name__)

_limit: int | None = None  # None: OpenCV's default, the engine's second thread allowed


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

"""The image files: atomic writes in per-date folders, free-space checks, the start-up sweep."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from qcstation.store.errors import StoreError, StoreFull

logger = logging.getLogger(__name__)

IMAGE_SUFFIX = ".jpg"
OVERLAY_SUFFIX = ".overlay.jpg"
TEMP_SUFFIX = ".tmp"


class ImageStore:
    """Image files under `data_dir/images/YYYY-MM-DD/<id>.jpg` (and `<id>.overlay.jpg`).

    Writers hold a shared lock on `data_dir/.images.lock` from the first file until the row is
    committed; the start-up sweep holds it exclusively, so it never takes a file being written
    for an orphan, while the lock of a killed writer goes with its process.
    """

    def __init__(self, data_dir: Path, reserve_bytes: int) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "images"
        self.orphans = data_dir / "orphans"
        self.reserve_bytes = reserve_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_path = data_dir / ".images.lock"

    @staticmethod
    def relative_paths(inspection_id: str, day: datetime) -> tuple[str, str]:
        folder = f"images/{day:%Y-%m-%d}"
        base = f"{folder}/{inspection_id}"
        return base + IMAGE_SUFFIX, base + OVERLAY_SUFFIX

    def resolve(self, relative: str) -> Path:
        """The absolute path of a stored file; refuses anything outside the image folder."""
        path = (self.data_dir / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StoreError(f"the image path {relative!r} is outside the image store")
        return path

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.data_dir).free

    def check_space(self, need_bytes: int) -> None:
        """Raises StoreFull unless `need_bytes` fit and the reserve stays free."""
        free = self.free_bytes()
        if free - need_bytes < self.reserve_bytes:
            raise StoreFull(
                f"the disk of {self.data_dir} is full: {free // 2**20} MiB free, "
                f"{self.reserve_bytes // 2**20} MiB must stay free; free space or move old images"
            )

    def write(self, relative: str, data: bytes) -> Path:
        """Writes `data` atomically: temp file, fsync, rename, fsync of the folder."""
        path = self.resolve(relative)
        temp = path.with_name(path.name + TEMP_SUFFIX)
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                fsync_dir(path.parent.parent)  # the new day folder itself survives a power cut
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
            fsync_dir(path.parent)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFull(f"the disk of {self.data_dir} is full; free space "
                                "or move old images") from exc
            raise StoreError(f"cannot write the image {path}: {exc.strerror}") from exc
        return path

    def remove(self, relative: str | None) -> None:
        if relative:
            self.resolve(relative).unlink(missing_ok=True)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._locked(fcntl.LOCK_SH):
            yield

    @contextlib.contextmanager
    def sweeping(self) -> Iterator[None]:
        with self._locked(fcntl.LOCK_EX):
            yield

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def files(self) -> Iterator[tuple[str, str, Path]]:
        """(inspection id, kind, path) of every stored file; kind "image", "overlay" or "temp"."""
        for day in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in day.iterdir():
                name = path.name
                if name.endswith(TEMP_SUFFIX):
                    yield name.split(".", 1)[0], "temp", path
                elif name.endswith(OVERLAY_SUFFIX):
                    yield name[: -len(OVERLAY_SUFFIX)], "overlay", path
                elif name.endswith(IMAGE_SUFFIX):
                    yield name[: -len(IMAGE_SUFFIX)], "image", path

    def move_to_orphans(self, path: Path) -> Path:
        target = self.orphans / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_id(data_dir: Path) -> str:
    """This data folder's id, made once: a record names the folder that holds its images."""
    path = data_dir / "store-id"
    if not path.exists():
        temp = data_dir / f"store-id.{uuid.uuid4().hex}.tmp"
        temp.write_text(uuid.uuid4().hex + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)  # atomic: the first of two openers wins
        temp.unlink()
    return path.read_text().strip()

"""Reading a user's file whole: only a regular file, and only up to a size limit.

A FIFO would block the read for ever and /dev/zero would fill the memory, so both are refused
before anything is read. The errors are OSError subclasses with a plain `strerror`, so that a
caller's existing `except OSError` turns them into its own one-sentence message.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MB = 1 << 20


class NotRegularFile(OSError):
    """The path is a device, FIFO or socket rather than a file."""


class FileTooLarge(OSError):
    """The file is larger than its kind of file may be."""


def read_limited(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`; NotRegularFile or FileTooLarge when not fit."""
    p = Path(path)
    st = os.stat(p)  # FileNotFoundError, PermissionError pass through
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "is a folder", str(p))
    _check(st, max_bytes, p)
    # O_NONBLOCK: should the path have been swapped for a FIFO since the stat, open does not hang
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        _check(os.fstat(fd), max_bytes, p)
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(27, f"it is larger than {_size(max_bytes)}", str(p))
    return data


def read_text_limited(path: str | Path, max_bytes: int) -> str:
    """The file as UTF-8 text (a leading byte-order mark is dropped); UnicodeDecodeError if not."""
    return read_limited(path, max_bytes).decode("utf-8-sig")


def _check(st: os.stat_result, max_bytes: int, p: Path) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(22, f"it is {_kind(st.st_mode)}, not a regular file", str(p))
    if st.st_size > max_bytes:
        raise FileTooLarge(
            27, f"it is {_size(st.st_size)}, more than the {_size(max_bytes)} allowed", str(p)
        )


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} bytes"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, then rename it over `path`: never half a file."""
    tmp = _temp_beside(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_new(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write FOLDER/STEM+SUFFIX, or STEM-2+SUFFIX, STEM-3... when taken; the path written.

    Atomic and never replacing a file: the whole temp file is hard-linked to a free name, which
    fails when another process took the name first.
    """
    tmp = _temp_beside(folder / (stem + suffix))
    try:
        tmp.write_bytes(data)
        for i in range(1, 1000):
            path = folder / (f"{stem}{suffix}" if i == 1 else f"{stem}-{i}{suffix}")
            try:
                _link_new(tmp, path)
                return path
            except FileExistsError:
                continue
        raise FileExistsError(17, "no free file name", str(folder / stem))
    finally:
        tmp.unlink(missing_ok=True)


def _link_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.ENOSYS):
            raise
        # no hard links here (FAT): reserve the name, then rename the whole file onto it
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(tmp, path)


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")

"""What the inspecting commands write: overlay files that never replace one, and stdout lines.

Overlays are named STEM-HASH.jpg, HASH from the input's absolute path, so that a/0003.jpg and
b/0003.jpg never share a name; a name already taken (another run's overlay) gets -2, -3...
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

from ..errors import OutputError


def shown_name(path: Path) -> str:
    """The path as text that is always valid UTF-8: an undecodable byte shows as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def overlay_stem(path: Path) -> str:
    """STEM-HASH for the overlay of `path`: safe characters, unique per input path."""
    digest = hashlib.sha256(os.fsencode(path.absolute())).hexdigest()[:8]
    stem = re.sub(r"[^\w.-]+", "_", shown_name(Path(path.stem)))[:80]
    return f"{stem}-{digest}"


def prepare_out(out: Path, inputs: list[Path]) -> None:
    """Refuse, before any image is inspected, an --out that cannot take the overlays."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {shown_name(out)} is a file, not a folder; give a folder for "
                          "the overlay images.")
    target = out.resolve()
    for p in inputs:
        if p.parent.resolve() == target:
            raise OutputError(
                f"--out {shown_name(out)} is the folder of the input {shown_name(p)}; give "
                "another folder, so that overlays never mix with the photos.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise OutputError(f"--out {shown_name(out)} cannot be written "
                          f"({e.strerror or e}); give a writable folder.") from None


def emit(line: str) -> None:
    """Print one result line now; a closed pipe or a full disk becomes one OutputError."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        raise OutputError("the output was closed before every result was written; the "
                          "results after it are lost.", closed=True) from None
    except OSError as e:
        raise OutputError(f"cannot write the results to standard output ({e.strerror or e}); "
                          "free space or write elsewhere.", closed=True) from None


def silence_stdout() -> None:
    """After a failed write, point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass

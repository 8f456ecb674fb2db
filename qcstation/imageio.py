"""Reading and writing image files, with one plain ImageError for every way a file can be bad."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError
from .files import MB, read_limited, write_atomic, write_new
from .imageheader import header_size, size_problem

logger = logging.getLogger(__name__)

_JPEG_SOI = b"\xff\xd8"
_EOI, _SOS, _TEM = 0xD9, 0xDA, 0x01
_RST = range(0xD0, 0xD8)
_ZERO_RUN = bytes(1024)
MAX_FILE_BYTES = 256 * MB
# the decoders' stderr is the process's: one decode at a time listens to it
_STDERR_LOCK = threading.Lock()
# stderr lines that say nothing about the pixels: log records of other threads, and libpng's
# notes on metadata chunks (a colour profile some editors write slightly wrong)
_NOT_DAMAGE = re.compile(
    r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)[: ]"
    r"|^libpng warning: (iCCP|sRGB|cHRM|gAMA|tEXt|zTXt|iTXt|pHYs|bKGD|tIME|sBIT|eXIf)"
)


def read_image(path: str | Path, expected_size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an image file as BGR uint8 (H, W, 3); works with non-ASCII paths.

    `expected_size` (w, h), e.g. the calibration's: a file of another size is refused from its
    header, before it is decoded.
    """
    return decode_image(_read_bytes(path), str(path), expected_size=expected_size)


def read_gray(path: str | Path) -> np.ndarray:
    """Read an image file as grey uint8 (H, W)."""
    return decode_image(_read_bytes(path), str(path), gray=True)


def decode_image(data: bytes, name: str, gray: bool = False,
                 expected_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode encoded image bytes (a file's or an upload's); `name` is used in error messages.

    The pixels are the sensor's as stored: an EXIF orientation tag is not applied, so that the
    lens and bench-plane model of the calibration meets the pixels it was made from.
    """
    if not data:
        raise ImageError(f"{name}: the file is empty (0 bytes); copy the image again.")
    _check_header(data, name, expected_size)
    if data.startswith(_JPEG_SOI):
        _check_jpeg(data, name)
    flags = cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR
    img, messages = _decode(data, flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None or img.size == 0:
        raise ImageError(f"{name}: not a readable image; give a JPEG, PNG, BMP or TIFF file.")
    if messages:  # libjpeg and libpng report damaged data as warnings and decode on
        raise ImageError(
            f"{name}: the image data is damaged (the decoder reports {messages[0]!r}); "
            "copy the image again."
        )
    return img


def _check_header(data: bytes, name: str, expected: tuple[int, int] | None) -> None:
    size = header_size(data)
    if size is None and data.startswith((_JPEG_SOI, b"\x89PNG")):
        raise ImageError(f"{name}: the image is truncated or damaged (its header cannot be "
                         "read); copy the image again.")
    if size is None:
        raise ImageError(f"{name}: not a readable image; give a JPEG, PNG, BMP or TIFF file.")
    problem = size_problem(size)
    if problem:
        raise ImageError(f"{name}: {problem}; give a photo from the bench camera.")
    if expected is not None and tuple(size) != tuple(expected):
        w, h = expected
        raise ImageError(f"{name}: the image is {size[0]}x{size[1]} px but the calibration is "
                         f"for {w}x{h} px; use the calibration of this camera.")


def _check_jpeg(data: bytes, name: str) -> None:
    if not jpeg_complete(data):
        # cv2 decodes a cut-off JPEG without complaint, greying out the missing part
        raise ImageError(
            f"{name}: the JPEG is truncated or damaged (no end-of-image marker after its "
            "data); copy the image again."
        )
    if _ZERO_RUN in data[data.find(b"\xff\xda") :]:
        # a block of the file overwritten with zeros (a bad sector, an interrupted copy) decodes
        # as valid, flat image data; no encoder writes a kilobyte of zero bits
        raise ImageError(
            f"{name}: the JPEG is damaged (a block of its image data is zeroed); copy the image "
            "again."
        )


def _decode(data: bytes, flags: int) -> tuple[np.ndarray | None, list[str]]:
    """cv2.imdecode, with what the codec libraries print to stderr meanwhile, line by line."""
    buf = np.frombuffer(data, np.uint8)
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no stderr to redirect: decode without listening
            saved = None
        if saved is not None:
            os.dup2(sink.fileno(), 2)
        try:
            img = cv2.imdecode(buf, flags)
        except cv2.error as e:
            logger.debug("imdecode failed: %s", e)
            img = None
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
        sink.seek(0)
        text = sink.read(1_000_000).decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    others = [line for line in lines if _NOT_DAMAGE.match(line)]
    if others:  # another thread's log lines, caught while we listened: pass them on
        with contextlib.suppress(OSError):
            os.write(2, ("\n".join(others) + "\n").encode("utf-8", "replace"))
    lines = [line for line in lines if not _NOT_DAMAGE.match(line)]
    for line in lines:
        logger.debug("decoder: %s", line)
    return img, lines


def write_image(path: str | Path, img: np.ndarray, jpeg_quality: int = 90) -> None:
    """Write an image atomically (temp file, rename); the format follows the file's extension.

    Creates the parent folder.
    """
    p = Path(path)
    data = encode_image(img, p.suffix, jpeg_quality, str(p))
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(p, data)
    except OSError as e:
        raise ImageError(f"{p}: cannot write the image ({e.strerror or e}).") from None


def write_new_image(folder: Path, stem: str, img: np.ndarray, jpeg_quality: int = 88) -> Path:
    """Write a JPEG as FOLDER/STEM.jpg, or STEM-2.jpg... when taken: never replaces a file."""
    data = encode_image(img, ".jpg", jpeg_quality, str(folder / stem))
    try:
        return write_new(folder, stem, ".jpg", data)
    except OSError as e:
        raise ImageError(f"{folder}: cannot write the image {stem}.jpg there "
                         f"({e.strerror or e}).") from None


def encode_image(img: np.ndarray, ext: str, jpeg_quality: int, name: str) -> bytes:
    ext = ext.lower() or ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if ext in (".jpg", ".jpeg") else []
    try:
        ok, buf = cv2.imencode(ext, img, params)
    except cv2.error as e:
        raise ImageError(
            f"{name}: cannot encode the image as {ext!r} ({_first_line(e)}); use .jpg or .png."
        ) from None
    if not ok:
        raise ImageError(f"{name}: cannot encode the image as {ext!r}; use .jpg or .png.")
    return buf.tobytes()


def jpeg_complete(data: bytes) -> bool:
    """True when the JPEG's marker segments run to an end-of-image marker (FF D9).

    Walks the segments rather than checking the last two bytes, so that data a camera appends
    after the image (padding, a motion-photo trailer) is accepted and an EXIF thumbnail's own
    end marker is not mistaken for the image's.
    """
    pos, n = 2, len(data)
    while pos + 2 <= n:
        if data[pos] != 0xFF:  # stray bytes between segments: libjpeg skips them too
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return False
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker == _EOI:
            return True
        elif marker in _RST or marker == _TEM:  # markers without a length
            pos += 2
        elif pos + 4 > n:
            return False
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker == _SOS:
                pos = _skip_entropy_data(data, pos)
    return False


def _skip_entropy_data(data: bytes, pos: int) -> int:
    """Index of the first marker after a scan's entropy-coded data (len(data) if none)."""
    n = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= n:
            return n
        nxt = data[pos + 1]
        if nxt == 0x00 or nxt in _RST:  # stuffed byte or restart marker: still in the scan
            pos += 2
        elif nxt == 0xFF:
            pos += 1
        else:
            return pos


def _read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        return read_limited(p, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ImageError(f"{p}: image file not found; check the path.") from None
    except IsADirectoryError:
        raise ImageError(f"{p}: is a folder, not an image file; give the image files.") from None
    except PermissionError:
        raise ImageError(f"{p}: permission denied; make the image file readable.") from None
    except OSError as e:
        raise ImageError(f"{p}: cannot read the image file ({e.strerror or e}).") from None


def _first_line(e: Exception) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[-1] if lines else type(e).__name__

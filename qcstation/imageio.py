"""Reading and writing image files, with one plain ImageError for every way a file can be bad."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError

logger = logging.getLogger(__name__)

_JPEG_SOI = b"\xff\xd8"
_EOI, _SOS, _TEM = 0xD9, 0xDA, 0x01
_RST = range(0xD0, 0xD8)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8 (H, W, 3); works with non-ASCII paths."""
    return decode_image(_read_bytes(path), str(path))


def read_gray(path: str | Path) -> np.ndarray:
    """Read an image file as grey uint8 (H, W)."""
    return decode_image(_read_bytes(path), str(path), gray=True)


def decode_image(data: bytes, name: str, gray: bool = False) -> np.ndarray:
    """Decode encoded image bytes (a file's or an upload's); `name` is used in error messages."""
    if not data:
        raise ImageError(f"{name}: the file is empty (0 bytes); copy the image again.")
    if data.startswith(_JPEG_SOI) and not jpeg_complete(data):
        # cv2 decodes a cut-off JPEG without complaint, greying out the missing part
        raise ImageError(
            f"{name}: the JPEG is truncated or damaged (no end-of-image marker after its "
            "data); copy the image again."
        )
    flags = cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as e:
        logger.debug("imdecode failed for %s: %s", name, e)
        img = None
    if img is None or img.size == 0:
        raise ImageError(f"{name}: not a readable image; give a JPEG, PNG, BMP or TIFF file.")
    return img


def write_image(path: str | Path, img: np.ndarray, jpeg_quality: int = 90) -> None:
    """Write an image; the format follows the file's extension. Creates the parent folder."""
    p = Path(path)
    ext = p.suffix.lower() or ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if ext in (".jpg", ".jpeg") else []
    try:
        ok, buf = cv2.imencode(ext, img, params)
    except cv2.error as e:
        raise ImageError(
            f"{p}: cannot encode the image as {ext!r} ({_first_line(e)}); use .jpg or .png."
        ) from None
    if not ok:
        raise ImageError(f"{p}: cannot encode the image as {ext!r}; use .jpg or .png.")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(buf.tobytes())
    except OSError as e:
        raise ImageError(f"{p}: cannot write the image ({e.strerror or e}).") from None


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
        return p.read_bytes()
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

"""An image file's width and height read from its header, before anything is decoded.

So that a small file that would decode to gigabytes (a 20000 x 20000 PNG is 1.2 MB) is refused
first. JPEG, PNG, BMP and TIFF: the formats qcstation reads.
"""

from __future__ import annotations

_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC)
_SOF = {m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)}
_NO_LENGTH = set(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI, TEM


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header, or None when the format is not known or the header bad."""
    if data.startswith(_PNG):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(b"BM"):
        return _bmp(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(data)
    return None


def _png(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg(data: bytes) -> tuple[int, int] | None:
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _NO_LENGTH:
            pos += 2
            continue
        if marker == 0xDA:  # scan data before any frame header
            return None
        if marker in _SOF:
            if pos + 9 > n:
                return None
            h = int.from_bytes(data[pos + 5 : pos + 7], "big")
            w = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return w, h
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _bmp(data: bytes) -> tuple[int, int] | None:
    if len(data) < 26:
        return None
    dib = int.from_bytes(data[14:18], "little")
    if dib == 12:  # OS/2 header: 16-bit sizes
        return int.from_bytes(data[18:20], "little"), int.from_bytes(data[20:22], "little")
    w = int.from_bytes(data[18:22], "little", signed=True)
    h = int.from_bytes(data[22:26], "little", signed=True)
    return w, abs(h)  # a negative height means rows stored top-down


def _tiff(data: bytes) -> tuple[int, int] | None:
    order = "little" if data[:2] == b"II" else "big"

    def u(off: int, size: int) -> int:
        return int.from_bytes(data[off : off + size], order)

    ifd = u(4, 4)
    if ifd + 2 > len(data):
        return None
    found: dict[int, int] = {}
    for i in range(min(u(ifd, 2), 500)):
        e = ifd + 2 + 12 * i
        if e + 12 > len(data):
            return None
        tag, kind = u(e, 2), u(e + 2, 2)
        if tag in (256, 257) and kind in (3, 4):  # ImageWidth, ImageLength as SHORT or LONG
            found[tag] = u(e + 8, 2 if kind == 3 else 4)
    if 256 not in found or 257 not in found:
        return None
    return found[256], found[257]


# The largest image qcstation reads or calibrates for: a 64-megapixel camera. Larger would take
# gigabytes in the bench view and its masks.
MAX_SIDE_PX = 12_000
MAX_PIXELS = 64_000_000


def size_problem(size: tuple[int, int]) -> str | None:
    """Why an image of `size` (w, h) cannot be used, or None when it can."""
    w, h = size
    if w < 1 or h < 1:
        return f"its header gives a size of {w}x{h} px"
    if max(w, h) > MAX_SIDE_PX or w * h > MAX_PIXELS:
        return (f"it is {w}x{h} px, more than qcstation handles (at most {MAX_SIDE_PX} px a "
                f"side and {MAX_PIXELS // 1_000_000} megapixels)")
    return None

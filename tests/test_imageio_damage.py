"""Damaged, oversized and odd image files are refused with one sentence, before any harm.

Each case once passed: a JPEG with a zeroed block decoded with a grey wash and its net passed, a
20000 x 20000 PNG was decoded (gigabytes) before the size check, /dev/zero filled the memory, a
FIFO hung, and an EXIF orientation tag turned the pixels before the lens model met them.
"""

from __future__ import annotations

import os
import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from netimg import grid_net

from qcstation.errors import ImageError
from qcstation.imageheader import header_size
from qcstation.imageio import decode_image, read_image


def _net_jpeg(quality: int = 90) -> bytes:
    """A photo-like net: blurred, with sensor noise, so that the JPEG data is not trivial."""
    img = cv2.GaussianBlur(grid_net(800, 600), (0, 0), 1.0)
    noise = np.random.default_rng(0).normal(0, 6, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def _scan_start(data: bytes) -> int:
    return data.index(b"\xff\xda")


def test_a_good_net_jpeg_reads():
    assert decode_image(_net_jpeg(), "net.jpg", expected_size=(800, 600)).shape == (600, 800, 3)


def test_zeroed_block_in_the_middle_is_an_error():
    data = bytearray(_net_jpeg())
    mid = len(data) // 2
    data[mid : mid + 4096] = bytes(4096)  # libjpeg: "premature end of data segment"
    with pytest.raises(ImageError, match="damaged") as e:
        decode_image(bytes(data), "net.jpg")
    assert "\n" not in str(e.value)


def test_decoder_warnings_make_an_error():
    """Bytes flipped in the scan data: libjpeg warns on stderr and decodes on; we listen."""
    data = bytearray(_net_jpeg())
    start = _scan_start(data) + 200
    rng = np.random.default_rng(1)
    block = rng.integers(0, 255, 3000, dtype=np.uint8).tobytes().replace(b"\xff", b"\x00")
    data[start + 2000 : start + 5000] = block[:3000]
    data[-600:-2] = bytes(b"\xff\xd0" * 299)  # restart markers where data should be
    with pytest.raises(ImageError, match="decoder reports") as e:
        decode_image(bytes(data), "net.jpg")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_files_are_errors(keep):
    jpg = _net_jpeg()
    with pytest.raises(ImageError):
        decode_image(jpg[: int(len(jpg) * keep)], "cut.jpg")
    png = cv2.imencode(".png", grid_net(400, 300))[1].tobytes()
    with pytest.raises(ImageError):
        decode_image(png[: int(len(png) * keep)], "cut.png")


def _png_1bit(width: int, height: int) -> bytes:
    """A valid, tiny file for a huge black image: 1-bit grey rows compress to almost nothing."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    row = bytes(1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_huge_image_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_1bit(20000, 20000))  # decodes to 1.2 GB as BGR
    assert path.stat().st_size < 2_000_000
    t0 = time.perf_counter()
    with pytest.raises(ImageError, match="20000x20000") as e:
        read_image(path)
    assert time.perf_counter() - t0 < 1.0  # no decoding happened
    assert "\n" not in str(e.value)


def test_size_other_than_the_calibration_is_refused_before_decoding(tmp_path):
    path = tmp_path / "other.png"
    path.write_bytes(_png_1bit(4000, 3000))
    with pytest.raises(ImageError, match="4000x3000 px but the calibration is for 800x600"):
        read_image(path, expected_size=(800, 600))


@pytest.mark.parametrize("fmt", [".png", ".jpg", ".bmp", ".tif"])
def test_header_size_agrees_with_the_decoder(fmt):
    img = grid_net(321, 123)
    data = cv2.imencode(fmt, img)[1].tobytes()
    assert header_size(data) == (321, 123)


def test_devices_and_fifos_are_refused_at_once(tmp_path):
    with pytest.raises(ImageError, match="device") as e:
        read_image("/dev/zero")
    assert "\n" not in str(e.value)
    fifo = tmp_path / "frame.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="pipe"):
        read_image(fifo)


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 Exif segment whose only tag is Orientation (0x0112)."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_not_applied(orientation):
    """The calibration models the sensor's pixels; a rotated frame would meet the wrong lens."""
    img = np.zeros((60, 100, 3), np.uint8)
    img[:, :20] = 255  # a white band on the sensor's left edge
    plain = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    tagged = _with_exif_orientation(plain, orientation)
    got = decode_image(tagged, "rotated.jpg", expected_size=(100, 60))
    assert got.shape == (60, 100, 3)
    assert got[:, :15].mean() > 200 and got[:, 30:].mean() < 50


def test_other_threads_logging_meanwhile_is_no_damage(capfd):
    """The decoders are heard on the process's stderr; a station thread's log line written
    there during a decode must not make a good image an error, and must still be shown."""
    import threading

    stop = threading.Event()

    def chatter():  # as a logging.StreamHandler on the real stderr writes
        while not stop.is_set():
            os.write(2, b"WARNING qcstation.neighbour: tick\n")

    big = cv2.resize(grid_net(800, 600), (4000, 3000))  # long decodes: the chatter meets them
    data = cv2.imencode(".jpg", big)[1].tobytes()
    t = threading.Thread(target=chatter)
    t.start()
    try:
        for _ in range(5):
            assert decode_image(data, "net.jpg").shape == (3000, 4000, 3)
    finally:
        stop.set()
        t.join()
    assert "WARNING qcstation.neighbour: tick" in capfd.readouterr().err

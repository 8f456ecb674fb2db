"""Image files: good ones round-trip, every bad one gives one plain ImageError sentence."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from qcstation.errors import ImageError
from qcstation.imageio import decode_image, jpeg_complete, read_gray, read_image, write_image


def _photo(h: int = 120, w: int = 160) -> np.ndarray:
    """A smooth colour image (JPEG keeps it close) with a few sharp shapes."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], -1).astype(np.uint8)
    cv2.circle(img, (w // 2, h // 2), h // 4, (20, 200, 60), -1)
    return img


def _jpeg_bytes(img: np.ndarray, **params: int) -> bytes:
    flags = [v for k, val in params.items() for v in (getattr(cv2, k), val)]
    ok, buf = cv2.imencode(".jpg", img, flags)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tif"])
def test_round_trip(tmp_path, ext):
    img = _photo()
    path = tmp_path / "sub" / f"frame{ext}"
    write_image(path, img, jpeg_quality=95)
    back = read_image(path)
    assert back.shape == img.shape and back.dtype == np.uint8
    tol = 6 if ext == ".jpg" else 0  # JPEG is lossy; the others are exact
    assert np.abs(back.astype(int) - img.astype(int)).mean() <= tol


def test_read_gray(tmp_path):
    img = _photo()
    write_image(tmp_path / "a.png", img)
    gray = read_gray(tmp_path / "a.png")
    assert gray.shape == img.shape[:2]
    np.testing.assert_allclose(gray, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), atol=1)


def test_non_ascii_path(tmp_path):
    path = tmp_path / "코이어 망" / "그물-ü.jpg"  # Korean folder and file names
    write_image(path, _photo())
    assert path.is_file()
    assert read_image(path).shape == (120, 160, 3)


@pytest.mark.parametrize("progressive", [0, 1])
def test_jpeg_end_marker_check(progressive):
    data = _jpeg_bytes(_photo(), IMWRITE_JPEG_PROGRESSIVE=progressive)
    assert jpeg_complete(data)
    assert jpeg_complete(data + b"\x00" * 64)  # padding after the image is harmless
    assert not jpeg_complete(data[: len(data) // 2])
    assert not jpeg_complete(data[:-2])


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


BAD_FILES = [
    (
        "random bytes",
        lambda t: _write(t, "noise.jpg", np.random.default_rng(0).bytes(5000)),
        "not a readable image",
    ),
    ("empty file", lambda t: _write(t, "empty.jpg", b""), "empty"),
    ("truncated JPEG", lambda t: _write(t, "cut.jpg", _jpeg_bytes(_photo())[:1500]), "truncated"),
    ("missing file", lambda t: t / "nowhere.jpg", "not found"),
    ("directory", lambda t: t, "folder"),
    (
        "text file",
        lambda t: _write(t, "notes.png", b"hello, not an image\n"),
        "not a readable image",
    ),
]


@pytest.mark.parametrize(
    ("make", "expected"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_file_gives_one_sentence(tmp_path, make, expected):
    path = make(tmp_path)
    with pytest.raises(ImageError, match=expected) as e:
        read_image(path)
    msg = str(e.value)
    assert msg.startswith(str(path)) and "\n" not in msg and msg.endswith(".")


def test_truncated_jpeg_is_named_as_such(tmp_path):
    # why the end-marker check exists: cv2.imread returns a half-grey image without an error
    # (only a libjpeg warning on stderr); cv2.imdecode returns None, which says nothing of why
    data = _jpeg_bytes(_photo())
    path = _write(tmp_path, "cut.jpg", data[: len(data) // 2])
    assert cv2.imread(str(path)) is not None
    with pytest.raises(ImageError, match="cut.jpg: the JPEG is truncated"):
        read_image(path)
    with pytest.raises(ImageError, match="upload.jpg: the JPEG is truncated"):
        decode_image(data[: len(data) // 2], "upload.jpg")


def test_decode_upload_bytes():
    img = decode_image(_jpeg_bytes(_photo()), "upload.jpg")
    assert img.shape == (120, 160, 3)
    with pytest.raises(ImageError, match="upload.bin: the file is empty"):
        decode_image(b"", "upload.bin")


def test_write_unknown_extension(tmp_path):
    with pytest.raises(ImageError, match=r"frame\.xyz"):
        write_image(tmp_path / "frame.xyz", _photo())

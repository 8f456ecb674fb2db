"""Chessboard photos with exact corners, for the calibration tests.

Independent of the synthetic renderer and of OpenCV's detector: each pixel is the mean of 4x4
samples whose board position comes from the inverse of a chosen homography, so the true inner
corners are the homography applied to the board grid.
"""

from __future__ import annotations

import cv2
import numpy as np

SUPERSAMPLE = 4


def board_homography(
    size=(640, 480), angle_deg=10.0, tilt_deg=(15.0, -10.0), distance_mm=600.0, f_px=800.0
) -> np.ndarray:
    """Board squares (origin at the first inner corner of a 9x6 board) -> image pixels.

    A pinhole camera (focal length `f_px`, principal point at the image centre, no distortion)
    sees the board's centre `distance_mm` away, turned by `angle_deg` in its plane and tilted by
    `tilt_deg` about the x and y axes; squares are 25 mm. Views from one `f_px` are consistent
    with one camera, so they can be calibrated together.
    """
    w, h = size
    k = np.array([[f_px, 0, (w - 1) / 2], [0, f_px, (h - 1) / 2], [0, 0, 1]])
    tx, ty = np.deg2rad(tilt_deg)
    rvec = np.array([tx, ty, np.deg2rad(angle_deg)], np.float64)
    r = cv2.Rodrigues(rvec)[0]
    square = 25.0
    t = np.array([0.0, 0.0, distance_mm]) - r @ np.array([4.0 * square, 2.5 * square, 0.0])
    return k @ np.c_[r[:, 0], r[:, 1], t] @ np.diag([square, square, 1.0])


def render_board(
    hmat: np.ndarray, size=(640, 480), board=(9, 6), blur=0.7, noise=1.5, seed=0
) -> tuple[np.ndarray, np.ndarray]:
    """(grey image, true inner corners (cols*rows, 2) in row-major board order)."""
    w, h = size
    s = SUPERSAMPLE
    ys, xs = np.mgrid[0 : h * s, 0 : w * s]
    px = np.stack([(xs + 0.5) / s - 0.5, (ys + 0.5) / s - 0.5], -1).reshape(-1, 1, 2)
    uv = cv2.perspectiveTransform(px, np.linalg.inv(hmat)).reshape(h * s, w * s, 2)
    cols, rows = board
    inside = (uv[..., 0] >= -1) & (uv[..., 0] < cols) & (uv[..., 1] >= -1) & (uv[..., 1] < rows)
    dark = (np.floor(uv[..., 0]) + np.floor(uv[..., 1])) % 2 == 0
    img = np.where(inside & dark, 30.0, 225.0).reshape(h, s, w, s).mean(axis=(1, 3))
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img += np.random.default_rng(seed).normal(0, noise, img.shape)
    grid = np.mgrid[0:cols, 0:rows].T.reshape(-1, 1, 2).astype(np.float64)
    truth = cv2.perspectiveTransform(grid, hmat).reshape(-1, 2)
    return np.clip(img, 0, 255).astype(np.uint8), truth

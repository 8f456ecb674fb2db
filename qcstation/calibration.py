"""Camera calibration from chessboard photos: intrinsics, lens distortion and the bench plane."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import cv2
import numpy as np

# the file format lives in its own module; re-exported here as part of the calibration API
from .calibration_format import FORMAT as FORMAT
from .calibration_format import calibration_from_dict as calibration_from_dict
from .calibration_format import calibration_to_dict as calibration_to_dict
from .domain import Calibration
from .errors import CalibrationError

logger = logging.getLogger(__name__)

MIN_BOARDS = 5
# Board poses must differ for the lens to be fitted: boards all parallel to one another (the
# same photo again, or the board only slid over the bench) leave the focal length free; the fit
# then reports a small RMS all the same (0.049 px on six copies of one photo).
MIN_SPREAD_DEG = 8.0  # the widest angle between two boards' normals; a tilted set holds 20-70
SAME_VIEW_PX = 0.5  # two views whose corners lie this close on average are one view
TILTED_PLANE_DEG = 8.0  # a bench-plane board tilted more than this to the camera is warned of
# Boards are detected on a copy no larger than this (detection time grows fast with size);
# the corners are then refined on the full image.
_DETECT_MAX_SIDE = 1600
# Sub-pixel search half-window as a fraction of the closest corner spacing: 0.5 reaches the
# neighbouring corner (RMS 0.2 -> 0.9 px on the OpenCV sample photos), 0.3-0.4 do equally well.
_SUBPIX_WINDOW_FRACTION = 0.35
_SUBPIX_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
# cv2's default of 5 iterations can be pixels off near the corners of a wide-angle view
# (6.6 px at the corner of a 1280x960 view with fx = 1000 px and k1 = -0.1)
_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
_CALIBRATE_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)


def find_board(gray: np.ndarray, board: tuple[int, int] = (9, 6)) -> np.ndarray | None:
    """Inner corners of a chessboard, refined to sub-pixel; None when no board is found.

    `board` is (columns, rows) of inner corners. Returns (columns*rows, 2) float32 image pixels in
    row-major board order, oriented the same way on every photo: the first corner is the one
    nearest the image's top-left, and the board's column and row directions turn the same way as
    the image's x and y (never a mirror image). A board lying square in the photo so gets bench
    axes along the image's x and y.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, _DETECT_MAX_SIDE / max(gray.shape[:2]))
    small = gray
    if scale < 1.0:
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    corners = _detect(small, board)
    if corners is None:
        return None
    corners = (corners + 0.5) / scale - 0.5  # pixel centres of the small copy -> full image
    return _canonical(_refine(gray, corners, board), board)


def find_boards(images: Sequence[np.ndarray | None], board: tuple[int, int]) -> list:
    """`find_board` over images; None stays None (an image that could not be read)."""
    return [None if img is None else find_board(img, board) for img in images]


def common_size(images: Sequence[np.ndarray], names: Sequence[str] | None = None) -> tuple:
    """(width, height) shared by all images; refuses images of different sizes."""
    if not images:
        raise CalibrationError("no images were given; give the chessboard photos.")
    names = names or [f"image {i + 1}" for i in range(len(images))]
    sizes = [(int(img.shape[1]), int(img.shape[0])) for img in images]
    for name, size in zip(names, sizes, strict=True):
        if size != sizes[0]:
            raise CalibrationError(
                f"{name} is {size[0]}x{size[1]} px but {names[0]} is {sizes[0][0]}x{sizes[0][1]}"
                " px; take all calibration photos with the same camera at the same resolution."
            )
    return sizes[0]


def calibrate_images(
    images: Sequence[np.ndarray],
    board: tuple[int, int],
    square_mm: float,
    plane_image: np.ndarray | None = None,
) -> Calibration:
    """Calibrate from chessboard photos; the bench plane from `plane_image` or the first photo."""
    size = common_size([*images, *([] if plane_image is None else [plane_image])])
    found = find_boards(images, board)
    plane = None
    if plane_image is not None:
        plane = find_board(plane_image, board)
        if plane is None:
            raise CalibrationError(_no_plane_board("the bench-plane image", board))
    return calibrate_boards(found, board, square_mm, size, plane)


def calibrate_boards(
    found: Sequence[np.ndarray | None],
    board: tuple[int, int],
    square_mm: float,
    image_size: tuple[int, int],
    plane_corners: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> Calibration:
    """Calibrate from per-image corners (None: no board there); refuses too few boards.

    Without `plane_corners` the first image is the bench-plane view.
    """
    sets = [c for c in found if c is not None]
    if len(sets) < MIN_BOARDS:
        cols, rows = board
        raise CalibrationError(
            f"chessboard found in {len(sets)} of {len(found)} images, at least {MIN_BOARDS} are "
            f"needed; take more sharp photos showing the whole {cols}x{rows}-corner board at "
            "varied angles, or check the board size (inner corners, columns x rows)."
        )
    if plane_corners is None:
        if found[0] is None:
            name = names[0] if names else "the first image"
            cols, rows = board
            raise CalibrationError(
                f"no {cols}x{rows}-corner chessboard found in {name}, the bench-plane view by "
                "default; put a sharp photo of the board lying flat on the bench first, or give "
                "one as the plane photo (--plane)."
            )
        plane_corners = found[0]
    return _calibrate(sets, plane_corners, board, square_mm, image_size)


def calibrate_from_corners(
    corner_sets: Sequence[np.ndarray],
    board: tuple[int, int],
    square_mm: float,
    image_size: tuple[int, int],
    plane_index: int = 0,
) -> Calibration:
    """Calibrate from `find_board` corners of each view; view `plane_index` lies on the bench."""
    if corner_sets and not 0 <= plane_index < len(corner_sets):
        raise CalibrationError(
            f"plane view {plane_index} does not exist among {len(corner_sets)} views."
        )
    plane = corner_sets[plane_index] if corner_sets else None
    return calibrate_boards(list(corner_sets), board, square_mm, image_size, plane)


def board_points_mm(board: tuple[int, int], square_mm: float) -> np.ndarray:
    """(columns*rows, 2) board corners in mm, row-major: (col*square, row*square)."""
    cols, rows = board
    grid = np.mgrid[0:cols, 0:rows].T.reshape(-1, 2)
    return (grid * float(square_mm)).astype(np.float64)


def image_to_bench_mm(
    px: np.ndarray, camera_matrix: np.ndarray, dist_coeffs: np.ndarray, homography: np.ndarray
) -> np.ndarray:
    """Image pixels (N,2) -> bench mm (N,2): undistort, then the plane homography."""
    undist = _undistort(px, camera_matrix, dist_coeffs)
    return cv2.perspectiveTransform(undist.reshape(-1, 1, 2), homography).reshape(-1, 2)


def _calibrate(sets, plane_corners, board, square_mm, image_size) -> Calibration:
    """Intrinsics from all `sets`, the bench plane from `plane_corners`."""
    cols, rows = board
    n_corners = cols * rows
    for c in [*sets, plane_corners]:
        if np.asarray(c).size != 2 * n_corners:
            raise CalibrationError(
                f"a view has {np.asarray(c).size // 2} corners, expected {n_corners} for a "
                f"{cols}x{rows} board."
            )
    mm = board_points_mm(board, square_mm)
    _check_distinct(sets)
    rms, k, dist, normals = _fit_intrinsics(sets, mm, image_size)
    _check_spread(normals)
    h = _plane_homography(plane_corners, k, dist, mm)
    cal = Calibration(
        image_size=(int(image_size[0]), int(image_size[1])),
        camera_matrix=k,
        dist_coeffs=dist,
        plane_homography=h,
        mm_per_px=_mm_per_px(k, dist, h, image_size),
        rms_px=float(rms),
        board=(int(cols), int(rows)),
        square_mm=float(square_mm),
        n_images=len(sets),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    logger.info("calibrated from %d boards: RMS %.3f px", cal.n_images, cal.rms_px)
    return cal


def _fit_intrinsics(sets, mm, image_size) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """cv2.calibrateCamera with the 5-coefficient lens model: (RMS px, K, distortion, each
    board's unit normal in the camera frame (N, 3))."""
    obj = np.c_[mm, np.zeros(len(mm))].astype(np.float32).reshape(-1, 1, 3)
    pts = [np.asarray(c, np.float32).reshape(-1, 1, 2) for c in sets]
    # The aspect ratio fx/fy is fitted, not fixed to 1: on the OpenCV sample photos the fit gives
    # fx/fy = 0.9999 and fixing it moves fx by < 0.1 px, while a camera with non-square pixels
    # or an anamorphic video mode would be mismeasured along one axis if it were fixed.
    try:
        rms, k, dist, rvecs, _ = cv2.calibrateCamera(
            [obj] * len(pts), pts, tuple(image_size), None, None, criteria=_CALIBRATE_CRITERIA
        )
    except cv2.error as e:
        raise CalibrationError(
            f"the calibration fit failed ({_cv_message(e)}); take photos with "
            "the board at varied angles and distances."
        ) from None
    dist = np.asarray(dist, np.float64).ravel()[:5]
    if not (np.all(np.isfinite(k)) and np.all(np.isfinite(dist)) and k[0, 0] > 0 and k[1, 1] > 0):
        raise CalibrationError(
            "the calibration fit gave no valid camera; take photos with the board tilted at "
            "varied angles, not all square to the camera."
        )
    normals = np.array([cv2.Rodrigues(np.asarray(r, np.float64))[0][:, 2] for r in rvecs])
    return float(rms), k, dist, normals


def _check_distinct(sets) -> None:
    """Refuse when fewer than MIN_BOARDS of the views differ (the same photo given again)."""
    pts = [np.asarray(c, np.float64).reshape(-1, 2) for c in sets]
    distinct: list[np.ndarray] = []
    for p in pts:
        if all(np.abs(p - q).mean() >= SAME_VIEW_PX for q in distinct):
            distinct.append(p)
    if len(distinct) < MIN_BOARDS:
        raise CalibrationError(
            f"the {len(pts)} board views hold only {len(distinct)} different ones (the others "
            f"repeat a view, e.g. copies of one photo) and at least {MIN_BOARDS} are needed; "
            "take photos with the board tilted and moved over the whole view."
        )


def _check_spread(normals: np.ndarray) -> None:
    """Refuse boards all (nearly) parallel to one another: they cannot fix the lens."""
    cos = np.clip(np.abs(normals @ normals.T), 0.0, 1.0)
    spread = float(np.degrees(np.arccos(cos.min())))
    if spread < MIN_SPREAD_DEG:
        raise CalibrationError(
            f"the boards in the photos all lie at nearly the same angle (within {spread:.1f} "
            f"degrees of one another, at least {MIN_SPREAD_DEG:.0f} are needed), so the lens "
            "cannot be fitted; take photos with the board tilted 20-45 degrees in different "
            "directions."
        )


def board_tilt_deg(corners: np.ndarray, cal: Calibration) -> float:
    """Angle in degrees between the board seen at `corners` and the image plane (0: square
    to the camera), by the calibrated camera."""
    obj = np.c_[board_points_mm(cal.board, cal.square_mm), np.zeros(cal.board[0] * cal.board[1])]
    ok, rvec, _ = cv2.solvePnP(obj, np.asarray(corners, np.float64).reshape(-1, 1, 2),
                               cal.camera_matrix, cal.dist_coeffs)
    if not ok:
        return float("nan")
    normal_z = cv2.Rodrigues(rvec)[0][2, 2]
    return float(np.degrees(np.arccos(min(1.0, abs(normal_z)))))


def _plane_homography(corners, k, dist, board_mm) -> np.ndarray:
    """Homography from undistorted pixels to the board's mm on the bench."""
    undist = _undistort(corners, k, dist)
    h, _ = cv2.findHomography(undist, board_mm, 0)
    if h is None or not np.all(np.isfinite(h)) or abs(h[2, 2]) < 1e-12:
        raise CalibrationError(
            "the bench plane cannot be fitted from the plane view; use a sharp photo of the "
            "board lying flat on the bench."
        )
    return h / h[2, 2]


def _mm_per_px(k, dist, h, image_size) -> float:
    """Bench mm per pixel at the image centre: geometric mean of the local x and y scales."""
    w, hgt = image_size
    centre = np.array([(w - 1) / 2.0, (hgt - 1) / 2.0])
    d = 0.5  # central differences over one pixel
    probe = centre + np.array([[-d, 0.0], [d, 0.0], [0.0, -d], [0.0, d]])
    mm = image_to_bench_mm(probe, k, dist, h)
    sx = np.linalg.norm(mm[1] - mm[0]) / (2 * d)
    sy = np.linalg.norm(mm[3] - mm[2]) / (2 * d)
    return float(np.sqrt(sx * sy))


def _undistort(px, k, dist) -> np.ndarray:
    pts = np.asarray(px, np.float64).reshape(-1, 1, 2)
    out = cv2.undistortPoints(pts, k, dist, P=k, criteria=_UNDISTORT_CRITERIA)
    return out.reshape(-1, 2)


def _detect(gray: np.ndarray, board: tuple[int, int]) -> np.ndarray | None:
    """Approximate corners: the classic detector, then the sector-based one as a fallback.

    The classic detector with our sub-pixel refinement was the more accurate on the OpenCV sample
    photos (RMS 0.18 px against 0.26 px for findChessboardCornersSB with CALIB_CB_ACCURACY) and
    on rendered boards with known corners (mean error 0.036 px against 0.093 px).
    """
    # FAST_CHECK turns a photo without a board down in 0.05-1 s instead of 1-8 s at 1600 px;
    # a board it turns down wrongly is still found by the fallback.
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_FAST_CHECK
    found, corners = cv2.findChessboardCorners(gray, board, flags=flags)
    if not found:
        sb_flags = cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_EXHAUSTIVE
        found, corners = cv2.findChessboardCornersSB(gray, board, flags=sb_flags)
    return corners.reshape(-1, 2).astype(np.float64) if found else None


def _refine(gray: np.ndarray, corners: np.ndarray, board: tuple[int, int]) -> np.ndarray:
    """Sub-pixel corners with a search window that stays clear of the neighbouring corners.

    OpenCV's usual fixed 11 px half-window reaches the next corner on small or foreshortened
    squares and pulls the corner several pixels off (6 px on the OpenCV sample photo left02.jpg),
    and is too small for sharp corners on large, soft images.
    """
    cols, rows = board
    grid = corners.reshape(rows, cols, 2)
    spacing = min(
        np.linalg.norm(np.diff(grid, axis=0), axis=2).min(initial=np.inf),
        np.linalg.norm(np.diff(grid, axis=1), axis=2).min(initial=np.inf),
    )
    half = max(2, int(_SUBPIX_WINDOW_FRACTION * spacing))
    pts = corners.astype(np.float32).reshape(-1, 1, 2)
    refined = cv2.cornerSubPix(gray, pts, (half, half), (-1, -1), _SUBPIX_CRITERIA)
    return refined.reshape(-1, 2)


def _canonical(corners: np.ndarray, board: tuple[int, int]) -> np.ndarray:
    """Row-major corners starting top-left, columns running clockwise of rows as in the image."""
    cols, rows = board
    grid = corners.reshape(rows, cols, 2)
    along = grid[:, -1].mean(axis=0) - grid[:, 0].mean(axis=0)  # direction of rising column
    down = grid[-1].mean(axis=0) - grid[0].mean(axis=0)  # direction of rising row
    if along[0] * down[1] - along[1] * down[0] < 0:  # mirror image of the image's axes
        grid = grid[:, ::-1]
    if cols == rows and abs(along[1]) > abs(along[0]):  # square board, columns run up or down
        grid = grid.transpose(1, 0, 2)[:, ::-1]  # a quarter turn, still no mirror
    if grid[0, 0].sum() > grid[-1, -1].sum():  # the same board turned half round
        grid = grid[::-1, ::-1]
    return np.ascontiguousarray(grid.reshape(-1, 2), dtype=np.float32)


def _no_plane_board(what: str, board: tuple[int, int]) -> str:
    cols, rows = board
    return (
        f"no {cols}x{rows}-corner chessboard found in {what}; give a sharp photo of the whole "
        "board lying flat on the bench."
    )


def _cv_message(e: cv2.error) -> str:
    """OpenCV's error text on one line."""
    return " ".join(str(getattr(e, "err", None) or e).split())


def scale_calibration(mm_per_px: float, image_size: tuple[int, int]) -> Calibration:
    """A calibration without a chessboard: a photo taken straight down, no lens model, every
    pixel `mm_per_px` on the bench (the origin at the image's top-left pixel)."""
    w, h = (int(v) for v in image_size)
    f = float(max(w, h))  # any positive focal length: with no distortion it cancels out
    k = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    return Calibration(
        image_size=(w, h),
        camera_matrix=k,
        dist_coeffs=np.zeros(5),
        plane_homography=np.diag([mm_per_px, mm_per_px, 1.0]),
        mm_per_px=float(mm_per_px),
        rms_px=0.0,
        board=(0, 0),
        square_mm=0.0,
        n_images=0,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        kind="scale",
    )

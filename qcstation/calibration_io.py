"""Reading and writing calibration files (JSON)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .calibration_format import calibration_from_dict, calibration_to_dict
from .domain import Calibration
from .errors import CalibrationError
from .files import FileTooLarge, NotRegularFile, read_text_limited, write_atomic

MAX_CALIBRATION_BYTES = 256 * 1024

logger = logging.getLogger(__name__)


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file written by `qcstation calibrate`."""
    p = Path(path)
    try:
        text = read_text_limited(p, MAX_CALIBRATION_BYTES)
    except FileNotFoundError:
        raise CalibrationError(
            f"{p}: calibration file not found; run qcstation calibrate or check the path."
        ) from None
    except IsADirectoryError:
        raise CalibrationError(f"{p}: is a folder; give the calibration .json file.") from None
    except UnicodeDecodeError:
        raise CalibrationError(
            f"{p}: not a calibration file (not UTF-8 text); give the .json file that "
            "qcstation calibrate wrote."
        ) from None
    except (NotRegularFile, FileTooLarge) as e:
        raise CalibrationError(
            f"{p}: not a calibration file ({e.strerror}); give the .json file that "
            "qcstation calibrate wrote."
        ) from None
    except OSError as e:
        raise CalibrationError(f"{p}: cannot read the calibration file ({e.strerror}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CalibrationError(
            f"{p}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); give the "
            "file that qcstation calibrate wrote."
        ) from None
    except (ValueError, RecursionError):  # a number of thousands of digits, deep nesting
        raise CalibrationError(
            f"{p}: not a calibration file (a number too long or arrays nested too deeply to "
            "read); give the .json file that qcstation calibrate wrote."
        ) from None
    cal = calibration_from_dict(data, str(p))
    logger.info("loaded calibration %s (%.4f mm/px)", p, cal.mm_per_px)
    return cal


def save_calibration(cal: Calibration, path: str | Path) -> None:
    """Write the calibration as JSON, creating the parent folder; replaces the file atomically."""
    p = Path(path)
    # one line per key, so that a matrix reads as one line of rows
    items = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in calibration_to_dict(cal).items()]
    text = "{\n" + ",\n".join(items) + "\n}\n"
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(p, text.encode("utf-8"))
    except OSError as e:
        raise CalibrationError(
            f"{p}: cannot write the calibration file ({e.strerror or e}); check the folder."
        ) from None
    logger.info("wrote calibration %s", p)

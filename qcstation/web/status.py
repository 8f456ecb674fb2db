"""The station's state for the bench and /api/status: camera, trigger, lot and its counts."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from ..calibration_io import load_calibration
from ..errors import CalibrationError

logger = logging.getLogger(__name__)


def as_dict(value: Any) -> dict:
    if value is None:
        return {}
    if hasattr(value, "to_api"):
        return value.to_api()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return dict(value)


def station_status(app: Any, store: Any) -> dict:
    """JSON-ready: what the station says about itself, or the store's current lot without one."""
    station = app.state.station
    station_id = app.state.settings.station.id
    if station is not None:
        out = as_dict(station.status())
        out.setdefault("running", True)
    else:
        out = {"running": False, "camera": "none", "trigger": "none"}
        lot = store.current_lot(station_id)
        out["lot"] = lot_counts(store, lot.id) if lot is not None else None
    out["station"] = station_id
    if station is not None:
        spec, sha256 = station.current_spec()
        out["spec"] = {"name": spec.name, "sha256": sha256}
    out["gauge"] = gauge_check(station_calibration(app))
    return _jsonable(out)


def station_calibration(app: Any) -> Any | None:
    """The calibration the station measures with (its file when no station runs)."""
    station = app.state.station
    cal = getattr(getattr(station, "inspector", None), "cal", None)
    if cal is not None:
        return cal
    try:
        return load_calibration(app.state.settings.inspection.calibration)
    except CalibrationError as e:
        logger.warning("no calibration for the status: %s", e)
        return None


def gauge_check(cal: Any | None) -> dict | None:
    """The calibration's last gauge check (`qcstation gauge`), None when there was none."""
    if cal is None or not (any(cal.opening_bias_mm) or cal.gauge_checked_at):
        return None

    def pair(v) -> dict | None:
        return None if v is None else {"w": float(v[0]), "h": float(v[1])}

    return {"bias_mm": pair(cal.opening_bias_mm), "spread_mm": pair(cal.gauge_spread_mm),
            "repeatability_mm": pair(cal.gauge_repeat_mm),
            "checked_at": cal.gauge_checked_at or None, "note": cal.gauge_note or None}


def lot_counts(store: Any, lot_id: int) -> dict | None:
    summary = store.lot_summary(lot_id)
    if summary is None:
        return None
    counts = as_dict(summary)
    if counts.get("quantity"):  # as the station counts it: nets of the lot still to inspect
        counts["to_go"] = max(counts["quantity"] - counts.get("nets", 0), 0)
    return counts


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)

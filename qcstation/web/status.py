"""The station's state for the bench and /api/status: camera, trigger, lot and its counts."""

from __future__ import annotations

import dataclasses
from typing import Any


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
    return _jsonable(out)


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

"""Gathers one lot's records, spec and sampling plan from the store for the report."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import SpecError
from ..spec import Spec, load_spec
from ..station.lots import LotTracker
from .errors import NotFound
from .reports import LotReport, Sampling, final_verdict, lot_report
from .status import as_dict

logger = logging.getLogger(__name__)
PAGE = 200


def all_records(store: Any, lot_id: int) -> list[dict]:
    records, cursor = [], None
    while True:
        items, cursor = store.inspections(lot=lot_id, limit=PAGE, cursor=cursor)
        records += [r.to_api() for r in items]
        if not cursor:
            return records


def lot_spec(app: Any, spec_name: str | None) -> Spec | None:
    """The station's spec when it is the lot's (the report's limits come from it): the one it
    judges against now (an admin may have changed it), else its settings' file."""
    station = app.state.station
    if station is not None:
        current = station.current_spec()[0]
        if spec_name in (None, current.name):
            return current
    try:
        spec = load_spec(app.state.settings.inspection.spec)
    except SpecError as e:
        logger.warning("lot report without spec limits: %s", e)
        return None
    return spec if spec_name in (None, spec.name) else None


def sampling_of(lot: dict, records: list[dict]) -> Sampling:
    """Where the lot's sampling stands, counted the station's way (LotTracker) on the
    supervisors' final verdicts; 'all' lots are judged on every net."""
    tracker = LotTracker(lot["id"], lot["name"], lot.get("quantity"), lot.get("sampling"))
    for r in sorted(records, key=lambda r: r["created_at"]):
        tracker.count(r.get("net_id") or r["id"], final_verdict(r))
    s = tracker.status()["sampling"]
    if tracker.plan is None:
        judged = [v for v in map(final_verdict, records) if v != "error"]
        return Sampling("all", None, None, None, len(judged), judged.count("fail"))
    cfg = lot.get("sampling") or {}
    return Sampling("iso2859-1", s["sample_size"], s["accept"], s["reject"], s["sampled"],
                    s["nonconforming"], code=s["code"], level=cfg.get("level"),
                    aql=cfg.get("aql"))


def load_report(app: Any, store: Any, lot_id: int) -> tuple[LotReport, str | None]:
    lot_row = store.lot(lot_id)
    if lot_row is None:
        raise NotFound(f"no lot {lot_id}")
    lot = as_dict(lot_row)
    records = all_records(store, lot_id)
    spec_name = lot.get("spec")
    report = lot_report(lot, records, lot_spec(app, spec_name), sampling_of(lot, records))
    return report, spec_name

"""Lots and nets: get-or-create that holds when several stations write at once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qcstation.store.audit import add_audit
from qcstation.store.entities import Lot, LotSummary
from qcstation.store.errors import NotFound, StoreError
from qcstation.store.queries import lot_summaries, to_lot
from qcstation.store.records import LotRow, NetRow

logger = logging.getLogger(__name__)

MODES = ("all", "iso2859-1")
_RETRIES = 20


class LotsMixin:
    """The Store's methods for lots (a lot is an export batch; nets are numbered within it)."""

    def open_lot(self, name: str, quantity: int | None = None, buyer: str | None = None,
                 spec_name: str | None = None, sampling: dict[str, Any] | None = None, *,
                 mode: str | None = None, station: str | None = None,
                 by: str = "system") -> Lot:
        """The lot named `name`; opened now if it does not exist (same name: same lot).
        `mode` "all" or "iso2859-1" (default: "iso2859-1" when `sampling` is given)."""
        with self._session(write=True) as s:
            row = get_or_open_lot(s, _now(), name, quantity=quantity, buyer=buyer,
                                  spec_name=spec_name, sampling=sampling, mode=mode,
                                  station=station, by=by)
            return to_lot(row)

    def close_lot(self, lot_id: int, *, by: str = "system", why: str | None = None) -> Lot:
        with self._session(write=True) as s:
            row = lot_row(s, lot_id)
            if row.closed_at is None:
                row.closed_at = _now()
                add_audit(s, row.closed_at, by, "lot.close", f"lot:{lot_id}", None, None, why)
            return to_lot(row)

    def set_lot_spec(self, lot_id: int, spec_name: str, *, by: str,
                     before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                     why: str | None = None) -> Lot:
        """The spec the lot's nets are judged against from now on; audited with `before` and
        `after` (e.g. the spec files' sha256) beside the spec names."""
        spec_name = spec_name.strip()
        if not spec_name:
            raise StoreError("a spec needs a name")
        with self._session(write=True) as s:
            row = lot_row(s, lot_id)
            if row.closed_at is not None:
                raise StoreError(f"lot {row.name} is closed; its spec stays as it was")
            old, row.spec_name = row.spec_name, spec_name
            add_audit(s, _now(), by, "lot.spec", f"lot:{lot_id}", {"spec": old} | (before or {}),
                      {"spec": spec_name} | (after or {}), why)
            return to_lot(row)

    def lot(self, lot_id: int) -> Lot | None:
        with self._session() as s:
            row = s.get(LotRow, lot_id)
            return to_lot(row) if row else None

    def lots(self) -> list[LotSummary]:
        """Every lot with its counts, newest first."""
        with self._session() as s:
            return lot_summaries(s)

    def lot_summary(self, lot_id: int) -> LotSummary | None:
        with self._session() as s:
            found = lot_summaries(s, lot_id)
            return found[0] if found else None

    def current_lot(self, station: str) -> Lot | None:
        """The newest open lot that `station` opened."""
        with self._session() as s:
            row = s.scalars(select(LotRow).where(LotRow.station == station,
                                                 LotRow.closed_at.is_(None))
                            .order_by(LotRow.created_at.desc(), LotRow.id.desc())).first()
            return to_lot(row) if row else None


def _now() -> datetime:
    return datetime.now(UTC)


def get_or_open_lot(s: Session, now: datetime, name: str, *, quantity: int | None,
                    buyer: str | None, spec_name: str | None, sampling: dict[str, Any] | None,
                    mode: str | None, station: str | None, by: str) -> LotRow:
    """The lot named `name`, opened now if there is none (another station may open it too)."""
    name = name.strip()
    if not name:
        raise StoreError("a lot needs a name")
    if quantity is not None and quantity < 1:
        raise StoreError(f"lot quantity {quantity} must be at least 1")
    mode = mode or (str(sampling.get("mode", "iso2859-1")) if sampling else "all")
    if mode not in MODES:
        raise StoreError(f"lot mode {mode!r} is not one of {', '.join(MODES)}")
    for _ in range(_RETRIES):
        row = s.scalars(select(LotRow).where(LotRow.name == name)).first()
        if row is not None:
            if (quantity, spec_name) != (row.quantity, row.spec_name) and (quantity or spec_name):
                logger.warning("lot %s exists with quantity %s and spec %s; kept as it is",
                               name, row.quantity, row.spec_name)
            return row
        row = LotRow(name=name, buyer=buyer, spec_name=spec_name, quantity=quantity, mode=mode,
                     sampling=sampling, station=station, created_at=now, closed_at=None)
        try:
            with s.begin_nested():
                s.add(row)
        except IntegrityError:
            continue  # opened by another station a moment ago: read it
        add_audit(s, now, by, "lot.open", f"lot:{row.id}", None,
                  {"name": name, "quantity": quantity, "mode": mode, "station": station}, None)
        return row
    raise StoreError(f"cannot open the lot {name!r}: too many concurrent changes")


def lot_row(s: Session, lot_id: int) -> LotRow:
    row = s.get(LotRow, lot_id)
    if row is None:
        raise NotFound(f"there is no lot with id {lot_id}")
    return row


def get_or_number_net(s: Session, lot_id: int, net_id: str | None, now: datetime) -> NetRow:
    """The net `net_id` of the lot (created on first sight), or the lot's next numbered net."""
    for _ in range(_RETRIES):
        if net_id is not None:
            label, number = net_id.strip(), None
            if not label:
                raise StoreError("a net id must not be blank")
            row = s.scalars(select(NetRow).where(NetRow.lot_id == lot_id,
                                                 NetRow.label == label)).first()
            if row is not None:
                return row
        else:
            number = _next_number(s, lot_id)
            label = str(number)
        row = NetRow(lot_id=lot_id, label=label, number=number, created_at=now)
        try:
            with s.begin_nested():
                s.add(row)
        except IntegrityError:
            continue  # the same label or number taken by another station: look again
        return row
    raise StoreError(f"cannot add a net to lot {lot_id}: too many concurrent changes")


def _next_number(s: Session, lot_id: int) -> int:
    n = (s.scalar(select(func.max(NetRow.number)).where(NetRow.lot_id == lot_id)) or 0) + 1
    taken = set(s.scalars(select(NetRow.label).where(NetRow.lot_id == lot_id,
                                                     NetRow.number.is_(None))))
    while str(n) in taken:  # a typed net id "12" keeps number 12 from being reused
        n += 1
    return n

"""Reading the records: filters, keyset (cursor) paging newest first, lot summaries."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from qcstation.store.entities import (
    ApiToken,
    AuditEntry,
    InspectionRecord,
    Lot,
    LotSummary,
    Review,
    User,
)
from qcstation.store.errors import StoreError
from qcstation.store.records import (
    AuditRow,
    DefectRow,
    InspectionRow,
    LotRow,
    NetRow,
    ReviewRow,
    TokenRow,
    UserRow,
)

VERDICTS = ("pass", "fail", "error")


def encode_cursor(created_at: datetime, key: str | int) -> str:
    raw = f"{created_at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, key = raw.split("|", 1)
        return datetime.fromisoformat(when), key
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise StoreError(f"the cursor {cursor!r} is not one this server gave out") from exc


def inspection_select(*, lot: int | str | None = None, verdict: str | None = None,
                      since: datetime | None = None, defect_type: str | None = None,
                      station: str | None = None, net_id: str | None = None,
                      until: datetime | None = None) -> Select:
    q = select(InspectionRow, LotRow.name, NetRow.label, NetRow.number).join(
        LotRow, LotRow.id == InspectionRow.lot_id).join(NetRow, NetRow.id == InspectionRow.net_pk)
    if isinstance(lot, int):
        q = q.where(InspectionRow.lot_id == lot)
    elif lot is not None:
        q = q.where(LotRow.name == lot)
    if verdict is not None:
        if verdict not in VERDICTS:
            raise StoreError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        q = q.where(InspectionRow.verdict == verdict)
    if since is not None:
        if since.tzinfo is None:
            raise StoreError("since must be a timezone-aware time (UTC)")
        q = q.where(InspectionRow.created_at >= since)
    if until is not None:  # [since, until): a day's records are since=day, until=next day
        if until.tzinfo is None:
            raise StoreError("until must be a timezone-aware time (UTC)")
        q = q.where(InspectionRow.created_at < until)
    if station is not None:
        q = q.where(InspectionRow.station == station)
    if net_id is not None:
        q = q.where(NetRow.label == net_id)
    if defect_type is not None:
        q = q.where(exists().where(DefectRow.inspection_id == InspectionRow.id,
                                   DefectRow.type == defect_type))
    return q


def page(session: Session, q: Select, limit: int, cursor: str | None
         ) -> tuple[list[InspectionRecord], str | None]:
    """Newest first by (created_at, id); the cursor is the last row of the previous page."""
    if not 1 <= limit <= 1000:
        raise StoreError(f"limit {limit} is outside 1..1000")
    if cursor:
        when, key = decode_cursor(cursor)
        q = q.where(or_(InspectionRow.created_at < when,
                        and_(InspectionRow.created_at == when, InspectionRow.id < key)))
    q = q.order_by(InspectionRow.created_at.desc(), InspectionRow.id.desc()).limit(limit + 1)
    rows = session.execute(q).all()
    records = to_records(session, rows[:limit])
    more = len(rows) > limit
    return records, encode_cursor(records[-1].created_at, records[-1].id) if more else None


def to_records(session: Session, rows: list) -> list[InspectionRecord]:
    ids = [r[0].id for r in rows]
    defects: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    reviews: dict[str, Review] = {}
    if ids:
        for d in session.scalars(select(DefectRow).where(DefectRow.inspection_id.in_(ids))
                                 .order_by(DefectRow.id)):
            defects[d.inspection_id].append(
                {"type": d.type, "bbox_px": d.bbox_px, "size_mm": d.size_mm, "score": d.score,
                 "detail": d.detail})
        for rv in session.scalars(select(ReviewRow).where(ReviewRow.inspection_id.in_(ids))
                                  .order_by(ReviewRow.id)):
            reviews[rv.inspection_id] = to_review(rv)  # the latest wins
    return [_record(row, lot, label, number, defects[row.id], reviews.get(row.id))
            for row, lot, label, number in rows]


def _record(row: InspectionRow, lot: str, label: str, number: int | None,
            defects: list[dict[str, Any]], review: Review | None) -> InspectionRecord:
    return InspectionRecord(
        id=row.id, created_at=row.created_at, captured_at=row.captured_at, station=row.station,
        lot_id=row.lot_id, lot=lot, net_id=label, net_number=number, verdict=row.verdict,
        reasons=tuple(row.reasons), error=row.error, image=row.image_name,
        frame_id=row.frame_id, source_name=row.source_name, spec_name=row.spec_name,
        spec_sha256=row.spec_sha256, calibration_id=row.calibration_id,
        model_name=row.model_name, model_sha256=row.model_sha256, mesh=row.mesh,
        defects=tuple(defects), timing_ms=dict(row.timing_ms), uncertain=row.uncertain,
        evidence=row.evidence, images_state=row.images_state,
        has_overlay=row.overlay_path is not None, review=review)


def to_review(r: ReviewRow) -> Review:
    return Review(r.id, r.inspection_id, r.user_name, r.at, r.before, r.after, r.note,
                  r.defect_label)


def to_lot(r: LotRow) -> Lot:
    return Lot(r.id, r.name, r.buyer, r.spec_name, r.quantity, r.mode, r.sampling, r.station,
               r.created_at, r.closed_at)


def to_user(r: UserRow) -> User:
    return User(r.id, r.name, r.role, r.password_hash, r.created_at)


def to_token(r: TokenRow) -> ApiToken:
    return ApiToken(r.id, r.name, r.role, r.token_sha256, r.created_at, r.last_used_at,
                    r.revoked_at)


def to_audit(r: AuditRow) -> AuditEntry:
    return AuditEntry(r.id, r.at, r.who, r.action, r.entity, r.before, r.after, r.why)


def lot_summaries(session: Session, lot_id: int | None = None) -> list[LotSummary]:
    """Every lot (newest first) with its counts, in one grouped query."""
    i = InspectionRow
    final = func.coalesce(i.reviewed_verdict, i.verdict)

    def count(cond) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    q = (select(LotRow, func.count(i.id), func.count(func.distinct(i.net_pk)),
                count(i.verdict == "pass"), count(i.verdict == "fail"),
                count(i.verdict == "error"), count(i.reviewed_verdict.is_not(None)),
                count(and_(i.reviewed_verdict.is_not(None), i.reviewed_verdict != i.verdict)),
                count(final == "pass"), count(final == "fail"))
         .outerjoin(i, i.lot_id == LotRow.id).group_by(LotRow.id)
         .order_by(LotRow.created_at.desc(), LotRow.id.desc()))
    if lot_id is not None:
        q = q.where(LotRow.id == lot_id)
    return [LotSummary(to_lot(row[0]), *(int(v) for v in row[1:]))
            for row in session.execute(q).all()]

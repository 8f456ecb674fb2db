"""The database tables (SQLAlchemy 2 typed declarative models); Alembic migrations sit beside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime, kept as naive UTC in both SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes stored must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class LotRow(Base):
    __tablename__ = "lots"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    buyer: Mapped[str | None] = mapped_column(String(200))
    spec_name: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int | None]
    mode: Mapped[str] = mapped_column(String(20))  # "all" or "iso2859-1"
    sampling: Mapped[dict[str, Any] | None]
    station: Mapped[str | None] = mapped_column(String(100))  # the station that opened it
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class NetRow(Base):
    __tablename__ = "nets"
    __table_args__ = (UniqueConstraint("lot_id", "label", name="uq_nets_lot_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    label: Mapped[str] = mapped_column(String(100))  # typed, scanned, or the number as text
    number: Mapped[int | None]  # set when the store numbered the net within its lot
    created_at: Mapped[datetime]


class InspectionRow(Base):
    __tablename__ = "inspections"
    __table_args__ = (
        # every listing is newest first by (created_at, id): each filter has its own such index
        Index("ix_inspections_created", "created_at", "id"),
        Index("ix_inspections_lot_created_id", "lot_id", "created_at", "id"),
        Index("ix_inspections_verdict_created", "verdict", "created_at", "id"),
        Index("ix_inspections_station_created", "station", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    created_at: Mapped[datetime]
    captured_at: Mapped[datetime]
    station: Mapped[str] = mapped_column(String(100))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    net_pk: Mapped[int] = mapped_column(ForeignKey("nets.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[Any]]
    error: Mapped[str | None] = mapped_column(Text)
    image_name: Mapped[str | None] = mapped_column(String(500))  # Inspection.image
    frame_id: Mapped[str | None] = mapped_column(String(64))
    source_name: Mapped[str | None] = mapped_column(String(500))
    spec_name: Mapped[str] = mapped_column(String(200))
    spec_sha256: Mapped[str] = mapped_column(String(64))
    calibration_id: Mapped[str] = mapped_column(String(200))
    model_name: Mapped[str | None] = mapped_column(String(200))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    mesh: Mapped[dict[str, Any] | None]
    timing_ms: Mapped[dict[str, Any]]
    uncertain: Mapped[bool]
    image_store: Mapped[str] = mapped_column(String(32))  # which data folder holds the files
    image_path: Mapped[str] = mapped_column(String(200))  # relative to that data folder
    overlay_path: Mapped[str | None] = mapped_column(String(200))
    images_state: Mapped[str] = mapped_column(String(10))  # "kept" or "thinned"
    evidence: Mapped[bool]
    reviewed_verdict: Mapped[str | None] = mapped_column(String(8))  # the latest review's
    reviewed_at: Mapped[datetime | None]


class DefectRow(Base):
    __tablename__ = "defects"
    __table_args__ = (Index("ix_defects_type", "type", "inspection_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    bbox_px: Mapped[list[Any]]
    size_mm: Mapped[list[Any]]
    score: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text)


class ReviewRow(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), index=True)
    user_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    before: Mapped[str] = mapped_column(String(8))  # the verdict before this review
    after: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    defect_label: Mapped[str | None] = mapped_column(String(40))


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class TokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditRow(Base):
    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_entity", "entity", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    who: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(200))  # e.g. "inspection:<id>", "user:<name>"
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    why: Mapped[str | None] = mapped_column(Text)

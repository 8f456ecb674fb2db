"""What the store hands out: frozen records, apart from the database rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ROLES = ("inspector", "supervisor", "admin")


@dataclass(frozen=True)
class Lot:
    id: int
    name: str
    buyer: str | None
    spec_name: str | None
    quantity: int | None
    mode: str  # "all" or "iso2859-1"
    sampling: dict[str, Any] | None
    station: str | None
    created_at: datetime
    closed_at: datetime | None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "buyer": self.buyer, "spec": self.spec_name,
                "quantity": self.quantity, "mode": self.mode, "sampling": self.sampling,
                "station": self.station, "created_at": _iso(self.created_at),
                "closed_at": _iso(self.closed_at)}


@dataclass(frozen=True)
class LotSummary:
    """A lot with its counts; passed/failed/errors are the machine's verdicts."""

    lot: Lot
    inspected: int  # inspections (a net laid in sections has several)
    nets: int
    passed: int
    failed: int
    errors: int
    reviewed: int  # inspections with a review
    overrides: int  # reviewed inspections whose review changed the machine's verdict
    final_passed: int  # after reviews
    final_failed: int

    @property
    def id(self) -> int:
        return self.lot.id

    @property
    def name(self) -> str:
        return self.lot.name

    @property
    def quantity(self) -> int | None:
        return self.lot.quantity

    @property
    def created_at(self) -> datetime:
        return self.lot.created_at

    def to_api(self) -> dict[str, Any]:
        return self.lot.to_api() | {
            "inspected": self.inspected, "nets": self.nets, "passed": self.passed,
            "failed": self.failed, "errors": self.errors, "reviewed": self.reviewed,
            "overrides": self.overrides, "final_passed": self.final_passed,
            "final_failed": self.final_failed}


@dataclass(frozen=True)
class Review:
    id: int
    inspection_id: str
    user: str
    at: datetime
    before: str  # verdict before this review
    after: str  # "pass" or "fail"
    note: str
    defect_label: str | None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "inspection_id": self.inspection_id, "user": self.user,
                "at": _iso(self.at), "before": self.before, "verdict": self.after,
                "note": self.note, "defect_label": self.defect_label}


@dataclass(frozen=True)
class InspectionRecord:
    """One stored inspection; `to_api()` carries the CONTRACT result fields and more."""

    id: str
    created_at: datetime
    captured_at: datetime
    station: str
    lot_id: int
    lot: str  # the lot's name
    net_id: str  # the net's label (typed, scanned or its number in the lot)
    net_number: int | None
    verdict: str  # the machine's verdict
    reasons: tuple[str, ...]
    error: str | None
    image: str | None  # Inspection.image (file name or frame id)
    frame_id: str | None
    source_name: str | None
    spec_name: str
    spec_sha256: str
    calibration_id: str
    model_name: str | None
    model_sha256: str | None
    mesh: dict[str, Any] | None
    defects: tuple[dict[str, Any], ...]
    timing_ms: dict[str, float]
    uncertain: bool
    evidence: bool
    images_state: str  # "kept" or "thinned"
    has_overlay: bool
    review: Review | None  # the latest review

    @property
    def final_verdict(self) -> str:
        return self.review.after if self.review else self.verdict

    def to_api(self) -> dict[str, Any]:
        model = {"name": self.model_name, "sha256": self.model_sha256} if self.model_name else None
        return {
            "id": self.id, "created_at": _iso(self.created_at),
            "captured_at": _iso(self.captured_at), "station": self.station, "lot": self.lot,
            "lot_id": self.lot_id, "net_id": self.net_id, "net_number": self.net_number,
            "verdict": self.verdict, "final_verdict": self.final_verdict,
            "reasons": list(self.reasons), "error": self.error, "image": self.image,
            "frame_id": self.frame_id, "source_name": self.source_name, "spec": self.spec_name,
            "spec_sha256": self.spec_sha256, "calibration_id": self.calibration_id,
            "mesh": self.mesh, "defects": [dict(d) for d in self.defects], "model": model,
            "timing_ms": dict(self.timing_ms), "uncertain": self.uncertain,
            "evidence": self.evidence, "images": self.images_state,
            "has_overlay": self.has_overlay,
            "review": self.review.to_api() if self.review else None,
        }


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    who: str
    action: str
    entity: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    why: str | None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "at": _iso(self.at), "who": self.who, "action": self.action,
                "entity": self.entity, "before": self.before, "after": self.after, "why": self.why}


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: str
    token_sha256: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class ReconcileReport:
    """What the start-up check of the image folder found and did."""

    orphans_moved: int  # image files with no record, moved to data_dir/orphans/
    temp_removed: int  # half-written temporary files of an interrupted write, deleted
    thinned_removed: int  # files of thinned records left by an interrupted thinning, deleted
    missing: int  # records of this image store whose kept image file is absent


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()

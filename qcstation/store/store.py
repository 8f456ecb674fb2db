"""Store: the one door to the database and the image files of a station."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from qcstation.domain import Inspection
from qcstation.store import db, exports, queries, recording, reviews, sweep
from qcstation.store.accounts import AccountsMixin
from qcstation.store.entities import (
    AuditEntry,
    InspectionRecord,
    ReconcileReport,
    Review,
)
from qcstation.store.errors import NotFound, StoreError, StoreFull
from qcstation.store.images import ImageStore, store_id
from qcstation.store.lots import LotsMixin
from qcstation.store.records import AuditRow, InspectionRow, ReviewRow

logger = logging.getLogger(__name__)

DEFAULT_RESERVE_BYTES = 200 * 2**20
ROW_ALLOWANCE_BYTES = 256 * 2**10  # the database rows and the log line of one inspection
UNCERTAIN_SCORE = 0.6  # a defect scored below this sends its inspection to the review queue


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store(LotsMixin, AccountsMixin):
    """Records, images and outputs of one station; safe to share between threads."""

    def __init__(self, engine: Engine, data_dir: Path, *, reserve_bytes: int,
                 uncertain_score: float) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.images = ImageStore(data_dir, reserve_bytes)
        self.log = exports.JsonlLog(data_dir)
        self.store_id = store_id(data_dir)
        self.uncertain_score = uncertain_score
        self._writer = db.writer(engine)
        self.last_reconcile: ReconcileReport | None = None

    @classmethod
    def open(cls, url: str | None, data_dir: Path | str, *,
             reserve_bytes: int = DEFAULT_RESERVE_BYTES, uncertain_score: float = UNCERTAIN_SCORE,
             check: bool = True) -> Store:
        """Opens (creating or migrating) the database and the data folder, then (`check`)
        sweeps the image folder and completes the JSONL log. `url` None: SQLite at
        data_dir/qcstation.db; else any SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...)."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        url = url or f"sqlite:///{(data_dir / 'qcstation.db').resolve()}"
        engine = _open_engine(url)
        try:
            store = cls(engine, data_dir, reserve_bytes=reserve_bytes,
                        uncertain_score=uncertain_score)
            if check:
                store.check()
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        if self.engine.dialect.name == "sqlite":  # keeps the query planner's statistics fresh
            with contextlib.suppress(DBAPIError), self.engine.connect() as c:
                c.exec_driver_sql("PRAGMA optimize")
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        """A session in one transaction; database failures become StoreError/StoreFull."""
        with _translated(), Session(self._writer if write else self.engine,
                                    expire_on_commit=False) as s, s.begin():
            yield s

    # --- inspections ---
    def record_inspection(self, inspection: Inspection, *, station: str, lot_id: int,
                          net_id: str | None, source_name: str | None, image_jpeg: bytes,
                          overlay_jpeg: bytes | None, spec_sha256: str, calibration_id: str,
                          captured_at: datetime, evidence: bool = False,
                          uncertain: bool | None = None) -> str:
        """Stores one inspection and returns its id (uuid4 hex). The images are written
        atomically before the row is committed: a crash at any moment leaves no record without
        its images. `net_id` None: the lot's next net number. Raises StoreFull, before writing
        anything, when the disk is below its reserve; NotFound for an unknown lot.
        `uncertain` (for the review queue) defaults to: a defect scored below uncertain_score."""
        recording.check(inspection, image_jpeg, overlay_jpeg, captured_at)
        rid, now = uuid.uuid4().hex, utcnow()
        image_rel, overlay_rel = ImageStore.relative_paths(rid, now)
        overlay_rel = overlay_rel if overlay_jpeg is not None else None
        row = recording.inspection_row(
            inspection, rid=rid, now=now, station=station, lot_id=lot_id,
            source_name=source_name, spec_sha256=spec_sha256, calibration_id=calibration_id,
            captured_at=captured_at, evidence=evidence, uncertain_score=self.uncertain_score,
            store_id=self.store_id, image_rel=image_rel, overlay_rel=overlay_rel)
        if uncertain is not None:
            row.uncertain = uncertain
        need = len(image_jpeg) + len(overlay_jpeg or b"") + ROW_ALLOWANCE_BYTES
        with self.images.writing():  # held until the log line: the start-up sweep waits
            self.images.check_space(need)
            written: list[str] = []
            try:
                for rel, data in ((image_rel, image_jpeg), (overlay_rel, overlay_jpeg)):
                    if rel is not None:
                        self.images.write(rel, data)
                        written.append(rel)
                with self._session(write=True) as s:
                    recording.insert(s, row, inspection, net_id)
            except BaseException:
                self._discard(rid, written)
                raise
            self._log_line(rid)
        return rid

    def _log_line(self, rid: str) -> None:
        """The JSONL line of a stored record; a failure here is logged, never raised (the
        record is stored: a caller must not record it again), and the next start adds it."""
        try:
            record = self.inspection(rid)
        except StoreError as exc:
            logger.error("inspection %s is stored but its log line waits for the next start "
                         "(%s)", rid, exc)
            return
        if record is not None:
            self.log.append([record])

    def _discard(self, rid: str, written: list[str]) -> None:
        """Removes the images of a record that was not stored (unless it was, after all)."""
        if not written:
            return
        try:
            with self._session() as s:
                if s.get(InspectionRow, rid) is not None:
                    return  # the commit went through although its reply failed
        except StoreError:
            logger.warning("inspection %s: images left for the start-up check", rid)
            return
        for rel in written:
            self.images.remove(rel)

    def inspections(self, lot: int | str | None = None, verdict: str | None = None,
                    since: datetime | None = None, defect_type: str | None = None,
                    station: str | None = None, limit: int = 50, cursor: str | None = None,
                    net_id: str | None = None, until: datetime | None = None
                    ) -> tuple[list[InspectionRecord], str | None]:
        """A page of inspections, newest first, and the cursor of the next page (None: last).
        `lot`: an id (int) or a name (str); created at or after `since` and before `until`;
        `limit` 1..1000."""
        q = queries.inspection_select(lot=lot, verdict=verdict, since=since,
                                      defect_type=defect_type, station=station, net_id=net_id,
                                      until=until)
        with self._session() as s:
            return queries.page(s, q, limit, cursor)

    def inspection(self, inspection_id: str) -> InspectionRecord | None:
        q = queries.inspection_select().where(InspectionRow.id == inspection_id)
        with self._session() as s:
            found = queries.to_records(s, s.execute(q).all())
            return found[0] if found else None

    def image_file(self, inspection_id: str, kind: str = "image") -> Path | None:
        """The file of an inspection's image or overlay (always inside the image folder); None
        when there is none: no record, no overlay, thinned, or in another station's folder."""
        if kind not in ("image", "overlay"):
            raise StoreError(f"image kind {kind!r} is not image or overlay")
        with self._session() as s:
            row = s.get(InspectionRow, inspection_id)
        if row is None or row.images_state != "kept" or row.image_store != self.store_id:
            return None
        rel = row.image_path if kind == "image" else row.overlay_path
        path = self.images.resolve(rel) if rel else None
        return path if path is not None and path.is_file() else None

    def set_evidence(self, inspection_id: str, flag: bool, user: str,
                     why: str | None = None) -> None:
        """Flags an inspection's images as evidence (kept for good); audited."""
        with self._session(write=True) as s:
            reviews.set_evidence(s, utcnow(), inspection_id, flag, user, why)

    # --- reviews and audit ---
    def review(self, inspection_id: str, *, user: str, verdict: str, note: str = "",
               defect_label: str | None = None) -> Review:
        """A supervisor's verdict ("pass"/"fail") on an inspection; the review and its audit
        entry are one transaction. The latest review gives the final verdict."""
        with self._session(write=True) as s:
            row = reviews.add_review(s, utcnow(), inspection_id, user, verdict, note,
                                     defect_label)
            s.flush()
            return queries.to_review(row)

    def reviews(self, inspection_id: str) -> list[Review]:
        q = select(ReviewRow).where(ReviewRow.inspection_id == inspection_id)
        with self._session() as s:
            return [queries.to_review(r) for r in s.scalars(q.order_by(ReviewRow.id))]

    def review_queue(self, limit: int = 50, cursor: str | None = None
                     ) -> tuple[list[InspectionRecord], str | None]:
        """Failed, error and uncertain inspections nobody has reviewed yet, newest first."""
        i = InspectionRow
        q = queries.inspection_select().where(
            i.reviewed_verdict.is_(None), (i.verdict != "pass") | i.uncertain.is_(True))
        with self._session() as s:
            return queries.page(s, q, limit, cursor)

    def audit(self, entity: str | None = None, limit: int = 100,
              before_id: int | None = None) -> list[AuditEntry]:
        """Audit entries newest first; `entity` e.g. "inspection:<id>", "user:<name>",
        "lot:<id>", "token:<id>"; `before_id` pages on."""
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if entity is not None:
            q = q.where(AuditRow.entity == entity)
        if before_id is not None:
            q = q.where(AuditRow.id < before_id)
        with self._session() as s:
            return [queries.to_audit(r) for r in s.scalars(q)]

    # --- outputs, retention, checks ---
    def lot_records(self, lot_id: int, page_size: int = 1000) -> Iterator[InspectionRecord]:
        """Every inspection of a lot, oldest first (a lot of 5,400 nets is a few MB)."""
        records: list[InspectionRecord] = []
        cursor: str | None = None
        while True:
            page, cursor = self.inspections(lot=lot_id, limit=page_size, cursor=cursor)
            records += page
            if cursor is None:
                break
        yield from reversed(records)

    def write_lot_csv(self, lot_id: int, file: Path | str | IO[str]) -> int:
        """The lot's CSV report: one row per net inspection, oldest first. Returns the rows."""
        if self.lot(lot_id) is None:
            raise NotFound(f"there is no lot with id {lot_id}")
        records = list(self.lot_records(lot_id))
        if isinstance(file, str | Path):
            return exports.write_csv_file(records, Path(file))
        return exports.write_csv(records, file)

    def thin_passes(self, older_than: timedelta, *, by: str = "retention") -> int:
        """Deletes the images of unreviewed, unflagged, certain passes older than `older_than`
        (the records stay); failed, error, reviewed, uncertain and evidence images are kept."""
        now = utcnow()
        with _translated():
            return sweep.thin_passes(self.engine, self.images, self.store_id,
                                     now - older_than, now, by)

    def check(self, log_days: int = 2) -> ReconcileReport:
        """The start-up check: orphan and half-written image files, lost log lines."""
        with _translated(), self.images.sweeping():
            self.last_reconcile = sweep.reconcile(self.engine, self.images, self.store_id)
            sweep.catch_up_log(self.engine, self.log, self.store_id, utcnow(), log_days,
                               self.inspection)
        return self.last_reconcile

    def reconcile(self) -> ReconcileReport:
        """The image part of the start-up check (orphans, half-written and leftover files)."""
        with _translated(), self.images.sweeping():
            self.last_reconcile = sweep.reconcile(self.engine, self.images, self.store_id)
        return self.last_reconcile

    def catch_up_log(self, days: int = 2) -> int:
        """Adds the log lines of the last `days` days' records that the JSONL log lacks."""
        with _translated(), self.images.sweeping():
            return sweep.catch_up_log(self.engine, self.log, self.store_id, utcnow(), days,
                                      self.inspection)

    def disk_state(self) -> dict[str, Any]:
        """Free space of the data folder's disk against the reserve; `full`: writes refused."""
        free, reserve = self.images.free_bytes(), self.images.reserve_bytes
        return {"free_bytes": free, "reserve_bytes": reserve,
                "full": free - ROW_ALLOWANCE_BYTES < reserve}


def _open_engine(url: str) -> Engine:
    """The engine with its schema brought up to date; any failure is one StoreError."""
    engine = None
    try:
        db.make_sqlite_folder(url)
        engine = db.make_engine(url)
        db.migrate(engine)
        return engine
    except DBAPIError as exc:
        reason: object = db.first_line(exc.orig)
    except (ValueError, OSError, ArgumentError) as exc:
        reason = exc
    if engine is not None:
        engine.dispose()
    raise StoreError(f"cannot open the database {db.redact(url)}: {reason}")


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Database failures as StoreFull (a full disk) or StoreError, one sentence each."""
    try:
        yield
    except DBAPIError as exc:
        if db.is_disk_full(exc):
            raise StoreFull("the database's disk is full; free space and retry") from exc
        raise StoreError(f"database error: {db.first_line(exc.orig)}") from exc

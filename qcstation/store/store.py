"""Store: the one door to the database and the image files of a station."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, make_url, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from qcstation.domain import Inspection
from qcstation.store import db, exports, lots, people, queries, sweep
from qcstation.store.audit import add_audit
from qcstation.store.entities import (
    ApiToken,
    AuditEntry,
    InspectionRecord,
    Lot,
    LotSummary,
    ReconcileReport,
    Review,
    User,
)
from qcstation.store.errors import NotFound, StoreError, StoreFull
from qcstation.store.images import ImageStore
from qcstation.store.records import (
    AuditRow,
    DefectRow,
    InspectionRow,
    LotRow,
    ReviewRow,
    TokenRow,
    UserRow,
)

logger = logging.getLogger(__name__)

DEFAULT_RESERVE_BYTES = 200 * 2**20
ROW_ALLOWANCE_BYTES = 256 * 2**10  # the database rows and the log line of one inspection
UNCERTAIN_SCORE = 0.6  # a defect scored below this sends its inspection to the review queue


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """Records, images and outputs of one station; safe to share between threads."""

    def __init__(self, engine: Engine, data_dir: Path, *, reserve_bytes: int,
                 uncertain_score: float) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.images = ImageStore(data_dir, reserve_bytes)
        self.log = exports.JsonlLog(data_dir)
        self.store_id = _store_id(data_dir)
        self.uncertain_score = uncertain_score
        self._writer = db.writer(engine)
        self.last_reconcile: ReconcileReport | None = None

    @classmethod
    def open(cls, url: str | None, data_dir: Path | str, *,
             reserve_bytes: int = DEFAULT_RESERVE_BYTES, uncertain_score: float = UNCERTAIN_SCORE,
             check: bool = True) -> Store:
        """Opens (creating or migrating) the database and the data folder, then checks the
        images (orphans, half-written files) and adds missing lines to the JSONL log.
        `url` None: SQLite at data_dir/qcstation.db."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        url = url or f"sqlite:///{(data_dir / 'qcstation.db').resolve()}"
        try:
            engine = db.make_engine(url)
            db.migrate(engine)
        except DBAPIError as exc:
            raise StoreError(f"cannot open the database {_redact(url)}: "
                             f"{_first_line(exc.orig)}") from exc
        except ValueError as exc:
            raise StoreError(str(exc)) from exc
        store = cls(engine, data_dir, reserve_bytes=reserve_bytes,
                    uncertain_score=uncertain_score)
        if check:
            store.last_reconcile = store.reconcile()
            store.catch_up_log()
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        """A session in one transaction; database failures become StoreError/StoreFull."""
        try:
            with Session(self._writer if write else self.engine,
                         expire_on_commit=False) as s, s.begin():
                yield s
        except DBAPIError as exc:
            if _is_disk_full(exc):
                raise StoreFull("the database's disk is full; free space and retry") from exc
            raise StoreError(f"database error: {_first_line(exc.orig)}") from exc

    # --- lots ---
    def open_lot(self, name: str, quantity: int | None = None, buyer: str | None = None,
                 spec_name: str | None = None, sampling: dict[str, Any] | None = None, *,
                 mode: str | None = None, station: str | None = None,
                 by: str = "system") -> Lot:
        """The lot named `name`; opened now if it does not exist (same name: same lot)."""
        with self._session(write=True) as s:
            row = lots.get_or_open_lot(s, utcnow(), name, quantity=quantity, buyer=buyer,
                                       spec_name=spec_name, sampling=sampling, mode=mode,
                                       station=station, by=by)
            return queries.to_lot(row)

    def close_lot(self, lot_id: int, *, by: str = "system", why: str | None = None) -> Lot:
        with self._session(write=True) as s:
            row = lots.lot_row(s, lot_id)
            if row.closed_at is None:
                row.closed_at = utcnow()
                add_audit(s, row.closed_at, by, "lot.close", f"lot:{lot_id}", None, None, why)
            return queries.to_lot(row)

    def lot(self, lot_id: int) -> Lot | None:
        with self._session() as s:
            row = s.get(LotRow, lot_id)
            return queries.to_lot(row) if row else None

    def lots(self) -> list[LotSummary]:
        with self._session() as s:
            return queries.lot_summaries(s)

    def lot_summary(self, lot_id: int) -> LotSummary | None:
        with self._session() as s:
            found = queries.lot_summaries(s, lot_id)
            return found[0] if found else None

    def current_lot(self, station: str) -> Lot | None:
        """The newest open lot that `station` opened."""
        with self._session() as s:
            row = s.scalars(select(LotRow).where(LotRow.station == station,
                                                 LotRow.closed_at.is_(None))
                            .order_by(LotRow.created_at.desc(), LotRow.id.desc())).first()
            return queries.to_lot(row) if row else None

    # --- inspections ---
    def record_inspection(self, inspection: Inspection, *, station: str, lot_id: int,
                          net_id: str | None, source_name: str | None, image_jpeg: bytes,
                          overlay_jpeg: bytes | None, spec_sha256: str, calibration_id: str,
                          captured_at: datetime, evidence: bool = False) -> str:
        """Stores one inspection and returns its id. The images are written (atomically) before
        the row is committed: a crash at any moment leaves no record without its images.
        `net_id` None: the lot's next net number. Raises StoreFull before writing anything
        when the disk is below its reserve."""
        if captured_at.tzinfo is None:
            raise StoreError("captured_at must be timezone-aware (UTC)")
        if inspection.verdict not in queries.VERDICTS:
            raise StoreError(f"verdict {inspection.verdict!r} is not pass, fail or error")
        rid, now = uuid.uuid4().hex, utcnow()
        image_rel, overlay_rel = ImageStore.relative_paths(rid, now)
        overlay_rel = overlay_rel if overlay_jpeg is not None else None
        need = len(image_jpeg) + len(overlay_jpeg or b"") + ROW_ALLOWANCE_BYTES
        with self.images.writing():
            self.images.check_space(need)
            written: list[str] = []
            try:
                self.images.write(image_rel, image_jpeg)
                written.append(image_rel)
                if overlay_rel is not None:
                    self.images.write(overlay_rel, overlay_jpeg)
                    written.append(overlay_rel)
                row = self._inspection_row(inspection, rid, now, station, lot_id, source_name,
                                           spec_sha256, calibration_id, captured_at, evidence,
                                           image_rel, overlay_rel)
                self._insert(row, inspection, lot_id, net_id, now)
            except BaseException:
                self._discard(rid, written)
                raise
        record = self.inspection(rid)
        if record is not None:
            self.log.append([record])
        return rid

    def _inspection_row(self, ins: Inspection, rid: str, now: datetime, station: str,
                        lot_id: int, source_name: str | None, spec_sha256: str,
                        calibration_id: str, captured_at: datetime, evidence: bool,
                        image_rel: str, overlay_rel: str | None) -> InspectionRow:
        uncertain = ins.verdict != "error" and any(d.score < self.uncertain_score
                                                   for d in ins.defects)
        return InspectionRow(
            id=rid, created_at=now, captured_at=captured_at, station=station, lot_id=lot_id,
            verdict=ins.verdict, reasons=list(ins.reasons), error=ins.error,
            image_name=ins.image, frame_id=getattr(ins, "frame_id", None),
            source_name=source_name, spec_name=ins.spec, spec_sha256=spec_sha256,
            calibration_id=calibration_id, model_name=ins.model.name if ins.model else None,
            model_sha256=ins.model.sha256 if ins.model else None,
            mesh=ins.mesh.to_json() if ins.mesh else None,
            timing_ms={k: round(float(v), 3) for k, v in ins.timing_ms.items()},
            uncertain=uncertain, image_store=self.store_id, image_path=image_rel,
            overlay_path=overlay_rel, images_state="kept", evidence=evidence,
            reviewed_verdict=None, reviewed_at=None)

    def _insert(self, row: InspectionRow, ins: Inspection, lot_id: int, net_id: str | None,
                now: datetime) -> None:
        with self._session(write=True) as s:
            lots.lot_row(s, lot_id)
            row.net_pk = lots.get_or_number_net(s, lot_id, net_id, now).id
            s.add(row)
            s.flush()  # the inspection row before its defects (no ORM relationship orders them)
            s.add_all(DefectRow(inspection_id=row.id, type=d.type,
                                bbox_px=[int(v) for v in d.bbox_px],
                                size_mm=[round(float(v), 2) for v in d.size_mm],
                                score=round(float(d.score), 4), detail=d.detail)
                      for d in ins.defects)

    def _discard(self, rid: str, written: list[str]) -> None:
        """Removes the images of a record that was not stored (unless it was, after all)."""
        if not written:
            return
        try:
            with self._session() as s:
                if s.get(InspectionRow, rid) is not None:
                    return  # the commit went through although its reply failed
        except StoreError:
            logger.warning("inspection %s: images kept for the start-up check", rid)
            return
        for rel in written:
            self.images.remove(rel)

    def inspections(self, lot: int | str | None = None, verdict: str | None = None,
                    since: datetime | None = None, defect_type: str | None = None,
                    station: str | None = None, limit: int = 50, cursor: str | None = None,
                    net_id: str | None = None) -> tuple[list[InspectionRecord], str | None]:
        """A page of inspections, newest first, and the cursor of the next page (None: last).
        `lot`: an id (int) or a name (str)."""
        q = queries.inspection_select(lot=lot, verdict=verdict, since=since,
                                      defect_type=defect_type, station=station, net_id=net_id)
        with self._session() as s:
            return queries.page(s, q, limit, cursor)

    def inspection(self, inspection_id: str) -> InspectionRecord | None:
        q = queries.inspection_select().where(InspectionRow.id == inspection_id)
        with self._session() as s:
            found = queries.to_records(s, s.execute(q).all())
            return found[0] if found else None

    def image_file(self, inspection_id: str, kind: str = "image") -> Path | None:
        """The file of an inspection's image or overlay; None when there is no such file
        (no record, no overlay, thinned by retention, or kept by another station's folder)."""
        if kind not in ("image", "overlay"):
            raise StoreError(f"image kind {kind!r} is not image or overlay")
        with self._session() as s:
            row = s.get(InspectionRow, inspection_id)
        if row is None or row.images_state != "kept" or row.image_store != self.store_id:
            return None
        rel = row.image_path if kind == "image" else row.overlay_path
        if rel is None:
            return None
        path = self.images.resolve(rel)
        return path if path.is_file() else None

    def set_evidence(self, inspection_id: str, flag: bool, user: str,
                     why: str | None = None) -> None:
        """Flags an inspection's images as evidence (kept for good); audited."""
        with self._session(write=True) as s:
            people.set_evidence(s, utcnow(), inspection_id, flag, user, why)

    # --- reviews and audit ---
    def review(self, inspection_id: str, *, user: str, verdict: str, note: str = "",
               defect_label: str | None = None) -> Review:
        """A supervisor's verdict on an inspection, with its audit entry in one transaction."""
        with self._session(write=True) as s:
            row = people.add_review(s, utcnow(), inspection_id, user, verdict, note,
                                    defect_label)
            s.flush()
            return queries.to_review(row)

    def reviews(self, inspection_id: str) -> list[Review]:
        with self._session() as s:
            q = select(ReviewRow).where(ReviewRow.inspection_id == inspection_id)
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
        """Audit entries newest first; `entity` e.g. "inspection:<id>", "user:<name>"."""
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if entity is not None:
            q = q.where(AuditRow.entity == entity)
        if before_id is not None:
            q = q.where(AuditRow.id < before_id)
        with self._session() as s:
            return [queries.to_audit(r) for r in s.scalars(q)]

    # --- users and tokens ---
    def add_user(self, name: str, role: str, password_hash: str, *, by: str = "system") -> User:
        with self._session(write=True) as s:
            return queries.to_user(people.add_user(s, utcnow(), name, role, password_hash, by))

    def user(self, name: str) -> User | None:
        with self._session() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            return queries.to_user(row) if row else None

    def users(self) -> list[User]:
        with self._session() as s:
            return [queries.to_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def set_password(self, name: str, password_hash: str, *, by: str = "system") -> None:
        with self._session(write=True) as s:
            people.set_password(s, utcnow(), name, password_hash, by)

    def set_role(self, name: str, role: str, *, by: str = "system") -> None:
        with self._session(write=True) as s:
            people.set_role(s, utcnow(), name, role, by)

    def add_token(self, name: str, role: str, token_sha256: str, *,
                  by: str = "system") -> ApiToken:
        with self._session(write=True) as s:
            return queries.to_token(people.add_token(s, utcnow(), name, role, token_sha256, by))

    def token(self, token_sha256: str) -> ApiToken | None:
        """The live (not revoked) token with this hash; notes when it was last used."""
        with self._session(write=True) as s:
            row = people.use_token(s, utcnow(), token_sha256)
            return queries.to_token(row) if row else None

    def tokens(self) -> list[ApiToken]:
        with self._session() as s:
            return [queries.to_token(r) for r in s.scalars(select(TokenRow).order_by(TokenRow.id))]

    def revoke_token(self, token_id: int, *, by: str = "system") -> None:
        with self._session(write=True) as s:
            people.revoke_token(s, utcnow(), token_id, by)

    # --- outputs, retention, checks ---
    def lot_records(self, lot_id: int) -> Iterator[InspectionRecord]:
        """Every inspection of a lot, oldest first."""
        cursor = None
        while True:
            q = queries.inspection_select(lot=lot_id)
            with self._session() as s:
                page, cursor = queries.page(s, q, 500, cursor)
            yield from reversed(page)  # newest-first pages, each reversed
            if cursor is None:
                return

    def write_lot_csv(self, lot_id: int, file: Path | str | IO[str]) -> int:
        """The lot's CSV report (one row per net inspection, oldest first); returns the rows."""
        if self.lot(lot_id) is None:
            raise NotFound(f"there is no lot with id {lot_id}")
        records = sorted(self.lot_records(lot_id), key=lambda r: (r.created_at, r.id))
        if not isinstance(file, str | Path):
            return exports.write_csv(records, file)
        path = Path(file)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                n = exports.write_csv(records, out)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return n

    def thin_passes(self, older_than: timedelta, *, by: str = "retention") -> int:
        """Deletes the images of unreviewed, unflagged passes older than `older_than` (records
        stay); failed, error, reviewed, uncertain and evidence images are kept. Returns count."""
        now = utcnow()
        return sweep.thin_passes(self.engine, self.images, self.store_id, now - older_than,
                                 now, by)

    def reconcile(self) -> ReconcileReport:
        return sweep.reconcile(self.engine, self.images, self.store_id)

    def catch_up_log(self, days: int = 2) -> int:
        """Adds to the JSONL log the records of the last `days` days it lacks (a crash between
        the commit and the log line); returns how many lines were added."""
        now = utcnow()
        start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0,
                                                         microsecond=0)
        logged = set().union(*(self.log.ids(d) for d in sweep.days_since(start, now)))
        with self._session() as s:
            ids = [i for i in s.scalars(select(InspectionRow.id).where(
                InspectionRow.image_store == self.store_id, InspectionRow.created_at >= start)
                .order_by(InspectionRow.created_at)) if i not in logged]
        records = [r for r in (self.inspection(i) for i in ids) if r is not None]
        return self.log.append(records) if records else 0

    def disk_state(self) -> dict[str, Any]:
        free = self.images.free_bytes()
        reserve = self.images.reserve_bytes
        return {"free_bytes": free, "reserve_bytes": reserve,
                "full": free - ROW_ALLOWANCE_BYTES < reserve}


def _store_id(data_dir: Path) -> str:
    """This data folder's id (made once): records name the folder that holds their images."""
    path = data_dir / "store-id"
    if not path.exists():
        temp = data_dir / f"store-id.{uuid.uuid4().hex}.tmp"
        temp.write_text(uuid.uuid4().hex + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)  # atomic: the first of two openers wins
        temp.unlink()
    return path.read_text().strip()


def _is_disk_full(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return ("disk is full" in text or "no space left" in text
            or getattr(exc.orig, "sqlstate", None) == "53100")


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc and str(exc).strip() else type(exc).__name__


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


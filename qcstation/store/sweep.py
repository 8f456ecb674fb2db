"""Start-up checks and retention: orphan images, half-written files, thinning old passes."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from qcstation.store.audit import add_audit
from qcstation.store.db import writer
from qcstation.store.entities import InspectionRecord, ReconcileReport
from qcstation.store.exports import JsonlLog
from qcstation.store.images import ImageStore
from qcstation.store.records import InspectionRow

logger = logging.getLogger(__name__)

BATCH = 500


def reconcile(engine: Engine, images: ImageStore, store_id: str) -> ReconcileReport:
    """Moves image files without a record to orphans/, deletes leftovers; counts lost files.

    The caller holds the exclusive image lock: no writer is between its first file and its
    commit (a killed writer's lock went with its process).
    """
    files: dict[str, list[Path]] = defaultdict(list)
    temp = orphans = thinned = 0
    for rid, kind, path in images.files():
        if kind == "temp":  # a write interrupted before its rename: never part of a record
            path.unlink(missing_ok=True)
            temp += 1
        else:
            files[rid].append(path)
    states = _states(engine, list(files))
    for rid, paths in files.items():
        for path in paths:
            if rid not in states:
                logger.warning("image %s has no record: moved to %s", path,
                               images.move_to_orphans(path))
                orphans += 1
            elif states[rid] == "thinned":  # a thinning interrupted after its commit
                path.unlink(missing_ok=True)
                thinned += 1
    report = ReconcileReport(orphans, temp, thinned, _missing(engine, images, store_id))
    if report != ReconcileReport(0, 0, 0, 0):
        logger.warning("image store check: %s", report)
    return report


def _states(engine: Engine, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    with Session(engine) as s:
        for i in range(0, len(ids), BATCH):
            q = select(InspectionRow.id, InspectionRow.images_state).where(
                InspectionRow.id.in_(ids[i:i + BATCH]))
            out.update(s.execute(q).all())
    return out


def _missing(engine: Engine, images: ImageStore, store_id: str) -> int:
    """Records of this image store whose kept files are gone (deleted by hand, a bad disk)."""
    q = select(InspectionRow.id, InspectionRow.image_path, InspectionRow.overlay_path).where(
        InspectionRow.image_store == store_id, InspectionRow.images_state == "kept")
    missing = 0
    with Session(engine) as s:
        for rid, image, overlay in s.execute(q).yield_per(BATCH):
            for rel in (image, overlay):
                if rel and not images.resolve(rel).exists():
                    logger.error("inspection %s: its file %s is missing", rid, rel)
                    missing += 1
    return missing


def thin_passes(engine: Engine, images: ImageStore, store_id: str, cutoff: datetime,
                now: datetime, by: str) -> int:
    """Deletes the images of passes older than `cutoff` that nobody reviewed, flagged as
    evidence or marked uncertain; the records stay. Rows first, then files: an interruption
    leaves files that the next start-up check deletes, never a record without its files."""
    i = InspectionRow
    q = select(i.id).where(
        i.verdict == "pass", i.reviewed_verdict.is_(None), i.evidence.is_(False),
        i.uncertain.is_(False), i.images_state == "kept", i.image_store == store_id,
        i.created_at < cutoff).limit(BATCH)
    total = 0
    while True:
        with Session(writer(engine)) as s, s.begin():
            ids = list(s.scalars(q))
            if not ids:
                break
            rows = s.execute(  # a review or evidence flag that came meanwhile keeps its images
                update(i).where(i.id.in_(ids), i.evidence.is_(False), i.reviewed_verdict.is_(None))
                .values(images_state="thinned").returning(i.id, i.image_path, i.overlay_path)
            ).all()
            add_audit(s, now, by, "retention.thin", f"images:{store_id}", None,
                      {"thinned": len(rows), "older_than": cutoff.isoformat()}, None)
        for _rid, image, overlay in rows:
            images.remove(image)
            images.remove(overlay)
        total += len(rows)
    if total:
        logger.info("thinned the images of %d passes older than %s", total, cutoff)
    return total


def catch_up_log(engine: Engine, log: JsonlLog, store_id: str, now: datetime, days: int,
                 fetch: Callable[[str], InspectionRecord | None]) -> int:
    """Appends the log lines of this image store's records of the last `days` days that the
    log lacks (a crash between a commit and its line). The caller holds the exclusive lock."""
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    logged = set().union(*(log.ids(d) for d in _days_since(start, now)))
    q = select(InspectionRow.id).where(InspectionRow.image_store == store_id,
                                       InspectionRow.created_at >= start)
    with Session(engine) as s:
        ids = [i for i in s.scalars(q.order_by(InspectionRow.created_at)) if i not in logged]
    records = [r for r in map(fetch, ids) if r is not None]
    if records:
        logger.warning("adding %d missing line(s) to the inspection log", len(records))
    return log.append(records) if records else 0


def _days_since(start: datetime, now: datetime) -> list[str]:
    days, d = [], start.date()
    while d <= now.date():
        days.append(d.isoformat())
        d += timedelta(days=1)
    return days

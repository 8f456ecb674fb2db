"""The outputs beside the database: an append-only JSONL log and a CSV report per lot."""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from qcstation.domain import DEFECT_TYPES
from qcstation.store.entities import InspectionRecord
from qcstation.store.images import fsync_dir

logger = logging.getLogger(__name__)


class JsonlLog:
    """`data_dir/log/inspections-YYYY-MM-DD.jsonl`: one line per inspection, fsynced.

    One `os.write` per line on an O_APPEND descriptor, so lines from several writers never
    interleave. The day is the record's creation day (UTC).
    """

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "log"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, day: str) -> Path:
        return self.folder / f"inspections-{day}.jsonl"

    def append(self, records: Iterable[InspectionRecord]) -> int:
        """Appends one line per record; returns how many were written (a full disk: logged)."""
        by_day: dict[str, list[bytes]] = {}
        for r in records:
            line = json.dumps(r.to_api(), ensure_ascii=False, separators=(",", ":")) + "\n"
            by_day.setdefault(f"{r.created_at:%Y-%m-%d}", []).append(line.encode())
        written = 0
        with self._lock:
            for day, lines in by_day.items():
                try:
                    _append_lines(self.path(day), lines)
                except OSError as exc:
                    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
                    logger.error("cannot append %d line(s) to %s (%s); they are added at the "
                                 "next start", len(lines), self.path(day),
                                 "disk full" if full else exc.strerror)
                    continue
                written += len(lines)
        return written

    def ids(self, day: str) -> set[str]:
        """The inspection ids in one day's log (a torn last line is skipped)."""
        path = self.path(day)
        if not path.exists():
            return set()
        ids = set()
        with path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    ids.add(json.loads(line)["id"])
                except (ValueError, KeyError, TypeError):
                    logger.warning("skipping a damaged line in %s", path)
        return ids


def _append_lines(path: Path, lines: list[bytes]) -> None:
    new = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size and not _ends_with_newline(fd):
            os.write(fd, b"\n")  # a torn line of a killed writer stays on its own line
        for line in lines:
            os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        fsync_dir(path.parent)


def _ends_with_newline(fd: int) -> bool:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1) == b"\n"


CSV_COLUMNS = (
    "lot", "net_id", "net_number", "inspection_id", "created_at", "station", "verdict",
    "review_verdict", "final_verdict", "reviewed_by", "reasons", "error", "openings",
    "opening_w_mean_mm", "opening_h_mean_mm", "pitch_mean_mm", "strand_width_mean_mm",
    "strand_width_min_mm", *(f"n_{t}" for t in DEFECT_TYPES), "source_name", "spec",
    "spec_sha256", "calibration_id", "model", "model_sha256",
)


def write_csv(records: Iterable[InspectionRecord], out: IO[str]) -> int:
    """One row per inspection (a net laid in sections has one row per section)."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    n = 0
    for r in records:
        w.writerow([_cell(v) for v in csv_row(r)])
        n += 1
    return n


def write_csv_file(records: Iterable[InspectionRecord], path: Path) -> int:
    """write_csv into `path`, atomically (a reader never sees half a report)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            n = write_csv(records, out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return n


def csv_row(r: InspectionRecord) -> list[Any]:
    mesh = r.mesh or {}
    counts = {t: 0 for t in DEFECT_TYPES}
    for d in r.defects:
        counts[d["type"]] = counts.get(d["type"], 0) + 1
    return [
        r.lot, r.net_id, r.net_number, r.id, r.created_at.isoformat(), r.station, r.verdict,
        r.review.after if r.review else "", r.final_verdict, r.review.user if r.review else "",
        "; ".join(r.reasons), r.error or "", mesh.get("openings", ""),
        _get(mesh, "opening_w_mm", "mean"), _get(mesh, "opening_h_mm", "mean"),
        _get(mesh, "pitch_mm", "mean"), _get(mesh, "strand_width_mm", "mean"),
        _get(mesh, "strand_width_mm", "min"), *(counts[t] for t in DEFECT_TYPES),
        r.source_name or "", r.spec_name, r.spec_sha256, r.calibration_id, r.model_name or "",
        r.model_sha256 or "",
    ]


def _cell(v: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (typed net ids, file names) is quoted."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _get(mesh: dict[str, Any], key: str, field: str) -> Any:
    v = (mesh.get(key) or {}).get(field)
    return "" if v is None else v

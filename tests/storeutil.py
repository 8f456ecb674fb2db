"""Helpers of the store tests: inspections with real JPEG bytes, a private PostgreSQL schema."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from qcstation.domain import Defect, Inspection, MeshStats, ModelInfo, Stat

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SPEC_SHA = "5" * 64


def jpeg(seed: int, size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    """A real JPEG: a gradient with a seed-dependent square (noise: hard to compress, big)."""
    w, h = size
    rng = np.random.default_rng(seed)
    if noise:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    else:
        img = np.tile(np.linspace(0, 255, w, dtype=np.uint8)[None, :, None], (h, 1, 3))
        x, y = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
        img[y:y + 8, x:x + 8] = (0, 0, 255)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def decodes(path) -> bool:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return img is not None and img.size > 0


def inspection(verdict: str = "pass", defects: tuple[Defect, ...] = (), name: str = "n.jpg",
               opening: float = 25.0) -> Inspection:
    s = Stat(opening, 0.8, opening - 2.5, opening + 2.5)
    mesh = None if verdict == "error" else MeshStats(812, s, s, Stat(30.3, 0.8, 29, 32),
                                                     Stat(5.2, 0.3, 3.9, 6.0), 30.1, 30.5)
    reasons = tuple(f"{d.type} at ({d.bbox_px[0]}, {d.bbox_px[1]}) px" for d in defects)
    return Inspection(name, verdict, reasons, "KR-CN-25",
                      error="no net in view" if verdict == "error" else None, mesh=mesh,
                      defects=defects, model=ModelInfo("defects-v1", "a" * 64),
                      timing_ms={"total": 118.4, "model": 60.2})


def hole(score: float = 0.97) -> Defect:
    return Defect("hole", (1490, 850, 260, 205), (61.0, 48.0), score, "2 openings merged")


def record(store, lot_id: int, verdict: str = "pass", *, station: str = "bench-1",
           net_id: str | None = None, defects: tuple[Defect, ...] = (), seed: int = 0,
           overlay: bool = True, size=(64, 48), noise: bool = False) -> str:
    if verdict == "fail" and not defects:
        defects = (hole(),)
    return store.record_inspection(
        inspection(verdict, defects, name=f"{seed}.jpg"), station=station, lot_id=lot_id,
        net_id=net_id, source_name=f"{seed}.jpg", image_jpeg=jpeg(seed, size, noise),
        overlay_jpeg=jpeg(seed + 1, size, noise) if overlay else None, spec_sha256=SPEC_SHA,
        calibration_id="bench-2026-12", captured_at=datetime.now(UTC))


def pg_available() -> bool:
    try:
        import psycopg
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3):
            return True
    except Exception:  # any failure to connect means: no server to test against
        return False


def pg_schema_url():
    """A URL whose search_path is a fresh schema (dropped afterwards); skips without a server."""
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432 (database test)")
    import psycopg
    schema = f"qc_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
            c.execute(f"DROP SCHEMA {schema} CASCADE")

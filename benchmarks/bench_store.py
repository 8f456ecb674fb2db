"""Speed of the store: recording inspections with 5 MP images, and queries over a big history.

Part 1 records N inspections (a 2448x2048 image and overlay, JPEG quality 90) and prints the
time per record (images fsynced, row committed, log line fsynced). Part 2 bulk-inserts a
history of M inspection rows (the rows only, images marked thinned) and times the queries the
web view makes. SQLite in a temporary folder, and PostgreSQL when the server on 127.0.0.1 is up.

    python benchmarks/bench_store.py [--records 30] [--history 50000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from storeutil import SPEC_SHA, inspection, pg_available  # noqa: E402

from qcstation.store import Store  # noqa: E402
from qcstation.store.records import DefectRow, InspectionRow, NetRow  # noqa: E402


def frame_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (2048, 2448, 3), dtype=np.uint8), (0, 0), 2)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def bench_records(store: Store, n: int) -> tuple[float, float, int]:
    lot = store.open_lot("BENCH-RECORD")
    image, overlay = frame_jpeg(1), frame_jpeg(2)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        store.record_inspection(inspection(("pass", "fail")[i % 2]), station="bench-1",
                                lot_id=lot.id, net_id=None, source_name=f"{i}.jpg",
                                image_jpeg=image, overlay_jpeg=overlay, spec_sha256=SPEC_SHA,
                                calibration_id="cal", captured_at=datetime.now(UTC))
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], len(image) + len(overlay)


def fill_history(store: Store, m: int) -> None:
    lots = [store.open_lot(f"HIST-{k}", quantity=m // 10) for k in range(10)]
    start = datetime.now(UTC) - timedelta(days=365)
    mesh = inspection().mesh.to_json()
    with store.engine.begin() as c:
        nets = [{"lot_id": lots[i % 10].id, "label": str(i // 10 + 1), "number": i // 10 + 1,
                 "created_at": start} for i in range(m)]
        c.execute(insert(NetRow), nets)
        net_ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM nets ORDER BY id")][-m:]
        rows, defects = [], []
        for i in range(m):
            rid, verdict = uuid.uuid4().hex, ("pass", "pass", "pass", "fail", "error")[i % 5]
            t = start + timedelta(seconds=600 * i)
            rows.append(dict(
                id=rid, created_at=t, captured_at=t, station=f"bench-{i % 3}",
                lot_id=lots[i % 10].id, net_pk=net_ids[i], verdict=verdict, reasons=[],
                error=None, image_name=None, frame_id=None, source_name=None,
                spec_name="KR-CN-25", spec_sha256=SPEC_SHA, calibration_id="cal",
                model_name="defects-v1", model_sha256="a" * 64, mesh=mesh,
                timing_ms={"total": 200.0}, uncertain=i % 50 == 0, image_store="elsewhere",
                image_path=f"images/x/{rid}.jpg", overlay_path=None, images_state="thinned",
                evidence=False, reviewed_verdict=None, reviewed_at=None))
            if verdict == "fail":
                defects.append(dict(inspection_id=rid, type=("hole", "stain")[i % 2],
                                    bbox_px=[1, 2, 3, 4], size_mm=[5.0, 6.0], score=0.9,
                                    detail=""))
        c.execute(insert(InspectionRow), rows)
        c.execute(insert(DefectRow), defects)
    with store.engine.begin() as c:  # as autovacuum / PRAGMA optimize do in a living database
        c.exec_driver_sql("ANALYZE")


def timed(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def bench_queries(store: Store) -> list[tuple[str, float]]:
    def tenth_page():
        cursor = None
        for _ in range(10):
            _, cursor = store.inspections(limit=50, cursor=cursor)
    lot_id = store.lots()[0].id
    return [
        ("newest 50", timed(lambda: store.inspections(limit=50))),
        ("10th page of 50 (cursor)", timed(tenth_page)),
        ("verdict=fail, 50", timed(lambda: store.inspections(verdict="fail"))),
        ("defect_type=hole, 50", timed(lambda: store.inspections(defect_type="hole"))),
        ("one lot, 50", timed(lambda: store.inspections(lot=lot_id))),
        ("station + since, 50", timed(lambda: store.inspections(
            station="bench-1", since=datetime.now(UTC) - timedelta(days=30)))),
        ("review queue, 50", timed(lambda: store.review_queue())),
        ("lots() summaries (11 lots)", timed(store.lots)),
        ("lot CSV (one lot)", timed(lambda: store.write_lot_csv(lot_id, Path(
            tempfile.gettempdir()) / "bench_lot.csv"), repeats=1)),
    ]


def run(name: str, url: str | None, data: Path, n: int, m: int) -> None:
    store = Store.open(url, data, reserve_bytes=0)
    med, p95, size = bench_records(store, n)
    print(f"\n{name}: record_inspection with {size / 2**20:.1f} MiB of JPEG per record, "
          f"{n} records: median {med:.1f} ms, p95 {p95:.1f} ms")
    t0 = time.perf_counter()
    fill_history(store, m)
    print(f"{name}: {m} history rows inserted in {time.perf_counter() - t0:.1f} s")
    store.close()
    t0 = time.perf_counter()
    store = Store.open(url, data, reserve_bytes=0)
    print(f"{name}: Store.open with the start-up check: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for label, ms in bench_queries(store):
        print(f"  {label:32s} {ms:8.1f} ms")
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=30)
    ap.add_argument("--history", type=int, default=50_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", None, Path(tmp) / "sqlite", args.records, args.history)
        if pg_available():
            import psycopg
            schema = f"qc_bench_{uuid.uuid4().hex[:8]}"
            base = "postgresql://postgres@127.0.0.1:5432/test"
            with psycopg.connect(base, autocommit=True) as c:
                c.execute(f"CREATE SCHEMA {schema}")
            try:
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test" \
                      f"?options=-csearch_path%3D{schema}"
                run("PostgreSQL", url, Path(tmp) / "pg", args.records, args.history)
            finally:
                with psycopg.connect(base, autocommit=True) as c:
                    c.execute(f"DROP SCHEMA {schema} CASCADE")
        else:
            print("\nPostgreSQL: not reachable at 127.0.0.1:5432, skipped")


if __name__ == "__main__":
    main()

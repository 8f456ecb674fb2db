"""The JSONL log and the lot CSV report, read back with the standard library's parsers."""

from __future__ import annotations

import csv
import io
import json

import pytest
from storeutil import record

from qcstation.domain import DEFECT_TYPES, Defect
from qcstation.store import NotFound, Store


@pytest.fixture
def store(tmp_path):
    s = Store.open(None, tmp_path / "data", reserve_bytes=0)
    yield s
    s.close()


def test_jsonl_has_one_line_per_inspection_in_order(store):
    lot = store.open_lot("L")
    ids = [record(store, lot.id, v, seed=i) for i, v in enumerate(["pass", "fail", "error"])]
    day = f"{store.inspection(ids[0]).created_at:%Y-%m-%d}"
    path = store.data_dir / "log" / f"inspections-{day}.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["id"] for x in lines] == ids
    assert [x["verdict"] for x in lines] == ["pass", "fail", "error"]
    assert lines[1] == store.inspection(ids[1]).to_api()
    assert lines[2]["error"] == "no net in view" and lines[2]["mesh"] is None


def test_jsonl_catches_up_after_a_lost_or_torn_line(store, tmp_path):
    lot = store.open_lot("L")
    ids = [record(store, lot.id, seed=i) for i in range(3)]
    path = next((store.data_dir / "log").glob("*.jsonl"))
    text = path.read_text().splitlines(keepends=True)
    path.write_text(text[0] + text[1][:40])  # the last two lines lost, one of them torn
    store.close()
    with Store.open(None, store.data_dir, reserve_bytes=0) as again:
        assert again.catch_up_log() == 0  # open did it already
        lines = path.read_text().splitlines()
    good = [json.loads(x)["id"] for x in lines if x.endswith("}")]
    assert sorted(good) == sorted(ids) and len(good) == 3
    assert len(lines) == 4  # the torn fragment stays on its own line, the log is append-only


def test_lot_csv_has_one_row_per_net_inspection(store, tmp_path):
    lot = store.open_lot("PTC-KR", quantity=3)
    other = store.open_lot("OTHER")
    a = record(store, lot.id, "pass", net_id="N-1", seed=1)
    b = record(store, lot.id, "fail", net_id="N-2", seed=2, defects=(
        Defect("hole", (1, 2, 30, 40), (61.0, 48.0), 0.97),
        Defect("stain", (5, 5, 9, 9), (4.0, 4.0), 0.9), Defect("stain", (50, 5, 9, 9),
                                                               (4.0, 4.0), 0.9)))
    c = record(store, lot.id, "error", seed=3)
    record(store, other.id, "pass", seed=4)
    store.review(b, user="sup", verdict="pass", note="ok")
    out = tmp_path / "lot.csv"
    assert store.write_lot_csv(lot.id, out) == 3
    rows = list(csv.DictReader(out.open(newline="")))
    assert [r["inspection_id"] for r in rows] == [a, b, c]
    assert [r["net_id"] for r in rows] == ["N-1", "N-2", "1"]
    assert [r["final_verdict"] for r in rows] == ["pass", "pass", "error"]
    assert (rows[1]["verdict"], rows[1]["review_verdict"], rows[1]["reviewed_by"]) == \
        ("fail", "pass", "sup")
    assert (rows[1]["n_hole"], rows[1]["n_stain"], rows[1]["n_thin_strand"]) == ("1", "2", "0")
    assert float(rows[0]["opening_w_mean_mm"]) == 25.0
    assert float(rows[0]["strand_width_min_mm"]) == 3.9
    assert rows[2]["error"] == "no net in view" and rows[2]["opening_w_mean_mm"] == ""
    assert {f"n_{t}" for t in DEFECT_TYPES} <= set(rows[0])
    buf = io.StringIO()
    store.write_lot_csv(lot.id, buf)
    assert buf.getvalue() == out.read_text()
    assert not list(tmp_path.glob("lot.csv*.tmp"))
    with pytest.raises(NotFound):
        store.write_lot_csv(999, io.StringIO())


def test_lot_records_come_oldest_first_across_pages(store):
    lot = store.open_lot("L")
    ids = [record(store, lot.id, seed=i) for i in range(5)]
    assert [r.id for r in store.lot_records(lot.id, page_size=2)] == ids
    assert [r.id for r in store.lot_records(lot.id)] == ids
    assert list(store.lot_records(store.open_lot("EMPTY").id)) == []


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(store, tmp_path):
    lot = store.open_lot("L")
    record(store, lot.id, net_id="=HYPERLINK(\"http://x\")", seed=1)
    out = tmp_path / "lot.csv"
    store.write_lot_csv(lot.id, out)
    (row,) = csv.DictReader(out.open(newline=""))
    assert row["net_id"] == "'=HYPERLINK(\"http://x\")"
    assert row["opening_w_mean_mm"] == "25.0"

"""The store on real SQLite and PostgreSQL: records, nets, paging, summaries, reviews, users."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from storeutil import SPEC_SHA, decodes, hole, inspection, jpeg, pg_schema_url, record

from qcstation.domain import Defect
from qcstation.store import Conflict, NotFound, Store, StoreError


@pytest.fixture
def pg_url():
    yield from pg_schema_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'qc.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    s = Store.open(url, tmp_path / "data", reserve_bytes=0)
    yield s
    s.close()


def test_a_record_reads_back_whole_with_its_images(store):
    lot = store.open_lot("PTC-KR-2026-07", quantity=5400, buyer="KR buyer", spec_name="KR-CN-25",
                         station="bench-1")
    ins = inspection("fail", (hole(), Defect("stain", (10, 20, 30, 40), (12.5, 8.0), 0.81)))
    captured = datetime(2026, 12, 4, 8, 30, 1, 250000, tzinfo=UTC)
    rid = store.record_inspection(
        ins, station="bench-1", lot_id=lot.id, net_id="NET-0042", source_name="0042.jpg",
        image_jpeg=jpeg(1), overlay_jpeg=jpeg(2), spec_sha256=SPEC_SHA, calibration_id="cal-7",
        captured_at=captured)
    assert len(rid) == 32 and int(rid, 16) >= 0
    r = store.inspection(rid)
    api = r.to_api()
    want = ins.to_json()
    for key in ("verdict", "reasons", "error", "mesh", "model"):
        assert api[key] == want[key], key
    assert [{k: d[k] for k in ("type", "bbox_px", "size_mm", "score")} for d in api["defects"]] \
        == want["defects"]
    assert api["defects"][0]["detail"] == "2 openings merged"
    assert api["timing_ms"] == {"total": 118.4, "model": 60.2}
    assert (api["station"], api["lot"], api["lot_id"], api["net_id"]) == \
        ("bench-1", "PTC-KR-2026-07", lot.id, "NET-0042")
    assert (api["spec"], api["spec_sha256"], api["calibration_id"], api["source_name"]) == \
        ("KR-CN-25", SPEC_SHA, "cal-7", "0042.jpg")
    assert r.captured_at == captured
    assert abs(r.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    image, overlay = store.image_file(rid, "image"), store.image_file(rid, "overlay")
    assert image.read_bytes() == jpeg(1) and overlay.read_bytes() == jpeg(2)
    assert decodes(image) and decodes(overlay)
    day = f"{r.created_at:%Y-%m-%d}"
    assert image == (store.data_dir / "images" / day / f"{rid}.jpg").resolve()
    assert overlay.name == f"{rid}.overlay.jpg"
    assert store.inspection("0" * 32) is None and store.image_file("0" * 32) is None


def test_nets_are_numbered_within_the_lot_unless_named(store):
    a = store.open_lot("A", station="bench-1")
    b = store.open_lot("B", station="bench-1")
    ids = [record(store, a.id, seed=i) for i in range(3)] + [record(store, b.id, seed=9)]
    assert [store.inspection(i).net_id for i in ids] == ["1", "2", "3", "1"]
    # a long net in two sections: the second section names the first's net
    first = record(store, a.id, net_id="LONG-1", seed=4)
    second = record(store, a.id, net_id=store.inspection(first).net_id, seed=5)
    assert store.inspection(second).net_id == "LONG-1"
    record(store, a.id, net_id="4", seed=6)  # a typed "4": the next number the store gives is 5
    assert store.inspection(record(store, a.id, seed=7)).net_number == 5
    summary = store.lot_summary(a.id)
    assert (summary.inspected, summary.nets) == (7, 6)
    assert len(store.inspections(lot=a.id, net_id="LONG-1")[0]) == 2


def test_open_lot_is_get_or_create_and_current_lot_is_the_stations_newest(store):
    first = store.open_lot("L-1", quantity=100, station="bench-1")
    assert store.open_lot("L-1", quantity=100, station="bench-1") == first
    second = store.open_lot("L-2", station="bench-1", sampling={"level": "II", "aql": 2.5})
    store.open_lot("L-3", station="bench-2")
    assert second.mode == "iso2859-1" and second.sampling == {"level": "II", "aql": 2.5}
    assert store.current_lot("bench-1") == second
    store.close_lot(second.id, by="sup", why="shipped")
    assert store.current_lot("bench-1") == first
    assert store.current_lot("bench-9") is None
    assert store.lot(second.id).closed_at is not None
    assert store.audit(entity=f"lot:{second.id}")[0].why == "shipped"
    with pytest.raises(StoreError):
        store.open_lot("  ")
    with pytest.raises(StoreError):
        store.open_lot("L-4", mode="sometimes")
    with pytest.raises(NotFound):
        store.close_lot(9999)


def test_keyset_pages_newest_first_and_filters(store):
    lot = store.open_lot("L", station="bench-1")
    other = store.open_lot("M", station="bench-2")
    verdicts = ["pass", "fail", "error", "pass", "fail", "pass", "pass"]
    ids = [record(store, lot.id, v, seed=i) for i, v in enumerate(verdicts)]
    ids.append(record(store, other.id, "fail", station="bench-2", seed=50,
                      defects=(Defect("stain", (1, 1, 5, 5), (3.0, 3.0), 0.9),)))
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = store.inspections(limit=3, cursor=cursor)
        seen += [r.id for r in page]
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and seen == ids[::-1]
    assert [r.id for r in store.inspections(verdict="fail")[0]] == [ids[7], ids[4], ids[1]]
    assert [r.id for r in store.inspections(lot="L", verdict="fail")[0]] == [ids[4], ids[1]]
    assert [r.id for r in store.inspections(lot=other.id)[0]] == [ids[7]]
    assert [r.id for r in store.inspections(station="bench-2")[0]] == [ids[7]]
    assert [r.id for r in store.inspections(defect_type="hole")[0]] == [ids[4], ids[1]]
    assert [r.id for r in store.inspections(defect_type="stain")[0]] == [ids[7]]
    since = store.inspection(ids[5]).created_at
    assert [r.id for r in store.inspections(since=since)[0]] == ids[5:][::-1]
    assert store.inspections(since=datetime.now(UTC) + timedelta(hours=1)) == ([], None)
    with pytest.raises(StoreError):
        store.inspections(cursor="not-a-cursor")
    with pytest.raises(StoreError):
        store.inspections(verdict="maybe")


def test_reviews_change_the_summary_and_leave_the_queue_with_an_audit_entry(store):
    lot = store.open_lot("L")
    fail = record(store, lot.id, "fail", seed=1)
    err = record(store, lot.id, "error", seed=2)
    unsure = record(store, lot.id, "pass", seed=3, defects=(
        Defect("stain", (1, 1, 5, 5), (3.0, 3.0), 0.4),))  # within the spec, low score
    record(store, lot.id, "pass", seed=4)
    queue, _ = store.review_queue()
    assert [r.id for r in queue] == [unsure, err, fail]
    rv = store.review(fail, user="sup", verdict="pass", note="a shadow, not a hole",
                      defect_label="stain")
    assert (rv.before, rv.after, rv.user) == ("fail", "pass", "sup")
    assert [r.id for r in store.review_queue()[0]] == [unsure, err]
    r = store.inspection(fail)
    assert r.verdict == "fail" and r.final_verdict == "pass" and r.review.note.startswith("a sh")
    entry = store.audit(entity=f"inspection:{fail}")[0]
    assert (entry.who, entry.action, entry.before, entry.after["verdict"], entry.why) == \
        ("sup", "review", {"verdict": "fail"}, "pass", "a shadow, not a hole")
    s = store.lot_summary(lot.id)
    assert (s.inspected, s.passed, s.failed, s.errors, s.reviewed, s.overrides) == \
        (4, 2, 1, 1, 1, 1)
    assert (s.final_passed, s.final_failed) == (3, 0)
    store.review(fail, user="admin", verdict="fail", note="looked again")
    assert store.inspection(fail).final_verdict == "fail"
    assert store.lot_summary(lot.id).overrides == 0
    assert [x.before for x in store.reviews(fail)] == ["fail", "pass"]
    with pytest.raises(StoreError):
        store.review(err, user="sup", verdict="error", note="")
    with pytest.raises(NotFound):
        store.review("f" * 32, user="sup", verdict="pass", note="")


def test_evidence_and_thinning_keep_what_matters(store):
    lot = store.open_lot("L")
    old_pass, kept_pass, reviewed_pass, failed = (record(store, lot.id, v, seed=i) for i, v in
                                                  enumerate(["pass", "pass", "pass", "fail"]))
    store.set_evidence(kept_pass, True, "sup", why="buyer dispute")
    store.review(reviewed_pass, user="sup", verdict="pass", note="")
    assert store.thin_passes(timedelta(days=30)) == 0  # nothing is old enough yet
    assert store.thin_passes(timedelta(0)) == 1
    assert store.image_file(old_pass) is None
    assert store.inspection(old_pass).images_state == "thinned"
    assert not list((store.data_dir / "images").rglob(f"{old_pass}*"))
    for rid in (kept_pass, reviewed_pass, failed):
        assert decodes(store.image_file(rid)) and decodes(store.image_file(rid, "overlay"))
    entry = store.audit(entity=f"inspection:{kept_pass}")[0]
    assert (entry.action, entry.before, entry.after, entry.why) == \
        ("evidence", {"evidence": False}, {"evidence": True}, "buyer dispute")
    assert store.audit()[0].action == "retention.thin"
    with pytest.raises(NotFound):
        store.set_evidence("e" * 32, True, "sup")


def test_users_and_tokens(store):
    u = store.add_user("siti", "inspector", "$argon2id$v=19$fake")
    assert store.user("siti") == u and store.user("nobody") is None
    with pytest.raises(Conflict):
        store.add_user("siti", "admin", "x")
    with pytest.raises(StoreError):
        store.add_user("budi", "king", "x")
    store.set_password("siti", "$argon2id$new", by="admin")
    store.set_role("siti", "supervisor", by="admin")
    assert (store.user("siti").password_hash, store.user("siti").role) == \
        ("$argon2id$new", "supervisor")
    with pytest.raises(NotFound):
        store.set_password("nobody", "x")
    assert [x.action for x in store.audit(entity="user:siti")] == \
        ["user.role", "user.password", "user.add"]
    assert "$argon2" not in json.dumps([x.to_api() for x in store.audit()])
    sha = "ab" * 32
    t = store.add_token("plc-bridge", "inspector", sha)
    assert t.last_used_at is None
    used = store.token(sha)
    assert used.id == t.id and used.last_used_at is not None
    assert store.token("cd" * 32) is None
    with pytest.raises(Conflict):
        store.add_token("again", "admin", sha)
    with pytest.raises(StoreError):
        store.add_token("raw", "admin", "not-a-hash")
    store.revoke_token(t.id, by="admin")
    assert store.token(sha) is None and store.tokens()[0].revoked_at is not None
    assert [x.name for x in store.users()] == ["siti"]


def test_a_refused_record_leaves_no_files(store):
    lot = store.open_lot("L")
    with pytest.raises(NotFound):
        record(store, 999, seed=1)
    with pytest.raises(StoreError, match="not JPEG"):
        store.record_inspection(inspection(), station="b", lot_id=lot.id, net_id=None,
                                source_name=None, image_jpeg=b"PNG...", overlay_jpeg=None,
                                spec_sha256=SPEC_SHA, calibration_id="c",
                                captured_at=datetime.now(UTC))
    with pytest.raises(StoreError, match="timezone"):
        store.record_inspection(inspection(), station="b", lot_id=lot.id, net_id=None,
                                source_name=None, image_jpeg=jpeg(1), overlay_jpeg=None,
                                spec_sha256=SPEC_SHA, calibration_id="c",
                                captured_at=datetime.now())
    assert not [p for p in (store.data_dir / "images").rglob("*") if p.is_file()]
    assert store.inspections() == ([], None)
    rid = record(store, lot.id, overlay=False, seed=2)
    assert store.image_file(rid, "overlay") is None and decodes(store.image_file(rid))
    assert store.inspection(rid).to_api()["has_overlay"] is False


def test_image_paths_never_leave_the_image_folder(store):
    with pytest.raises(StoreError, match="outside"):
        store.images.resolve("images/../qcstation.db")
    with pytest.raises(StoreError, match="outside"):
        store.images.resolve("/etc/passwd")
    with pytest.raises(StoreError):
        store.image_file("x" * 32, "thumbnail")


def test_naive_since_is_refused_plainly(store):
    with pytest.raises(StoreError, match="timezone"):
        store.inspections(since=datetime.now())


def test_a_review_and_its_audit_entry_stand_or_fall_together(tmp_path):
    from sqlalchemy import text
    with Store.open(None, tmp_path / "data", reserve_bytes=0) as store:
        rid = record(store, store.open_lot("L").id, "fail", seed=1)
        with store.engine.begin() as c:  # the database itself refuses every audit entry
            c.execute(text("CREATE TRIGGER no_audit BEFORE INSERT ON audit "
                           "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"))
        with pytest.raises(StoreError, match="audit refused"):
            store.review(rid, user="sup", verdict="pass", note="")
        with pytest.raises(StoreError, match="audit refused"):
            store.set_evidence(rid, True, "sup")
        r = store.inspection(rid)
        assert (r.review, r.final_verdict, r.evidence) == (None, "fail", False)
        assert store.reviews(rid) == []


def test_the_caller_may_mark_an_inspection_uncertain(store):
    lot = store.open_lot("L")
    rid = store.record_inspection(inspection(), station="b", lot_id=lot.id, net_id=None,
                                  source_name=None, image_jpeg=jpeg(1), overlay_jpeg=None,
                                  spec_sha256=SPEC_SHA, calibration_id="c",
                                  captured_at=datetime.now(UTC), uncertain=True)
    assert store.inspection(rid).uncertain
    assert [r.id for r in store.review_queue()[0]] == [rid]

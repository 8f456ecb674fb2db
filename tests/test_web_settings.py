"""The admin's settings on a real running station (hot folder, drawn nets) behind a real uvicorn
server: a spec made the current lot's (API and page), refused specs and roles, the gauge check."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import httpx
import pytest
from stationkit import drop, good_net, make_bench
from webutil import BAD_SPEC, ROOT, Server, api_token, fill_store, load, login, open_store

from qcstation.calibration_io import load_calibration, save_calibration
from qcstation.station.components import build_components
from qcstation.station.runner import Station

FOLDER = 'type = "folder"\npath = "incoming"\npoll_s = 0.1\nstable_s = 0.1'
SPEC_20 = ROOT / "specs/kr-coirnet-20.toml"
GAUGE = {"bias": (-0.42, -0.37), "spread": (0.21, 0.18), "repeat": (0.06, 0.05),
         "at": "2026-11-30T08:15:00+00:00"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("websettings")
    settings_path = make_bench(tmp, FOLDER)
    cal = load_calibration(tmp / "bench.json")  # a gauge check as `qcstation gauge` keeps it
    save_calibration(replace(cal, opening_bias_mm=GAUGE["bias"], gauge_note="gauge on ref.jpg",
                             gauge_spread_mm=GAUGE["spread"], gauge_repeat_mm=GAUGE["repeat"],
                             gauge_checked_at=GAUGE["at"]), tmp / "bench.json")
    settings = load(settings_path)
    store = open_store(settings)
    fill_store(store, station="other-bench")  # the users
    tokens = {role: api_token(store, role) for role in ("inspector", "supervisor", "admin")}
    station = Station(settings, store, build_components(settings, use_model=False))
    with Server(settings, station, store) as server:
        yield {"url": server.url, "store": store, "station": station, "tokens": tokens,
               "incoming": tmp / "incoming", "data_dir": settings.station.data_dir}
    store.close()


def api(bench, role: str) -> httpx.Client:
    return httpx.Client(base_url=bench["url"], timeout=30,
                        headers={"Authorization": f"Bearer {bench['tokens'][role]}"})


def inspect_one(bench, name: str):
    """Drops a clean 25 mm net into the hot folder; returns its stored record."""
    inbox = bench["station"].subscribe()
    try:
        drop(bench["incoming"], name, good_net(3))
        rid = inbox.get(timeout=60)
    finally:
        bench["station"].unsubscribe(inbox)
    return bench["store"].inspection(rid)


def lot_state(bench):
    station, store = bench["station"], bench["store"]
    lot = store.lot(station.current_lot)
    return (station.current_spec(), lot.spec_name,
            len(store.audit(entity=f"lot:{lot.id}", limit=1000)))


def test_admin_gives_the_lot_a_shipped_spec_and_later_inspections_record_it(bench):
    before = inspect_one(bench, "before.jpg")
    assert (before.spec_name, before.verdict) == ("KR-CN-25", "pass")
    r = api(bench, "admin").post("/api/station/spec",
                                 json={"choice": "shipped/kr-coirnet-20.toml"})
    assert r.status_code == 200, r.text
    sha = hashlib.sha256(SPEC_20.read_bytes()).hexdigest()
    assert r.json()["before"]["spec"] == "KR-CN-25" and r.json()["after"] == {
        "spec": "KR-CN-20", "sha256": sha}
    after = inspect_one(bench, "after.jpg")
    # the same 25 mm net, now judged against 20 +- 2.5 mm openings
    assert (after.spec_name, after.spec_sha256, after.verdict) == ("KR-CN-20", sha, "fail")
    assert any("opening" in reason for reason in after.reasons)
    lot = bench["store"].lot(bench["station"].current_lot)
    assert lot.spec_name == "KR-CN-20"
    entry = bench["store"].audit(entity=f"lot:{lot.id}", limit=1)[0]
    assert (entry.action, entry.who) == ("lot.spec", "test-admin")
    assert entry.before["spec"] == "KR-CN-25" and entry.before["sha256"] == before.spec_sha256
    assert entry.after == {"spec": "KR-CN-20", "sha256": sha,
                           "file": "shipped/kr-coirnet-20.toml"}
    status = api(bench, "inspector").get("/api/status").json()
    assert status["spec"] == {"name": "KR-CN-20", "sha256": sha}


def test_admin_uploads_and_applies_a_spec_on_the_settings_page(bench):
    text = SPEC_20.read_text().replace('"KR-CN-20"', '"KR-CN-26"').replace(
        "[20.0, 20.0]", "[26.0, 26.0]").replace("max_opening_mm = 28.0", "max_opening_mm = 34.0")
    c = login(bench["url"], "ada")
    form = {"csrf_token": c.csrf, "apply": "1"}
    r = c.post("/settings/spec?lang=en", data=form,
               files={"file": ("mine.toml", text.encode(), "application/toml")})
    assert r.status_code == 200 and "is now judged against spec KR-CN-26" in r.text
    assert re.search(r'id="spec-name">KR-CN-26<', r.text)
    assert (bench["data_dir"] / "specs" / "KR-CN-26.toml").read_text() == text
    record = inspect_one(bench, "page.jpg")
    assert record.spec_name == "KR-CN-26" and record.verdict == "pass"  # 25 mm in 26 +- 2.5
    assert record.spec_sha256 == hashlib.sha256(text.encode()).hexdigest()
    # and back to the shipped 25 mm spec from the list, on the same page
    page = c.get("/settings?lang=en").text
    assert 'value="uploaded/KR-CN-26.toml"' in page and 'value="shipped/kr-coirnet-25.toml"' in page
    r = c.post("/settings/spec/use?lang=en",
               data={"csrf_token": c.csrf, "choice": "shipped/kr-coirnet-25.toml"})
    assert r.status_code == 200 and "is now judged against spec KR-CN-25" in r.text
    assert inspect_one(bench, "back.jpg").spec_name == "KR-CN-25"


def test_lower_roles_and_forms_without_csrf_change_nothing(bench):
    state = lot_state(bench)
    for role in ("inspector", "supervisor"):
        r = api(bench, role).post("/api/station/spec",
                                  json={"choice": "shipped/kr-coirnet-20.toml"})
        assert r.status_code == 403, (role, r.text)
    ina = login(bench["url"], "ina")
    assert ina.post("/api/station/spec", json={"choice": "shipped/kr-coirnet-20.toml"},
                    headers={"X-CSRF-Token": ina.csrf}).status_code == 403
    assert ina.post("/settings/spec/use", data={"csrf_token": ina.csrf,
                                                "choice": "shipped/kr-coirnet-20.toml"}
                    ).status_code == 403
    ada = login(bench["url"], "ada")
    assert ada.post("/settings/spec/use",
                    data={"choice": "shipped/kr-coirnet-20.toml"}).status_code == 403
    assert ada.post("/api/station/spec", json={"choice": "shipped/kr-coirnet-20.toml"}
                    ).status_code == 403  # a session without the page's CSRF header
    assert lot_state(bench) == state


@pytest.mark.parametrize("body,fields", [
    ({"toml": BAD_SPEC}, {"spec.colour", "mesh.tolerance_mm", "mesh.max_opening_mm", "defects"}),
    ({"toml": "[spec\nname="}, {"file"}),
    ({"choice": "shipped/../../station.toml"}, {"spec"}),
    ({"choice": "uploaded/nothing-here.toml"}, {"spec"}),
    ({}, {"request"}),
    ({"choice": "shipped/kr-coirnet-20.toml", "toml": "x = 1"}, {"request"}),
])
def test_a_refused_spec_is_named_per_field_and_changes_nothing(bench, body, fields):
    state = lot_state(bench)
    r = api(bench, "admin").post("/api/station/spec", json=body)
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == fields
    assert lot_state(bench) == state


def test_a_refused_upload_on_the_page_changes_nothing(bench):
    state = lot_state(bench)
    c = login(bench["url"], "ada")
    r = c.post("/settings/spec?lang=en", data={"csrf_token": c.csrf, "apply": "1"},
               files={"file": ("bad.toml", BAD_SPEC.encode(), "application/toml")})
    assert r.status_code == 422
    errors = set(re.findall(r"<li><code>([^<]+)</code>", r.text))
    assert errors == {"spec.colour", "mesh.tolerance_mm", "mesh.max_opening_mm", "defects"}
    assert lot_state(bench) == state


def test_the_gauge_check_shows_on_the_settings_page_and_in_the_status(bench):
    page = login(bench["url"], "ada").get("/settings?lang=en").text
    gauge = re.search(r'<ul id="gauge">(.*?)</ul>', page, re.S)[1]
    for text in ("-0.42 / -0.37 mm", "0.21 / 0.18 mm", "0.06 / 0.05 mm", "Nov 30, 2026"):
        assert text in gauge, (text, gauge)
    status = api(bench, "inspector").get("/api/status").json()
    assert status["gauge"] == {"bias_mm": {"w": -0.42, "h": -0.37},
                               "spread_mm": {"w": 0.21, "h": 0.18},
                               "repeatability_mm": {"w": 0.06, "h": 0.05},
                               "checked_at": GAUGE["at"], "note": "gauge on ref.jpg"}


def test_a_restarted_station_keeps_the_spec_an_admin_gave_the_lot(bench):
    r = api(bench, "admin").post("/api/station/spec",
                                 json={"choice": "shipped/kr-coirnet-20.toml"})
    assert r.status_code == 200
    settings = bench["station"].settings
    again = Station(settings, bench["store"], build_components(settings, use_model=False))
    assert again.current_lot == bench["station"].current_lot
    spec, sha = again.current_spec()
    assert (spec.name, sha) == ("KR-CN-20", hashlib.sha256(SPEC_20.read_bytes()).hexdigest())
    assert again.inspector.spec.name == "KR-CN-20"
    assert again.inspector.rect is not None


def test_an_admin_adds_a_user_on_the_page_who_can_then_sign_in(bench):
    store = bench["store"]
    ada = login(bench["url"], "ada")
    r = ada.post("/settings/users?lang=id", data={
        "csrf_token": ada.csrf, "name": "wati", "role": "supervisor",
        "password": "wati-pass-99", "again": "wati-pass-99"})
    assert r.status_code == 200, r.text
    assert "supervisor wati ditambahkan." in r.text.lower()
    assert store.user("wati").role == "supervisor"
    audit = store.audit(entity="user:wati")
    assert [(a.action, a.who) for a in audit] == [("user.add", "ada")]
    wati = login(bench["url"], "wati", "wati-pass-99")
    assert wati.get("/review").status_code == 200  # a supervisor's page


@pytest.mark.parametrize("form,field", [
    ({"name": "has space", "role": "inspector"}, "name"),
    ({"name": "", "role": "inspector"}, "name"),
    ({"name": "ok-name", "role": "owner"}, "role"),
    ({"name": "ok-name", "role": "inspector", "password": "short", "again": "short"}, "password"),
    ({"name": "ok-name", "role": "inspector", "again": "other-pass-123"}, "again"),
    ({"name": "ina", "role": "admin"}, "name"),  # exists: not made an admin
])
def test_a_refused_user_is_named_per_field_and_changes_nothing(bench, form, field):
    store = bench["store"]
    before = [(u.name, u.role) for u in store.users()], len(store.audit(limit=1000))
    ada = login(bench["url"], "ada")
    body = {"csrf_token": ada.csrf, "password": "good-pass-123", "again": "good-pass-123", **form}
    r = ada.post("/settings/users?lang=en", data=body)
    assert r.status_code == 422, r.text
    assert set(re.findall(r'id="user-errors">\s*<li><code>([^<]+)</code>', r.text)) == {field}
    assert ([(u.name, u.role) for u in store.users()], len(store.audit(limit=1000))) == before


def test_only_an_admin_with_the_page_token_adds_users(bench):
    store = bench["store"]
    body = {"name": "mallory", "role": "admin", "password": "mallory-123", "again": "mallory-123"}
    sam = login(bench["url"], "sam")
    assert sam.post("/settings/users", data={"csrf_token": sam.csrf, **body}).status_code == 403
    ada = login(bench["url"], "ada")
    assert ada.post("/settings/users", data=body).status_code == 403  # no CSRF token
    assert store.user("mallory") is None

"""The JSON API against a real uvicorn server and a real SQLite store (no camera station)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from pypdf import PdfReader
from storeutil import pg_schema_url
from webutil import Server, api_token, fill_store, load, login, open_store, write_settings


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request):
    if request.param == "sqlite":
        yield ""
    else:
        schema = pg_schema_url()  # a private schema, dropped afterwards
        yield f'[storage]\nurl = "{next(schema)}"'
        schema.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, database):
    tmp = tmp_path_factory.mktemp("web")
    settings = load(write_settings(tmp, extra=database))
    store = open_store(settings)
    data = fill_store(store)
    tokens = {role: api_token(store, role) for role in ("inspector", "supervisor", "admin")}
    with Server(settings, None, store) as server:
        yield {"url": server.url, "store": store, "tokens": tokens, **data}
    store.close()


def client(site, role="supervisor") -> httpx.Client:
    return httpx.Client(base_url=site["url"], timeout=20,
                        headers={"Authorization": f"Bearer {site['tokens'][role]}"})


def test_healthz_needs_no_login(site):
    r = httpx.get(site["url"] + "/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["station"] == "bench-t"


def test_inspections_newest_first_with_contract_fields(site):
    items = client(site, "inspector").get("/api/inspections").json()["items"]
    assert [i["id"] for i in items] == list(reversed(site["ids"]))
    for key in ("id", "created_at", "station", "lot", "net_id", "verdict", "reasons", "error",
                "source_name", "mesh", "defects"):
        assert key in items[0]


@pytest.mark.parametrize("query,expected", [
    ({"verdict": "fail"}, [4, 2]), ({"verdict": "error"}, [5]),
    ({"defect_type": "hole"}, [2]), ({"verdict": "pass", "limit": 2}, [6, 3]),
])
def test_filters(site, query, expected):
    items = client(site).get("/api/inspections", params=query).json()["items"]
    assert [i["id"] for i in items] == [site["ids"][k] for k in expected]


def test_cursor_pages_through_every_record_once(site):
    c, seen, cursor = client(site), [], None
    while True:
        page = c.get("/api/inspections", params={"limit": 3, **({"cursor": cursor} if cursor
                                                                 else {})}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == list(reversed(site["ids"]))


def test_detail_and_images(site):
    c = client(site, "inspector")
    rid = site["ids"][2]
    detail = c.get(f"/api/inspections/{rid}").json()
    assert detail["verdict"] == "fail" and detail["defects"][0]["type"] == "hole"
    for kind in ("image", "overlay"):
        r = c.get(f"/api/inspections/{rid}/{kind}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert r.content[:2] == b"\xff\xd8"
    assert c.get("/api/inspections/" + "f" * 32).status_code == 404


def test_review_changes_the_verdict_and_is_audited(site):
    c = client(site, "supervisor")
    rid = site["ids"][4]
    r = c.post(f"/api/inspections/{rid}/review",
               json={"verdict": "pass", "note": "gauge says 27.9 mm"})
    assert r.status_code == 200, r.text
    assert r.json()["review"]["verdict"] == "pass"
    audit = c.get("/api/audit", params={"entity": f"inspection:{rid}"}).json()["items"]
    assert audit[0]["who"] == "test-supervisor" and audit[0]["why"] == "gauge says 27.9 mm"
    assert audit[0]["before"] == {"verdict": "fail"}
    queue = [i["id"] for i in c.get("/api/reviews/queue").json()["items"]]
    assert rid not in queue and site["ids"][2] in queue


def test_lots_and_report(site):
    c = client(site)
    lots = c.get("/api/lots").json()["items"]
    lot = next(x for x in lots if x["id"] == site["lot"])
    assert (lot["inspected"], lot["passed"], lot["failed"]) == (7, 4, 2)
    rep = c.get(f"/api/lots/{site['lot']}").json()
    assert rep["inspected"] == 7 and rep["errors"] == 1
    assert rep["pareto"][0][:2] == ["hole", 1]


def test_lot_csv_has_one_row_per_net(site):
    r = client(site).get(f"/api/lots/{site['lot']}/report.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 7


@pytest.mark.parametrize("lang,expected", [("en", "Inspection certificate"),
                                           ("ko", "검사 증명서")])
def test_certificate_pdf_parses_back(site, lang, expected):
    r = client(site).get(f"/api/lots/{site['lot']}/certificate.pdf", params={"lang": lang})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert expected in text and "LOT-A" in text


def test_trigger_without_a_station_is_503(site):
    r = client(site, "inspector").post("/api/trigger")
    assert r.status_code == 503


def test_status_without_station_shows_the_current_lot(site):
    s = client(site, "inspector").get("/api/status").json()
    assert s["running"] is False and s["lot"]["name"] == "LOT-A"
    assert s["lot"]["to_go"] == 50 - 7  # quantity 50, seven nets inspected
    assert s["gauge"] is None  # the demo calibration has had no gauge check


def test_session_login_reaches_the_api(site):
    c = login(site["url"], "ina")
    assert c.get("/api/inspections", params={"limit": 1}).status_code == 200


@pytest.mark.parametrize("since,count", [("2000-01-01T00:00:00", 7), ("2000-01-01T00:00:00Z", 7),
                                         ("2999-01-01T00:00:00+09:00", 0)])
def test_since_filter(site, since, count):
    r = client(site).get("/api/inspections", params={"since": since})
    assert r.status_code == 200 and len(r.json()["items"]) == count


@pytest.mark.parametrize("lot,count", [("LOT-A", 7), ("1", 7), ("NO-SUCH-LOT", 0), ("99", 0)])
def test_lot_filter_by_id_or_name(site, lot, count):
    items = client(site).get("/api/inspections", params={"lot": lot}).json()["items"]
    assert len(items) == count


def test_until_filter_ends_before_the_given_time(site):
    c = client(site)
    items = c.get("/api/inspections").json()["items"]  # newest first
    edge = items[3]["created_at"]
    expected = [i["id"] for i in items if i["created_at"] < edge]
    got = c.get("/api/inspections", params={"until": edge}).json()["items"]
    assert [i["id"] for i in got] == expected and 0 < len(expected) < 7
    window = c.get("/api/inspections", params={"since": items[-1]["created_at"],
                                                "until": edge}).json()["items"]
    assert [i["id"] for i in window] == expected
    assert c.get("/api/inspections", params={"until": "2000-01-01T00:00:00"}).json()[
        "items"] == []

"""Pages over httpx against a real server: spec upload (validated per field), bench without a
camera, history filters, the HTML lang attribute."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from webutil import BAD_SPEC, ROOT, Server, fill_store, load, login, open_store, write_settings

GOOD_SPEC = (ROOT / "specs/kr-coirnet-20.toml").read_bytes()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webpages")
    settings = load(write_settings(tmp))
    store = open_store(settings)
    data = fill_store(store)
    with Server(settings, None, store) as server:
        yield {"url": server.url, "data_dir": settings.station.data_dir, **data}
    store.close()


def upload(client, body: bytes, csrf: str | None):
    form = {"csrf_token": csrf} if csrf else {}
    return client.post("/settings/spec?lang=en", data=form,
                       files={"file": ("spec.toml", body, "application/toml")})


def test_spec_upload_saves_a_valid_spec(site):
    c = login(site["url"], "ada")
    r = upload(c, GOOD_SPEC, c.csrf)
    assert r.status_code == 200 and 'id="spec-ok"' in r.text
    saved = site["data_dir"] / "specs" / "KR-CN-20.toml"
    assert saved.read_bytes() == GOOD_SPEC


def test_spec_upload_lists_each_bad_field(site):
    c = login(site["url"], "ada")
    r = upload(c, BAD_SPEC.encode(), c.csrf)
    assert r.status_code == 422
    errors = re.findall(r"<li><code>([^<]+)</code>", r.text)
    assert set(errors) == {"spec.colour", "mesh.tolerance_mm", "mesh.max_opening_mm", "defects"}


@pytest.mark.parametrize("body,status", [(b"x" * (64 * 1024 + 1), 413),
                                          (b"[spec\nname=", 422), (b"\xff\xfe", 422),
                                          (b"a = " + b"[" * 5000 + b"]" * 5000, 422),
                                          (b"a = 1" + b"0" * 5000, 422)])
def test_spec_upload_refuses_big_or_broken_files(site, body, status):
    c = login(site["url"], "ada")
    assert upload(c, body, c.csrf).status_code == status


def test_spec_upload_needs_admin_and_csrf(site):
    ada, sam = login(site["url"], "ada"), login(site["url"], "sam")
    assert upload(ada, GOOD_SPEC, None).status_code == 403
    assert upload(sam, GOOD_SPEC, sam.csrf).status_code == 403


def test_settings_without_a_gauge_check(site):
    page = login(site["url"], "ada").get("/settings?lang=en").text
    assert re.search(r'<ul id="gauge"><li>No gauge check recorded yet.</li></ul>', page)
    assert 'action="/settings/spec/use"' not in page  # no station to switch without a camera


def test_bench_without_camera(site):
    c = login(site["url"], "ina")
    page = c.get("/bench?lang=en")
    assert page.status_code == 200 and "No camera is connected" in page.text
    assert 'id="verdict"' in page.text and "LOT-A" in page.text
    assert c.get("/bench/stream.mjpg").status_code == 503


@pytest.mark.parametrize("query,rows", [("", 7), ("?verdict=fail", 2), ("?defect_type=hole", 1),
                                        ("?verdict=pass&since=2999-01-01", 0),
                                        ("?until=2000-01-01", 0), ("?until=9999-12-31", 7),
                                        ("?since=2000-01-01&until=2999-01-01&verdict=fail", 2)])
def test_history_filters(site, query, rows):
    c = login(site["url"], "ina")
    r = c.get("/history" + query)
    assert r.status_code == 200
    assert len(re.findall(r'<tr class="row-', r.text)) == rows


def test_history_until_takes_the_whole_end_day(site):
    """Every record was made today (UTC): until yesterday shows none, until today all."""
    c = login(site["url"], "ina")
    today = datetime.now(UTC).date()
    for day, rows in ((today - timedelta(days=1), 0), (today, 7)):
        r = c.get(f"/history?until={day.isoformat()}")
        assert len(re.findall(r'<tr class="row-', r.text)) == rows, day
        assert f'name="until" value="{day.isoformat()}"' in r.text


def test_net_detail_page(site):
    c = login(site["url"], "ina")
    r = c.get(f"/inspections/{site['ids'][2]}?lang=id")
    assert r.status_code == 200 and '<html lang="id">' in r.text
    assert "Lubang 61 × 48 mm" in r.text and "GAGAL" in r.text
    assert 'action="/inspections/' not in r.text  # no review form for an inspector


def test_request_bodies_are_capped_before_parsing(site):
    c = login(site["url"], "ada")
    big = b"x" * (2 * 1024 * 1024)
    assert upload(c, big, c.csrf).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"y" * 65536

    r = c.post("/api/inspections/x/review", content=chunks(),
               headers={"Content-Type": "application/json", "X-CSRF-Token": c.csrf})
    assert r.status_code == 413


def test_browser_errors_are_pages_and_api_errors_json(site):
    c = login(site["url"], "ina")
    html = {"Accept": "text/html"}
    r = c.get("/no-such-page?lang=en", headers=html)
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    r = c.get("/history?verdict=maybe&lang=en", headers=html)
    assert r.status_code == 422 and "verdict" in r.text and "<html" in r.text
    r = c.get("/api/inspections", params={"verdict": "maybe"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "verdict"
    assert c.get("/api/nothing").json() == {"detail": "Not Found"}

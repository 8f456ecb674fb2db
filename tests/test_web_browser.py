"""The pages in headless Chromium: review flow, lot report with exports, language switch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from browserutil import launch, screenshot, sign_in
from pypdf import PdfReader
from webutil import PASSWORDS, Server, fill_store, load, open_store, write_settings


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webbrowser")
    settings = load(write_settings(tmp))
    store = open_store(settings)
    data = fill_store(store)
    with Server(settings, None, store) as server:
        yield {"url": server.url, "store": store, **data}
    store.close()


@pytest.fixture(scope="module")
def browser():
    pw, browser = launch()
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []  # a script error or a blocked resource (security policy) fails the test
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors


def test_review_flow_override_with_note_shows_in_audit(site, page):
    sign_in(page, site["url"], "sam", PASSWORDS["sam"])
    page.goto(site["url"] + "/review?lang=en")
    rid = site["ids"][2]  # the net with a hole
    assert page.locator(f"a[href='/inspections/{rid}']").count() == 1
    page.click(f"a[href='/inspections/{rid}']")
    page.check("input[name=verdict][value=pass]")
    page.select_option("select[name=defect_label]", "stain")
    page.fill("textarea[name=note]", "only a stain, no hole: checked by hand")
    page.check("input[name=evidence]")
    page.click("form.review-form button[type=submit]")
    page.wait_for_url(f"**/inspections/{rid}")
    entry = page.locator("tr.audit-entry", has_text="checked by hand")
    assert "only a stain, no hole: checked by hand" in entry.inner_text()
    assert "sam" in entry.inner_text() and "PASS" in entry.inner_text()
    assert "FAIL" in entry.inner_text() and "stain" in entry.inner_text()
    assert page.locator("tr.audit-entry", has_text="evidence").count() == 1
    # zoom and pan on the overlay
    box = page.locator(".zoom").first
    box.hover()
    page.mouse.wheel(0, -300)
    assert "scale(" in page.locator(".zoom img").first.get_attribute("style")
    screenshot(page, "review-detail")
    page.goto(site["url"] + "/review")
    assert page.locator(f"table.queue a[href='/inspections/{rid}']").count() == 0  # decided
    assert "only a stain" in page.locator("table.audit").inner_text()
    screenshot(page, "review-queue")


def test_lot_report_charts_csv_and_pdf(site, page):
    sign_in(page, site["url"], "sam", PASSWORDS["sam"])
    page.goto(f"{site['url']}/lots/{site['lot']}?lang=en")
    for chart in ("chart-pareto", "chart-histogram", "chart-control"):
        assert page.locator(f"#{chart} svg").count() == 1, chart
    assert page.locator("#chart-pareto rect.bar").count() >= 1
    assert page.locator("#chart-histogram line.limit").count() == 2  # the spec's limits
    assert page.locator("#chart-control circle.point").count() == 6  # nets with a mesh
    assert page.locator("#pass-rate").inner_text().endswith("%")
    screenshot(page, "lot-report")
    with page.expect_download() as dl:
        page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 7
    for lang, title in (("en", "Inspection certificate"), ("ko", "검사 증명서")):
        href = page.locator(f"#pdf-{lang}").get_attribute("href")
        r = page.request.get(site["url"] + href)
        assert r.status == 200 and r.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.body())).pages)
        assert title in text and "LOT-A" in text
    page.goto(f"{site['url']}/lots/{site['lot']}/certificate?cert=ko")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "검사 증명서" in page.locator("h1").inner_text()
    screenshot(page, "certificate-ko")


@pytest.mark.parametrize("accept,lang,word", [
    ("", "id", "Masuk"), ("en-GB,en;q=0.9", "en", "Sign in"), ("ko-KR", "ko", "로그인"),
    ("fr-FR,ko;q=0.5", "ko", "로그인")])
def test_language_from_the_browser(browser, site, accept, lang, word):
    # the browser's language list as Chromium sends it; none at all: the default, Indonesian
    context = browser.new_context(extra_http_headers={"Accept-Language": accept})
    page = context.new_page()
    page.goto(site["url"] + "/login")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").inner_text() == word
    context.close()


def test_language_switch_is_remembered(site, page):
    sign_in(page, site["url"], "ina", PASSWORDS["ina"], lang="id")
    page.goto(site["url"] + "/history")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == "Riwayat"
    page.click("a.lang[hreflang=ko]")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.locator("h1").inner_text() == "이력"
    assert "불합격" in page.locator("table.records").inner_text()
    page.goto(site["url"] + "/history")  # no ?lang: the cookie keeps Korean
    assert page.locator("html").get_attribute("lang") == "ko"
    screenshot(page, "history-ko")
    page.click("a.lang[hreflang=en]")
    assert page.locator("h1").inner_text() == "History"

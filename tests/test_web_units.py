"""The web view's pure parts: reasons in plain words, languages, lot report figures, charts."""

from __future__ import annotations

import re

import numpy as np
import pytest
from webutil import ROOT

from qcstation.domain import Defect, MeshStats, Stat
from qcstation.judge import judge
from qcstation.spec import load_spec
from qcstation.web.charts import FAIL, control_chart_svg, histogram_chart, pareto_chart
from qcstation.web.i18n import Formatter, from_accept_language, translations
from qcstation.web.lotdata import sampling_of
from qcstation.web.reasons import plain_reason
from qcstation.web.reports import IMR_FACTOR, control_chart, lot_report, pareto

SPEC = load_spec(ROOT / "specs/kr-coirnet-25.toml")


def mesh(w: float, h: float, largest: float = 27.0, openings: int = 100) -> MeshStats:
    return MeshStats(openings, Stat(w, 1, w - 2, largest), Stat(h, 1, h - 2, h + 2),
                     Stat(30, 1, 28, 32), Stat(5, 0.3, 4.5, 5.5))


def judged_reasons() -> list[str]:
    """Every kind of sentence the real judge writes (the oracle of the mapping)."""
    hole = Defect("hole", (10, 20, 30, 40), (61, 48), 0.9)
    stains = [Defect("stain", (i * 50, 0, 20, 20), (9, 9), 0.8) for i in range(3)]
    out = []
    out += judge(SPEC, mesh(29.4, 25.0), [])[1]
    out += judge(SPEC, mesh(25.0, 21.0), [])[1]
    out += judge(SPEC, mesh(25.0, 25.0, largest=40.0), [])[1]
    out += judge(SPEC, mesh(25.0, 25.0), [hole, *stains])[1]
    out += judge(SPEC, mesh(25.0, 25.0, openings=3), [])[1]
    return out


@pytest.mark.parametrize("lang", ["id", "ko"])
def test_every_judge_reason_is_translated(lang):
    _ = translations(lang).gettext
    reasons = judged_reasons()
    assert len(reasons) == 9
    for text in reasons:
        plain = plain_reason(text, _, Formatter(lang))
        assert plain != text, text  # recognised and put in the page's words
    plain = [plain_reason(t, _, Formatter(lang)) for t in reasons]
    if lang == "id":
        assert plain[0] == "Rata-rata lebar bukaan 29,4 mm di luar 22,0–28,0 mm"
        assert "Lubang 61 × 48 mm" in plain


@pytest.mark.parametrize("header,lang", [
    ("", "id"), ("en-US,en;q=0.9", "en"), ("ko;q=0.4, en;q=0.8", "en"), ("de, fr", "id"),
    ("in-ID", "id"), ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"), ("en;q=abc, ko", "ko")])
def test_accept_language(header, lang):
    assert from_accept_language(header) == lang


def test_numbers_and_dates_follow_the_locale():
    assert Formatter("id").num(1234.5) == "1.234,5"
    assert Formatter("en").num(1234.5) == "1,234.5"
    assert Formatter("id").pct(0.875) == "87,5%"


def record(i: int, verdict: str, w: float | None, defects=(), review=None) -> dict:
    m = None if w is None else {"opening_w_mm": {"mean": w}, "opening_h_mm": {"mean": w + 0.2}}
    return {"id": f"{i:032x}", "created_at": f"2026-12-04T10:{i:02d}:00+00:00", "net_id": str(i),
            "verdict": verdict, "mesh": m, "defects": [{"type": t} for t in defects],
            "review": review}


def test_control_chart_limits_from_moving_ranges():
    values = [25.0, 25.4, 24.8, 25.6, 25.2, 29.0]
    recs = [record(i, "pass", v - 0.1) for i, v in enumerate(values)]  # net mean = v
    chart = control_chart(list(reversed(recs)))  # newest first, as the store gives them
    x = np.array(values)
    mr = np.abs(np.diff(x)).mean()  # hand-rolled: the individuals chart's textbook formula
    assert chart.values_mm == pytest.approx(values)
    assert chart.centre_mm == pytest.approx(x.mean())
    assert chart.ucl_mm == pytest.approx(x.mean() + 2.66 * mr)
    assert pytest.approx(3 / 1.128, abs=0.01) == IMR_FACTOR


def test_pareto_orders_types_with_cumulative_share():
    recs = [record(0, "fail", 25, ["hole", "stain"]), record(1, "fail", 25, ["stain"]),
            record(2, "fail", 25, ["stain", "thin_strand", "hole"])]
    assert pareto(recs) == [("stain", 3, 0.5), ("hole", 2, pytest.approx(5 / 6)),
                            ("thin_strand", 1, 1.0)]


def test_report_counts_reviews_as_final():
    recs = [record(0, "pass", 25), record(1, "fail", 31, review={"verdict": "pass"}),
            record(2, "error", None), record(3, "fail", 25, ["hole"])]
    rep = lot_report({"id": 1, "name": "L"}, recs, SPEC, None)
    assert (rep.passed, rep.failed, rep.errors) == (2, 1, 1)
    assert rep.pass_rate == pytest.approx(2 / 3)
    assert rep.spec_limits_mm == (22.0, 28.0)
    assert len(rep.opening_means_mm) == 3  # the error has no mesh


def test_iso_sampling_decision_as_the_station_counts_it():
    lot = {"id": 1, "name": "L", "quantity": 5400,
           "sampling": {"mode": "iso2859-1", "level": "II", "aql": 2.5, "seed": 1}}
    s = sampling_of(lot, [])
    assert (s.code, s.sample_size, s.accept, s.reject) == ("L", 200, 10, 11)
    assert s.decision == "pending"
    every = sampling_of({"id": 2, "name": "M", "quantity": 300, "sampling": None}, [])
    assert every.scheme == "all" and every.decision == "each"


def test_charts_are_svg_with_their_marks():
    fmt = Formatter("en")
    svg = pareto_chart([("hole", 3, 0.6), ("stain", 2, 1.0)], {"hole": "Hole"}, "t", fmt)
    assert svg.count('class="bar"') == 2 and svg.startswith("<svg")
    hist = histogram_chart([24.0, 25.0, 26.0], (22.0, 28.0), 35.0, "t", fmt)
    assert hist.count('class="limit"') == 2
    assert 'class="bar out"' not in hist  # every net within the limits: no red bar
    off = histogram_chart([24.0, 25.0, 29.5, 30.0], (22.0, 28.0), 35.0, "t", fmt)
    assert off.count('class="bar out"') >= 1 and f'fill="{FAIL}"' in off
    reds = re.findall(r'class="bar out"[^>]*><title>[^<]*: (\d+)</title>', str(off))
    assert sum(int(n) for n in reds) == 2  # the two nets above 28 mm, and only they
    recs = [record(i, "pass", v) for i, v in enumerate([25.0, 24.0, 26.0, 25.5])]
    ctl = control_chart_svg(control_chart(recs), (22.0, 28.0), "t", fmt)
    assert ctl.count('class="point"') == 4 and "UCL" in ctl
    assert "<script" not in svg + hist + ctl


def test_web_reaches_the_database_only_through_the_store():
    """The web view imports no database, model or MQTT library (the store, the station do)."""
    import ast

    banned = ("sqlalchemy", "alembic", "psycopg", "onnxruntime", "paho", "torch")
    for path in (ROOT / "qcstation" / "web").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(banned), f"{path.name} imports {name}"


@pytest.mark.parametrize("lang,expected", [
    ("id", "Sampel 3 dari 200, tidak sesuai 1 (diterima selama d ≤ 10)"),
    ("en", "Sampled 3 of 200, nonconforming 1 (accept while d ≤ 10)"),
    ("ko", "시료 200개 중 3개 검사, 부적합 1개 (d ≤ 10이면 합격)")])
def test_sampling_progress_line(lang, expected):
    from qcstation.web.pages.common import sampling_line

    s = {"mode": "iso2859-1", "sample_size": 200, "sampled": 3, "nonconforming": 1, "accept": 10}
    assert sampling_line(s, translations(lang).gettext, Formatter(lang)) == expected


def test_session_key_is_made_once_and_kept_private(tmp_path):
    import stat

    from qcstation.web.app import session_secret

    key = session_secret(tmp_path)
    assert len(key) >= 40 and session_secret(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "web-secret").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["web-secret"]


@pytest.mark.parametrize("error,status", [
    ("SpecError", 422), ("StoreFull", 507), ("NotFound", 404), ("Conflict", 409),
    ("StoreError", 400), ("LoginRequired", 401), ("Forbidden", 403), ("TooLarge", 413),
    ("RateLimited", 429), ("Unavailable", 503), ("QCError", 400)])
def test_one_map_from_errors_to_http(error, status):
    from qcstation import errors as core
    from qcstation import store
    from qcstation.web import errors as web
    from qcstation.web.errors import status_of

    cls = getattr(web, error, None) or getattr(store, error, None) or getattr(core, error)
    assert status_of(cls("x")) == status

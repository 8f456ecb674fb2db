"""The lot's inspection certificate for the buyer as a PDF (reportlab), in English or Korean."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .i18n import Formatter, translations
from .reports import LotReport

CERT_LANGS = ("en", "ko")
KOREAN_FONT = "HYSMyeongJo-Medium"  # a CID font every PDF reader has: no font file embedded


@cache
def _font(lang: str) -> str:
    if lang == "ko":
        pdfmetrics.registerFont(UnicodeCIDFont(KOREAN_FONT))
        return KOREAN_FONT
    return "Helvetica"


def certificate_rows(report: LotReport, spec_name: str | None, station: str, lang: str
                     ) -> list[tuple[str, str]]:
    """The certificate's facts as (label, value) in `lang` (also used by the HTML print view)."""
    _ = translations(lang).gettext
    f = Formatter(lang)
    lot, s = report.lot, report.sampling
    rows = [(_("Lot"), str(lot.get("name", ""))), (_("Buyer"), str(lot.get("buyer") or "–")),
            (_("Spec"), spec_name or "–"), (_("Station"), station),
            (_("Lot size"), f.int(lot.get("quantity"))),
            (_("Nets inspected"), f.int(report.inspected)), (_("Passed"), f.int(report.passed)),
            (_("Failed"), f.int(report.failed)), (_("Not judged (error)"), f.int(report.errors)),
            (_("Pass rate"), f.pct(report.pass_rate)),
            (_("Mean opening"), f"{f.num(report.mean_opening_mm, 2)} mm"),
            (_("Standard deviation between nets"), f"{f.num(report.std_opening_mm, 2)} mm")]
    if report.spec_limits_mm:
        lo, hi = report.spec_limits_mm
        rows.append((_("Allowed mean opening"), f"{f.num(lo)}–{f.num(hi)} mm"))
    if s is not None:
        rows += [(_("Sampling plan"), plan_text(s, _, f)),
                 (_("Decision"), decision_text(s.decision, _))]
    return rows


def plan_text(s, _, f) -> str:
    if s.scheme == "all":
        return _("every net inspected")
    return _("ISO 2859-1, level {level}, AQL {aql}: code {code}, n = {n}, Ac = {ac}, "
             "Re = {re}").format(level=s.level or "–", aql=f.num(s.aql, 1), code=s.code or "–",
                                 n=s.sample_size, ac=s.accept, re=s.reject)


def decision_text(decision: str, _) -> str:
    return {"accept": _("lot accepted"), "reject": _("lot rejected"),
            "pending": _("not decided yet: more nets to inspect"),
            "each": _("no lot decision: every net is judged on its own")}[decision]


def certificate_pdf(report: LotReport, spec_name: str | None, station: str, lang: str) -> bytes:
    """A one-page A4 certificate with the lot's facts and signature lines."""
    lang = lang if lang in CERT_LANGS else "en"
    _ = translations(lang).gettext
    font = _font(lang)
    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=24, spaceAfter=4 * mm)
    body = ParagraphStyle("b", fontName=font, fontSize=10, leading=14)
    rows = certificate_rows(report, spec_name, station, lang)
    table = Table([[Paragraph(k, body), Paragraph(v, body)] for k, v in rows],
                  colWidths=[60 * mm, 110 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)]))
    issued = Formatter(lang).dt(datetime.now(UTC))
    signatures = Table([[_("Inspected by"), _("Approved by")],
                        ["\n\n______________________", "\n\n______________________"],
                        [_("Name, date"), _("Name, date")]], colWidths=[85 * mm, 85 * mm])
    signatures.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font)]))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=_("Inspection certificate"),
                            author="qcstation", leftMargin=20 * mm, rightMargin=20 * mm)
    doc.build([Paragraph(_("Inspection certificate"), title),
               Paragraph(_("Issued {date}").format(date=issued), body), Spacer(1, 6 * mm),
               table, Spacer(1, 14 * mm), signatures])
    return buf.getvalue()

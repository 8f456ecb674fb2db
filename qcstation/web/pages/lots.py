"""Lot list, the lot report with its charts, and the certificate's print view."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from ..api.models import LotId
from ..certificate import certificate_rows, decision_text, plan_text
from ..charts import control_chart_svg, histogram_chart, pareto_chart
from ..deps import StoreDep, SupervisorUser
from ..i18n import Formatter, choose_lang, translations
from ..lotdata import load_report
from ..render import defect_names, render

router = APIRouter()


@router.get("/lots")
def lots_page(request: Request, store: StoreDep, who: SupervisorUser):
    return render(request, "lots.html", lots=store.lots())


@router.get("/lots/{lot_id}")
def report_page(request: Request, lot_id: LotId, store: StoreDep, who: SupervisorUser):
    rep, _spec_name = load_report(request.app, store, lot_id)
    lang = choose_lang(request)
    _ = translations(lang).gettext
    fmt = Formatter(lang)
    s = rep.sampling
    return render(
        request, "report.html", rep=rep,
        sampling_text=plan_text(s, _, fmt) if s else "–",
        decision=decision_text(s.decision, _) if s else "–",
        pareto_svg=pareto_chart(rep.pareto, defect_names(_), _("Defects by type"), fmt),
        histogram_svg=histogram_chart(rep.opening_means_mm, rep.spec_limits_mm,
                                      rep.max_opening_mm, _("Mean opening per net"), fmt),
        control_svg=control_chart_svg(rep.chart, rep.spec_limits_mm,
                                      _("Mean opening per net over time"), fmt))


@router.get("/lots/{lot_id}/certificate")
def certificate_page(request: Request, lot_id: LotId, store: StoreDep, who: SupervisorUser,
                     cert: Annotated[Literal["en", "ko"], Query()] = "en"):
    """The certificate as a printable page, in English or Korean."""
    rep, spec_name = load_report(request.app, store, lot_id)
    _ = translations(cert).gettext
    rows = certificate_rows(rep, spec_name, request.app.state.settings.station.id, cert)
    return render(request, "certificate.html", cert_lang=cert, rows=rows,
                  title=_("Inspection certificate"),
                  issued="", print_label=_("Print"),
                  signatures=[_("Inspected by") + " (" + _("Name, date") + ")",
                              _("Approved by") + " (" + _("Name, date") + ")"])

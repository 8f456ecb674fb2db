"""Lots: the list with counts, one lot's report figures, its CSV and its PDF certificate."""

from __future__ import annotations

import dataclasses
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..certificate import certificate_pdf
from ..deps import InspectorUser, StoreDep, SupervisorUser
from ..errors import NotFound
from ..lotdata import load_report
from ..status import as_dict
from .models import LotId, LotList

router = APIRouter(prefix="/api/lots", tags=["lots"])


@router.get("", response_model=LotList)
def list_lots(store: StoreDep, who: InspectorUser) -> dict:
    """Every lot with its counts, newest first."""
    return {"items": [as_dict(s) for s in store.lots()]}


@router.get("/{lot_id}")
def lot_report(request: Request, lot_id: LotId, store: StoreDep, who: SupervisorUser) -> dict:
    """The report's figures: pass rate, Pareto, control chart, sampling decision."""
    rep, _ = load_report(request.app, store, lot_id)
    out = dataclasses.asdict(rep)
    out["decision"] = rep.sampling.decision if rep.sampling else None
    return out


@router.get("/{lot_id}/report.csv", response_class=Response)
def lot_csv(lot_id: LotId, store: StoreDep, who: SupervisorUser) -> Response:
    """One row per net of the lot."""
    if store.lot(lot_id) is None:
        raise NotFound(f"no lot {lot_id}")
    buf = io.StringIO()
    store.write_lot_csv(lot_id, buf)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="lot-{lot_id}.csv"'})


@router.get("/{lot_id}/certificate.pdf", response_class=Response)
def lot_certificate(request: Request, lot_id: LotId, store: StoreDep, who: SupervisorUser,
                    lang: Annotated[Literal["en", "ko"], Query()] = "en") -> Response:
    """The inspection certificate for the buyer (English or Korean)."""
    rep, spec_name = load_report(request.app, store, lot_id)
    pdf = certificate_pdf(rep, spec_name, request.app.state.settings.station.id, lang)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-lot-{lot_id}-{lang}.pdf"'})

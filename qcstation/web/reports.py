"""The lot report: pass rate, defects Pareto, opening sizes, control chart, sampling decision.

Pure: it takes the lot's inspection records (the API's dicts) and returns numbers; the charts
(charts.py) and the certificate (certificate.py) draw them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

IMR_FACTOR = 2.66  # 3 / d2 with d2 = 1.128 for moving ranges of two: individuals-chart limits


@dataclass(frozen=True)
class Sampling:
    """The lot's sampling plan and where it stands: sampled k of n, d nonconforming, Ac, Re."""

    scheme: str  # "all" or "iso2859-1"
    sample_size: int | None
    accept: int | None
    reject: int | None
    sampled: int
    nonconforming: int
    code: str | None = None
    level: str | None = None
    aql: float | None = None

    @property
    def decision(self) -> str:
        """'accept', 'reject', 'pending' (more nets to inspect) or 'each' (every net inspected
        and judged on its own: no lot decision)."""
        if self.scheme == "all":
            return "each"
        if self.reject is not None and self.nonconforming >= self.reject:
            return "reject"
        if self.sample_size is not None and self.sampled >= self.sample_size:
            return "accept" if self.accept is None or self.nonconforming <= self.accept \
                else "reject"
        return "pending"


@dataclass(frozen=True)
class ControlChart:
    """Mean opening per net in time order, with the centre line and control limits (mm)."""

    values_mm: list[float]
    labels: list[str]
    centre_mm: float
    lcl_mm: float
    ucl_mm: float
    out_of_control: list[int]  # indices beyond the limits


@dataclass(frozen=True)
class LotReport:
    lot: dict[str, Any]
    inspected: int
    passed: int
    failed: int
    errors: int
    pass_rate: float | None
    pareto: list[tuple[str, int, float]]  # (defect type, count, cumulative share)
    opening_means_mm: list[float]  # per net, width and height means together
    spec_limits_mm: tuple[float, float] | None  # nominal ± tolerance (mean opening)
    max_opening_mm: float | None
    chart: ControlChart | None
    sampling: Sampling | None
    mean_opening_mm: float | None = None
    std_opening_mm: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def lot_report(lot: dict, records: list[dict], spec: Any | None,
               sampling: Sampling | None) -> LotReport:
    """Everything the report page and the certificate show, from the lot's records."""
    verdicts = Counter(final_verdict(r) for r in records)
    judged = verdicts["pass"] + verdicts["fail"]
    means = _opening_means(records)
    values = np.asarray(means, dtype=float)
    limits = None
    if spec is not None:
        nom, tol = float(np.mean(spec.mesh.opening_mm)), spec.mesh.tolerance_mm
        limits = (nom - tol, nom + tol)
    return LotReport(
        lot=lot, inspected=len(records), passed=verdicts["pass"], failed=verdicts["fail"],
        errors=verdicts["error"], pass_rate=verdicts["pass"] / judged if judged else None,
        pareto=pareto(records), opening_means_mm=means, spec_limits_mm=limits,
        max_opening_mm=spec.mesh.max_opening_mm if spec is not None else None,
        chart=control_chart(records), sampling=sampling,
        mean_opening_mm=float(values.mean()) if values.size else None,
        std_opening_mm=float(values.std(ddof=1)) if values.size > 1 else None)


def final_verdict(record: dict) -> str:
    """The supervisor's verdict when the net was reviewed, else the station's."""
    review = record.get("review") or {}
    return review.get("verdict") or record["verdict"]


def pareto(records: list[dict]) -> list[tuple[str, int, float]]:
    counts = Counter(d["type"] for r in records for d in (r.get("defects") or []))
    total = sum(counts.values())
    rows, running = [], 0
    for kind, n in counts.most_common():
        running += n
        rows.append((kind, n, running / total))
    return rows


def net_mean_opening(record: dict) -> float | None:
    """The mean of the net's mean opening width and height, mm (None when not measured)."""
    mesh = record.get("mesh") or {}
    w = (mesh.get("opening_w_mm") or {}).get("mean")
    h = (mesh.get("opening_h_mm") or {}).get("mean")
    vals = [v for v in (w, h) if v is not None]
    return float(np.mean(vals)) if vals and record.get("verdict") != "error" else None


def _opening_means(records: list[dict]) -> list[float]:
    return [v for r in records if (v := net_mean_opening(r)) is not None]


def control_chart(records: list[dict]) -> ControlChart | None:
    """Individuals chart of each net's mean opening, oldest first; limits from moving ranges."""
    rows = [(r["created_at"], r.get("net_id") or r["id"][:8], net_mean_opening(r))
            for r in records]
    rows = sorted((t, label, v) for t, label, v in rows if v is not None)
    if len(rows) < 2:
        return None
    x = np.array([v for _, _, v in rows])
    centre = float(x.mean())
    mr = float(np.abs(np.diff(x)).mean())
    lcl, ucl = centre - IMR_FACTOR * mr, centre + IMR_FACTOR * mr
    out = [i for i, v in enumerate(x) if v < lcl or v > ucl]
    return ControlChart(values_mm=[float(v) for v in x], labels=[label for _, label, _ in rows],
                        centre_mm=centre, lcl_mm=lcl, ucl_mm=ucl, out_of_control=out)


def histogram(values: list[float], bins: int = 12, lo: float | None = None,
              hi: float | None = None) -> tuple[list[int], list[float]]:
    """Counts and bin edges over [lo, hi] (default: the values' range)."""
    v = np.asarray(values, dtype=float)
    lo = float(v.min()) if lo is None else lo
    hi = float(v.max()) if hi is None else hi
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    return [int(c) for c in counts], [float(e) for e in edges]

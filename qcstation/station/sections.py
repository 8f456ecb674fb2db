"""Multi-frame nets: a long net moved under the camera section by section is one net; its
verdict and mesh statistics combine its sections' inspections. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..domain import Inspection, MeshStats, Stat
from ..judge import defect_reason, judge
from ..spec import Spec


def pool_stats(stats: Sequence[Stat], weights: Sequence[float]) -> Stat:
    """One Stat over several groups of values from each group's mean, std, min, max and
    count (the pooled mean and standard deviation are exact for those counts)."""
    keep = [(s, w) for s, w in zip(stats, weights, strict=True) if w > 0 and s.mean == s.mean]
    if not keep:
        return Stat(float("nan"), float("nan"), float("nan"), float("nan"))
    n = np.array([w for _, w in keep], np.float64)
    m = np.array([s.mean for s, _ in keep])
    sd = np.nan_to_num(np.array([s.std for s, _ in keep]))
    mean = float((n * m).sum() / n.sum())
    var = float((n * (sd**2 + m**2)).sum() / n.sum() - mean**2)
    return Stat(mean, max(var, 0.0) ** 0.5, min(s.min for s, _ in keep),
                max(s.max for s, _ in keep))


def pool_mesh(meshes: Sequence[MeshStats]) -> MeshStats:
    """The mesh statistics of one net from its sections', each weighted by its openings.
    (Strand widths and pitches are weighted by openings too: their own counts are not kept.)"""
    w = [m.openings for m in meshes]

    def wmean(values: list[float]) -> float:
        ok = [(v, k) for v, k in zip(values, w, strict=True) if v == v and k > 0]
        return sum(v * k for v, k in ok) / sum(k for _, k in ok) if ok else float("nan")

    return MeshStats(
        openings=sum(w),
        opening_w_mm=pool_stats([m.opening_w_mm for m in meshes], w),
        opening_h_mm=pool_stats([m.opening_h_mm for m in meshes], w),
        pitch_mm=pool_stats([m.pitch_mm for m in meshes], w),
        strand_width_mm=pool_stats([m.strand_width_mm for m in meshes], w),
        pitch_w_mm=wmean([m.pitch_w_mm for m in meshes]),
        pitch_h_mm=wmean([m.pitch_h_mm for m in meshes]),
    )


def combine_sections(sections: Sequence[Inspection], spec: Spec, net_id: str) -> Inspection:
    """One net's result from its sections: the spec judged on the pooled mesh statistics and
    on every section's defects together (a limit of 2 stains is 2 for the whole net). A
    section that could not be judged makes the net an `error` unless it fails anyway: an
    unjudged part of a net never passes. Defects overlapping two sections count twice."""
    if not sections:
        raise ValueError("a net needs at least one inspected section")
    judged = [(k, s) for k, s in enumerate(sections, 1) if s.verdict != "error" and s.mesh]
    judged_k = {k for k, _ in judged}
    unjudged = [(k, s) for k, s in enumerate(sections, 1) if k not in judged_k]
    timing = {"total": sum(s.timing_ms.get("total", 0.0) for s in sections)}
    model = next((s.model for s in sections if s.model), None)
    base = {"image": net_id, "spec": spec.name, "model": model, "timing_ms": timing}
    gaps = [f"section {k}: {s.error or 'not judged'}" for k, s in unjudged]
    if not judged:
        return Inspection(verdict="error", reasons=tuple(gaps), error=gaps[0], **base)
    mesh = pool_mesh([s.mesh for _, s in judged])
    defects = [d for _, s in judged for d in s.defects]
    where = {defect_reason(d): k for k, s in judged for d in s.defects}
    verdict, reasons = judge(spec, mesh, defects)
    reasons = [f"section {where[r]}: {r}" if r in where else r for r in reasons]
    error = reasons[0] if verdict == "error" else None
    if unjudged and verdict == "pass":
        verdict, error = "error", f"{gaps[0]}; inspect that section again"
    return Inspection(verdict=verdict, reasons=tuple(reasons + gaps), error=error, mesh=mesh,
                      defects=tuple(defects), **base)


@dataclass
class NetSections:
    """The sections of the net on the bench, until the inspector finishes it."""

    net_id: str
    sections: list[Inspection] = field(default_factory=list)

    def add(self, inspection: Inspection) -> None:
        self.sections.append(inspection)

    def finish(self, spec: Spec) -> Inspection:
        return combine_sections(self.sections, spec, self.net_id)

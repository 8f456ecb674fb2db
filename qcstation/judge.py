"""Pass/fail against a buyer spec: every rule checked, each failure a readable reason."""

from __future__ import annotations

from collections.abc import Sequence

from .domain import DEFECT_TYPES, Defect, MeshStats, Verdict
from .spec import Spec


def defect_reason(d: Defect) -> str:
    x, y, w, h = d.bbox_px
    cx, cy = x + w // 2, y + h // 2
    return f"{d.type} at ({cx}, {cy}) px: {d.size_mm[0]:.0f} x {d.size_mm[1]:.0f} mm"


def judge(spec: Spec, mesh: MeshStats, defects: Sequence[Defect]) -> tuple[Verdict, list[str]]:
    """Verdict and reasons for one image's measurements.

    Too few measurable openings is an `error` (the image cannot be judged), never a pass.
    """
    m = spec.mesh
    if mesh.openings < m.min_openings:
        return "error", [
            f"only {mesh.openings} measurable openings in view, the spec needs at least "
            f"{m.min_openings}; lay more of the net under the camera"
        ]
    reasons = _mesh_reasons(spec, mesh) + _defect_reasons(spec, defects)
    return ("fail" if reasons else "pass"), reasons


def _mesh_reasons(spec: Spec, mesh: MeshStats) -> list[str]:
    m = spec.mesh
    nom_w, nom_h = m.opening_mm
    tol = m.tolerance_mm
    if m.quantity == "pitch":
        checks = [("mean pitch across", mesh.pitch_w_mm, nom_w),
                  ("mean pitch along", mesh.pitch_h_mm, nom_h)]
    else:
        checks = [("mean opening width", mesh.opening_w_mm.mean, nom_w),
                  ("mean opening height", mesh.opening_h_mm.mean, nom_h)]
    reasons = [
        f"{what} {value:.1f} mm outside {nominal:.1f} ± {tol:.1f} mm"
        for what, value, nominal in checks
        if not abs(value - nominal) <= tol  # NaN fails too
    ]
    largest = max(mesh.opening_w_mm.max, mesh.opening_h_mm.max)
    if largest > m.max_opening_mm:
        reasons.append(f"largest opening {largest:.1f} mm exceeds {m.max_opening_mm:.1f} mm")
    return reasons


def _defect_reasons(spec: Spec, defects: Sequence[Defect]) -> list[str]:
    limits = spec.defects.max_count
    reasons = []
    for kind in DEFECT_TYPES:
        found = [d for d in defects if d.type == kind]
        limit = getattr(limits, kind)
        if len(found) <= limit:
            continue
        if limit:
            reasons.append(f"{len(found)} {kind} found, at most {limit} allowed")
        reasons.extend(defect_reason(d) for d in found)
    return reasons

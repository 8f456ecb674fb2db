"""The true verdict of a rendered net, by rule code of its own.

`qcstation eval` compares the engine's verdict with this one, so it must not come from the
judge under test (qcstation.judge): written apart, from the spec's words (CONTRACT.md), on the
exact measurements of the rendered geometry and the defects planted in it. Where the two
codes read the spec differently, eval and tests/test_truth_verdict.py show it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from ..domain import Defect, MeshStats
from ..spec import Spec


def truth_verdict(spec: Spec, mesh: MeshStats, defects: Iterable[Defect]) -> tuple[str, list[str]]:
    """('pass' | 'fail' | 'error', broken rules) for a net whose true whole openings measure
    `mesh` and which carries exactly `defects`."""
    rules = spec.mesh
    if mesh.openings < rules.min_openings:  # the image cannot be judged
        return "error", [f"{mesh.openings} whole openings in view; the spec asks for "
                         f"{rules.min_openings}"]
    broken = _mesh_rules(spec, mesh)
    counts = Counter(d.type for d in defects)
    for kind, found in sorted(counts.items()):
        allowed = getattr(spec.defects.max_count, kind)
        if found > allowed:
            broken.append(f"{found} x {kind}, {allowed} allowed")
    return ("fail" if broken else "pass"), broken


def _mesh_rules(spec: Spec, mesh: MeshStats) -> list[str]:
    rules = spec.mesh
    if rules.quantity == "pitch":  # centre-to-centre spacing judged instead of the clear span
        means = {"pitch across": mesh.pitch_w_mm, "pitch along": mesh.pitch_h_mm}
    else:
        means = {"opening across": mesh.opening_w_mm.mean, "opening along": mesh.opening_h_mm.mean}
    broken = []
    for (what, mean), nominal in zip(means.items(), rules.opening_mm, strict=True):
        low, high = nominal - rules.tolerance_mm, nominal + rules.tolerance_mm
        if math.isnan(mean) or mean < low or mean > high:
            broken.append(f"mean {what} {mean:.2f} mm not in [{low:.2f}, {high:.2f}] mm")
    for what, largest in (("across", mesh.opening_w_mm.max), ("along", mesh.opening_h_mm.max)):
        if largest > rules.max_opening_mm:
            broken.append(f"an opening {largest:.2f} mm {what} > {rules.max_opening_mm:.2f} mm")
    if mesh.strand_width_mm.min < rules.min_strand_mm:  # a planted thin strand is also a defect
        broken.append(f"a strand {mesh.strand_width_mm.min:.2f} mm wide < "
                      f"{rules.min_strand_mm:.2f} mm")
    return broken

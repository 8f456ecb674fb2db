"""Words the pages share: verdict words, defect names, the sampling line."""

from __future__ import annotations

from ..render import defect_names, verdict_words

__all__ = ["defect_names", "sampling_line", "verdict_words"]


def sampling_line(s: dict | None, _, fmt) -> str:
    """'Sampled k of n, nonconforming d (accept while d ≤ Ac)' or the every-net line."""
    if not s:
        return ""
    if s.get("sample_size") is None:
        return _("Every net is inspected.")
    return _("Sampled {k} of {n}, nonconforming {d} (accept while d ≤ {ac})").format(
        k=fmt.int(s.get("sampled", 0)), n=fmt.int(s["sample_size"]),
        d=fmt.int(s.get("nonconforming", 0)), ac=s.get("accept"))

"""The lot report's charts as inline SVG drawn on the server (no JavaScript chart library)."""

from __future__ import annotations

from html import escape

import numpy as np
from markupsafe import Markup

from .reports import ControlChart, histogram

W, H = 640, 280
L, R, T, B = 56, 16, 16, 48  # margins: left, right, top, bottom
PASS, FAIL, INK, GRID, LIMIT = "#1b7f3b", "#c0261a", "#222", "#ddd", "#c0261a"


def _svg(body: list[str], title: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
                  + "".join(body) + "</svg>")


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _text(x: float, y: float, s: str, anchor: str = "middle", cls: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}" '
            f'font-size="12" fill="{INK}">{escape(s)}</text>')


def _ticks(lo: float, hi: float, counts: bool) -> list[float]:
    if counts:  # whole numbers only: at most five of them
        step = max(1, int(np.ceil((hi - lo) / 4)))
        return [float(v) for v in range(int(lo), int(hi) + 1, step)]
    return [lo + (hi - lo) * i / 4 for i in range(5)]


def _axes(y_lo: float, y_hi: float, fy, fmt, counts: bool = False) -> list[str]:
    out = [f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="{INK}"/>',
           f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="{INK}"/>']
    for v in _ticks(y_lo, y_hi, counts):
        y = fy(v)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(_text(L - 6, y + 4, fmt(v), "end"))
    return out


def pareto_chart(rows: list[tuple[str, int, float]], names: dict[str, str], title: str,
                 fmt) -> Markup:
    """Bars of defects per type, most frequent first, and the cumulative share as a line."""
    if not rows:
        return _svg([_text(W / 2, H / 2, title)], title)
    top = max(n for _, n, _ in rows)
    fy = _scale(0, top, H - B, T)
    bw = (W - L - R) / len(rows)
    body = _axes(0, top, fy, lambda v: fmt.num(v, 0), counts=True)
    points = []
    for i, (kind, n, cum) in enumerate(rows):
        x = L + i * bw
        body.append(f'<rect class="bar" x="{x + bw * 0.15:.1f}" y="{fy(n):.1f}" '
                    f'width="{bw * 0.7:.1f}" height="{fy(0) - fy(n):.1f}" fill="{FAIL}">'
                    f'<title>{escape(names.get(kind, kind))}: {n}</title></rect>')
        body.append(_text(x + bw / 2, H - B + 16, names.get(kind, kind)))
        points.append(f"{x + bw / 2:.1f},{T + (1 - cum) * (H - B - T):.1f}")
    body.append(f'<polyline fill="none" stroke="{INK}" stroke-width="2" '
                f'points="{" ".join(points)}"/>')
    body.append(_text(W - R, T + 12, "100%", "end"))
    return _svg(body, title)


def histogram_chart(values: list[float], limits: tuple[float, float] | None,
                    max_opening: float | None, title: str, fmt) -> Markup:
    """Nets by mean opening (mm), with the spec's limits as red lines; in each bar the nets
    within the limits are green and those outside red (a bin may straddle a limit)."""
    if not values:
        return _svg([_text(W / 2, H / 2, title)], title)
    lo, hi = min(values), max(values)
    if limits:
        lo, hi = min(lo, limits[0] - 1), max(hi, limits[1] + 1)
    counts, edges = histogram(values, 12, lo, hi)
    outside = [v for v in values if limits and not limits[0] <= v <= limits[1]]
    out_counts = histogram(outside, 12, lo, hi)[0] if outside else [0] * len(counts)
    fx = _scale(lo, hi, L, W - R)
    fy = _scale(0, max(counts), H - B, T)
    body = _axes(0, max(counts), fy, lambda v: fmt.num(v, 0), counts=True)
    for c, c_out, a, b in zip(counts, out_counts, edges[:-1], edges[1:], strict=True):
        for part, base, kind, fill in ((c - c_out, 0, "bar", PASS),
                                       (c_out, c - c_out, "bar out", FAIL)):
            if part or kind == "bar":
                body.append(
                    f'<rect class="{kind}" x="{fx(a) + 1:.1f}" y="{fy(base + part):.1f}" '
                    f'width="{fx(b) - fx(a) - 2:.1f}" height="{fy(base) - fy(base + part):.1f}" '
                    f'fill="{fill}"><title>{fmt.num(a)}–{fmt.num(b)} mm: {part}</title></rect>')
    for e in edges[::3]:
        body.append(_text(fx(e), H - B + 16, fmt.num(e)))
    for v in (limits or ()):
        body.append(f'<line class="limit" x1="{fx(v):.1f}" y1="{T}" x2="{fx(v):.1f}" '
                    f'y2="{H - B}" stroke="{LIMIT}" stroke-width="2" stroke-dasharray="6 4"/>')
        body.append(_text(fx(v), T + 12, fmt.num(v)))
    body.append(_text((L + W - R) / 2, H - 8, "mm"))
    return _svg(body, title)


def control_chart_svg(chart: ControlChart | None, limits: tuple[float, float] | None,
                      title: str, fmt) -> Markup:
    """Each net's mean opening in time order with centre line, UCL and LCL."""
    if chart is None:
        return _svg([_text(W / 2, H / 2, title)], title)
    ys = chart.values_mm + [chart.lcl_mm, chart.ucl_mm] + list(limits or ())
    lo, hi = min(ys) - 0.5, max(ys) + 0.5
    fy = _scale(lo, hi, H - B, T)
    n = len(chart.values_mm)
    fx = _scale(0, max(1, n - 1), L + 10, W - R - 10)
    body = _axes(lo, hi, fy, fmt.num)
    for name, v, dash in (("UCL", chart.ucl_mm, "6 4"), ("CL", chart.centre_mm, ""),
                          ("LCL", chart.lcl_mm, "6 4")):
        body.append(f'<line class="cl" x1="{L}" y1="{fy(v):.1f}" x2="{W - R}" y2="{fy(v):.1f}" '
                    f'stroke="#1f4e9c" stroke-dasharray="{dash}"/>')
        body.append(_text(W - R - 2, fy(v) - 3, f"{name} {fmt.num(v, 2)}", "end"))
    pts = " ".join(f"{fx(i):.1f},{fy(v):.1f}" for i, v in enumerate(chart.values_mm))
    body.append(f'<polyline fill="none" stroke="{INK}" points="{pts}"/>')
    for i, v in enumerate(chart.values_mm):
        colour = FAIL if i in chart.out_of_control else INK
        body.append(f'<circle class="point" cx="{fx(i):.1f}" cy="{fy(v):.1f}" r="3.5" '
                    f'fill="{colour}"><title>{escape(chart.labels[i])}: {fmt.num(v, 2)} mm'
                    f'</title></circle>')
    return _svg(body, title)

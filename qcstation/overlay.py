"""The overlay a person reads at a glance: verdict, reasons, openings coloured, defects boxed.

Drawing is kept apart from measuring: `draw(view, analysis, inspection, spec) -> image`.
"""

from __future__ import annotations

import cv2
import numpy as np

from .domain import Inspection
from .pipeline import Analysis
from .spec import Spec

GREEN, YELLOW, RED, MAGENTA, GREY, WHITE = (
    (60, 180, 60), (0, 200, 230), (40, 40, 220), (200, 60, 200), (128, 128, 128), (255, 255, 255))
VERDICT_COLOUR = {"pass": GREEN, "fail": RED, "error": GREY}
MAX_WIDTH = 1600
FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw(image: np.ndarray, analysis: Analysis | None, inspection: Inspection,
         spec: Spec) -> np.ndarray:
    """Annotated copy: the mesh-aligned bench view when measured, else the input image."""
    if analysis is None:
        canvas = image.copy()
    else:
        canvas = analysis.bench.view.copy()
        _grey_outside(canvas, analysis.bench.valid)
        _colour_openings(canvas, analysis, spec)
        _draw_findings(canvas, analysis)
        _scale_bar(canvas, analysis.px_per_mm)
    scale = min(1.0, MAX_WIDTH / canvas.shape[1])
    if scale < 1.0:
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return _banner(canvas, inspection)


def draw_overlay(image: np.ndarray, inspection: Inspection, analysis: Analysis | None,
                 spec: Spec) -> np.ndarray:
    """`draw` with the arguments in the order the station passes them."""
    return draw(image, analysis, inspection, spec)


def _grey_outside(canvas: np.ndarray, valid: np.ndarray) -> None:
    """Dark grey where the view shows no image (cv2 masks: a tenth of numpy's mask indexing)."""
    canvas[:] = cv2.bitwise_and(canvas, canvas, mask=valid)  # black outside ...
    cv2.add(canvas, (40, 40, 40, 0), dst=canvas, mask=cv2.bitwise_not(valid))  # ... then grey


def _colour_openings(canvas: np.ndarray, a: Analysis, spec: Spec) -> None:
    """Fill openings by their deviation from nominal: within half the tolerance green,
    within tolerance yellow, beyond red; merged openings (holes, broken strands) magenta;
    openings left unmeasured (covered by foreign matter or a tuft, fragments) unfilled."""
    op, s = a.openings, a.px_per_mm
    nom_w, nom_h = spec.mesh.opening_mm
    dev = np.maximum(np.abs(op.span_w / s - nom_w), np.abs(op.span_h / s - nom_h))
    tol = spec.mesh.tolerance_mm
    cls = np.where(dev <= tol / 2, 0, np.where(dev <= tol, 1, 2))
    cls[~a.regular] = 4  # not measured: left as seen
    merged = [m for f in a.findings if f.type in ("hole", "broken_strand") for m in f.members]
    cls[merged] = 3
    layer = canvas.copy()
    for k, colour in enumerate((GREEN, YELLOW, RED, MAGENTA)):
        group = [op.contours[i] for i in np.flatnonzero(cls == k)]
        if group:
            cv2.drawContours(layer, group, -1, colour, thickness=cv2.FILLED)
    cv2.addWeighted(layer, 0.45, canvas, 0.55, 0, dst=canvas)


def _draw_findings(canvas: np.ndarray, a: Analysis) -> None:
    t = max(2, canvas.shape[1] // 600)
    for f in a.findings:
        x, y, w, h = (int(round(v)) for v in f.box)
        pad = int(2 * a.px_per_mm)
        cv2.rectangle(canvas, (x - pad, y - pad), (x + w + pad, y + h + pad), RED, t)
        label = f"{f.type} {f.size_px[0] / a.px_per_mm:.0f}x{f.size_px[1] / a.px_per_mm:.0f}mm"
        _label(canvas, label, (x - pad, max(20, y - pad - 6)), 0.4 * t, RED, max(1, t // 2))


def _scale_bar(canvas: np.ndarray, px_per_mm: float) -> None:
    length = int(round(100 * px_per_mm))
    h = canvas.shape[0]
    t = max(2, canvas.shape[1] // 500)
    cv2.line(canvas, (20, h - 30), (20 + length, h - 30), WHITE, t + 2)
    cv2.line(canvas, (20, h - 30), (20 + length, h - 30), (0, 0, 0), t)
    _label(canvas, "100 mm", (20, h - 40), 0.4 * t, WHITE, max(1, t // 2))


def _banner(canvas: np.ndarray, insp: Inspection) -> np.ndarray:
    """A dark band above the image: the verdict, big, and every reason below it."""
    w = canvas.shape[1]
    big = w / 700
    small = big * 0.35
    reasons = list(insp.reasons[:8])
    if len(insp.reasons) > 8:
        reasons.append(f"... and {len(insp.reasons) - 8} more")
    line_h = int(34 * small) + 8
    band = np.full((int(60 * big) + line_h * len(reasons) + 12, w, 3), 25, np.uint8)
    _text(band, insp.verdict.upper(), (12, int(48 * big)), 1.6 * big,
          VERDICT_COLOUR[insp.verdict], max(2, int(4 * big)))
    info = f"{insp.image}  spec {insp.spec}"
    if insp.mesh is not None:
        info += (f"  opening {insp.mesh.opening_w_mm.mean:.1f} x {insp.mesh.opening_h_mm.mean:.1f}"
                 f" mm  ({insp.mesh.openings} openings)")
    _text(band, info, (int(200 * big), int(40 * big)), small, WHITE, max(1, int(2 * small)))
    for i, r in enumerate(reasons):
        _text(band, r, (12, int(60 * big) + line_h * (i + 1) - 4), small, WHITE,
              max(1, int(2 * small)))
    return np.vstack([band, canvas])


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour, thick: int):
    cv2.putText(img, ascii_text(text), org, FONT, scale, colour, thick, cv2.LINE_AA)


# the engine's own symbols, spelt the way an inspector reads them rather than as escapes
SPELT = str.maketrans({"±": "+/-", "×": "x", "°": " deg", "–": "-", "—": "-", "≥": ">=",
                       "≤": "<="})


def ascii_text(text: str) -> str:
    """What the Hershey fonts can draw: the engine's symbols spelt out (SPELT), other characters
    (a file name's Korean, an undecodable byte kept as a surrogate) written as escapes, so that
    cv2.putText never meets them."""
    return text.translate(SPELT).encode("ascii", "backslashreplace").decode("ascii")


def _label(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour, thick: int):
    """Text on a dark box, readable over any background."""
    text = ascii_text(text)
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
    x, y = org
    cv2.rectangle(img, (x, y - th - 4), (x + tw + 4, y + base), (20, 20, 20), cv2.FILLED)
    cv2.putText(img, text, (x + 2, y - 2), FONT, scale, colour, thick, cv2.LINE_AA)

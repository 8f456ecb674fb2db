"""The judge's reasons (English sentences) in plain words of the page's language."""

from __future__ import annotations

import re
from collections.abc import Callable

Gettext = Callable[[str], str]

_DEFECT = re.compile(r"^(\w+) at \((\d+), (\d+)\) px: (\d+) x (\d+) mm$")
_COUNT = re.compile(r"^(\d+) (\w+) found, at most (\d+) allowed$")
_MEAN = re.compile(r"^mean (opening width|opening height|pitch across|pitch along) "
                   r"([\d.]+|nan) mm outside ([\d.]+) ± ([\d.]+) mm$")
_LARGEST = re.compile(r"^largest opening ([\d.]+) mm exceeds ([\d.]+) mm$")
_FEW = re.compile(r"^only (\d+) measurable openings in view, the spec needs at least (\d+)")
# image errors: a key phrase of the pipeline's sentence -> plain words
_IMAGE_ERRORS = (
    ("under-exposed", "The picture is too dark: add light."),
    ("over-exposed", "The picture is too bright: reduce the light."),
    ("blank", "The picture is empty: put a net under the camera."),
    ("out of focus", "The picture is blurred: check the camera focus."),
    ("no net in view", "No net is seen: put a net under the camera."),
    ("not told apart", "The net cannot be told apart from the bench: check the light."),
    ("calibration", "The picture does not match the camera calibration: call the supervisor."),
)


def defect_name(kind: str, _: Gettext) -> str:
    names = {"hole": _("hole"), "broken_strand": _("broken strand"),
             "irregular_mesh": _("irregular mesh"), "thin_strand": _("thin strand"),
             "foreign_matter": _("foreign matter"), "stain": _("stain"),
             "loose_fibres": _("loose fibres")}
    return names.get(kind, kind.replace("_", " "))


def plain_reason(text: str, _: Gettext, fmt) -> str:
    """One reason in plain words; a sentence not recognised is shown as it is."""
    if m := _DEFECT.match(text):
        return _("{defect} of {w} × {h} mm").format(
            defect=defect_name(m[1], _).capitalize(), w=m[4], h=m[5])
    if m := _COUNT.match(text):
        return _("{n} × {defect} found; at most {limit} allowed").format(
            n=m[1], defect=defect_name(m[2], _), limit=m[3])
    if m := _MEAN.match(text):
        return _mean_reason(m, _, fmt)
    if m := _LARGEST.match(text):
        return _("Largest opening {value} mm is larger than {limit} mm").format(
            value=fmt.num(float(m[1])), limit=fmt.num(float(m[2])))
    if m := _FEW.match(text):
        return _("Too little net in view ({n} openings, {need} needed): lay more net under "
                 "the camera.").format(n=m[1], need=m[2])
    for key, words in _IMAGE_ERRORS:
        if key in text:
            return _(words)
    return text


def _mean_reason(m: re.Match, _: Gettext, fmt) -> str:
    what = {"opening width": _("Mean opening width"), "opening height": _("Mean opening height"),
            "pitch across": _("Mean pitch across"), "pitch along": _("Mean pitch along")}[m[1]]
    nominal, tol = float(m[3]), float(m[4])
    value = float(m[2])
    return _("{what} {value} mm is outside {low}–{high} mm").format(
        what=what, value=fmt.num(value), low=fmt.num(nominal - tol), high=fmt.num(nominal + tol))


def plain_reasons(record: dict, _: Gettext, fmt) -> list[str]:
    texts = list(record.get("reasons") or [])
    if not texts and record.get("error"):
        texts = [record["error"]]
    return [plain_reason(t, _, fmt) for t in texts]

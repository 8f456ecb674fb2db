"""One synthetic net photo with its exact ground truth and label map (pure: no disk I/O)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from ..domain import Defect, MeshStats, Stat
from ..spec import Spec
from . import foreign, hairs, phone
from .bench import Bench, draw_bench
from .camera import Camera
from .defects import STRUCTURAL, Planted, plant_structural
from .families import Style, draw_style, get_family
from .net import Net, build_net, crossings, draw_params
from .scene import Canvas, Sensor, expose, radiance
from .strands import render_knots, render_strands
from .texture import draw_look
from .truth import (
    clear_corners,
    inside_image,
    measure_openings,
    merged_openings,
    mesh_stats,
    region_truth,
    removed_segments,
    segment_truth,
    segment_widths,
)
from .verdict import truth_verdict
from .view import View, view_border

logger = logging.getLogger(__name__)

MIX = {"clean": 0.35, "structural": 0.35, "appearance": 0.20, "both": 0.05, "unusable": 0.05}
UNUSABLE = ("overexposed", "underexposed", "blank", "out_of_focus")
APPEARANCE = {"string": 0.22, "plastic": 0.14, "leaf": 0.09, "stain": 0.28, "loose_fibres": 0.27}
LABELS = {
    0: "background or opening (stray hairs too)",
    1: "yarn",
    2: "foreign_matter",
    3: "stain",
    4: "loose_fibres",
}
_CODE = {"foreign_matter": 2, "stain": 3, "loose_fibres": 4}
_MIN_VISIBLE_PX = 20


@dataclass(frozen=True)
class Plan:
    """What goes into one image."""

    mix: str
    structural: tuple[str, ...] = ()
    appearance: tuple[str, ...] = ()  # keys of APPEARANCE
    unusable: str | None = None


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # uint8 BGR (H, W, 3), before JPEG
    truth: dict  # ground truth JSON (without "image" and "seed", which the writer adds)
    labels: np.ndarray  # uint8 (H, W), codes of LABELS
    jpeg_quality: int
    net: Net  # the geometry as rendered, defects included (for checks)


def draw_plan(
    rng: np.random.Generator, backlit: bool = False, mix: str | None = None, extra_stains: int = 0
) -> Plan:
    """Clean, structural, appearance, both or unusable, with 1-2 defects of each drawn kind.

    `mix` (a key of MIX) forces the kind of image, e.g. "appearance" for training sets rich in
    appearance defects; the draw of the mix is made (and ignored) all the same, so the rest of
    the image comes from the same random numbers as unforced. `extra_stains` more stains (the
    same `foreign.stain`) on every photo that is not backlit and not unusable, for training."""
    drawn = str(rng.choice(list(MIX), p=list(MIX.values())))
    if mix is not None and mix not in MIX:
        raise ValueError(f"unknown mix {mix!r}; one of {', '.join(MIX)}")
    mix = mix or drawn
    if mix == "unusable":
        return Plan(mix, unusable=str(rng.choice(UNUSABLE)))
    structural = appearance = ()
    if mix in ("structural", "both"):
        structural = tuple(str(k) for k in rng.choice(STRUCTURAL, int(rng.integers(1, 3))))
    if mix in ("appearance", "both"):
        kinds = {k: p for k, p in APPEARANCE.items() if not (backlit and k == "stain")}
        p = np.array(list(kinds.values()))
        appearance = tuple(
            str(k) for k in rng.choice(list(kinds), int(rng.integers(1, 3)), p=p / p.sum())
        )
    if extra_stains > 0 and not backlit:
        appearance = (*appearance, *("stain",) * extra_stains)
    return Plan(mix, structural, appearance)


def render_sample(
    camera: Camera,
    rng: np.random.Generator,
    spec: Spec,
    bench: str | None = None,
    plan: Plan | None = None,
    mix: str | None = None,
    extra_stains: int = 0,
    family: str = "classic",
    style: Style | None = None,
) -> Sample:
    """Render one net photo; everything random comes from `rng` (`mix`, `extra_stains`: see
    draw_plan). `family` names the appearance family (families.FAMILIES) the look is drawn
    from; `classic` draws exactly what the renderer always drew. `style` replaces the drawn
    look of a family other than classic (for checks that change one thing)."""
    fam = get_family(family)
    kind = bench or str(rng.choice(fam.benches))
    setup = draw_bench(rng, kind)
    plan = plan or draw_plan(rng, setup.backlit, mix, extra_stains)
    params = draw_params(rng, spec)
    drawn = draw_style(rng, fam)
    style = style if style is not None and drawn is not None else drawn
    if style is not None:
        params = style.net_params(params, spec)
    net = build_net(params, rng, view_border(*camera.pixel_to_plane()))
    view = View.of(camera, net)
    cross = crossings(net)
    inside = inside_image(view.to_px(clear_corners(net, *cross)), camera.size)
    planted = plant_structural(rng, net, cross, inside, list(plan.structural))
    cross = crossings(net)
    mesh, structural = _geometry_truth(net, view, cross, planted)
    canvas = Canvas(camera.size)
    marks = []
    if plan.unusable == "blank":  # the bench with no net on it
        mesh = MeshStats(0, *(Stat.of(np.zeros(0)),) * 4)
    else:
        marks = _paint(rng, canvas, view, setup, cross, plan, style)
    cam = style.phone if style is not None else None
    image, sensor = _shoot(rng, canvas, setup, camera.px_per_mm(), plan.unusable, cam)
    labels, appearance = _labels(canvas, view, marks)
    defects = [] if plan.unusable else structural + appearance
    if plan.unusable:
        verdict, reasons = "error", [f"unusable image: {plan.unusable}"]
    else:
        verdict, reasons = truth_verdict(spec, mesh, defects)
    truth = {
        "family": fam.name, "bench": kind, "unusable": plan.unusable, "spec": spec.name,
        "verdict": verdict, "reasons": reasons, "mesh": mesh.to_json(),
        "defects": [_defect_json(d) for d in defects],
        "net": _net_json(net), "px_per_mm": round(camera.px_per_mm(), 4),
        "render": {"mix": plan.mix, **sensor.to_json(), "backlit": setup.backlit},
    }  # fmt: skip
    if style is not None:
        truth["render"]["style"] = {"surface": setup.material, **style.to_json()}
    return Sample(image, truth, labels, sensor.jpeg_quality, net)


def _shoot(
    rng: np.random.Generator,
    canvas: Canvas,
    setup: Bench,
    px_per_mm: float,
    unusable: str | None,
    cam: phone.PhoneLook | None,
) -> tuple[np.ndarray, Sensor]:
    """Light the scene and take the photo: the station camera, or a phone (`cam`)."""
    sensor = Sensor.draw(rng)
    light = radiance(canvas, setup, rng, px_per_mm)
    if cam is not None:
        sensor = replace(sensor, jpeg_quality=cam.jpeg_quality)
        light = phone.on_light(light, cam, setup.backlit)
    sensor = _unusable(rng, sensor, light, unusable)
    if cam is None:
        return expose(light, sensor, rng), sensor
    noise = (sensor.read_dn, sensor.shot)
    return phone.develop(light * sensor.exposure, cam, sensor.defocus_px, noise, rng), sensor


def _geometry_truth(
    net: Net, view: View, cross: tuple[np.ndarray, np.ndarray], planted: list[Planted]
) -> tuple[MeshStats, list[Defect]]:
    op = measure_openings(net, cross)
    size = view.size
    inside = inside_image(view.to_px(op.corners), size)
    rv, rh = removed_segments(net, *cross)
    counted = inside & ~merged_openings(rv, rh)
    wv, wh = segment_widths(net, *cross)
    mesh = mesh_stats(op, counted, wv, wh, rv, rh)
    defects = []
    for p in planted:
        if p.segment is not None:
            box, mm = segment_truth(net, cross, p.segment, view.to_px, size)
            detail = f"{mm[1]:.1f} mm wide"
        else:
            box, mm = region_truth(net, op.corners, p.openings, view.to_px, size)
            detail = p.kind if p.type == "irregular_mesh" else f"{len(p.openings)} openings merged"
        defects.append(Defect(p.type, box, mm, 1.0, detail))
    return mesh, defects


def _paint(
    rng: np.random.Generator,
    canvas: Canvas,
    view: View,
    bench: Bench,
    cross: tuple[np.ndarray, np.ndarray],
    plan: Plan,
    style: Style | None = None,
) -> list[foreign.Mark]:
    """Strands, knots, stains, hairs, tufts and foreign matter, in that order (bottom to top)."""
    net = view.net
    look = draw_look(
        rng,
        bench,
        net.params.yarn_mm,
        net.params.angle_deg,
        {a: (net.strands(a).count, net.strands(a).t0, net.strands(a).t_end) for a in ("v", "h")},
        style.yarn if style else None,
        style.hair if style else None,
    )
    render_strands(canvas, view, look, cross)
    render_knots(canvas, view, look, cross, rng, style.yarn.knot_scale if style else 1.0)
    marks = [foreign.stain(rng, canvas, view, look) for k in plan.appearance if k == "stain"]
    lo = np.array([view.u.min(), view.v.min()])
    hi = np.array([view.u.max(), view.v.max()])
    density = float(rng.uniform(0.35, 0.8)) * (style.hair.density if style else 1.0)
    layers = [
        hairs.strand_hairs(rng, net, lo, hi, density, bench.backlit),
        hairs.fray_hairs(rng, net, bench.backlit),
    ]
    if style is not None and style.hair.long_per_mm > 0:
        h = style.hair
        layers.append(hairs.long_fibres(rng, net, lo, hi, h.long_per_mm, h.long_max_mm,
                                        bench.backlit))  # fmt: skip
    fibres = hairs.Strokes.concat(layers)
    canvas.overlay(*hairs.draw(view, fibres, look.base))
    for k in plan.appearance:
        if k == "loose_fibres":
            premult, alpha = hairs.draw(view, foreign.tuft(rng, view, bench.backlit), look.base)
            canvas.overlay(premult, alpha)
            marks.append(_full_mark("loose_fibres", alpha, 0.3))
    painters = {"string": foreign.string, "plastic": foreign.plastic, "leaf": foreign.leaf}
    marks += [painters[k](rng, canvas, view, bench) for k in plan.appearance if k in painters]
    return [m for m in marks if m is not None]


def _full_mark(kind: str, alpha: np.ndarray, threshold: float) -> foreign.Mark | None:
    ys, xs = np.nonzero(alpha >= threshold)
    if len(xs) == 0:
        return None
    box = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
    return foreign.Mark(
        kind, "tuft", box, alpha[box[0] : box[1], box[2] : box[3]].copy(), threshold
    )


def _unusable(
    rng: np.random.Generator, sensor: Sensor, light: np.ndarray, kind: str | None
) -> Sensor:
    """Spoil the exposure or focus of an unusable shot."""
    if kind == "overexposed":  # most of the frame clips at 255
        level = float(np.percentile(light.mean(axis=-1), 25))
        return replace(sensor, exposure=255 * rng.uniform(1.3, 2.0) / max(level, 1e-3))
    if kind == "underexposed":
        level = float(np.percentile(light.max(axis=-1), 99))
        return replace(sensor, exposure=rng.uniform(6, 20) / max(level, 1e-3))
    if kind == "out_of_focus":
        return replace(sensor, defocus_px=float(rng.uniform(6, 10)))
    return sensor


def _labels(
    canvas: Canvas, view: View, marks: list[foreign.Mark]
) -> tuple[np.ndarray, list[Defect]]:
    """Label map (yarn body, then each appearance defect in paint order) and their truth."""
    labels = (canvas.body >= 0.5).astype(np.uint8)
    kept = [m for m in marks if int((m.vis >= m.threshold).sum()) >= _MIN_VISIBLE_PX]
    for m in kept:
        y0, y1, x0, x1 = m.box
        labels[y0:y1, x0:x1][m.vis >= m.threshold] = _CODE[m.type]
    defects = []
    for m in kept:
        y0, y1, x0, x1 = m.box
        own = (m.vis >= m.threshold) & (labels[y0:y1, x0:x1] == _CODE[m.type])
        ys, xs = np.nonzero(own)
        if len(xs) == 0:
            continue
        u, v = view.u[y0:y1, x0:x1][own], view.v[y0:y1, x0:x1][own]
        box = (x0 + int(xs.min()), y0 + int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
        size = (float(np.ptp(u)), float(np.ptp(v)))
        defects.append(Defect(m.type, box, size, 1.0, m.kind))
    return labels, defects


def _defect_json(d: Defect) -> dict:
    return {
        "type": d.type,
        "bbox_px": [int(v) for v in d.bbox_px],
        "size_mm": [round(float(v), 2) for v in d.size_mm],
        "kind": d.detail,
    }


def _net_json(net: Net) -> dict:
    p = net.params
    return {
        "opening_mm": [round(v, 3) for v in p.opening_mm],
        "yarn_mm": round(p.yarn_mm, 3),
        "angle_deg": round(p.angle_deg, 3),
        "crossing": p.crossing,
        "pitch_mm": [round(v, 3) for v in p.pitch_mm],
    }

"""Where the strand edge lies in the image, against the ground truth's yarn-body edge.

An analysis tool for the fuzz bias (docs/geometry.md, "Fuzz on the strand edges"). For every
regular opening it averages the flattened yarn score (BenchView.flat) over the central half of
the opening's rows (columns for heights), which turns single fuzz fibres into a coverage ramp,
and reads three candidate edges off that profile on each side:

  mask   the station's edge: where the band's clear share crosses one half;
  steep  the steepest drop of the averaged score within REACH_MM of the mask's edge
         (parabolic sub-pixel peak);
  knee   the body-side shoulder: the most negative second difference within 2 px inside.

`edges DIR` (a set rendered with `--masks`): per photo, the median position of each candidate
relative to the truth's body edge (the same band average of the label map's yarn body),
px of the bench view, + = into the opening.
`bias DIR...`: per family and bench set-up, the mean-opening error (measured - truth, mm, both
axes) of the mask's spans and of the spans moved to the steepest drop.
`profile-fit DIR...` (sets rendered with `--masks`, one family each, one of them classic): can
the profile's shape tell the body edge? A ridge regression from the averaged score around the
mask's edge (PROFILE_PX samples) to the truth's body edge, fitted with one fuzzy family and the
even-numbered classic photos held out; the held-out photos' mean-opening error before and after.
`causes FAMILY...`: one clean net per bench set-up of each family (seed 5311), rendered four
times: as drawn, without edge fuzz, without strand hairs (and long fibres), without both;
the mean-opening error of the whole inspection (no defect model) for each.

    qcstation synth --out /tmp/m1 --n 16 --seed 5302 --family dark-hairy --masks --mix clean
    python benchmarks/fuzz_edges.py edges /tmp/m1
    python benchmarks/fuzz_edges.py bias /work/sets/rule/dark-hairy /work/sets/old/s7
    python benchmarks/fuzz_edges.py causes dark-hairy golden-ply
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from qcstation import segment, structural
from qcstation.calibration import calibrate_images
from qcstation.calibration_io import load_calibration
from qcstation.errors import ImageError
from qcstation.imageio import read_image
from qcstation.pipeline import Inspector
from qcstation.spec import load_spec

REACH_MM = 1.2  # the steepest drop is looked for this far either side of the mask's edge
BAND = (0.25, 0.75)  # the central half of an opening's rows, as mesh.find_openings uses


def photos(d: Path, labels: bool):
    """(truth, bench view, openings, regular, label map turned like the view or None) per
    measurable photo of folder `d`, inspected without the defect model (which only hides
    openings under its boxes)."""
    spec = load_spec(json.loads((d / "dataset.json").read_text())["spec_path"])
    cal = (load_calibration(d / "calibration.json") if (d / "calibration.json").exists() else
           calibrate_images([read_image(b) for b in sorted((d / "calib").glob("*.png"))],
                            (9, 6), 25.0, None))
    insp = Inspector(spec, cal, threads=1)
    for path in sorted(d.glob("[0-9][0-9][0-9][0-9].jpg")):
        truth = json.loads(path.with_suffix(".json").read_text())
        if truth["verdict"] == "error" or not truth.get("mesh"):
            continue
        try:
            bv = insp.bench_view(read_image(path))
            op = bv.openings()
            m = structural.measure(op, bv.px_per_mm, spec.mesh.min_strand_mm, None, bv.flat,
                                   bv.textured)
        except ImageError:
            continue
        lab = None
        if labels:
            raw = cv2.imread(str(d / "masks" / f"{path.stem}.png"), cv2.IMREAD_GRAYSCALE)
            rect = cv2.remap(raw, insp.rect.map1, insp.rect.map2, cv2.INTER_NEAREST)
            lab = cv2.warpAffine(rect, bv.to_mesh, bv.valid.shape[::-1], flags=cv2.INTER_NEAREST)
        yield path.name, truth, bv, op, m.regular, lab


def band_profiles(img: np.ndarray, op, reg: np.ndarray, transpose: bool, pad: int):
    """Band-averaged profiles of `img` across each regular opening (rows of the result), from
    `pad` px before its box to `pad` px after; with the columns' integral along the band."""
    img = np.ascontiguousarray(img.T if transpose else img).astype(np.float32)
    x0, y0, bw, bh = ((op.y0, op.x0, op.bh, op.bw) if transpose else
                      (op.x0, op.y0, op.bw, op.bh))
    keep = reg & (x0 - pad >= 0) & (x0 + bw + pad <= img.shape[1])
    col = np.zeros((img.shape[0] + 1, img.shape[1]), np.float64)
    np.cumsum(img, axis=0, out=col[1:])
    lo = np.ceil(y0 + BAND[0] * bh).astype(np.int64)[keep]
    hi = np.maximum(np.ceil(y0 + BAND[1] * bh).astype(np.int64)[keep], lo + 1)
    width = int((bw[keep] + 2 * pad).max()) if keep.any() else 0
    xs = np.minimum((x0[keep] - pad)[:, None] + np.arange(width), img.shape[1] - 1)
    prof = (col[hi[:, None], xs] - col[lo[:, None], xs]) / (hi - lo)[:, None]
    ends = bw[keep] + 2 * pad  # each row's own length
    return prof, ends


def first_below(p: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per row: the first sub-pixel position where `p` falls below `level` (nan if never)."""
    below = p < level[:, None]
    i = np.argmax(below, axis=1)
    ok = below.any(axis=1) & (i > 0)
    i = np.maximum(i, 1)
    r = np.arange(len(p))
    a, b = p[r, i - 1], p[r, i]
    return np.where(ok, i - 1 + (a - level) / np.where(a != b, a - b, 1), np.nan)


def sides(prof: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Both edges of every profile as profiles that fall into the opening: left as is, right
    reversed (each within its own length)."""
    r = np.arange(prof.shape[1])
    rev = np.take_along_axis(prof, np.clip(ends[:, None] - 1 - r, 0, prof.shape[1] - 1), 1)
    return np.concatenate([prof, rev])


def steepest(flat: np.ndarray, mask_edge: np.ndarray, s: float) -> np.ndarray:
    """Sub-pixel position of the steepest drop of each profile near its mask edge."""
    k = int(np.ceil(REACH_MM * s))
    base = np.round(np.nan_to_num(mask_edge)).astype(np.int64)
    idx = np.clip(base[:, None] + np.arange(-k - 1, k + 2), 0, flat.shape[1] - 1)
    p = np.take_along_axis(flat, idx, 1)
    drop = p[:, :-1] - p[:, 1:]  # between idx j and j + 1
    j = np.argmax(drop[:, 1:-1], axis=1) + 1
    r = np.arange(len(j))
    a, b, c = drop[r, j - 1], drop[r, j], drop[r, j + 1]
    den = a - 2 * b + c
    frac = np.clip(np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1), 0), -.5, .5)
    return idx[r, j] + 0.5 + frac


def knee(flat: np.ndarray, mask_edge: np.ndarray) -> np.ndarray:
    """The body-side shoulder: the most negative second difference 0-2 px inside the mask."""
    base = np.round(np.nan_to_num(mask_edge)).astype(np.int64)
    idx = np.clip(base[:, None] + np.arange(-4, 2), 1, flat.shape[1] - 2)
    d2 = (np.take_along_axis(flat, idx - 1, 1) - 2 * np.take_along_axis(flat, idx, 1)
          + np.take_along_axis(flat, idx + 1, 1))
    j = np.clip(np.argmin(d2[:, 1:-1], axis=1) + 1, 1, 4)
    r = np.arange(len(j))
    a, b, c = d2[r, j - 1], d2[r, j], d2[r, j + 1]
    den = a - 2 * b + c
    frac = np.clip(np.where(den > 0, 0.5 * (a - c) / np.where(den > 0, den, 1), 0), -.5, .5)
    return idx[r, j] + frac


def edge_profiles(bv, op, reg, lab: np.ndarray, transpose: bool, pad: int):
    """Both edges of every regular opening along one axis: the score's profiles falling into
    the opening, the mask's edge and the truth's body edge on each (first_below one half)."""
    f = sides(*band_profiles(bv.flat, op, reg, transpose, pad))
    c = sides(*band_profiles(1 - bv.open_mask, op, reg, transpose, pad))
    b = sides(*band_profiles((lab == 1).astype(np.uint8), op, reg, transpose, pad))
    half = np.full(len(f), 0.5)
    return f, first_below(c, half), first_below(b, half)


def edges(d: Path) -> None:
    print("photo bench fuzz/mm reach_mm edges | mask steep knee - truth (median px)")
    for name, truth, bv, op, reg, lab in photos(d, labels=True):
        s, pad = bv.px_per_mm, int(np.ceil(REACH_MM * bv.px_per_mm)) + 3
        rows = []
        for tr in (False, True):
            f, mask, body = edge_profiles(bv, op, reg, lab, tr, pad)
            rows.append(np.stack([mask, steepest(f, mask, s), knee(f, mask)]) - body)
        off = np.concatenate(rows, axis=1)
        style = truth["render"].get("style") or {}
        print(name, truth["bench"], style.get("fuzz_per_mm"), style.get("fuzz_mm"),
              off.shape[1], "|", " ".join(f"{v:+.2f}" for v in np.nanmedian(off, axis=1)))


def bias(dirs: list[Path]) -> None:
    groups = defaultdict(list)
    for d in dirs:
        for _, truth, bv, op, reg, _ in photos(d, labels=False):
            s, pad = bv.px_per_mm, int(np.ceil(REACH_MM * bv.px_per_mm)) + 3
            errs = []
            for tr, axis in ((False, "opening_w_mm"), (True, "opening_h_mm")):
                prof, ends = band_profiles(bv.flat, op, reg, tr, pad)
                cprof, _ = band_profiles(1 - bv.open_mask, op, reg, tr, pad)
                f, c = sides(prof, ends), sides(cprof, ends)
                mask = first_below(c, np.full(len(c), 0.5))
                shift = np.nan_to_num(steepest(f, mask, s) - mask)
                n = len(prof)
                spans = (op.span_h if tr else op.span_w)[reg & _kept(op, tr, pad, bv.flat)]
                moved = spans - shift[:n] - shift[n:]
                t = truth["mesh"][axis]["mean"]
                errs.append((spans.mean() / s - t, moved.mean() / s - t))
            style = truth["render"].get("style") or {}
            for key in (style.get("family", d.name), truth["bench"]):
                groups[key].extend(errs)
    print("group photos | mask: MAE bias | steepest drop: MAE bias (mm)")
    for key, errs in groups.items():
        e = np.array(errs)
        print(f"{key} {len(e) // 2} | {np.abs(e[:, 0]).mean():.3f} {e[:, 0].mean():+.3f} | "
              f"{np.abs(e[:, 1]).mean():.3f} {e[:, 1].mean():+.3f}")


def _kept(op, transpose: bool, pad: int, img: np.ndarray) -> np.ndarray:
    x0, bw = (op.y0, op.bh) if transpose else (op.x0, op.bw)
    size = img.shape[0] if transpose else img.shape[1]
    return (x0 - pad >= 0) & (x0 + bw + pad <= size)


PROFILE_PX = np.arange(-9, 8)  # profile samples around the mask's edge, bench-view px


def edge_rows(d: Path):
    """(photo, px_per_mm, profile samples, truth body edge - mask edge px) per edge of `d`."""
    for name, _, bv, op, reg, lab in photos(d, labels=True):
        for tr in (False, True):
            f, mask, body = edge_profiles(bv, op, reg, lab, tr, 12)
            ok = np.isfinite(mask) & np.isfinite(body) & (np.abs(body - mask) < 8)
            pos = mask[ok, None] + PROFILE_PX
            i0 = np.clip(np.floor(pos).astype(int), 0, f.shape[1] - 2)
            frac = np.clip(pos - i0, 0, 1)
            r = np.arange(len(f))[ok, None]
            x = ((f[r, i0] * (1 - frac) + f[r, i0 + 1] * frac - segment.FLAT_BENCH)
                 / (segment.FLAT_YARN - segment.FLAT_BENCH))  # 0 bench, 1 yarn
            yield from ((f"{d.name}/{name}", bv.px_per_mm, xi, ti)
                        for xi, ti in zip(x, (body - mask)[ok], strict=True))


def profile_fit(dirs: list[Path]) -> None:
    rows = [(d.name, *row) for d in dirs for row in edge_rows(d)]
    group = np.array([r[0] for r in rows])
    photo = np.array([r[1] for r in rows])
    scale = np.array([r[2] for r in rows])
    x = np.hstack([np.stack([r[3] for r in rows]), np.ones((len(rows), 1))])
    t = np.array([r[4] for r in rows])
    even = np.array([int(p[-8:-4]) % 2 == 0 for p in photo])

    def opening_errors(sel, off):  # per photo: mean opening error, mm (two edges)
        return np.array([2 * np.mean(off[photo[sel] == p] / scale[sel][photo[sel] == p])
                         for p in dict.fromkeys(photo[sel])])

    print("held out | photos | today MAE bias | fitted MAE bias (mm)")
    for out in sorted(set(group) - {"classic"}):
        test = (group == out) | ((group == "classic") & even)
        w = np.zeros(len(t))  # every training group weighs the same
        for g in set(group[~test]):
            w[(group == g) & ~test] = 1.0 / ((group == g) & ~test).sum()
        a = x[~test] * w[~test, None]
        beta = np.linalg.solve(a.T @ x[~test] + np.diag([1.0] * (x.shape[1] - 1) + [0.0]),
                               a.T @ t[~test])
        for name, sel in ((out, group == out), ("classic even", (group == "classic") & even)):
            before, after = opening_errors(sel, t[sel]), opening_errors(sel, t[sel] - x[sel] @ beta)
            print(f"{name} (with {out} out) | {len(before)} | {np.abs(before).mean():.3f} "
                  f"{before.mean():+.3f} | {np.abs(after).mean():.3f} {after.mean():+.3f}")


def causes(families: list[str]) -> None:
    from dataclasses import replace

    from qcstation.synth.dataset import camera_for
    from qcstation.synth.families import draw_style, get_family
    from qcstation.synth.render import Plan, render_sample

    spec = load_spec(Path(__file__).resolve().parents[1] / "specs" / "kr-coirnet-25.toml")
    camera = camera_for(5311, (1600, 1200), (3.2, 4.8))
    insp = Inspector(spec, camera.calibration(), threads=1)
    print("family bench fuzz/mm hair | as drawn, no fuzz, no hairs, neither (mm)")
    for i, name in enumerate(families):
        fam = get_family(name)
        for j, bench in enumerate(dict.fromkeys(fam.benches)):
            style = draw_style(np.random.default_rng([5311, i, j]), fam)
            if style is None:  # classic draws no style: its hairs are not a setting
                print(name, "has no drawn style (classic); left out")
                break
            h = style.hair
            errs = []
            for fuzz, hair in ((True, True), (False, True), (True, False), (False, False)):
                s = replace(style, hair=replace(
                    h, fuzz_per_mm=h.fuzz_per_mm if fuzz else 0.0,
                    density=h.density if hair else 0.0, long_per_mm=h.long_per_mm if hair else 0.0))
                sample = render_sample(camera, np.random.default_rng([5311, i, j]), spec,
                                       bench=bench, plan=Plan("clean"), family=name, style=s)
                r, _ = insp.inspect(sample.image, "net")
                t = sample.truth["mesh"]
                axes = ("opening_w_mm", "opening_h_mm")
                errs.append(np.nan if r.mesh is None else 0.5 * sum(
                    getattr(r.mesh, a).mean - t[a]["mean"] for a in axes))
            print(name, bench, round(h.fuzz_per_mm, 1), round(h.density, 2), "|",
                  " ".join(f"{e:+.2f}" for e in errs), flush=True)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("edges", "bias", "profile-fit", "causes"))
    p.add_argument("args", nargs="+", help="folders (edges, bias) or family names (causes)")
    a = p.parse_args(argv)
    if a.what == "edges":
        for d in a.args:
            edges(Path(d))
    elif a.what == "bias":
        bias([Path(d) for d in a.args])
    elif a.what == "profile-fit":
        profile_fit([Path(d) for d in a.args])
    else:
        causes(a.args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

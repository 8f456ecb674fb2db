"""The label map's clear span along the middle of each counted opening against the truth
tables' edge-to-edge span: a second method for the truth of a rendered net."""

from __future__ import annotations

import numpy as np

from qcstation.synth.net import crossings
from qcstation.synth.truth import inside_image, measure_openings
from qcstation.synth.view import View


def label_span_errors(camera, sample) -> np.ndarray:
    """Per counted opening, the label map's clear span minus the truth's span (mm); openings
    whose middle line leaves the image (thick yarn at the border) are skipped."""
    net = sample.net
    view = View.of(camera, net)
    op = measure_openings(net, crossings(net))
    inside = inside_image(view.to_px(op.corners), camera.size)
    errors = []
    for i, j in zip(*np.nonzero(inside), strict=True):
        y = op.corners[i, j, :, 1].mean()
        xs = np.linspace(net.v.centre_at(j, y), net.v.centre_at(j + 1, y), 1500)
        px = np.round(view.to_px(np.column_stack([xs, np.full_like(xs, y)]))).astype(int)
        if px.min() < 0 or (px >= camera.size).any():
            continue
        free = np.flatnonzero(sample.labels[px[:, 1], px[:, 0]] == 0)
        left = net.v.centre_at(j, y) + net.v.half_at(j, y)
        right = net.v.centre_at(j + 1, y) - net.v.half_at(j + 1, y)
        errors.append(xs[free[-1]] - xs[free[0]] - (right - left))
    return np.array(errors)

"""What happens on a simulated bench, second by second: nets laid down by hand, left still,
sometimes touched or moved, taken away; and the hands drawn over the picture. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

EDGES = ("left", "right", "bottom")


@dataclass(frozen=True)
class Segment:
    """A stretch of time on the bench. `scene` is what lies there: -1 the empty bench, else
    the index of a placed net's picture; `rest` numbers each placed net position (None: no
    net). A hand segment moves a hand in (`reach_in`) or out along `edge`; the scene under
    it changes at the hand's furthest reach, between its in and out segments."""

    duration_s: float
    phase: str  # "empty", "still" (a net at rest), "hand"
    scene: int
    rest: int | None
    edge: str | None = None
    reach_in: bool = True
    shift_px: tuple[int, int] = (0, 0)  # a moved net lies shifted by this
    hand_seed: int = 0  # the same arm goes in and out


def script(rng: np.random.Generator, nets: int, cycles: int | None,
           move_p: float = 0.2, touch_p: float = 0.3) -> Iterator[Segment]:
    """Cycle after cycle: empty bench; a hand lays net k; it lies still; perhaps a hand
    touches it (not moved) or moves it; a hand takes it away."""
    rest = 0
    k = 0
    while cycles is None or k < cycles:
        net = k % nets
        yield Segment(float(rng.uniform(1.0, 2.0)), "empty", -1, None)
        yield from _hand(rng, -1, None, net, rest)
        yield Segment(float(rng.uniform(2.2, 3.0)), "still", net, rest)
        if rng.random() < touch_p:
            yield from _hand(rng, net, rest, net, rest)
            yield Segment(float(rng.uniform(1.0, 2.0)), "still", net, rest)
        if rng.random() < move_p:
            shift = (int(rng.choice([-1, 1]) * rng.integers(30, 80)),
                     int(rng.choice([-1, 1]) * rng.integers(30, 80)))
            yield from _hand(rng, net, rest, net, rest + 1, shift)
            rest += 1
            yield Segment(float(rng.uniform(2.2, 3.0)), "still", net, rest, shift_px=shift)
        yield from _hand(rng, net, rest, -1, None)
        rest += 1
        k += 1


def _hand(rng, scene_in: int, rest_in: int | None, scene_out: int, rest_out: int | None,
          shift: tuple[int, int] = (0, 0)) -> Iterator[Segment]:
    edge = str(rng.choice(EDGES))
    seed = int(rng.integers(1 << 30))
    yield Segment(float(rng.uniform(0.5, 0.9)), "hand", scene_in, rest_in, edge, True,
                  hand_seed=seed)
    yield Segment(float(rng.uniform(0.5, 0.9)), "hand", scene_out, rest_out, edge, False,
                  shift, seed)


def draw_hand(image: np.ndarray, edge: str, reach: float, seed: int) -> None:
    """A sleeved arm and hand reaching in from `edge`, `reach` in [0, 1] of the way to the
    middle of the picture (0: out of view), drawn in place."""
    h, w = image.shape[:2]
    rng = np.random.default_rng(seed)
    unit = min(w, h)
    across = float(rng.uniform(0.3, 0.7))
    start = {"left": (-0.3 * unit, across * h), "right": (w + 0.3 * unit, across * h),
             "bottom": (across * w, h + 0.3 * unit)}[edge]
    goal = np.array([w / 2, h / 2]) + rng.uniform(-0.15, 0.15, 2) * unit
    palm = np.array(start) + reach * (goal - np.array(start))
    direction = (palm - start) / max(1e-6, np.linalg.norm(palm - start))
    arm_w = int(0.11 * unit)
    sleeve_end = palm - direction * 0.35 * unit
    skin = (int(rng.integers(95, 130)), int(rng.integers(130, 160)), int(rng.integers(175, 215)))
    _thick_line(image, start, sleeve_end, arm_w + 6, (110, 60, 40))
    _thick_line(image, sleeve_end, palm, arm_w, skin)
    cv2.circle(image, _pt(palm), int(0.08 * unit), skin, -1, cv2.LINE_AA)
    side = np.array([-direction[1], direction[0]])
    for i in range(4):
        base = palm + direction * 0.05 * unit + side * (i - 1.5) * 0.035 * unit
        _thick_line(image, base, base + direction * 0.09 * unit, int(0.025 * unit) + 1, skin)


def _pt(p) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def _thick_line(image, a, b, width: int, colour) -> None:
    cv2.line(image, _pt(a), _pt(b), colour, max(1, width), cv2.LINE_AA)


def shifted(net: np.ndarray, empty: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """The net's picture moved by (dx, dy) px over the bench; the bared strip is bench."""
    dx, dy = shift
    out = empty.copy()
    h, w = net.shape[:2]
    src = net[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out

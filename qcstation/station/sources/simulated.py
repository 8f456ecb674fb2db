"""A simulated camera over a bench: the renderer's nets laid down one after another by hand,
left still, sometimes touched or moved, taken away (`qcstation demo`, tests, benchmarks)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import cv2
import numpy as np

from ...domain import Calibration, Frame
from ...resources import shipped
from ...spec import load_spec
from .bench_script import Segment, draw_hand, script, shifted

logger = logging.getLogger(__name__)

VIEW_MM = 400.0  # the bench width the camera sees (the demo's 3.2-4.8 px/mm at 1600 px)
NOISE_FRAMES = 3
DEFAULT_SPEC = "specs/kr-coirnet-25.toml"


@dataclass(frozen=True)
class Shot:
    """The truth of one simulated frame: what lay on the bench and whether a hand was there."""

    index: int
    t_s: float  # simulated seconds since the camera opened
    phase: str  # "empty", "still", "hand"
    rest: int | None  # the net position at rest (None: no net on the bench)
    net: int | None  # which of the pictures (None: the empty bench)


@dataclass(frozen=True)
class Pictures:
    nets: tuple[np.ndarray, ...]
    empty: np.ndarray
    calibration: Calibration
    verdicts: tuple[str, ...]  # the renderer's ground truth of each net


@lru_cache(maxsize=4)
def prerender(size: tuple[int, int], seed: int, count: int, bench: str) -> Pictures:
    """A handful of net pictures and the empty bench through one simulated camera (once;
    every frame after is composed from these)."""
    from ...synth.dataset import camera_for  # the renderer only where a camera is simulated
    from ...synth.render import Plan, render_sample

    t0 = time.perf_counter()
    scale = size[0] / VIEW_MM
    camera = camera_for(seed, size, (0.8 * scale, 1.2 * scale))
    spec = load_spec(shipped(DEFAULT_SPEC))
    mixes = ("clean", "structural", "appearance", "clean", "both", "structural")
    nets = [render_sample(camera, np.random.default_rng([seed, i]), spec, bench=bench,
                          mix=mixes[i % len(mixes)]) for i in range(count)]
    empty = render_sample(camera, np.random.default_rng([seed, 999]), spec, bench=bench,
                          plan=Plan("unusable", unusable="blank")).image
    logger.info("simulated camera: %d nets rendered at %dx%d in %.1f s", count, *size,
                time.perf_counter() - t0)
    return Pictures(tuple(n.image for n in nets), empty, camera.calibration(),
                    tuple(n.truth["verdict"] for n in nets))


class SimulatedCamera:
    """A FrameSource of composed frames at `fps`. `realtime=False` gives frames as fast as
    they are read, their times `1/fps` apart (benchmarks); `cycles` nets, then "ended"."""

    def __init__(self, width: int = 1600, height: int = 1200, fps: float = 10.0, seed: int = 3,
                 cycles: int | None = None, distinct_nets: int = 4, bench: str = "light_table",
                 realtime: bool = True, noise: float = 2.0):
        self.name = "simulated"
        self.size, self.fps, self.seed = (int(width), int(height)), float(fps), seed
        self.cycles, self.distinct, self.bench = cycles, distinct_nets, bench
        self.realtime, self.noise = realtime, noise
        self.last_shot: Shot | None = None
        self._state, self._message = "connecting", None
        self._pictures: Pictures | None = None

    @property
    def state(self) -> str:
        return self._state

    @property
    def message(self) -> str | None:
        return self._message

    def calibration(self) -> Calibration:
        """The simulated camera's exact calibration (what a chessboard would give)."""
        return self._render().calibration

    def open(self) -> None:
        pics = self._render()
        rng = np.random.default_rng([self.seed, 77])
        self._segments: Iterator[Segment] = script(rng, len(pics.nets), self.cycles)
        self._segment = next(self._segments)
        self._seg_start = 0.0
        self._index = 0
        self._noise = _noise_frames(pics.empty.shape, self.noise, self.seed)
        self._moved: dict[tuple[int, tuple[int, int]], np.ndarray] = {}
        self._t0_wall = time.monotonic()
        self._t0 = datetime.now(UTC)
        self._state, self._message = "ok", None

    def close(self) -> None:
        self._state = "ended"

    def done(self, frame: Frame) -> None:
        """Nothing to keep: simulated frames are not delivered again anyway."""

    def read(self, timeout_s: float) -> Frame | None:
        if self._state != "ok":
            return None
        t = self._index / self.fps
        if self.realtime:
            wait = self._t0_wall + t - time.monotonic()
            if wait > timeout_s:
                time.sleep(max(0.0, timeout_s))
                return None
            time.sleep(max(0.0, wait))
        if not self._advance(t):
            self._state, self._message = "ended", f"the simulation laid its {self.cycles} nets"
            return None
        pixels = self._compose(t)
        self._index += 1
        return Frame(pixels=pixels, captured_at=self._t0 + timedelta(seconds=t),
                     source=self.name)

    def _render(self) -> Pictures:
        if self._pictures is None:
            self._pictures = prerender(self.size, self.seed, self.distinct, self.bench)
        return self._pictures

    def _advance(self, t: float) -> bool:
        """Move to the segment that holds time t; False when the script has ended."""
        while t >= self._seg_start + self._segment.duration_s:
            self._seg_start += self._segment.duration_s
            try:
                self._segment = next(self._segments)
            except StopIteration:
                return False
        return True

    def _compose(self, t: float) -> np.ndarray:
        seg, pics = self._segment, self._pictures
        base = pics.empty if seg.scene < 0 else self._net_picture(seg.scene, seg.shift_px)
        frame = base.copy()
        if seg.phase == "hand":
            x = (t - self._seg_start) / seg.duration_s
            reach = 0.5 - 0.5 * math.cos(math.pi * (x if seg.reach_in else 1.0 - x))
            draw_hand(frame, seg.edge, reach, seg.hand_seed)
        pos, neg = self._noise[self._index % NOISE_FRAMES]
        cv2.add(frame, pos, dst=frame)
        cv2.subtract(frame, neg, dst=frame)
        self.last_shot = Shot(self._index, t, seg.phase, seg.rest,
                              None if seg.scene < 0 else seg.scene)
        return frame

    def _net_picture(self, k: int, shift: tuple[int, int]) -> np.ndarray:
        if shift == (0, 0):
            return self._pictures.nets[k]
        key = (k, shift)
        if key not in self._moved:
            self._moved = {key: shifted(self._pictures.nets[k], self._pictures.empty, shift)}
        return self._moved[key]


def _noise_frames(shape: tuple[int, ...], sigma: float, seed: int):
    """Sensor noise to add to each frame, as (add, subtract) uint8 pairs made once."""
    rng = np.random.default_rng([seed, 5])
    out = []
    for _ in range(NOISE_FRAMES):
        n = np.rint(rng.normal(0, sigma, shape)).astype(np.int16)
        out.append((np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)))
    return out

"""The whole station on the simulated camera: live-view frame rate at 1080p while inspections
run, auto-trigger time per frame, one inspection per placed net, and resident memory over a
long run.

    PYTHONPATH=. python benchmarks/bench_station.py [--live-s 30] [--nets 500]
        [--long-size 800x600] [--no-model]

Part 1 (live view): a 1920x1080 simulated camera at 25 fps, real time, nets laid by hand and
inspected by the station; a client asks for the live JPEG every 5 ms and counts new ones.
Part 2 (long run): `--nets` nets on small frames, the simulated time running as fast as the
station inspects (the camera waits while a net is being inspected), stored in SQLite in a
temporary folder; resident memory sampled as it goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from qcstation.calibration_io import save_calibration
from qcstation.station.components import Components, build_inspector
from qcstation.station.runner import Station
from qcstation.station.settings import StationSettings
from qcstation.station.sources.simulated import SimulatedCamera
from qcstation.station.trigger import AutoTrigger
from qcstation.store import Store

SPEC = Path(__file__).parents[1] / "specs/kr-coirnet-25.toml"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Paced:
    """The simulated camera, holding back its next frame while the station is inspecting,
    so that a faster-than-real-time run still shows every net to the trigger."""

    def __init__(self, camera: SimulatedCamera) -> None:
        self.camera, self.station = camera, None
        self.name = camera.name
        self.rest_of: dict[str, int | None] = {}  # frame id -> net position at rest (truth)

    @property
    def state(self) -> str:
        return self.camera.state

    def open(self) -> None:
        self.camera.open()

    def close(self) -> None:
        self.camera.close()

    def read(self, timeout_s: float):
        while self.station is not None and self.station._jobs.unfinished_tasks:
            time.sleep(0.002)
        frame = self.camera.read(timeout_s)
        shot = self.camera.last_shot
        if frame is not None and shot.phase == "still":
            self.rest_of[frame.id] = shot.rest
        return frame


def make_station(data: Path, camera, size: tuple[int, int], use_model: bool,
                 settle_s: float = 1.0) -> tuple[Station, Store]:
    cal_path = data / "calibration.json"
    save_calibration(camera.calibration(), cal_path)  # the simulated camera's exact one
    settings = StationSettings.model_validate({
        "station": {"id": "bench", "data_dir": str(data)},
        "source": {"type": "simulated", "width": size[0], "height": size[1]},
        "trigger": {"mode": "auto", "settle_s": settle_s},
        "inspection": {"spec": str(SPEC), "calibration": str(cal_path), "threads": 1},
        "lot": {"name": "BENCH"},
    })
    spec, inspector = build_inspector(settings, use_model)
    store = Store.open(settings.storage_url, data)
    parts = Components(spec, "0" * 64, "sim", inspector, camera, AutoTrigger(settle_s), None)
    return Station(settings, store, parts), store


def live_view(seconds: float, use_model: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        camera = SimulatedCamera(1920, 1080, fps=25.0, seed=3, realtime=True)
        camera.calibration()  # pre-render before the clock starts
        station, store = make_station(Path(tmp), camera, (1920, 1080), use_model)
        station.start()
        time.sleep(2.0)
        seen, last, encode_ms = 0, None, []
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            t0 = time.perf_counter()
            jpeg = station.preview_jpeg()
            if jpeg is not None and jpeg is not last:
                encode_ms.append((time.perf_counter() - t0) * 1000)
                seen, last = seen + 1, jpeg
            time.sleep(0.005)
        inspected = station.status().inspected
        trig = sorted(station.trigger_ms)
        cpu = sorted(station.trigger_cpu_ms)
        station.stop()
        store.close()
    return {"fps": seen / seconds, "encode_ms": statistics.median(encode_ms),
            "trigger_cpu_median_ms": statistics.median(cpu),
            "trigger_cpu_p99_ms": cpu[int(0.99 * (len(cpu) - 1))],
            "inspected": inspected, "trigger_median_ms": statistics.median(trig),
            "trigger_p99_ms": trig[int(0.99 * (len(trig) - 1))]}


def long_run(nets: int, size: tuple[int, int], use_model: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sim = SimulatedCamera(*size, fps=10.0, seed=5, cycles=nets, realtime=False)
        camera = Paced(sim)
        camera.calibration = sim.calibration
        station, store = make_station(Path(tmp), camera, size, use_model)
        camera.station = station
        station.start()
        t0, samples = time.monotonic(), [(0, rss_mb())]
        while sim.state != "ended" or not station.idle(0.1):
            done = station.status().inspected
            if done >= samples[-1][0] + 50:
                samples.append((done, rss_mb()))
                print(f"  {done} inspections, RSS {samples[-1][1]:.0f} MB", flush=True)
            time.sleep(0.01)
        samples.append((station.status().inspected, rss_mb()))
        verdicts = station.status().lot
        trig = sorted(station.trigger_ms)
        station.stop()
        fired = Counter(camera.rest_of.get(r.frame_id, -1)
                        for r in store.lot_records(station.current_lot))
        store.close()
    rests = {r for r in camera.rest_of.values() if r is not None}
    counts = [fired[r] for r in rests]
    return {"seconds": time.monotonic() - t0, "placed": len(rests), "samples": samples,
            "once": counts.count(1), "missed": counts.count(0),
            "doubled": sum(c > 1 for c in counts), "false": fired[-1],
            "inspected": samples[-1][0], "lot": verdicts,
            "trigger_median_ms": statistics.median(trig),
            "trigger_p99_ms": trig[int(0.99 * (len(trig) - 1))]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--live-s", type=float, default=30.0, help="seconds of live view (part 1)")
    p.add_argument("--nets", type=int, default=500, help="nets of the long run (part 2)")
    p.add_argument("--long-size", default="800x600", help="frame size of the long run, WxH")
    p.add_argument("--no-model", action="store_true", help="geometry only (no defect model)")
    p.add_argument("--skip-live", action="store_true")
    a = p.parse_args(argv)
    use_model = not a.no_model
    print(f"start RSS {rss_mb():.0f} MB; model: {use_model}", flush=True)
    if not a.skip_live:
        r = live_view(a.live_s, use_model)
        print(f"live view 1920x1080 @25 fps for {a.live_s:.0f} s: {r['fps']:.1f} new JPEGs/s "
              f"(encode {r['encode_ms']:.1f} ms median), {r['inspected']} inspections meanwhile; "
              f"trigger per 1080p frame: wall {r['trigger_median_ms']:.2f} ms median, "
              f"{r['trigger_p99_ms']:.2f} ms p99; CPU {r['trigger_cpu_median_ms']:.2f} ms median, "
              f"{r['trigger_cpu_p99_ms']:.2f} ms p99", flush=True)
    if a.nets:
        size = tuple(int(v) for v in a.long_size.split("x"))
        r = long_run(a.nets, size, use_model)
        peak = max(m for _, m in r["samples"])
        lot = r["lot"]
        print(f"long run {a.nets} nets at {a.long_size}: {r['seconds']:.0f} s, placed "
              f"{r['placed']} net positions: inspected once {r['once']}, missed {r['missed']}, "
              f"doubled {r['doubled']}, false {r['false']}; {r['inspected']} inspections (pass "
              f"{lot['passed']}, fail {lot['failed']}, error {lot['errors']}); RSS start "
              f"{r['samples'][0][1]:.0f} MB, after 50 {r['samples'][1][1]:.0f} MB, end "
              f"{r['samples'][-1][1]:.0f} MB, peak {peak:.0f} MB; trigger "
              f"{r['trigger_median_ms']:.2f} ms median, {r['trigger_p99_ms']:.2f} ms p99",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

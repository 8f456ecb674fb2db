"""Prometheus metrics of one station, in its own registry (served at /metrics by the web app)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: N811 (re-exported)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CAMERA_STATES = ("connecting", "ok", "lost", "frozen", "ended")
__all__ = ["CONTENT_TYPE", "StationMetrics"]


class StationMetrics:
    """The station's counters and gauges; `exposition()` gives the text format for /metrics."""

    def __init__(self, station: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"station": station}
        self.inspections = Counter(
            "qcstation_inspections", "Inspections stored, by verdict", ["station", "verdict"],
            registry=self.registry)
        self.seconds = Histogram(
            "qcstation_inspection_seconds", "Time to inspect one frame", ["station"],
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
            registry=self.registry).labels(**labels)
        self.camera = Gauge(
            "qcstation_camera_state", "1 for the camera's current state", ["station", "state"],
            registry=self.registry)
        self.queue = Gauge("qcstation_queue_length", "Frames waiting for inspection",
                           ["station"], registry=self.registry).labels(**labels)
        self.errors = Counter("qcstation_station_errors", "Errors of the station (not verdicts)",
                              ["station", "kind"], registry=self.registry)
        self.stopped = Gauge("qcstation_inspections_stopped",
                             "1 while new inspections are stopped (disk full)", ["station"],
                             registry=self.registry).labels(**labels)
        self.station = station
        for v in ("pass", "fail", "error"):
            self.inspections.labels(station=station, verdict=v)
        self.set_camera("connecting")

    def inspected(self, verdict: str, seconds: float) -> None:
        self.inspections.labels(station=self.station, verdict=verdict).inc()
        self.seconds.observe(seconds)

    def set_camera(self, state: str) -> None:
        for s in CAMERA_STATES:
            self.camera.labels(station=self.station, state=s).set(1.0 if s == state else 0.0)

    def error(self, kind: str) -> None:
        self.errors.labels(station=self.station, kind=kind).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


_current: StationMetrics | None = None


def set_current(metrics: StationMetrics) -> None:
    """The station whose metrics `asgi_app()` serves (one station per process)."""
    global _current
    _current = metrics


def exposition() -> bytes:
    """The current station's metrics in the Prometheus text format (empty before one starts)."""
    return _current.exposition() if _current is not None else b""


def asgi_app():
    """An ASGI app serving `exposition()`; the web app mounts it at /metrics."""

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = exposition()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app

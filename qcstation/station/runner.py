"""The station: capture loop -> trigger -> inspection worker -> store -> outputs, in two threads."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from ..domain import Frame, Inspection
from ..outputs import metrics as metrics_mod
from ..spec import Spec
from ..store import Store, StoreError, StoreFull
from .capture import CaptureLoop
from .components import Components, build_components
from .lots import LotTracker, SwitchingState
from .preview import Preview, encode_jpeg
from .sections import NetSections
from .settings import FolderSource, StationSettings
from .specfiles import restore

logger = logging.getLogger(__name__)
QUEUE_FRAMES = 8
RETRY_FULL_S = 10.0
THIN_EVERY_S = 3600.0
HALTED = ("disk full", "storage error")  # new inspections stopped until mended


@dataclass(frozen=True)
class StationStatus:
    """What the station says about itself (GET /api/status, the bench page, MQTT status)."""

    station: str
    state: str  # "starting", "running", "disk full", "storage error", "stopped"
    message: str | None
    camera: str
    trigger: str
    source: str
    net_id: str | None  # the net on the bench: typed/scanned, or the next drawn number
    lot: dict | None
    queue: int
    inspected: int  # since start
    last_inspection_id: str | None
    last_verdict: str | None
    mqtt: str | None  # "connected", "away", None without MQTT
    running: bool = True


class Station:
    """One bench. `start()`/`stop()` from the web app's lifespan; thread-safe otherwise."""

    def __init__(self, settings: StationSettings, store: Store,
                 components: Components | None = None) -> None:
        self.settings, self.store = settings, store
        self.id = settings.station.id
        c = components or build_components(settings)
        self.spec, self.inspector, self.source, self.auto = c.spec, c.inspector, c.source, c.auto
        self.spec_sha256, self.calibration_id, self.publisher = c.spec_sha256, c.calibration_id, \
            c.publisher
        self.metrics = metrics_mod.StationMetrics(self.id)
        metrics_mod.set_current(self.metrics)
        self.preview = Preview(settings.web.preview_width)
        self._folder = isinstance(settings.source, FolderSource)
        self._jobs: queue.Queue[Frame] = queue.Queue(QUEUE_FRAMES)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._spec_lock = threading.Lock()  # one spec change at a time (store, then memory)
        self._latest: Frame | None = None
        self._held: NetSections | None = None
        self._subscribers: list[queue.Queue] = []
        self._state, self._message = "starting", None
        self._full_pending: tuple | None = None  # (frame, inspection, jpegs) kept while full
        self._inspected, self._last_id, self._last_verdict = 0, None, None
        # the auto trigger's time per frame (benchmark): wall clock, and this thread's CPU
        self.trigger_ms: list[float] = []
        self.trigger_cpu_ms: list[float] = []
        self._stored_files: set[tuple[str, str]] = set()  # hot-folder files of this lot
        self.retry_full_s = RETRY_FULL_S
        self._thinned_at = -THIN_EVERY_S  # first pass soon after the start
        self._encoder = ThreadPoolExecutor(1, thread_name_prefix="encode")
        self._capture = CaptureLoop(
            self.source, self._on_frame, self.metrics.set_camera,
            paused=lambda: self._folder and self._state in HALTED)  # files wait for room
        self._switching = SwitchingState(settings.station.data_dir / "sampling-state.json")
        self.lot = self._open_lot()

    # --- lots and nets ---
    def _open_lot(self) -> LotTracker:
        ls = self.settings.lot
        name = ls.name or f"{self.id}-{datetime.now(UTC):%Y-%m-%d}"
        sampling = None
        if ls.sampling == "iso2859-1":
            severity = self._switching.begin(ls.level, ls.aql)
            sampling = {"mode": "iso2859-1", "level": ls.level, "aql": ls.aql, "seed": ls.seed,
                        "severity": severity}
        lot = self.store.open_lot(name, ls.quantity, ls.buyer, self.spec.name, sampling,
                                  station=self.id)
        tracker = LotTracker(lot.id, lot.name, lot.quantity, lot.sampling, self._switching)
        restored = restore(self.store, lot.id, lot.spec_name, self.settings.station.data_dir)
        if restored is not None and restored[1] != self.spec_sha256:  # an admin's choice
            logger.info("lot %s is judged against %s, as an admin chose", lot.name,
                        restored[0].name)
            self.spec, self.spec_sha256 = restored
            self.inspector = self.inspector.with_spec(self.spec)
        for r in self.store.lot_records(lot.id):  # a restart: the lot's counts so far
            tracker.count(r.net_id, r.verdict)
            if r.source_name:
                self._stored_files.add(_file_key(r.source_name, r.captured_at))
        return tracker

    @property
    def current_lot(self) -> int:
        return self.lot.lot_id

    def set_net_id(self, net_id: str) -> None:
        """The net on the bench (typed or scanned): the next inspections belong to it until
        `finish_net()` or another ID; without one, each inspection is the lot's next net."""
        net_id = net_id.strip()
        if not net_id:
            raise StoreError("a net id must not be blank")
        with self._lock:
            self._held = NetSections(net_id)

    def finish_net(self) -> dict | None:
        """Ends the held net: the spec judged on its sections together (pooled mesh
        statistics, every section's defects; an unjudged section never passes). Published on
        MQTT as `.../net`; None when no section was inspected."""
        with self._lock:
            held, self._held = self._held, None
        if held is None or not held.sections:
            return None
        net = held.finish(self.current_spec()[0])
        result = {"net": held.net_id, "lot": self.lot.name, "verdict": net.verdict,
                  "reasons": list(net.reasons), "sections": len(held.sections),
                  "mesh": net.mesh.to_json() if net.mesh else None,
                  "time": datetime.now(UTC).isoformat()}
        if self.publisher is not None:
            self.publisher.publish_net(result)
        return result

    def set_spec(self, spec: Spec, sha256: str, *, by: str, file: str | None = None) -> dict:
        """Judges the next inspections against `spec` (its file's sha256): the current lot
        keeps its name and the change is audited (who, when, before, after). An inspection
        already under way finishes, and is stored, with the spec it started with."""
        with self._spec_lock:
            with self._lock:
                old_spec, old_sha = self.spec, self.spec_sha256
            before, after = {"sha256": old_sha}, {"sha256": sha256, "file": file}
            self.store.set_lot_spec(self.lot.lot_id, spec.name, by=by, before=before,
                                    after=after)  # refused (StoreError): nothing changes
            inspector = self.inspector.with_spec(spec)  # shares the prebuilt bench view
            with self._lock:
                self.spec, self.spec_sha256, self.inspector = spec, sha256, inspector
        logger.info("%s set the spec of lot %s: %s -> %s", by, self.lot.name, old_spec.name,
                    spec.name)
        return {"lot": self.lot.name, "before": {"spec": old_spec.name, "sha256": old_sha},
                "after": {"spec": spec.name, "sha256": sha256}}

    def current_spec(self) -> tuple[Spec, str]:
        """The spec the next inspection is judged against, and its file's sha256."""
        with self._lock:
            return self.spec, self.spec_sha256

    # --- life cycle ---
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        if self.publisher is not None:
            self.publisher.start()
        self._capture.start()
        self._threads = [threading.Thread(target=self._work_loop, name="inspect", daemon=True)]
        self._threads[0].start()
        self._set_state("running", None)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._capture.stop(timeout_s)
        for t in self._threads:
            t.join(timeout_s)
        self._threads = []
        if self.publisher is not None:
            self.publisher.stop()
        self._state = "stopped"

    def idle(self, timeout_s: float = 60.0) -> bool:
        """Waits until no frame is queued or being inspected (tests, benchmarks, demo)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self._jobs.unfinished_tasks == 0:
                return True
            time.sleep(0.05)
        return False

    # --- capture ---
    def _on_frame(self, frame: Frame) -> None:
        if frame.pixels.size:
            with self._lock:
                self._latest = frame
            self.preview.offer(frame.pixels)
        if self._folder:
            self._enqueue(frame, wait=True)
            return
        if self.auto is None:
            return
        t0, c0 = time.perf_counter(), time.thread_time()
        fire = self.auto.update(frame)
        self.trigger_ms.append((time.perf_counter() - t0) * 1000)
        self.trigger_cpu_ms.append((time.thread_time() - c0) * 1000)
        if len(self.trigger_ms) > 10_000:
            del self.trigger_ms[:5_000], self.trigger_cpu_ms[:5_000]
        if fire:
            self._enqueue(frame, wait=False)

    def trigger(self) -> bool:
        """Inspect the newest frame now (a key, the web button, POST /api/trigger)."""
        with self._lock:
            frame = self._latest
        return frame is not None and self._enqueue(frame, wait=False)

    def _enqueue(self, frame: Frame, wait: bool) -> bool:
        if self._state in HALTED and not self._folder:
            logger.error("%s: frame %s not inspected", self._state, frame.id)
            self.metrics.error("halted")
            return False
        while not self._stop.is_set():
            try:
                self._jobs.put(frame, timeout=0.5 if wait else 0)
                self.metrics.queue.set(self._jobs.qsize())
                return True
            except queue.Full:
                if not wait:
                    logger.error("inspection queue full: frame %s dropped", frame.id)
                    self.metrics.error("queue_full")
                    return False
        return False

    # --- inspection ---
    def _work_loop(self) -> None:
        last_try = 0.0
        while not self._stop.is_set():
            if self._full_pending is not None:
                if time.monotonic() - last_try > self.retry_full_s:
                    last_try = time.monotonic()
                    self._store(*self._full_pending)
                self._stop.wait(0.5)
                continue
            try:
                frame = self._jobs.get(timeout=0.5)
            except queue.Empty:
                self._maybe_thin()
                continue
            try:
                self._inspect(frame)
            except Exception:  # noqa: BLE001 - one bad frame never stops the station
                logger.exception("frame %s: inspection failed", frame.id)
                self.metrics.error("worker")
            finally:
                self._jobs.task_done()
                self.metrics.queue.set(self._jobs.qsize())

    def _maybe_thin(self) -> None:
        """Retention: once an hour, while idle, the images of old passes are thinned."""
        days = self.settings.retention.thin_passes_after_days
        if days is None or time.monotonic() - self._thinned_at < THIN_EVERY_S:
            return
        self._thinned_at = time.monotonic()
        try:
            n = self.store.thin_passes(timedelta(days=days))
        except StoreError as e:
            logger.error("retention: %s", e)
            return
        if n:
            logger.info("retention: images of %d passes older than %g days thinned", n, days)

    def _inspect(self, frame: Frame) -> None:
        if self._folder and _file_key(frame.name, frame.captured_at) in self._stored_files:
            # stored just before a crash, not yet in the folder's ledger: never twice
            logger.info("%s: already stored; not inspected again", frame.name)
            self.source.done(frame)
            return
        with self._lock:  # the spec is swapped only between inspections
            inspector, spec, spec_sha256 = self.inspector, self.spec, self.spec_sha256
        t0 = time.perf_counter()
        try:
            inspection, analysis = inspector.inspect_frame(frame)
        except Exception as e:  # noqa: BLE001 - a frame the engine chokes on is an error record
            logger.exception("frame %s cannot be inspected", frame.id)
            msg = f"the frame could not be inspected ({type(e).__name__}: {e})"
            inspection = Inspection(image=frame.label, verdict="error", reasons=(msg,),
                                    spec=spec.name, error=msg, frame_id=frame.id)
            analysis = None
        seconds = time.perf_counter() - t0
        if frame.pixels.size == 0:  # an unreadable file: its record gets a blank stand-in
            image_jpeg, overlay_jpeg = encode_jpeg(np.full((48, 64, 3), 128, np.uint8), 90), None
        else:  # the photo is encoded beside the overlay's drawing (both release the GIL)
            photo = self._encoder.submit(encode_jpeg, frame.pixels, 90)
            overlay_jpeg = self._overlay(frame, inspection, analysis, spec)
            image_jpeg = photo.result()
        self._store(frame, inspection, image_jpeg, overlay_jpeg, seconds, spec_sha256)

    def _overlay(self, frame: Frame, inspection: Inspection, analysis,
                 spec: Spec) -> bytes | None:
        from ..overlay import draw_overlay

        try:
            return encode_jpeg(draw_overlay(frame.pixels, inspection, analysis, spec), 85)
        except Exception:  # noqa: BLE001 - the record is kept without its overlay
            logger.exception("frame %s: overlay not drawn", frame.id)
            return None

    def _store(self, frame: Frame, inspection: Inspection, image_jpeg: bytes,
               overlay_jpeg: bytes | None, seconds: float, spec_sha256: str) -> None:
        with self._lock:
            held = self._held
        net_id = held.net_id if held else self.lot.next_net()
        try:
            rid = self.store.record_inspection(
                inspection, station=self.id, lot_id=self.lot.lot_id, net_id=net_id,
                source_name=frame.name, image_jpeg=image_jpeg, overlay_jpeg=overlay_jpeg,
                spec_sha256=spec_sha256, calibration_id=self.calibration_id,
                captured_at=frame.captured_at)
        except StoreError as e:  # a full disk, an unreachable database: hold it, retry
            self._full_pending = (frame, inspection, image_jpeg, overlay_jpeg, seconds,
                                  spec_sha256)
            state = "disk full" if isinstance(e, StoreFull) else "storage error"
            self._set_state(state, f"{e}; new inspections are stopped")
            self.metrics.stopped.set(1)
            logger.error("%s: inspections stopped until it is mended (%s)", state, e)
            return
        self._full_pending = None
        if self._state in HALTED:
            self.metrics.stopped.set(0)
            self._set_state("running", None)
        if self._folder:
            self.source.done(frame)
        self._after_store(rid, inspection, held, seconds)

    def _after_store(self, rid: str, inspection: Inspection, held: NetSections | None,
                     seconds: float) -> None:
        record = self.store.inspection(rid)
        net = record.net_id if record else None
        self.lot.count(net or rid, inspection.verdict)
        if held is not None:
            held.add(inspection)
        with self._lock:
            self._inspected += 1
            self._last_id, self._last_verdict = rid, inspection.verdict
            subscribers = list(self._subscribers)
        self.metrics.inspected(inspection.verdict, seconds)
        # the live view is shared by readers of every language: the bar's colour and the net ID
        # only; the verdict word is drawn by each reader's page in their language
        self.preview.set_banner(net or "", inspection.verdict)
        if self.publisher is not None:
            self.publisher.publish_result({
                "id": rid, "net": net, "lot": self.lot.name, "verdict": inspection.verdict,
                "reasons": list(inspection.reasons), "error": inspection.error,
                "station": self.id, "time": datetime.now(UTC).isoformat()})
            self.publisher.publish_status(self._status_brief())
        for q in subscribers:  # a slow page misses a push; it reads the status again
            with contextlib.suppress(queue.Full):
                q.put_nowait(rid)

    # --- what the web view asks ---
    def preview_jpeg(self) -> bytes | None:
        return self.preview.jpeg()

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue(100)
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)

    def status(self) -> StationStatus:
        with self._lock:
            held = self._held
            inspected, last_id, last_verdict = self._inspected, self._last_id, self._last_verdict
        mqtt = None
        if self.publisher is not None:
            mqtt = "connected" if self.publisher.connected.is_set() else "away"
        return StationStatus(
            station=self.id, state=self._state, message=self._message,
            camera=getattr(self.source, "state", "none"),
            trigger="folder" if self._folder else self.auto.state if self.auto else "manual",
            source=self.source.name, net_id=held.net_id if held else self.lot.next_net(),
            lot=self.lot.status(), queue=self._jobs.qsize(), inspected=inspected,
            last_inspection_id=last_id, last_verdict=last_verdict, mqtt=mqtt,
            running=self._state in ("running", *HALTED))

    def _status_brief(self) -> dict:
        s = self.status()
        return {"camera": s.camera, "station_state": s.state, "lot": self.lot.name,
                "inspected": s.inspected, "last_verdict": s.last_verdict}

    def _set_state(self, state: str, message: str | None) -> None:
        self._state, self._message = state, message
        if self.publisher is not None:
            self.publisher.publish_status(self._status_brief())


def _file_key(name: str | None, captured_at: datetime) -> tuple[str, str]:
    at = captured_at if captured_at.tzinfo else captured_at.replace(tzinfo=UTC)
    return str(name), at.astimezone(UTC).isoformat()

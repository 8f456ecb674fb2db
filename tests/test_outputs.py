"""Outputs against the real Mosquitto broker (127.0.0.1:1883) and the Prometheus text format."""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from qcstation.outputs.metrics import StationMetrics
from qcstation.outputs.mqtt import MqttPublisher, result_topic, status_topic

ROOT = Path(__file__).parents[1]


def _broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
        return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not _broker_up(),
                                  reason="needs the Mosquitto broker on 127.0.0.1:1883")


class Subscriber:
    """A real MQTT client collecting (topic, payload, retain) of one station's topics."""

    def __init__(self, station: str):
        self.messages: queue.Queue = queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex}")
        self.c.on_message = lambda c, u, m: self.messages.put(
            (m.topic, json.loads(m.payload) if m.payload else None, m.retain))
        ready = queue.Queue()
        self.c.on_subscribe = lambda *a: ready.put(1)
        self.c.connect("127.0.0.1", 1883)
        self.c.loop_start()
        self.c.subscribe(f"qcstation/{station}/#", qos=1)
        ready.get(timeout=5)

    def next(self, timeout: float = 5.0):
        return self.messages.get(timeout=timeout)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def _clear_retained(station: str) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.connect("127.0.0.1", 1883)
    c.loop_start()
    c.publish(status_topic(station), b"", qos=1, retain=True).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


@needs_broker
def test_each_verdict_reaches_a_subscriber_and_status_is_retained():
    station = f"test-{uuid.uuid4().hex[:8]}"
    sub = Subscriber(station)
    pub = MqttPublisher("mqtt://127.0.0.1:1883", station)
    try:
        pub.start()
        assert pub.connected.wait(5)
        topic, status, _ = sub.next()
        assert topic == status_topic(station) and status["state"] == "online"
        sent = [{"id": f"i{k}", "net": k, "lot": "L1", "verdict": v, "reasons": [],
                 "time": "2026-12-04T00:00:00Z"} for k, v in enumerate(["pass", "fail", "error"])]
        for m in sent:
            assert pub.publish_result(m)
        got = [sub.next() for _ in sent]
        assert [(t, p) for t, p, _ in got] == [(result_topic(station), m) for m in sent]
        pub.publish_status({"camera": "ok", "inspected": 3})
        assert sub.next()[1] == {"state": "online", "camera": "ok", "inspected": 3}
        late = Subscriber(station)  # a new subscriber sees the retained status at once
        topic, status, retained = late.next()
        assert retained and status["inspected"] == 3
        late.close()
        pub.stop()
        assert sub.next()[1] == {"state": "offline"}
    finally:
        sub.close()
        _clear_retained(station)


KILLED = """
import sys, time
from qcstation.outputs.mqtt import MqttPublisher
p = MqttPublisher("mqtt://127.0.0.1:1883", sys.argv[1])
p.start()
p.connected.wait(5)
print("ready", flush=True)
time.sleep(60)
"""


@needs_broker
def test_last_will_offline_after_the_process_is_killed():
    station = f"test-{uuid.uuid4().hex[:8]}"
    sub = Subscriber(station)
    proc = subprocess.Popen([sys.executable, "-c", KILLED, station], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert sub.next()[1]["state"] == "online"
        proc.kill()
        proc.wait(5)
        topic, status, _ = sub.next(timeout=10)
        assert topic == status_topic(station) and status == {"state": "offline"}
    finally:
        proc.kill()
        sub.close()
        _clear_retained(station)


def test_broker_down_never_blocks_and_the_queue_is_bounded():
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pub = MqttPublisher(f"mqtt://127.0.0.1:{port}", "down", queue=5)
    pub.start()
    try:
        t0 = time.perf_counter()
        ok = [pub.publish_result({"id": str(k)}) for k in range(20)]
        assert time.perf_counter() - t0 < 0.5
        assert not pub.connected.is_set()
        assert ok.count(True) == 5 and pub.dropped == 15
    finally:
        pub.stop()


def test_metrics_exposition():
    m = StationMetrics("bench-9")
    m.inspected("pass", 0.2)
    m.inspected("fail", 0.4)
    m.inspected("pass", 0.3)
    m.set_camera("lost")
    m.queue.set(2)
    text = m.exposition().decode()
    assert 'qcstation_inspections_total{station="bench-9",verdict="pass"} 2.0' in text
    assert 'qcstation_inspections_total{station="bench-9",verdict="error"} 0.0' in text
    assert 'qcstation_inspection_seconds_count{station="bench-9"} 3.0' in text
    assert 'qcstation_camera_state{state="lost",station="bench-9"} 1.0' in text
    assert 'qcstation_camera_state{state="ok",station="bench-9"} 0.0' in text
    assert 'qcstation_queue_length{station="bench-9"} 2.0' in text
    # each station has its own registry: a second one starts from zero
    assert 'verdict="pass"} 0.0' in StationMetrics("bench-9").exposition().decode()


def _private_broker(port: int, tmp_path: Path) -> subprocess.Popen:
    conf = tmp_path / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the private broker did not start")


@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto program")
def test_results_published_while_the_broker_is_down_arrive_after_it_returns(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    broker = _private_broker(port, tmp_path)
    pub = MqttPublisher(f"mqtt://127.0.0.1:{port}", "flaky")
    pub._client.reconnect_delay_set(min_delay=3, max_delay=3)
    try:
        pub.start()
        assert pub.connected.wait(5)
        broker.kill()
        broker.wait(5)
        wait = time.monotonic() + 10
        while pub.connected.is_set() and time.monotonic() < wait:
            time.sleep(0.05)
        assert not pub.connected.is_set()
        t0 = time.perf_counter()
        for k in range(3):  # inspections go on: nothing blocks
            assert pub.publish_result({"id": f"down-{k}"})
        assert time.perf_counter() - t0 < 0.2
        broker = _private_broker(port, tmp_path)
        got: queue.Queue = queue.Queue()
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sub.on_message = lambda c, u, m: got.put(json.loads(m.payload))
        subscribed = threading.Event()
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.connect("127.0.0.1", port)
        sub.subscribe(result_topic("flaky"), qos=1)
        sub.loop_start()
        try:
            # in place well before the publisher is back (it retries every 3 s)
            assert subscribed.wait(2)
            ids = sorted(got.get(timeout=15)["id"] for _ in range(3))
        finally:
            sub.loop_stop()
            sub.disconnect()
        assert ids == ["down-0", "down-1", "down-2"] and pub.connected.is_set()
    finally:
        pub.stop()
        broker.kill()
        broker.wait(5)

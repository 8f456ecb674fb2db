"""MQTT output: every verdict on qcstation/<station>/result (QoS 1), a retained status, a will."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

logger = logging.getLogger(__name__)


def result_topic(station: str) -> str:
    return f"qcstation/{station}/result"


def status_topic(station: str) -> str:
    return f"qcstation/{station}/status"


class MqttPublisher:
    """Publishes without ever blocking the caller; paho reconnects with back-off in its thread.

    Results published while the broker is away wait in paho's bounded queue (`queue`
    messages); when it is full a result is dropped and logged, the station keeps inspecting.
    """

    def __init__(self, url: str, station: str, queue: int = 1000, client_id: str | None = None):
        u = urlparse(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or (8883 if u.scheme == "mqtts"
                                                                     else 1883)
        self.station = station
        self.connected = threading.Event()
        self.dropped = 0
        self._status: dict = {"state": "online"}
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                        client_id=client_id or f"qcstation-{station}")
        if u.scheme == "mqtts":
            c.tls_set()
        if u.username:
            c.username_pw_set(u.username, u.password)
        c.max_queued_messages_set(queue)
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        c.will_set(status_topic(station), json.dumps({"state": "offline"}), qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        self._client = c

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, keepalive=15)
        self._client.loop_start()

    def stop(self) -> None:
        """Say "offline" (retained) and disconnect cleanly."""
        if self.connected.is_set():
            info = self._client.publish(status_topic(self.station),
                                        json.dumps({"state": "offline"}), qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()

    def publish_result(self, message: dict) -> bool:
        """Queue one verdict (id, net, lot, verdict, reasons, time); False if it was dropped."""
        info = self._client.publish(result_topic(self.station), json.dumps(message), qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            self.dropped += 1
            logger.error("MQTT queue full (broker %s:%s away): result %s not published",
                         self.host, self.port, message.get("id"))
            return False
        return True

    def publish_net(self, message: dict) -> None:
        """A net laid in sections, finished: its combined verdict on .../net (QoS 1)."""
        self._client.publish(f"qcstation/{self.station}/net", json.dumps(message), qos=1)

    def publish_status(self, status: dict) -> None:
        """The station's state, retained so that a new subscriber sees it at once."""
        self._status = {"state": "online", **status}
        if self.connected.is_set():
            self._client.publish(status_topic(self.station), json.dumps(self._status), qos=1,
                                 retain=True)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.warning("MQTT broker %s:%s refused: %s", self.host, self.port, reason_code)
            return
        logger.info("MQTT connected to %s:%s", self.host, self.port)
        self.connected.set()
        client.publish(status_topic(self.station), json.dumps(self._status), qos=1, retain=True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set():
            logger.warning("MQTT broker %s:%s lost (%s); reconnecting", self.host, self.port,
                           reason_code)
        self.connected.clear()

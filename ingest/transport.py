"""The MQTT transport: a paho-mqtt 2.x client that only converts and enqueues.

MQTT 5, QoS 1, a persistent session (clean start off, session expiry from the settings) and manual
acknowledgement: the pipeline acks a message only once its readings are stored, spooled or
dead-lettered, so a crash anywhere before that makes the broker deliver it again. Receive Maximum
bounds how many unacknowledged messages the broker sends at once (backpressure). Nothing here
blocks paho's network thread.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from config.settings import MqttSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """One received MQTT message."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    arrival_ms: int


class StartupError(Exception):
    """The broker could not be reached at start and the policy is to fail."""


class MqttTransport:
    """Subscribes to the reading topics and hands messages to ``deliver``."""

    def __init__(
        self,
        settings: MqttSettings,
        deliver: Callable[[Message], None],
        on_state: Callable[[bool], None] = lambda _connected: None,
        *,
        stations: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.deliver = deliver
        self.on_state = on_state
        prefix = settings.topic_prefix
        # "#", not "+": a malformed deeper topic is received and dead-lettered, not silently unrouted
        self.topic_filter = f"{prefix}/#"
        if settings.shared_group:
            self.topic_filter = f"$share/{settings.shared_group}/{self.topic_filter}"
        #: an alerts partition subscribes to its own stations' topics, not shared: each of their readings once
        self.stations = stations
        if stations is not None:
            self.topic_filter = f"{prefix}/<{len(stations)} stations of this partition>"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.reconnect_delay_set(int(settings.reconnect_min_s), int(settings.reconnect_max_s))
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            client.username_pw_set(settings.username, password)
        if settings.tls:
            client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None, cert_reqs=ssl.CERT_REQUIRED)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client
        self._first_answer = threading.Event()
        self._refusal: str | None = None

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho's Properties is untyped
        properties.SessionExpiryInterval = self.settings.session_expiry_s
        properties.ReceiveMaximum = self.settings.receive_maximum
        return properties

    def start(self, *, fail_fast: bool) -> None:
        """Connect and run paho's network loop in its thread.

        Raises:
            StartupError: ``fail_fast`` and the broker cannot be reached now.
        """
        args: dict[str, Any] = {
            "host": self.settings.host,
            "port": self.settings.port,
            "keepalive": self.settings.keepalive_s,
            "clean_start": False,
            "properties": self._connect_properties(),
        }
        where = f"MQTT broker {self.settings.host}:{self.settings.port}"
        if fail_fast:
            try:
                self.client.connect(**args)
            except OSError as exc:  # ssl.SSLError is an OSError
                raise StartupError(f"{where} unreachable: {exc}") from exc
        else:
            self.client.connect_async(**args)
        self.client.loop_start()
        if fail_fast:
            answered = self._first_answer.wait(self.settings.keepalive_s)
            if not answered or self._refusal:
                # no loop_stop(): paho's thread may be waiting out its reconnect delay; it is a daemon
                self.client.disconnect()
                raise StartupError(f"{where} {self._refusal or 'did not answer CONNECT'}")

    def stop(self) -> None:
        """Disconnect (the broker keeps the session and any unacknowledged messages)."""
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """Publish at QoS 1 (paho queues it while disconnected)."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge one message (QoS 0 needs none)."""
        if qos > 0:
            self.client.ack(mid, qos)

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            refusal = f"refused the connection: {reason}"
            if "authorized" in str(reason).lower() or "password" in str(reason).lower():
                who = f"user {self.settings.username!r}" if self.settings.username else "no user"
                refusal += f" ({who}; set FLOODWATCH_MQTT_USERNAME and FLOODWATCH_MQTT_PASSWORD)"
            if refusal != self._refusal:  # once per distinct refusal, not at every retry
                log.error(
                    "MQTT broker %s:%s %s; retrying with backoff", self.settings.host, self.settings.port, refusal
                )
            self._refusal = refusal
            self._first_answer.set()
            return
        self._refusal = None
        self._first_answer.set()
        log.info(
            "connected to MQTT %s:%s, subscribing to %s",
            self.settings.host,
            self.settings.port,
            self.topic_filter,
        )
        if self.stations is None:
            client.subscribe(self.topic_filter, qos=1)
        else:
            topics = [(f"{self.settings.topic_prefix}/{station}", 1) for station in self.stations]
            for start in range(0, len(topics), 100):  # a few SUBSCRIBE packets, not thousands
                client.subscribe(topics[start : start + 100])
        self.on_state(True)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        log.warning("disconnected from MQTT (%s); paho reconnects with backoff", reason)
        self.on_state(False)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.deliver(Message(message.mid, message.qos, message.topic, bytes(message.payload), int(time.time() * 1000)))

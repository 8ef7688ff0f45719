"""Load and reference consumers, each run in its own process (``multiprocessing``, spawn).

- ``publish``: one of several publisher processes; builds its share of a ``Workload`` first, says it
  is ready, waits for the common start, then publishes at QoS 1 as fast as the broker takes it
  (or at a steady rate), counting what it sent in a shared counter.
- ``count``: ceiling B, a paho-mqtt subscriber that does nothing but count (and, in latency mode,
  note publish -> receive times from the payloads' device times).
- ``naive``: the baseline ingester: decode each message and write its points with one HTTP request.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import resource
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.context import SpawnContext
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.harness import percentile

#: publisher processes share this start method: no fork of a process that runs paho threads
CTX: SpawnContext = multiprocessing.get_context("spawn")
STEP_MS = 300_000


@dataclass(frozen=True)
class Workload:
    """Level readings of ``stations`` stations at 5-minute steps up to ``end_ms``.

    ``per_station`` readings each, in time order across stations (as live stations would send
    them), ``batch`` readings per message (1: the contract's single reading; more: a gateway's
    buffer). A ``storm`` fraction of the stations rises above the warning stage and falls back.
    """

    stations: int
    per_station: int
    end_ms: int
    batch: int = 1
    storm: float = 0.0
    iso_times: bool = True

    @property
    def readings(self) -> int:
        """Readings in the workload."""
        return self.stations * self.per_station

    @property
    def messages(self) -> int:
        """MQTT messages in the workload."""
        return self.stations * math.ceil(self.per_station / self.batch)

    def level(self, station: int, step: int) -> float:
        """The level of ``station`` at ``step`` (0 = oldest), in metres, 2 decimals."""
        value = 1.5 + 0.3 * math.sin(2 * math.pi * step / 288 + station)
        if self.storm and station % round(1 / self.storm) == 0:
            peak = self.per_station / 2
            value += 2.2 * math.exp(-(((step - peak) / (self.per_station / 8)) ** 2))
        return round(value, 2)

    def _reading(self, station: int, step: int) -> dict[str, Any]:
        stamp = self.end_ms - (self.per_station - 1 - step) * STEP_MS
        when: str | float = (
            datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if self.iso_times else stamp / 1000
        )
        return {"time": when, "quantity": "level", "value": self.level(station, step), "unit": "m"}

    def share(self, index: int, parts: int) -> Iterator[tuple[str, bytes]]:
        """``(station id, payload)`` of publisher ``index`` of ``parts`` (stations split between them)."""
        mine = range(index, self.stations, parts)
        for first in range(0, self.per_station, self.batch):
            steps = range(first, min(first + self.batch, self.per_station))
            for station in mine:
                if self.batch == 1:
                    payload = self._reading(station, first)
                else:
                    payload = {"v": 1, "readings": [self._reading(station, step) for step in steps]}
                yield f"L{station:05d}", json.dumps(payload).encode()


def _connect(client: mqtt.Client, port: int, *, clean: bool) -> None:
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho's Properties is untyped
    properties.SessionExpiryInterval = 0 if clean else 3600
    client.connect("127.0.0.1", port, keepalive=60, clean_start=clean, properties=properties)


def hold_session(port: int, client_id: str, topic_filter: str) -> None:
    """Open a persistent session for ``client_id`` subscribed to ``topic_filter`` at QoS 1, and leave.

    The broker holds what is published meanwhile for that session, until ``client_id`` connects
    (as the ingester does, clean start off) and drains it.
    """
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda c, *_args: c.subscribe(topic_filter, qos=1)
    _connect(client, port, clean=False)
    client.loop_start()
    try:
        if not subscribed.wait(30):
            raise TimeoutError(f"{client_id} could not subscribe to {topic_filter}")
    finally:
        client.disconnect()
        client.loop_stop()


def _session(on_message: Any, port: int, topic_filter: str, ready: Any, go: Any) -> mqtt.Client:
    """A QoS 1 subscriber with a persistent session, subscribed when ``ready`` hears of it.

    With ``go`` (an event), it then goes offline, so the broker holds the stream for its session,
    and comes back when ``go`` is set: the stream is drained without publishers competing for the
    CPU. Without, it stays connected (a live stream).
    """
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{time.monotonic_ns()}", protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda c, *_args: c.subscribe(topic_filter, qos=1)
    _connect(client, port, clean=False)
    client.loop_start()
    subscribed.wait(30)
    if go is not None:
        client.disconnect()
        client.loop_stop()
    ready.put("subscribed")
    if go is not None:
        go.wait()
        _connect(client, port, clean=False)
        client.loop_start()
    return client


def publish(
    port: int,
    prefix: str,
    work: Workload,
    index: int,
    parts: int,
    ready: Any,
    go: Any,
    sent: Any,
    results: Any,
    rate: float = 0.0,
) -> None:
    """Publisher process: build the share, report ready, wait for ``go``, publish it all at QoS 1.

    ``rate`` > 0 paces this publisher to that many messages per second; ``sent.value`` follows
    the count (every 200 messages and at the end).
    """
    messages = [(f"{prefix}/{station}", payload) for station, payload in work.share(index, parts)]
    slots = threading.Semaphore(1000)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.on_publish = lambda *_args: slots.release()
    _connect(client, port, clean=True)
    client.loop_start()
    ready.put(index)
    go.wait()
    started = time.monotonic()
    for k, (topic, payload) in enumerate(messages):
        if rate:
            pause = started + k / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        slots.acquire()
        client.publish(topic, payload, qos=1)
        if k % 200 == 0:
            sent.value = k
    for _ in range(1000):  # every PUBACK received
        slots.acquire()
    sent.value = len(messages)
    results.put({"index": index, "messages": len(messages), "seconds": time.monotonic() - started})
    client.disconnect()
    client.loop_stop()


def _usage() -> dict[str, float]:
    """CPU seconds and peak RSS of this process.

    The peak is VmHWM of this process image: ``ru_maxrss`` survives ``exec`` and would report the
    parent's size at spawn.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    status = Path("/proc/self/status").read_text()
    peak_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_bytes": peak_kib * 1024}


def count(
    ready: Any,
    results: Any,
    go: Any,
    port: int,
    topic_filter: str,
    expect: int,
    timeout_s: float,
    latency: bool = False,
) -> None:
    """Ceiling B: subscribe at QoS 1 and only count until ``expect`` messages arrived.

    With ``latency``, each payload's ``time`` (epoch seconds, stamped at publish) gives a
    publish -> receive latency. Reports first and last arrival (monotonic clock, shared by the
    processes of this machine), CPU and peak RSS. With ``go`` see ``_session``.
    """
    received = [0]
    first = [0.0]
    delays: list[float] = []
    done = threading.Event()

    def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not received[0]:
            first[0] = time.monotonic()
        received[0] += 1
        if latency:
            delays.append(time.time() - float(json.loads(message.payload)["time"]))
        if received[0] >= expect:
            done.set()

    client = _session(on_message, port, topic_filter, ready, go)
    cpu_before = _usage()["cpu_s"]
    done.wait(timeout_s)
    last = time.monotonic()
    out: dict[str, Any] = {"received": received[0], "first": first[0], "last": last, **_usage()}
    out["cpu_s"] -= cpu_before
    if delays:
        ms = [d * 1000 for d in delays]
        out |= {"p50_ms": percentile(ms, 0.5), "p99_ms": percentile(ms, 0.99), "max_ms": max(ms)}
    results.put(out)
    client.disconnect()
    client.loop_stop()


def naive(ready: Any, results: Any, go: Any, config: str, expect: int, timeout_s: float) -> None:
    """The baseline ingester: per message, decode it and write its points in one HTTP request."""
    # imported here: the spawned process loads the ingester's modules only when it is this one
    from config.catalogue import load_catalogue  # noqa: PLC0415
    from config.settings import load_settings  # noqa: PLC0415
    from ingest.decode import Limits, decode  # noqa: PLC0415
    from store.influx import InfluxClient  # noqa: PLC0415
    from store.lineproto import encode  # noqa: PLC0415

    settings = load_settings(Path(config))
    catalogue = load_catalogue(settings.catalogue)
    influx = InfluxClient(settings.influx)
    influx.create_database()
    cfg = settings.ingest
    limits = Limits(cfg.max_payload_bytes, cfg.max_readings_per_message, int(cfg.max_future_s * 1000), 0)
    written = [0]
    first = [0.0]
    done = threading.Event()

    def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not written[0]:
            first[0] = time.monotonic()
        decoded = decode(
            message.topic,
            bytes(message.payload),
            prefix=settings.mqtt.topic_prefix,
            stations=catalogue,
            limits=limits,
            arrival_ms=int(time.time() * 1000),
        )
        influx.write("\n".join(encode(reading) for reading in decoded.readings).encode())
        written[0] += 1
        if written[0] >= expect:
            done.set()

    client = _session(on_message, settings.mqtt.port, f"{settings.mqtt.topic_prefix}/#", ready, go)
    cpu_before = _usage()["cpu_s"]
    done.wait(timeout_s)
    out = {"received": written[0], "first": first[0], "last": time.monotonic(), **_usage()}
    out["cpu_s"] -= cpu_before
    results.put(out)
    client.disconnect()
    client.loop_stop()


@dataclass
class Publishers:
    """Several publisher processes sharing one workload, started together."""

    port: int
    prefix: str
    work: Workload
    parts: int = 3
    rate: float = 0.0  # messages/s over all publishers; 0 = as fast as the broker takes them

    def __post_init__(self) -> None:
        self.ready: Any = CTX.Queue()
        self.results: Any = CTX.Queue()
        self.go = CTX.Event()
        self.sent = [CTX.RawValue("q", 0) for _ in range(self.parts)]
        self.processes = [
            CTX.Process(
                target=publish,
                args=(
                    self.port,
                    self.prefix,
                    self.work,
                    i,
                    self.parts,
                    self.ready,
                    self.go,
                    self.sent[i],
                    self.results,
                    self.rate / self.parts,
                ),
                daemon=True,
            )
            for i in range(self.parts)
        ]

    def prepare(self, timeout_s: float = 120.0) -> None:
        """Start the processes and wait until each has built its messages and connected."""
        for process in self.processes:
            process.start()
        for _ in self.processes:
            self.ready.get(timeout=timeout_s)

    def go_now(self) -> float:
        """Start publishing; returns the start time (monotonic)."""
        started = time.monotonic()
        self.go.set()
        return started

    def published(self) -> int:
        """Messages published so far (to within 200 per publisher)."""
        return int(sum(value.value for value in self.sent))

    def finish(self, timeout_s: float = 1800.0) -> float:
        """Wait for every publisher; returns the publishers' own rate, messages per second."""
        reports = [self.results.get(timeout=timeout_s) for _ in self.processes]
        for process in self.processes:
            process.join(timeout=30)
        return float(sum(r["messages"] for r in reports) / max(r["seconds"] for r in reports))

    def stop(self) -> None:
        """Stop what is still running (our own child processes, by PID)."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)


@dataclass
class Consumer:
    """``count`` or ``naive`` in a process of its own; ``held`` ones drain a stream held by the broker."""

    target: Any
    args: tuple[Any, ...]
    held: bool = True

    def __post_init__(self) -> None:
        self.ready: Any = CTX.Queue()
        self.results: Any = CTX.Queue()
        self.go = CTX.Event() if self.held else None
        self.process = CTX.Process(
            target=self.target, args=(self.ready, self.results, self.go, *self.args), daemon=True
        )

    def start(self, timeout_s: float = 60.0) -> None:
        """Start it; returns once it is subscribed (and, when held, offline again)."""
        self.process.start()
        self.ready.get(timeout=timeout_s)

    def drain(self, timeout_s: float = 1800.0) -> dict[str, Any]:
        """Let it come back (when held) and wait for its report."""
        if self.go is not None:
            self.go.set()
        out: dict[str, Any] = self.results.get(timeout=timeout_s)
        self.process.join(timeout=30)
        return out

    def stop(self) -> None:
        """Stop it if it still runs (our own child process)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)

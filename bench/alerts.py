"""Alert latency at a steady publish rate: from a reading's publish to its alert event being stored.

Level readings go out at a steady rate (QoS 1), round-robin over as many stations as readings per
second, each station crossing the warning stage every 10 readings, so a tenth of the readings
raise or resolve an alert. The ingester publishes a station's retained alert state right after the
batch holding the reading and its alert event is written to InfluxDB (one write: the reading and
its event are stored together), so the time from publish to that state message, which carries the
reading's device time (stamped at publish), is publish -> stored reading -> stored alert event. The
floor is the same stream's publish -> receive time at a subscriber that only counts. The stored
``lag_s`` field of every reading gives device time vs arrival time at the ingester.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench import load
from bench.harness import (
    GUARANTEED_M,
    WARNING_M,
    BenchError,
    Harness,
    Spread,
    acked,
    percentile,
    wait_for,
    write_catalogue,
)
from bench.report import Figure, Report
from bench.scale import Scale
from config.settings import MqttSettings
from floodwatch.replay import Publisher

#: the alert rules that would fire on a steep synthetic toggle are turned off: only level crossings
SETTINGS = {"hold_s": 0, "blue_margin_m": 0.0, "forecast_horizon_s": 0, "rate_m_per_h": 100000.0}


def steady(
    port: int, prefix: str, rate: float, seconds: float, stations: int, *, cross: bool = True
) -> tuple[int, float, int]:
    """Publish level readings at ``rate`` per second for ``seconds``.

    Each reading's device time is its publish time. With ``cross``, each station's level is below
    the warning stage for 10 of its readings, then between warning and guaranteed for the next 10,
    the stations' phases staggered so that crossings come at an even pace; else always below.

    Returns:
        Readings published, seconds it took, and how many of them crossed the warning stage.
    """
    publisher = Publisher(MqttSettings(host="127.0.0.1", port=port), max_in_flight=2000)
    publisher.connect()
    total = int(rate * seconds)
    above = [False] * stations
    crossings = 0
    started = time.monotonic()
    try:
        for k in range(total):
            pause = started + k / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            station = k % stations
            high = cross and ((k // stations + station) // 10) % 2 == 1
            crossings += high != above[station]
            above[station] = high
            value = (WARNING_M + GUARANTEED_M) / 2 if high else WARNING_M - 2
            payload = {"time": int(time.time() * 1000) / 1000, "quantity": "level", "value": value, "unit": "m"}
            publisher.publish(f"{prefix}/L{station:05d}", json.dumps(payload).encode())
        elapsed = time.monotonic() - started
        publisher.drain(2000)
    finally:
        publisher.close()
    return total, elapsed, crossings


@dataclass
class Watcher:
    """Publish -> stored-alert latencies from the retained alert-state messages."""

    port: int
    topic: str
    latencies: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.on_connect = lambda c, *_args: c.subscribe(self.topic, qos=0)
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise BenchError("the alert-state watcher could not subscribe")

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not message.retain:  # a retained one is an older state, sent on subscribing
            self.latencies.append(time.time() * 1000 - json.loads(message.payload)["time"])

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def floor(h: Harness, scale: Scale, stations: int) -> dict[str, Any]:
    """The same stream's publish -> receive times at a subscriber that only counts."""
    prefix = f"floor-{time.monotonic_ns()}/v1/readings"
    expect = int(scale.alert_rate * scale.alert_seconds)
    consumer = load.Consumer(
        load.count, (h.mqtt_port, f"{prefix}/#", expect, scale.alert_seconds + 120, True), held=False
    )
    try:
        consumer.start()
        steady(h.mqtt_port, prefix, scale.alert_rate, scale.alert_seconds, stations)
        out = consumer.drain(timeout_s=120)
    finally:
        consumer.stop()
    return out


def one_run(h: Harness, scale: Scale, catalogue: Path, stations: int) -> dict[str, float]:
    """One ingester at the steady rate: latencies, stored alert events and lag_s percentiles."""
    run = h.run_settings(catalogue, alerts=SETTINGS)
    process = h.start_ingester(run)
    watcher = Watcher(h.mqtt_port, f"{run.settings.alerts.state_topic}/#")
    client = run.client()
    try:
        count, elapsed, crossings = steady(h.mqtt_port, run.prefix, scale.alert_rate, scale.alert_seconds, stations)
        wait_for(lambda: acked([run]) >= count, 120, "all readings stored", 0.1)
        events = wait_for(lambda: client.query("SELECT count(level) FROM alert_event"), 30, "alert events")
        lags = client.query(
            "SELECT percentile(lag_s, 50), percentile(lag_s, 99), max(lag_s) FROM level WHERE time > 0"
        )[0].values[0]
    finally:
        watcher.close()
        h.stop(process)
    h.drop(run)
    ms = watcher.latencies
    if not ms:
        raise BenchError("no alert state was published: no latency to measure")
    return {
        "rate": count / elapsed,
        "p50": percentile(ms, 0.5),
        "p99": percentile(ms, 0.99),
        "max": max(ms),
        "events": int(events[0].values[0][1]),
        "expected": crossings,
        "lag_p50": lags[1] * 1000,
        "lag_p99": lags[2] * 1000,
        "lag_max": lags[3] * 1000,
    }


def latency(h: Harness, scale: Scale, report: Report) -> None:
    """Section 3: publish -> stored alert event at a steady rate, beside the transport's own latency."""
    stations = max(10, int(scale.alert_rate))  # about one reading per station per second
    catalogue = write_catalogue(h.root / f"alert-stations-{stations}.csv", stations, interval_s=60)
    runs: list[dict[str, float]] = []
    floors: list[dict[str, Any]] = []
    for _ in range(scale.alert_runs):
        floors.append(floor(h, scale, stations))
        runs.append(one_run(h, scale, catalogue, stations))

    def of(key: str) -> Spread:
        return Spread.of(r[key] for r in runs)

    def under(key: str) -> float:
        return Spread.of(f[key] for f in floors).median

    what = (
        f"{scale.alert_rate:,.0f} readings/s for {scale.alert_seconds:.0f} s, {stations:,} stations, "
        "a tenth of the readings raising or resolving an alert at an even pace; one reading per station a "
        "second, so each state message times its own reading"
    )
    report.add(
        Figure("alerts", "achieved publish rate", "readings/s", of("rate"), "asked", scale.alert_rate, note=what)
    )
    report.add(
        Figure(
            "alerts",
            "publish → stored reading + alert event, p50",
            "ms",
            of("p50"),
            "MQTT publish → subscriber p50",
            under("p50_ms"),
        )
    )
    p99 = of("p99")
    report.add(
        Figure(
            "alerts",
            "publish → stored reading + alert event, p99",
            "ms",
            p99,
            "MQTT publish → subscriber p99",
            under("p99_ms"),
            "< 500 ms",
            p99.median < 500,
        )
    )
    report.add(
        Figure(
            "alerts",
            "publish → stored reading + alert event, max",
            "ms",
            of("max"),
            "MQTT publish → subscriber max",
            under("max_ms"),
        )
    )
    report.add(
        Figure(
            "alerts",
            "device time → arrival (stored lag_s), p50",
            "ms",
            of("lag_p50"),
            "MQTT publish → subscriber p50",
            under("p50_ms"),
        )
    )
    report.add(
        Figure(
            "alerts",
            "device time → arrival (stored lag_s), p99",
            "ms",
            of("lag_p99"),
            "MQTT publish → subscriber p99",
            under("p99_ms"),
        )
    )
    report.add(
        Figure(
            "alerts",
            "alert events stored per run",
            "events",
            of("events"),
            "crossings published",
            Spread.of(r["expected"] for r in runs).median,
        )
    )

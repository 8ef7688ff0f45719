"""Hostile input: 100,000 generated payloads through the decoder, and through the whole ingester."""

from __future__ import annotations

import math
import random
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from config.catalogue import load_catalogue
from floodwatch.services import LocalServices
from ingest.decode import REASONS, Limits, decode
from ingest.limits import RateLimiter
from tests.conftest import Env, eventually, write_env
from tests.hostile import hostile, mixed

PREFIX = "fuzz/v1/readings"
LIMITS = Limits(max_payload_bytes=256 * 1024, max_readings=5000, max_future_ms=300_000, oldest_ms=946_684_800_000)


def test_decoder_rejects_100k_hostile_payloads_each_with_a_reason(stream_catalogue: Path) -> None:
    """100,000 hostile payloads: the decoder never raises, rejects each one once with a documented reason."""
    stations = load_catalogue(stream_catalogue)
    rng = random.Random(42)
    reasons: dict[str, int] = {}
    for _ in range(100_000):
        topic, payload = hostile(rng, PREFIX)
        result = decode(topic, payload, prefix=PREFIX, stations=stations, limits=LIMITS, arrival_ms=1_700_500_000_000)
        assert result.readings == [], (topic, payload[:200])
        assert len(result.rejects) == 1, (topic, payload[:200])
        reason = result.rejects[0].reason
        assert reason in REASONS
        assert result.rejects[0].detail
        reasons[reason] = reasons.get(reason, 0) + 1
    assert len(reasons) >= 15, reasons  # the generator reaches most of the ways to be wrong


def test_good_readings_decode_to_finite_known_values(stream_catalogue: Path) -> None:
    """The good readings among the hostile ones decode to finite values of known stations."""
    stations = load_catalogue(stream_catalogue)
    for topic, payload, good in mixed(5000, PREFIX):
        result = decode(topic, payload, prefix=PREFIX, stations=stations, limits=LIMITS, arrival_ms=1_700_500_000_000)
        assert bool(result.readings) is good
        assert all(math.isfinite(r.value) and r.station in stations for r in result.readings)


def test_rate_limiter_cuts_a_flood_and_forgets_old_keys() -> None:
    """After its burst a topic gets rate_per_s; buckets are bounded in number."""
    limiter = RateLimiter(rate_per_s=10, burst=100, max_keys=1000)
    assert sum(limiter.allow("flood", 0.0) for _ in range(1000)) == 100
    assert sum(limiter.allow("flood", 1.0) for _ in range(100)) == 10
    for index in range(5000):
        limiter.allow(f"station{index}", 2.0)
    assert len(limiter.buckets) == 1000


@pytest.mark.services
def test_ingester_survives_100k_hostile_messages_and_stores_every_good_reading(
    tmp_path: Path, services: LocalServices, stream_catalogue: Path
) -> None:
    """100,000 messages, 90 % hostile and a flood on one topic: no crash, no stall, every good reading stored once,
    every hostile message rejected with a reason, memory bounded."""
    env = write_env(tmp_path, services, stream_catalogue, ingest={"station_burst": 5000, "station_rate_per_s": 50})
    try:
        run_hostile_stream(env)
    finally:
        env.stop_processes()


def run_hostile_stream(env: Env) -> None:
    env.start_ingester()
    prefix = env.settings.mqtt.topic_prefix
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    slots = threading.Semaphore(1000)
    client.on_publish = lambda *_: slots.release()
    client.connect("127.0.0.1", env.settings.mqtt.port)
    client.loop_start()
    goods = hostiles = 0
    for topic, payload, good in mixed(100_000, prefix, seed=7):
        slots.acquire()
        client.publish(topic, payload, qos=1)
        goods += good
        hostiles += not good
    flood = 7000  # one topic, beyond ingest.station_burst (5,000 here)
    for _ in range(flood):
        slots.acquire()
        client.publish(f"{prefix}/R1", b"{", qos=1)
    for _ in range(1000):
        slots.acquire()
    client.loop_stop()
    client.disconnect()
    total = 100_000 + flood
    eventually(lambda: env.health().get("received") == total, 300, message="all received")
    health = eventually(lambda: (h := env.health()) and h["in_flight"] == 0 and h, 120, message="no stall")
    assert env.count("level") == goods
    assert health["rejected"] == hostiles + flood
    metrics = env.metrics()
    assert 'floodwatch_ingest_rejected_total{reason="rate_limited"}' in metrics
    pid = env.processes[0].pid
    rss_kb = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    assert rss_kb < 400 * 1024, f"peak RSS {rss_kb} kB"
    assert env.processes[0].poll() is None

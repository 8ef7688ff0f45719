"""Zero loss under faults: a stream of 20,000 readings through real services that are killed or restarted.

Each test counts what InfluxDB holds at the end against what was published: every reading stored,
none doubled (the value sum matches too), and the fault visibly happened (spooled, retried, or
redelivered).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from config.settings import MqttSettings
from floodwatch.replay import ReplayReport, replay
from floodwatch.services import LocalServices
from ingest.deadletter import DeadLetterStore
from tests.conftest import Env, eventually, write_env
from tests.streams import expected_sum, stream

pytestmark = [pytest.mark.services, pytest.mark.fault]

COUNT = 20_000


class Streamer:
    """Publishes a frame in a background thread at about ``rate`` readings per second."""

    def __init__(self, frame: pd.DataFrame, mqtt: MqttSettings, rate: float | None, stations: int = 40) -> None:
        # stream() spaces a station's readings 60 s apart: `stations` readings per 60 s of device time
        speed = None if rate is None else rate * 60 / stations
        self.report: ReplayReport | None = None
        self.error: BaseException | None = None

        def target() -> None:
            try:
                self.report = replay(frame, mqtt, speed=speed, progress=False)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which re-raises it
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 300) -> ReplayReport:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the publisher did not finish"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def hold(seconds: float, still: Callable[[], bool]) -> None:
    """Keep a fault in place for ``seconds``, checking that ``still()`` holds throughout."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert still()
        time.sleep(0.5)


def assert_all_stored(env: Env, frame: pd.DataFrame, timeout: float = 180) -> None:
    eventually(
        lambda: env.count("level", " AND station =~ /^T/") >= len(frame),
        timeout,
        message=f"{len(frame)} readings stored",
    )
    assert env.count("level", " AND station =~ /^T/") == len(frame)
    total = env.client.query("SELECT sum(value) FROM level WHERE station =~ /^T/")[0].values[0][1]
    assert total == pytest.approx(expected_sum(frame), rel=1e-12)


def fault_env(tmp_path: Path, own_services: LocalServices, stream_catalogue: Path) -> Env:
    return write_env(tmp_path, own_services, stream_catalogue, ingest={"batch_size": 1000, "retry_max_s": 1.0})


def test_influxdb_killed_for_30_s_loses_nothing(
    tmp_path: Path, own_services: LocalServices, stream_catalogue: Path
) -> None:
    """InfluxDB SIGKILLed mid-stream and back after 30 s: the spool keeps every reading and writes it back."""
    env = fault_env(tmp_path, own_services, stream_catalogue)
    try:
        ingester = env.start_ingester()
        frame = stream(COUNT)
        streamer = Streamer(frame, env.settings.mqtt, rate=400)
        eventually(lambda: env.count() > 2000, message="stream flowing")
        own_services.influxdb.kill()
        hold(30, lambda: ingester.poll() is None)
        health = env.health()
        assert health["influx_ok"] is False, health
        assert health["spooled"] > 0, health
        own_services.influxdb.start()
        report = streamer.join()
        assert report.readings == COUNT
        assert_all_stored(env, frame)
        health = eventually(lambda: (h := env.health()) and h["spool_bytes"] == 0 and h["in_flight"] == 0 and h)
        print(
            f"\n[fault influxdb-kill] published={report.readings} stored={COUNT} "
            f"spooled={health['spooled']} retried={health['retried']} rejected={health['rejected']}"
        )
        assert health["rejected"] == 0
    finally:
        env.stop_processes()


def test_broker_restart_loses_nothing(tmp_path: Path, own_services: LocalServices, stream_catalogue: Path) -> None:
    """Mosquitto restarted mid-stream: persistent sessions on both sides resend what was not acknowledged."""
    env = fault_env(tmp_path, own_services, stream_catalogue)
    try:
        env.start_ingester()
        frame = stream(COUNT)
        streamer = Streamer(frame, env.settings.mqtt, rate=1000)
        eventually(lambda: env.count() > 5000, message="stream flowing")
        own_services.mosquitto.stop()
        stored_while_down = env.count()
        own_services.mosquitto.start()
        report = streamer.join()
        assert_all_stored(env, frame)
        health = eventually(lambda: (h := env.health()) and h["in_flight"] == 0 and h)
        print(
            f"\n[fault broker-restart] published={report.readings} stored={COUNT} "
            f"stored_before_restart={stored_while_down} received_by_ingester={health['received']}"
        )
        assert stored_while_down < COUNT
    finally:
        env.stop_processes()


def test_ingester_sigkill_loses_nothing(tmp_path: Path, own_services: LocalServices, stream_catalogue: Path) -> None:
    """The ingester SIGKILLed mid-stream and restarted: the broker redelivers every unacknowledged message."""
    env = fault_env(tmp_path, own_services, stream_catalogue)
    try:
        first = env.start_ingester()
        frame = stream(COUNT)
        streamer = Streamer(frame, env.settings.mqtt, rate=1000)
        eventually(lambda: env.count() > 5000, message="stream flowing")
        first.kill()
        first.wait()
        stored_at_kill = env.count()
        second = env.start_ingester()
        report = streamer.join()
        assert_all_stored(env, frame)
        health = eventually(lambda: (h := env.health()) and h["in_flight"] == 0 and h)
        print(
            f"\n[fault ingester-kill] published={report.readings} stored={COUNT} stored_at_kill={stored_at_kill} "
            f"received_by_second_ingester={health['received']}"
        )
        assert second.poll() is None
        assert stored_at_kill < COUNT
        assert health["received"] >= COUNT - stored_at_kill
    finally:
        env.stop_processes()


def test_points_influxdb_refuses_are_dead_lettered_and_the_batch_stored(
    tmp_path: Path, own_services: LocalServices, stream_catalogue: Path
) -> None:
    """Points InfluxDB refuses (field type conflict) are dead-lettered; every other point of their batch is stored."""
    env = fault_env(tmp_path, own_services, stream_catalogue)
    try:
        env.start_ingester()
        # An integer `value` in the shard of June 2021 makes InfluxDB refuse our float values there.
        conflict_ms = 1_622_505_600_000  # 2021-06-01T00:00Z
        env.client.write(f"level,station=conflict value=1i {conflict_ms}".encode())
        frame = stream(COUNT)
        refused = stream(3, stations=3, base_ms=conflict_ms + 60_000)
        refused["station_id"] = ["T01", "T02", "T03"]
        mixed = pd.concat(
            [
                frame.iloc[:5000],
                refused.iloc[:1],
                frame.iloc[5000:12000],
                refused.iloc[1:],
                frame.iloc[12000:],
            ],
            ignore_index=True,
        )
        report = Streamer(mixed, env.settings.mqtt, rate=None).join()
        assert report.readings == COUNT + 3
        eventually(lambda: env.health().get("rejected") == 3, message="3 refusals counted")
        assert_all_stored(env, frame)
        letters = DeadLetterStore(env.settings.deadletter_dir).read_all()
        assert [letter["reason"] for letter in letters] == ["influx_refused"] * 3
        assert all("field type conflict" in letter["detail"] for letter in letters)
        assert sorted(letter["line"].split(",")[1].split(" ")[0] for letter in letters) == [
            "station=T01",
            "station=T02",
            "station=T03",
        ]
        print(f"\n[fault refused] published={report.readings} stored={COUNT} dead_lettered={len(letters)}")
    finally:
        env.stop_processes()

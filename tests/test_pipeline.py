"""The write path end to end on the real broker and database: publish -> stored, rejects, duplicates."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest

from ingest.deadletter import DeadLetterStore
from ingest.decode import REASONS
from tests.conftest import Env, eventually
from tests.streams import stream

pytestmark = pytest.mark.services


def publisher(env: Env) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", env.settings.mqtt.port)
    client.loop_start()
    return client


def publish_all(client: mqtt.Client, messages: list[tuple[str, bytes | str]]) -> None:
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)


def test_published_reading_is_stored_with_exact_value_time_and_tags(env: Env) -> None:
    """A level in cm and a rain amount in inches are stored in m and mm at the device time, tagged by station."""
    env.start_ingester()
    client = publisher(env)
    prefix = env.settings.mqtt.topic_prefix
    publish_all(
        client,
        [
            (
                f"{prefix}/T01",
                json.dumps({"time": "2022-01-11T14:15:00+08:00", "quantity": "level", "value": 430.6, "unit": "cm"}),
            ),
            (
                f"{prefix}/T01",
                json.dumps(
                    {
                        "time": "2022-01-11T06:00:00Z",
                        "quantity": "rain",
                        "value": 0.5,
                        "unit": "in",
                        "interval": "1h",
                    }
                ),
            ),
        ],
    )
    eventually(lambda: env.count() == 2, message="2 points stored")
    level = env.client.query("SELECT value, flags, station FROM level")[0]
    assert level.values == [[1641881700000, 4.306, "", "T01"]]
    rain = env.client.query("SELECT value, interval_s, station FROM rain")[0]
    assert rain.values == [[1641880800000, 12.7, 3600, "T01"]]
    client.loop_stop()


def test_every_bad_payload_is_rejected_counted_and_kept_and_good_neighbours_stored(env: Env) -> None:
    """Each kind of bad input gets its reason, a counter and a dead letter; good readings beside it are stored."""
    env.start_ingester()
    client = publisher(env)
    prefix = env.settings.mqtt.topic_prefix
    good = {"time": "2023-01-01T00:00:00Z", "quantity": "level", "value": 1.0, "unit": "m"}

    def reading(**change: object) -> dict[str, object]:
        return {**good, **change}

    bad_messages: list[tuple[str, bytes | str, str]] = [
        (f"{prefix}/T01", b"\xff\xfe not utf-8", "bad_json"),
        (f"{prefix}/T01", "{not json", "bad_json"),
        (f"{prefix}/T01", "[1, 2]", "bad_shape"),
        (f"{prefix}/T01", json.dumps({"v": 3, **good}), "bad_version"),
        (f"{prefix}/T01", json.dumps({"station": "T02", **good}), "station_mismatch"),
        (f"{prefix}/NOPE", json.dumps(good), "unknown_station"),
        (f"{prefix}/T01/extra", json.dumps(good), "bad_topic"),
        (f"{prefix}/T01", "x" * (env.settings.ingest.max_payload_bytes + 1), "too_large"),
    ]
    bad_readings: list[tuple[dict[str, object], str]] = [
        ({"quantity": "level", "value": 1.0, "unit": "m"}, "missing_field"),
        (reading(quantity="flow"), "unknown_quantity"),
        (reading(quantity="rain", unit="mm", interval="1h", time="2023-01-01T00:00:00Z"), "ok"),
        (reading(unit="furlong"), "bad_unit"),
        (reading(value="1.2"), "not_a_number"),
        (reading(value=True), "not_a_number"),
        (reading(time="yesterday"), "bad_time"),
        (reading(time="2023-01-01T00:00:00"), "bad_time"),
        (reading(time="2080-01-01T00:00:00Z"), "future_time"),
        (reading(time="1970-01-02T00:00:00Z"), "too_old"),
        (reading(quantity="rain", unit="mm"), "bad_interval"),
        (reading(interval="1h"), "bad_interval"),
        (reading(quantity="rain", unit="mm", interval="1h", value=-1.0), "negative_rain"),
    ]
    goods = [reading(time=f"2023-01-01T00:{m:02d}:00Z", value=float(m)) for m in range(1, 11)]
    # one gateway batch: good readings interleaved with bad ones
    batch: list[dict[str, object]] = []
    for index, (bad, _) in enumerate(bad_readings):
        batch.extend([*goods[index : index + 1], bad])
    batch.extend(goods[len(bad_readings) :])
    publish_all(client, [(topic, payload) for topic, payload, _ in bad_messages])
    publish_all(client, [(f"{prefix}/T01", json.dumps({"v": 1, "readings": batch}))])
    # a rain-only gauge does not report level
    publish_all(client, [(f"{prefix}/R1", json.dumps(good))])

    expected_rejects = len(bad_messages) + len(bad_readings) - 1 + 1
    eventually(
        lambda: env.health().get("rejected") == expected_rejects,
        message=f"all {expected_rejects} rejects counted: {env.health()}, {env.metrics()}",
    )
    eventually(lambda: env.count("level") == len(goods), message="good readings stored")
    assert env.count("rain") == 1
    store = DeadLetterStore(env.settings.deadletter_dir)
    # counted when decoded, kept when their batch is flushed: wait for the file
    letters = eventually(
        lambda: len(found := store.read_all()) == expected_rejects and found, message="all rejects kept"
    )
    reasons = sorted(letter["reason"] for letter in letters)
    wanted = sorted(
        [r for _, _, r in bad_messages] + [r for _, r in bad_readings if r != "ok"] + ["quantity_not_reported"]
    )
    assert reasons == wanted
    assert all(r in REASONS for r in reasons)
    assert all(letter["detail"] for letter in letters)
    metrics = env.metrics()
    assert 'floodwatch_ingest_rejected_total{reason="negative_rain"} 1' in metrics
    assert 'floodwatch_ingest_rejected_total{reason="bad_json"} 2' in metrics
    client.loop_stop()


def test_duplicated_and_replayed_readings_are_not_doubled(env: Env) -> None:
    """The same readings sent three times (once as a gateway batch) are stored once each."""
    env.start_ingester()
    client = publisher(env)
    prefix = env.settings.mqtt.topic_prefix
    frame = stream(200, stations=4)
    singles = [
        (
            f"{prefix}/{row.station_id}",
            json.dumps({"time": row.time, "quantity": "level", "value": row.value, "unit": "m"}),
        )
        for row in frame.itertuples()
    ]
    publish_all(client, singles)
    publish_all(client, singles)
    batch = [
        {"time": row.time, "quantity": "level", "value": row.value * 100, "unit": "cm"}
        for row in frame[frame.station_id == "T00"].itertuples()
    ]
    publish_all(client, [(f"{prefix}/T00", json.dumps({"readings": batch}))])
    eventually(lambda: env.health().get("received") == 401, message="all received")
    eventually(lambda: env.health().get("in_flight") == 0, message="all acked")
    assert env.count() == 200
    total = env.client.query("SELECT sum(value) FROM level")[0].values[0][1]
    assert total == pytest.approx(frame["value"].sum())
    client.loop_stop()

"""Several ingester processes: writers on a shared subscription, alert partitions that each own stations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.catalogue import load_catalogue
from config.tidy import read_readings
from floodwatch.replay import replay, select
from floodwatch.services import LocalServices, free_port
from ingest.pipeline import owned
from store.alerts import list_alerts
from tests.conftest import REPO, Env, eventually, write_env
from tests.predict import ladder, predicted

pytestmark = pytest.mark.services

GARONNE = REPO / "data" / "garonne-jan2022"
CATALOGUE = REPO / "config" / "catalogues" / "garonne.csv"


def test_partitions_cover_every_station_once() -> None:
    """K/N partitions split the catalogue: every station in exactly one."""
    catalogue = load_catalogue(CATALOGUE)
    parts = [set(owned(catalogue, f"{k}/3")) for k in range(3)]
    assert sorted(s for part in parts for s in part) == sorted(catalogue)
    assert all(parts)


def test_two_writers_and_two_alert_partitions_store_once_and_alert_once(
    tmp_path: Path, services: LocalServices
) -> None:
    """Writers share the stream, partitions evaluate their own stations: each reading stored once, each alert once."""
    tag = f"cluster{os.getpid()}"
    common = {"mqtt": {"topic_prefix": f"{tag}/v1/readings"}, "influx": {"database": tag}}
    roles = [
        ("w0", {"role": "write"}, {}),
        ("w1", {"role": "write"}, {}),
        ("a0", {"role": "alerts"}, {"partition": "0/2"}),
        ("a1", {"role": "alerts"}, {"partition": "1/2"}),
    ]
    envs: list[Env] = []
    try:
        for name, ingest, alerts in roles:
            mqtt = {**common["mqtt"], "client_id": f"{tag}-{name}"}
            if name.startswith("w"):
                mqtt["shared_group"] = "writers"
            (tmp_path / name).mkdir()
            env = write_env(
                tmp_path / name,
                services,
                CATALOGUE,
                mqtt=mqtt,
                influx=common["influx"],
                ingest={**ingest, "metrics_port": free_port()},
                alerts=alerts,
            )
            env.start_ingester()
            envs.append(env)
        frame = select(read_readings(GARONNE / "readings.csv.gz"), "2022-01-09", "2022-01-12", None)
        replay(frame, envs[0].settings.mqtt, speed=None, progress=False)
        eventually(lambda: envs[0].count() == len(frame), 180, message="every reading stored")
        eventually(lambda: all(e.health().get("in_flight") == 0 for e in envs), 60, message="all acknowledged")
        received = [e.health()["received"] for e in envs]
        assert received[0] > 0
        assert received[1] > 0
        assert received[0] + received[1] == len(frame)  # the shared subscription split the stream
        assert envs[0].count() == len(frame)
        catalogue = load_catalogue(CATALOGUE)
        expected = {}
        for station_id, rows in frame[frame.kind == "level"].groupby("station_id"):
            steps = ladder(catalogue[str(station_id)])
            events = predicted(rows.time_ms.tolist(), rows.value.tolist(), steps) if steps else []
            if [e for e in events if e[1] == "raised"]:
                expected[str(station_id)] = sorted(t for t, event, _ in events if event == "raised")
        alerts = [a for a in list_alerts(envs[0].client) if a.rule == "level"]
        raised: dict[str, list[int]] = {}
        for alert in alerts:
            raised.setdefault(alert.station, []).append(alert.raised_ms)
        assert {k: sorted(v) for k, v in raised.items()} == expected
        partitions = [set(owned(catalogue, f"{k}/2")) for k in range(2)]
        assert all(set(raised) & part for part in partitions)  # both partitions raised some
    finally:
        for env in envs:
            env.stop_processes()

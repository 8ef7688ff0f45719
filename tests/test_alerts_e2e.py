"""Alerts end to end on the real broker and database: predicted crossings, notifications, ack, escalation, restart."""

from __future__ import annotations

import json
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqttc
import pandas as pd
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from config.catalogue import load_catalogue
from config.settings import MqttSettings
from config.tidy import format_time, read_readings
from floodwatch.replay import replay, select
from floodwatch.services import LocalServices, free_port
from store.alerts import Alert, list_alerts
from tests.conftest import REPO, Env, eventually, write_env
from tests.predict import ladder, predicted

pytestmark = pytest.mark.services

GARONNE = REPO / "data" / "garonne-jan2022"


def stored(alerts: list[Alert], rule: str = "level") -> dict[str, list[tuple[int, str, str]]]:
    """Per station, the (time, event, level) of its alerts' histories."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for alert in sorted(alerts, key=lambda a: a.raised_ms):
        if alert.rule == rule:
            out.setdefault(alert.station, []).extend((h["time"], h["event"], h["level"]) for h in alert.history)
    return {station: sorted(events) for station, events in out.items()}


@pytest.fixture
def garonne_env(tmp_path: Path, services: LocalServices) -> Iterator[Env]:
    env = write_env(tmp_path, services, REPO / "config" / "catalogues" / "garonne.csv")
    yield env
    env.stop_processes()


def test_garonne_replay_raises_exactly_the_predicted_level_alerts_and_the_same_on_a_second_replay(
    garonne_env: Env,
) -> None:
    """Every level alert the data imply is stored at its crossing reading's time and level, and replaying adds none."""
    garonne_env.start_ingester()
    frame = select(read_readings(GARONNE / "readings.csv.gz"), "2022-01-08", "2022-01-15", None)
    replay(frame, garonne_env.settings.mqtt, speed=None, progress=False)
    eventually(lambda: garonne_env.count() == len(frame), 180, message="slice stored")
    eventually(lambda: garonne_env.health().get("in_flight") == 0, message="all acknowledged")
    catalogue = load_catalogue(REPO / "config" / "catalogues" / "garonne.csv")
    expected: dict[str, list[tuple[int, str, str]]] = {}
    for station_id, rows in frame[frame.kind == "level"].groupby("station_id"):
        steps = ladder(catalogue[str(station_id)])
        events = predicted(rows.time_ms.tolist(), rows.value.tolist(), steps) if steps else []
        if events:
            expected[str(station_id)] = events
    first = list_alerts(garonne_env.client)
    assert stored(first) == expected
    # Toulouse's demo record is its 2022 peak itself: red exactly at the peak reading, 4.306 m at 06:15Z
    reds = [t for t, event, level in expected["O200004001"] if level == "red" and event != "resolved"]
    assert reds == [pd.Timestamp("2022-01-11T06:15:00Z").value // 10**6]
    replay(frame, garonne_env.settings.mqtt, speed=None, progress=False)
    eventually(lambda: garonne_env.health().get("received") == 2 * len(frame), 180, message="replayed twice")
    eventually(lambda: garonne_env.health().get("in_flight") == 0, message="all acknowledged")
    second = list_alerts(garonne_env.client)
    assert [a.as_json() for a in second] == [a.as_json() for a in first]


class Receiver:
    """A webhook receiver on loopback that records every POST."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


CATALOGUE = """id,name_zh,name_en,kind,interval_s,warning_m,guaranteed_m,historical_max_m
W1,一号站,Station one,river,300,2.0,3.0,4.0
W2,二号站,Station two,river,300,2.0,3.0,4.0
"""


def frame_of(station: str, start_ms: int, values: list[float]) -> pd.DataFrame:
    rows = [
        (station, "level", start_ms + i * 300_000, format_time(start_ms + i * 300_000), v, "m", 0)
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["station_id", "kind", "time_ms", "time", "value", "unit", "interval_s"])


@pytest.fixture
def live(tmp_path: Path, services: LocalServices) -> Iterator[tuple[Env, Receiver]]:
    (tmp_path / "stations.csv").write_text(CATALOGUE)
    receiver = Receiver()
    env = write_env(
        tmp_path,
        services,
        tmp_path / "stations.csv",
        alerts={
            "hold_s": 0,
            "tick_s": 0.3,
            "escalate_after_s": 10,
            "forecast_horizon_s": 0,
            "channels": [
                {"kind": "webhook", "url": receiver.url, "language": "zh"},
                {"kind": "webhook", "url": receiver.url + "?escalation", "group": "escalation", "language": "en"},
            ],
        },
    )
    yield env, receiver
    env.stop_processes()
    receiver.close()


def test_webhook_gets_each_notification_once_and_unacknowledged_alerts_escalate(live: tuple[Env, Receiver]) -> None:
    """Each alert event is posted once (not again on replay); W1 acknowledged via the CLI does not escalate, W2 does."""
    env, receiver = live
    env.start_ingester()
    start = int(time.time() * 1000) - 27 * 60_000  # the last reading is current: no station goes stale
    rising = [1.0, 1.6, 2.2, 3.1, 4.2, 1.0]
    readings = pd.concat([frame_of("W1", start, rising), frame_of("W2", start, rising)], ignore_index=True)
    readings = readings.sort_values("time_ms", kind="stable").reset_index(drop=True)
    mqtt = MqttSettings(port=env.settings.mqtt.port, topic_prefix=env.settings.mqtt.topic_prefix)
    replay(readings, mqtt, speed=None, progress=False)
    eventually(lambda: env.count() == len(readings), message="stored")
    # each station: raised blue, yellow, orange, red, resolved = 5 duty posts; red rises go to escalation too
    # each station: raised blue, then yellow, orange, red, resolved: 5 duty posts; the 3 rises also to escalation
    eventually(lambda: len(receiver.posts) == 2 * (5 + 3), message="posts")
    assert not [p for p in receiver.posts if p["event"] == "escalated"]  # all resolved before 10 s
    # a second alert on each station, still firing: W1's is acknowledged, W2's is not
    replay(
        pd.concat([frame_of("W1", start + 1_800_000, [2.3]), frame_of("W2", start + 1_800_000, [2.3])]),
        mqtt,
        speed=None,
        progress=False,
    )
    firing = eventually(
        lambda: {(a.station, a.rule): a for a in list_alerts(env.client, active_only=True)}.get(("W1", "level"))
    )
    ack = subprocess.run(
        [
            sys.executable,
            "-m",
            "floodwatch.cli",
            "--config",
            str(env.path),
            "alerts",
            "ack",
            firing.id,
            "--by",
            "Wang Li",
            "--note",
            "patrol sent",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ack.returncode == 0, ack.stderr
    eventually(lambda: any(p["event"] == "escalated" for p in receiver.posts), 30, message="escalation")
    time.sleep(2)  # noqa: deliberate: let a wrong escalation of W1 show up if there is one
    escalated = {(p["station"], p["rule"]) for p in receiver.posts if p["event"] == "escalated"}
    # W1's level alert was acknowledged; its fast-rise alert and both of W2's were not
    assert escalated == {("W1", "rate"), ("W2", "level"), ("W2", "rate")}
    duty = [(p["alert_id"], p["event"], p["level"]) for p in receiver.posts if p["language"] == "zh"]
    assert len(duty) == len(set(duty))
    assert all("预警" in p["subject"] or "解除" in p["subject"] for p in receiver.posts if p["language"] == "zh")
    before = len(receiver.posts)
    replay(readings, mqtt, speed=None, progress=False)
    eventually(lambda: env.health().get("in_flight") == 0 and env.health().get("received", 0) >= 2 * len(readings) + 2)
    time.sleep(1)  # noqa: deliberate: give a duplicate notification the chance to arrive
    assert len(receiver.posts) == before
    result = subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(env.path), "alerts", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = json.loads(result.stdout)
    assert {(a["station"], a["rule"]) for a in listed if a["escalated"]} == escalated
    acked = [a for a in listed if a["acknowledged"]]
    assert [(a["station"], a["acknowledged_by"], a["note"]) for a in acked] == [("W1", "Wang Li", "patrol sent")]
    assert all(
        set(a) >= {"station", "rule", "level", "state", "raised", "acknowledged", "resolved", "value", "threshold"}
        for a in listed
    )


def test_ingester_killed_mid_pending_and_mid_firing_raises_on_time_and_once(
    tmp_path: Path, services: LocalServices
) -> None:
    """SIGKILL with an alert pending, and again while firing: the alert fires pending_s after it began, once."""
    (tmp_path / "stations.csv").write_text(CATALOGUE)
    env = write_env(
        tmp_path,
        services,
        tmp_path / "stations.csv",
        alerts={"pending_s": 1200, "blue_margin_m": 0.0, "forecast_horizon_s": 0},
    )
    mqtt = MqttSettings(port=env.settings.mqtt.port, topic_prefix=env.settings.mqtt.topic_prefix)
    start = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000

    def send(offset: int, values: list[float]) -> None:
        replay(frame_of("W1", start + offset * 300_000, values), mqtt, speed=None, progress=False)
        eventually(lambda: env.count(where=" AND station = 'W1'") >= offset + len(values), message="stored")

    try:
        first = env.start_ingester()
        send(0, [1.0, 2.2, 2.3])  # pending since reading 1
        first.kill()
        first.wait()
        second = env.start_ingester()
        send(3, [2.3, 2.4])  # 15 min since reading 1: still pending
        assert [a for a in list_alerts(env.client) if a.rule == "level"] == []
        send(5, [2.4])  # 20 min: fires
        raised = eventually(lambda: [a for a in list_alerts(env.client) if a.rule == "level"])
        assert [(a.raised_ms - start) // 300_000 for a in raised] == [5]
        second.kill()
        second.wait()
        env.start_ingester()
        send(6, [2.5, 2.45])
        eventually(lambda: env.health().get("in_flight") == 0, message="acknowledged")
        alerts = [a for a in list_alerts(env.client) if a.rule == "level"]
        assert [(a.id, a.state, a.level) for a in alerts] == [(raised[0].id, "firing", "yellow")]
    finally:
        env.stop_processes()


class SmtpServer:
    """A minimal SMTP server on loopback that keeps every message it is given."""

    def __init__(self) -> None:
        self.mails: list[bytes] = []
        mails = self.mails

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test\r\n")
                body: list[bytes] | None = None
                while line := self.rfile.readline():
                    if body is not None:
                        if line == b".\r\n":
                            mails.append(b"".join(body))
                            body = None
                            self.wfile.write(b"250 queued\r\n")
                        else:
                            body.append(line)
                    elif line[:4].upper() == b"DATA":
                        body = []
                        self.wfile.write(b"354 go on\r\n")
                    elif line[:4].upper() == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_email_channel_and_retained_alert_state(tmp_path: Path, services: LocalServices) -> None:
    """An alert is mailed in English through SMTP, and the station's state stays retained on its MQTT topic."""
    (tmp_path / "stations.csv").write_text(CATALOGUE)
    smtp = SmtpServer()
    env = write_env(
        tmp_path,
        services,
        tmp_path / "stations.csv",
        alerts={
            "blue_margin_m": 0.0,
            "forecast_horizon_s": 0,
            "channels": [
                {
                    "kind": "email",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp.port,
                    "sender": "fw@test",
                    "to": ["duty@test"],
                    "language": "en",
                }
            ],
        },
    )
    try:
        env.start_ingester()
        now = int(time.time() * 1000)
        mqtt = MqttSettings(port=env.settings.mqtt.port, topic_prefix=env.settings.mqtt.topic_prefix)
        replay(frame_of("W1", now - 300_000, [1.0, 2.4]), mqtt, speed=None, progress=False)
        mail = eventually(lambda: smtp.mails and smtp.mails[0].decode(), message="a mail").replace("\r\n", "\n")
        assert "Subject: [YELLOW] Station one: water level" in mail
        assert "2.40 m" in mail
        retained: list[dict[str, Any]] = []
        watcher = mqttc.Client(CallbackAPIVersion.VERSION2, protocol=mqttc.MQTTv5)
        watcher.on_message = lambda _c, _u, m: retained.append({"retain": m.retain, **json.loads(m.payload)})
        watcher.connect("127.0.0.1", env.settings.mqtt.port)
        watcher.subscribe(f"{env.settings.alerts.state_topic}/W1", qos=1)
        watcher.loop_start()
        try:
            state = eventually(lambda: retained and retained[-1], message="retained state")
        finally:
            watcher.loop_stop()
            watcher.disconnect()
        assert state["retain"] is True
        assert (state["station"], state["level"]) == ("W1", "yellow")
        assert [a["rule"] for a in state["alerts"] if a["state"] == "firing"] == ["level"]
    finally:
        env.stop_processes()
        smtp.close()


def test_event_stored_but_not_notified_before_a_crash_is_notified_at_restart_once(
    tmp_path: Path, services: LocalServices
) -> None:
    """An alert event in InfluxDB with no recorded delivery is sent when the ingester starts, and only once."""
    (tmp_path / "stations.csv").write_text(CATALOGUE)
    receiver = Receiver()
    env = write_env(
        tmp_path,
        services,
        tmp_path / "stations.csv",
        alerts={"channels": [{"kind": "webhook", "url": receiver.url, "language": "en"}]},
    )
    try:
        env.client.create_database()
        now = int(time.time() * 1000)
        env.client.write(
            f'alert_event,event=raised,rule=level,station=W1 alert_id="W1/level/{now}",level="yellow",value=2.4,'
            f'threshold=2.0,reason="water level 2.40 m",muted=false,arrival_ms={now},superseded=false {now}'.encode()
        )
        first = env.start_ingester()
        eventually(lambda: receiver.posts, message="the lost notification sent")
        first.terminate()
        first.wait()
        env.start_ingester()
        time.sleep(1)  # noqa: deliberate: a second, wrong delivery would arrive by now
        assert [(p["alert_id"], p["event"]) for p in receiver.posts] == [(f"W1/level/{now}", "raised")]
    finally:
        env.stop_processes()
        receiver.close()


def test_restart_with_alert_transitions_still_in_the_spool_raises_nothing_twice(
    tmp_path: Path, own_services: LocalServices
) -> None:
    """An alert raised while InfluxDB is down sits in the spool; after SIGKILL and restart it is not raised again."""
    (tmp_path / "stations.csv").write_text(CATALOGUE)
    env = write_env(
        tmp_path, own_services, tmp_path / "stations.csv", alerts={"blue_margin_m": 0.0, "forecast_horizon_s": 0}
    )
    mqtt = MqttSettings(port=env.settings.mqtt.port, topic_prefix=env.settings.mqtt.topic_prefix)
    start = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000
    try:
        first = env.start_ingester()
        replay(frame_of("W1", start, [1.0]), mqtt, speed=None, progress=False)
        eventually(lambda: env.count(where=" AND station = 'W1'") == 1, message="first reading stored")
        own_services.influxdb.kill()
        replay(frame_of("W1", start + 300_000, [2.2, 2.3]), mqtt, speed=None, progress=False)
        eventually(
            lambda: env.health().get("spooled", 0) > 0 and env.health().get("in_flight") == 0,
            message="the raise spooled",
        )
        first.kill()
        first.wait()
        own_services.influxdb.start()
        env.start_ingester()
        replay(frame_of("W1", start + 900_000, [2.4]), mqtt, speed=None, progress=False)
        eventually(lambda: env.count(where=" AND station = 'W1'") == 4, message="all stored")
        eventually(lambda: env.health().get("in_flight") == 0, message="acknowledged")
        raised = [a for a in list_alerts(env.client) if a.rule == "level"]
        assert [(a.raised_ms - start) // 300_000 for a in raised] == [1]
    finally:
        env.stop_processes()

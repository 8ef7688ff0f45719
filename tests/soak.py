"""Soak run: the city's storm load for a while, with faults on a schedule, then a count of everything.

    .venv/bin/python -m tests.soak --minutes 120            # the long run (a report at the end)
    .venv/bin/python -m tests.soak --minutes 10 --json FILE  # the variant the test suite runs

Loopback only, bounded in time. 525 real stations of the one-map catalogue report every minute
(storm load: ~8.8 readings/s), their levels swinging across their warning stages. On a schedule:
the broker is restarted, InfluxDB is SIGKILLed for 30 s, the ingester is SIGKILLed and restarted,
a gateway goes silent then sends its whole backlog at once (late data, in batches), and a station
sends garbage. At the end the report says: every accepted reading stored exactly once, every level
alert the data imply raised once (computed independently from the published readings), the
garbage all rejected with reasons, and the ingester's memory flat.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from config.catalogue import Catalogue, load_catalogue
from config.settings import load_settings
from floodwatch.services import LocalServices, free_port
from store.alerts import list_alerts
from store.influx import InfluxClient
from tests.hostile import hostile
from tests.predict import ladder, predicted

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "config" / "catalogues" / "onemap_uk_525.csv"
PREFIX = "floodwatch/v1/readings"


@dataclass
class Soak:
    """One soak run's processes, publishers and books."""

    minutes: float
    root: Path
    catalogue: Catalogue = field(init=False)
    published: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    garbage: int = 0
    rss: list[tuple[float, int]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.catalogue = load_catalogue(CATALOGUE)
        self.config = self.root / "floodwatch.toml"
        self.config.write_text(
            f'var_dir = "{self.root / "var"}"\ncatalogue = "{CATALOGUE}"\n'
            f'[mqtt]\nport = {free_port()}\nclient_id = "soak-ingester"\n'
            f'[influx]\nurl = "http://127.0.0.1:{free_port()}"\n'
            f"[services]\ninflux_rpc_port = {free_port()}\n"
            f"[ingest]\nmetrics_port = {free_port()}\nretry_max_s = 2.0\n"
            "[alerts]\nforecast_horizon_s = 0\n"
        )
        self.settings = load_settings(self.config)
        self.services = LocalServices(self.settings)
        self.levels = [s for s in self.catalogue.values() if "level" in s.quantities and s.warning_m is not None]
        self.gateway = {s.id for s in self.levels[:20]}  # these 20 go through a gateway that goes silent
        self.buffer: list[tuple[str, dict[str, Any]]] = []
        self.buffering = False
        self.ingester: subprocess.Popen[bytes] | None = None

    def note(self, text: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")
        print(self.log[-1], flush=True)

    # -- processes --------------------------------------------------------------------------------
    def start_ingester(self) -> None:
        with (self.root / "ingest.log").open("ab") as log:
            self.ingester = subprocess.Popen(
                [sys.executable, "-m", "floodwatch.cli", "--config", str(self.config), "ingest"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ingester_rss(self) -> int:
        assert self.ingester is not None
        status = Path(f"/proc/{self.ingester.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) * 1024

    # -- the load ---------------------------------------------------------------------------------
    def value(self, station_index: int, minute: int) -> float:
        station = self.levels[station_index]
        assert station.warning_m is not None
        phase = station_index * 0.7
        swing = math.sin(2 * math.pi * minute / 37 + phase)  # a wave every 37 minutes
        return round(station.warning_m * (0.75 + 0.4 * swing), 3)

    def publish_loop(self, client: mqtt.Client, end: float, slots: threading.Semaphore) -> None:
        start_minute = int(time.time() // 60)
        sent_upto = start_minute - 1
        while time.time() < end:
            minute = int(time.time() // 60)
            if minute > sent_upto:
                for index, station in enumerate(self.levels):
                    reading = {
                        "time": minute * 60,
                        "quantity": "level",
                        "value": self.value(index, minute),
                        "unit": "m",
                    }
                    self.published.setdefault(station.id, []).append((minute * 60_000, float(reading["value"])))
                    if self.buffering and station.id in self.gateway:
                        self.buffer.append((station.id, reading))
                        continue
                    slots.acquire()
                    client.publish(f"{PREFIX}/{station.id}", json.dumps(reading), qos=1)
                sent_upto = minute
            time.sleep(0.5)

    def flush_gateway(self, client: mqtt.Client, slots: threading.Semaphore) -> None:
        by_station: dict[str, list[dict[str, Any]]] = {}
        for station, reading in self.buffer:
            by_station.setdefault(station, []).append(reading)
        for station, readings in by_station.items():
            for start in range(0, len(readings), 50):
                slots.acquire()
                client.publish(
                    f"{PREFIX}/{station}", json.dumps({"v": 1, "readings": readings[start : start + 50]}), qos=1
                )
        self.note(f"gateway sent its backlog: {len(self.buffer)} readings of {len(by_station)} stations")
        self.buffer.clear()

    def send_garbage(self, client: mqtt.Client, slots: threading.Semaphore, count: int) -> None:
        rng = random.Random(3)
        for _ in range(count):
            topic, payload = hostile(rng, PREFIX)
            slots.acquire()
            client.publish(topic, payload, qos=1)
        self.garbage += count
        self.note(f"a station sent {count} garbage messages")

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.services.start()
        self.start_ingester()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="soak-stations", protocol=mqtt.MQTTv5)
        slots = threading.Semaphore(2000)
        client.on_publish = lambda *_: slots.release()
        client.max_inflight_messages_set(2000)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(1, 5)
        time.sleep(3)
        client.connect("127.0.0.1", self.settings.mqtt.port)
        client.loop_start()
        started = time.time()
        end = started + self.minutes * 60
        loop = threading.Thread(target=self.publish_loop, args=(client, end, slots), daemon=True)
        loop.start()
        span = self.minutes * 60
        schedule = [
            (0.15, "broker"),
            (0.30, "influx"),
            (0.45, "ingester"),
            (0.50, "gateway-off"),
            (0.70, "gateway-on"),
            (0.80, "garbage"),
        ]
        for fraction, fault in schedule:
            while time.time() < started + fraction * span:
                self.rss.append((time.time() - started, self.ingester_rss()))
                time.sleep(5)
            self.fault(fault, client, slots)
        while time.time() < end:
            self.rss.append((time.time() - started, self.ingester_rss()))
            time.sleep(5)
        loop.join()
        for _ in range(2000):  # every message acknowledged by the broker
            slots.acquire()
        client.loop_stop()
        client.disconnect()
        return self.report()

    def fault(self, fault: str, client: mqtt.Client, slots: threading.Semaphore) -> None:
        if fault == "broker":
            self.services.mosquitto.stop()
            self.services.mosquitto.start()
            self.note("broker restarted")
        elif fault == "influx":
            self.services.influxdb.kill()
            self.note("InfluxDB killed (SIGKILL) for 30 s")
            time.sleep(30)
            self.services.influxdb.start()
            self.note("InfluxDB back")
        elif fault == "ingester":
            assert self.ingester is not None
            self.ingester.kill()
            self.ingester.wait()
            self.start_ingester()
            self.note("ingester killed (SIGKILL) and restarted")
        elif fault == "gateway-off":
            self.buffering = True
            self.note(f"gateway of {len(self.gateway)} stations silent, buffering")
        elif fault == "gateway-on":
            self.buffering = False
            self.flush_gateway(client, slots)
        elif fault == "garbage":
            self.send_garbage(client, slots, 2000)

    def metrics(self) -> dict[str, Any]:
        import urllib.request

        url = f"http://127.0.0.1:{self.settings.ingest.metrics_port}/health"
        with urllib.request.urlopen(url, timeout=5) as response:
            return dict(json.loads(response.read()))

    def report(self) -> dict[str, Any]:
        client = InfluxClient(self.settings.influx)
        expected = sum(len(v) for v in self.published.values())
        deadline = time.time() + 300
        stored = 0
        while time.time() < deadline:
            try:
                stored = sum(int(s.values[0][1]) for s in client.query("SELECT count(value) FROM level"))
                health = self.metrics()
            except Exception:  # noqa: BLE001 - keep waiting while a service comes back
                time.sleep(1)
                continue
            if stored >= expected and health["in_flight"] == 0 and health["spool_bytes"] == 0:
                break
            time.sleep(1)
        time.sleep(2)
        health = self.metrics()
        alerts = [a for a in list_alerts(client) if a.rule == "level"]
        raised: dict[str, list[int]] = {}
        for alert in alerts:
            raised.setdefault(alert.station, []).append(alert.raised_ms)
        implied: dict[str, list[int]] = {}
        for station_id, series in self.published.items():
            series.sort()
            events = predicted([t for t, _ in series], [v for _, v in series], ladder(self.catalogue[station_id]))
            implied_raised = [t for t, event, _ in events if event == "raised"]
            if implied_raised:
                implied[station_id] = implied_raised
        warm = [r for t, r in self.rss if t > 60]
        fifth = max(1, len(warm) // 5)
        first, last = sum(warm[:fifth]) / fifth, sum(warm[-fifth:]) / fifth
        result = {
            "minutes": self.minutes,
            "readings_published": expected,
            "readings_stored": stored,
            "stored_exactly_once": stored == expected,
            "alerts_implied": sum(len(v) for v in implied.values()),
            "alerts_raised": sum(len(v) for v in raised.values()),
            "alerts_match": {k: sorted(v) for k, v in raised.items()} == implied,
            "garbage_sent": self.garbage,
            "rejected": health["rejected"],
            "garbage_all_rejected": health["rejected"] == self.garbage,
            "ingester_rss_mb_first_fifth": round(first / 2**20, 1),
            "ingester_rss_mb_last_fifth": round(last / 2**20, 1),
            "memory_flat": last - first < max(30 * 2**20, 0.25 * first),
            "faults": self.log,
        }
        result["alert_differences"] = {
            station: {"raised": sorted(raised.get(station, [])), "implied": implied.get(station, [])}
            for station in sorted(set(raised) | set(implied))
            if sorted(raised.get(station, [])) != implied.get(station, [])
        }
        result["ok"] = all(
            result[k] for k in ("stored_exactly_once", "alerts_match", "garbage_all_rejected", "memory_flat")
        )
        return result

    def stop(self) -> None:
        if self.ingester is not None and self.ingester.poll() is None:
            self.ingester.terminate()
            try:
                self.ingester.wait(30)
            except subprocess.TimeoutExpired:
                self.ingester.kill()
                self.ingester.wait()
        self.services.stop()


def soak(minutes: float, root: Path) -> dict[str, Any]:
    """Run a soak of ``minutes`` with state under ``root``; returns the report."""
    run = Soak(minutes, root)
    try:
        return run.run()
    finally:
        run.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args()
    result = soak(args.minutes, Path(tempfile.mkdtemp(prefix="fw-soak-")))
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

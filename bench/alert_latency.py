"""Alert latency at a steady publish rate: from a reading's publish to its alert event being stored.

Usage: .venv/bin/python bench/alert_latency.py [--rate 1000] [--seconds 60] [--stations 200]

Starts its own Mosquitto and InfluxDB (free loopback ports, temporary folder) and the ingester.
Publishes `rate` level readings per second (QoS 1) round-robin over `stations` stations whose
level crosses the warning stage every 10 readings, so about a tenth of the readings raise or
resolve an alert. The ingester publishes a station's retained alert state right after the batch
holding the reading and its alert event is written to InfluxDB, so the time from publish to that
state message (carrying the reading's device time) is the publish -> stored-alert latency.
Prints p50, p99 and max with the achieved rate, and the ingester's CPU and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.replay_throughput import proc_stats  # noqa: E402
from config.settings import load_settings  # noqa: E402
from floodwatch.replay import Publisher  # noqa: E402
from floodwatch.services import LocalServices, free_port  # noqa: E402
from store.influx import InfluxClient  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--stations", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fw-latency-"))
    catalogue = root / "stations.csv"
    catalogue.write_text(
        "id,name_en,kind,interval_s,warning_m,guaranteed_m,historical_max_m\n"
        + "".join(f"B{i:04d},Bench {i},river,60,2.0,3.0,4.0\n" for i in range(args.stations))
    )
    config = root / "floodwatch.toml"
    config.write_text(
        f'var_dir = "{root / "var"}"\ncatalogue = "{catalogue}"\n'
        f'[mqtt]\nport = {free_port()}\n[influx]\nurl = "http://127.0.0.1:{free_port()}"\n'
        f"[services]\ninflux_rpc_port = {free_port()}\n[ingest]\nmetrics_port = {free_port()}\n"
        "[alerts]\nhold_s = 0\nblue_margin_m = 0.0\nforecast_horizon_s = 0\nrate_m_per_h = 100000.0\n"
    )
    settings = load_settings(config)
    services = LocalServices(settings)
    services.start()
    ingester = subprocess.Popen(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(config), "ingest"], stderr=subprocess.DEVNULL
    )
    published: dict[tuple[str, int], float] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        state = json.loads(message.payload)
        with lock:
            sent = published.get((state["station"], state["time"]))
        if sent is not None and not message.retain:
            latencies.append(now - sent)

    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = on_message
    watcher.connect("127.0.0.1", settings.mqtt.port)
    watcher.subscribe(f"{settings.alerts.state_topic}/#", qos=0)
    watcher.loop_start()
    publisher = Publisher(settings.mqtt, max_in_flight=2000)
    try:
        time.sleep(3)
        publisher.connect()
        count = int(args.rate * args.seconds)
        started = time.monotonic()
        for k in range(count):
            due = started + k / args.rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            station = f"B{k % args.stations:04d}"
            turn = k // args.stations
            value = 2.5 if (turn // 10) % 2 else 1.0
            device_ms = int(time.time() * 1000)
            payload = json.dumps({"time": device_ms / 1000, "quantity": "level", "value": value, "unit": "m"})
            with lock:
                published[(station, device_ms)] = time.time()
            publisher.publish(f"{settings.mqtt.topic_prefix}/{station}", payload.encode())
        elapsed = time.monotonic() - started
        publisher.drain(2000)
        client = InfluxClient(settings.influx)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stored = sum(int(s.values[0][1]) for s in client.query("SELECT count(value) FROM level"))
            if stored >= count:
                break
            time.sleep(0.2)
        time.sleep(1)
        events = sum(int(s.values[0][1]) for s in client.query("SELECT count(level) FROM alert_event"))
        cpu, peak = proc_stats(ingester.pid)
    finally:
        publisher.close()
        watcher.loop_stop()
        ingester.terminate()
        ingester.wait(30)
        services.stop()
    ms = [x * 1000 for x in latencies]
    result = {
        "readings": count,
        "achieved_rate": count / elapsed,
        "stored": stored,
        "alert_events_stored": events,
        "latency_samples": len(ms),
        "alert_latency_ms_p50": statistics.median(ms),
        "alert_latency_ms_p99": percentile(ms, 0.99),
        "alert_latency_ms_max": max(ms),
        "ingester_cpu_s_per_1000": cpu / count * 1000,
        "ingester_peak_rss_mb": peak / 2**20,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

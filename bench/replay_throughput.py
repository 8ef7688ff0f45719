"""Readings per second through ``floodwatch replay --speed max`` into InfluxDB, on services of its own.

Usage: .venv/bin/python bench/replay_throughput.py [DATASET] [--runs N]

Starts Mosquitto and InfluxDB on free loopback ports (state in a temporary folder), the ingester as
a process, then per run: a fresh database, the replay timed from start to the last reading stored.
Prints the publish rate, the end-to-end rate (median and spread over the runs) and the ingester's
CPU time and peak RSS. The full benchmark suite is issue 6 (`floodwatch bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config.settings import load_settings  # noqa: E402
from config.tidy import find_readings, read_readings  # noqa: E402
from floodwatch.services import LocalServices, free_port  # noqa: E402
from store.influx import InfluxClient  # noqa: E402


def proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds, peak RSS bytes) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    return cpu, peak * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?", type=Path, default=REPO / "data" / "garonne-jan2022")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    expected = len(read_readings(find_readings(args.dataset)))
    root = Path(tempfile.mkdtemp(prefix="fw-bench-"))
    config = root / "floodwatch.toml"
    metrics_port = free_port()
    config.write_text(
        f'var_dir = "{root / "var"}"\ncatalogue = "{REPO / "config" / "catalogues" / "garonne.csv"}"\n'
        f'[mqtt]\nport = {free_port()}\n[influx]\nurl = "http://127.0.0.1:{free_port()}"\n'
        f"[services]\ninflux_rpc_port = {free_port()}\n[ingest]\nmetrics_port = {metrics_port}\n"
    )
    settings = load_settings(config)
    services = LocalServices(settings)
    services.start()
    floodwatch = [sys.executable, "-m", "floodwatch.cli", "--config", str(config)]
    client = InfluxClient(settings.influx)
    ingester = subprocess.Popen([*floodwatch, "ingest"], stderr=subprocess.DEVNULL)
    publish_rates, e2e_rates = [], []
    try:
        time.sleep(2)
        for run in range(args.runs):
            client.query(f'DROP DATABASE "{settings.influx.database}"', method="POST")
            client.create_database()
            started = time.monotonic()
            out = subprocess.run(
                [*floodwatch, "replay", str(args.dataset), "--speed", "max", "--no-progress"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            published = time.monotonic() - started
            while True:
                series = client.query("SELECT count(value) FROM level, rain")
                stored = sum(int(s.values[0][1]) for s in series)
                if stored >= expected:
                    break
                time.sleep(0.05)
            total = time.monotonic() - started
            publish_rates.append(expected / published)
            e2e_rates.append(expected / total)
            print(
                f"run {run + 1}: {out.strip()} | all {stored} stored after {total:.1f} s "
                f"({expected / total:,.0f} readings/s end to end)"
            )
        cpu, peak = proc_stats(ingester.pid)
    finally:
        ingester.terminate()
        ingester.wait(30)
        services.stop()
    result = {
        "readings": expected,
        "runs": args.runs,
        "publish_rate_median": statistics.median(publish_rates),
        "end_to_end_rate_median": statistics.median(e2e_rates),
        "end_to_end_rate_min": min(e2e_rates),
        "end_to_end_rate_max": max(e2e_rates),
        "ingester_cpu_s_per_1000": cpu / (expected * args.runs) * 1000,
        "ingester_peak_rss_mb": peak / 2**20,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

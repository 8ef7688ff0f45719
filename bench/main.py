"""One benchmark session: start the services, run the chosen sections, print the table, write JSON."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from bench.alerts import latency
from bench.dashboard import memory, page_load, refresh
from bench.export import exports, history_draw
from bench.harness import Harness, settle
from bench.ingest import catchup, throughput
from bench.query import queries
from bench.report import Figure, Report
from bench.scale import SCALES, Scale

Section = Callable[[Harness, Scale, Report], None]
#: a one-minute load average above this after a section: the machine was not ours alone (2 cores:
#: the benchmark itself keeps it near 2)
BUSY = 2.5

SECTIONS: dict[str, list[Section]] = {
    "ingest": [throughput, catchup],
    "alerts": [latency],
    "query": [queries],
    "dashboard": [refresh, page_load, memory],
}
#: sections run only when named: `export` writes and reads a million readings (several minutes), which
#: `all --quick` (under 10 minutes) cannot hold
ON_REQUEST: dict[str, list[Section]] = {"export": [exports, history_draw]}


def bench(target: str, scale_name: str, json_path: Path | None) -> int:
    """Run ``target`` (a section or ``all``) at ``scale_name``; returns the exit status."""
    scale = SCALES[scale_name]
    report = Report(quick=scale.name != "full")
    sections = [s for name, group in SECTIONS.items() if target in (name, "all") for s in group]
    sections += ON_REQUEST.get(target, [])
    # SIGTERM stops the run like Ctrl-C: the harness still stops every process it started
    signal.signal(signal.SIGTERM, _interrupted)
    harness = Harness()
    print(f"floodwatch bench {target} ({scale.name}): services in {harness.root}", flush=True)
    started = time.monotonic()
    status = 0
    try:
        harness.start()
        for section in sections:
            name = f"{section.__module__.rsplit('.', 1)[-1]}.{section.__name__}"
            print(f"{name} ...", flush=True)
            # InfluxDB may still be compacting or deleting what the previous section wrote and dropped
            settle(harness.service_pid("influxdb"), 120)
            try:
                section(harness, scale, report)
            except Exception as exc:  # noqa: BLE001 - reported in the table; the other sections still run
                status = 1
                report.add(Figure(section.__module__, name, "", None, "", None, note=f"not measured: failed: {exc}"))
            load = os.getloadavg()[0]
            if load > BUSY:
                report.note(
                    f"{name} ended with a load average of {load:.1f} on {os.cpu_count()} cores: other processes "
                    "were running on this machine, so its figures are pessimistic"
                )
    finally:
        harness.close()
    print()
    print(report.table())
    for note in report.notes:
        print(f"- {note}")
    print(f"\n{scale.name} run: {time.monotonic() - started:.0f} s")
    if json_path is not None:
        report.write_json(json_path)
        print(f"JSON: {json_path}")
    return status


def _interrupted(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt

"""One benchmark session: start the services, run the chosen sections, print the table, write JSON."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.alerts import latency
from bench.dashboard import memory, page_load, refresh
from bench.harness import Harness
from bench.ingest import catchup, throughput
from bench.query import queries
from bench.report import Report
from bench.scale import SCALES, Scale

Section = Callable[[Harness, Scale, Report], None]

SECTIONS: dict[str, list[Section]] = {
    "ingest": [throughput, catchup],
    "alerts": [latency],
    "query": [queries],
    "dashboard": [refresh, page_load, memory],
}


def bench(target: str, scale_name: str, json_path: Path | None) -> int:
    """Run ``target`` (a section or ``all``) at ``scale_name``; returns the exit status."""
    scale = SCALES[scale_name]
    report = Report(quick=scale.name != "full")
    sections = [s for name, group in SECTIONS.items() if target in (name, "all") for s in group]
    harness = Harness()
    print(f"floodwatch bench {target} ({scale.name}): services in {harness.root}", flush=True)
    started = time.monotonic()
    try:
        harness.start()
        for section in sections:
            print(f"{section.__module__.rsplit('.', 1)[-1]}.{section.__name__} ...", flush=True)
            section(harness, scale, report)
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
    return 0

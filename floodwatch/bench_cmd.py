"""``floodwatch bench``: measure every hot path beside its ceiling, on services of its own."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch bench``."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmarks: each figure beside a ceiling or baseline measured in the same run",
        description="Start Mosquitto and InfluxDB on free loopback ports (state in a temporary folder), "
        "measure, print a table and optionally write JSON. Each figure is the median of repeated runs "
        "with its spread, beside a ceiling or baseline measured in the same run, as a ratio. Examples:\n"
        "  floodwatch bench all --quick --json bench.json   (under 10 minutes on 2 cores)\n"
        "  floodwatch bench ingest                          (the full ingest figures)\n"
        "  floodwatch bench export                          (history export of 1M readings and the explorer's "
        "draw; not part of all)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        nargs="?",
        default="all",
        choices=("ingest", "alerts", "query", "dashboard", "export", "all"),
        help="what to measure (default all: every section but export)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller and fewer runs (says what was scaled)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    # the test suite's scale: every code path in seconds; figures meaningless
    parser.add_argument("--toy", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch bench``."""
    from bench.main import bench  # noqa: PLC0415 - heavy (pandas, dash); only this command needs it

    scale = "toy" if args.toy else "quick" if args.quick else "full"
    return bench(args.target, scale, args.json)

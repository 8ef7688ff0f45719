"""``floodwatch ingest``: run the ingester until interrupted."""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from config.catalogue import load_catalogue
from floodwatch.args import settings_from
from floodwatch.errors import UserError
from ingest.pipeline import Ingester
from ingest.transport import StartupError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch ingest``."""
    parser = subparsers.add_parser(
        "ingest",
        help="run the ingester: MQTT readings -> validation -> InfluxDB",
        description="Subscribe to PREFIX/# (mqtt.topic_prefix) with QoS 1 and a persistent session, validate "
        "each reading against the station catalogue, write them to InfluxDB in batches, keep rejects "
        "with their reason in var/deadletter/ and serve counters on http://HOST:PORT/metrics "
        "(ingest.metrics_host/port). SIGINT or SIGTERM stops it after the current batch.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the ingester until SIGINT/SIGTERM."""
    settings = settings_from(args)
    ingester = Ingester(settings, load_catalogue(settings.catalogue))

    def stop(_signum: int, _frame: FrameType | None) -> None:
        ingester.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        ingester.run()
    except StartupError as exc:
        raise UserError(f"ingester cannot start: {exc}") from exc
    return 0

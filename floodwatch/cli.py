"""The ``floodwatch`` command: one front door, each sub-command in its own module.

Each command module has ``register(subparsers)``, which adds its parser and sets ``func`` to a
``run(args) -> int``. Configuration errors become one message and exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from config.errors import ConfigError
from config.settings import CONFIG_ENV
from floodwatch.errors import UserError

COMMANDS = (
    "floodwatch.services",
    "floodwatch.ingest_cmd",
    "floodwatch.replay",
    "floodwatch.export",
    "floodwatch.catalogue_cmd",
    "floodwatch.dashboard_cmd",
    "floodwatch.up",
    "floodwatch.settings_cmd",
    "floodwatch.alerts_cmd",
)

EPILOG = """\
Start here:
  floodwatch up                      services, ingester, dashboard and the Garonne 2022 replay
  floodwatch services start|stop|status
  floodwatch ingest                  run the ingester (MQTT -> InfluxDB)
  floodwatch replay DIR --speed max  publish a tidy dataset as its stations would
  floodwatch export --out FILE.csv   readings back out as tidy CSV (SI units)

Settings come from --config FILE, else $FLOODWATCH_CONFIG, else built-in defaults;
secrets only from the environment (FLOODWATCH_MQTT_PASSWORD, FLOODWATCH_INFLUX_TOKEN, ...).
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="floodwatch",
        description="Flood monitoring: stations -> MQTT -> ingester -> InfluxDB -> alerts -> dashboard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="FILE", help=f"settings TOML file (default: ${CONFIG_ENV} or built-ins)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"floodwatch: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"floodwatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

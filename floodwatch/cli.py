"""The ``floodwatch`` command: one front door, each sub-command in its own module.

Each command module has ``register(subparsers)``, which adds its parser and sets ``func`` to a
``run(args) -> int``. Configuration errors become one message and exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Sequence

from config.errors import ConfigError
from config.settings import CONFIG_ENV
from floodwatch.errors import UserError

#: command -> module; only the invoked command's module is imported (the ingester does not load pandas)
COMMANDS = {
    "services": "floodwatch.services",
    "ingest": "floodwatch.ingest_cmd",
    "replay": "floodwatch.replay",
    "export": "floodwatch.export",
    "catalogue": "floodwatch.catalogue_cmd",
    "dashboard": "floodwatch.dashboard_cmd",
    "up": "floodwatch.up",
    "settings": "floodwatch.settings_cmd",
    "alerts": "floodwatch.alerts_cmd",
    "bench": "floodwatch.bench_cmd",
    "doctor": "floodwatch.doctor",
    "backup": "floodwatch.backup",
    "restore": "floodwatch.backup",
    "users": "floodwatch.users_cmd",
}

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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, with ``command`` registered (every command when None)."""
    parser = argparse.ArgumentParser(
        prog="floodwatch",
        description="Flood monitoring: stations -> MQTT -> ingester -> InfluxDB -> alerts -> dashboard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="FILE", help=f"settings TOML file (default: ${CONFIG_ENV} or built-ins)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = {module for name, module in COMMANDS.items() if command in (None, name)}
    for module in dict.fromkeys(COMMANDS.values()):  # a module may register several commands
        if module in wanted:
            importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # `floodwatch export | head` should end quietly, not with a BrokenPipeError traceback
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    words = list(sys.argv[1:] if argv is None else argv)
    values = {i + 1 for i, w in enumerate(words) if w == "--config"}  # a settings file named like a command
    parser = build_parser(next((w for i, w in enumerate(words) if w in COMMANDS and i not in values), None))
    args = parser.parse_args(words)
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

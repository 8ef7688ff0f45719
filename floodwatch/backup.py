"""``floodwatch backup DIR`` and ``floodwatch restore DIR``: InfluxDB and the configuration.

The database goes through ``influxd backup -portable`` (restorable into InfluxDB OSS 1.x or
Enterprise) over the server's backup/RPC port (``services.influx_rpc_port`` for the local one, or
``--host`` for another 1.x server: run this on a machine that reaches it). The settings file, the
station catalogue and the alert tables are copied beside it, with a manifest. Restore loads the
database (refusing to overwrite an existing one unless ``--as NEWNAME``) and prints where the
configuration files are; it never overwrites them. For InfluxDB 2.x/3.x use their own backup tools.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

from config.settings import Settings
from floodwatch.args import settings_from
from floodwatch.errors import UserError


def _files(settings: Settings, config: Path | None) -> list[Path]:
    candidates = [config, settings.catalogue, settings.alerts.critical_rain, settings.alerts.flood_limits]
    return [p for p in candidates if p is not None and p.is_file()]


def _influxd(settings: Settings, *args: str) -> None:
    command = [settings.services.influxd_bin, *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    except FileNotFoundError as exc:
        raise UserError(f"{settings.services.influxd_bin} is not installed (Debian package influxdb)") from exc
    if result.returncode != 0:
        raise UserError(f"{' '.join(command[:2])} failed:\n{(result.stderr or result.stdout).strip()[-1500:]}")


def backup(settings: Settings, target: Path, *, host: str, config: Path | None) -> dict[str, object]:
    """Back up the database and the configuration into ``target`` (which must not exist yet)."""
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target} is not empty: give a new folder for each backup")
    (target / "config").mkdir(parents=True, exist_ok=True)
    _influxd(settings, "backup", "-portable", "-host", host, "-db", settings.influx.database, str(target / "influx"))
    copied = []
    for path in _files(settings, config):
        shutil.copy2(path, target / "config" / path.name)
        copied.append(path.name)
    manifest: dict[str, object] = {
        "database": settings.influx.database,
        "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": copied,
        "host": host,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def restore(settings: Settings, source: Path, *, host: str, new_name: str | None) -> str:
    """Restore the database of a backup; returns the database name it now has."""
    try:
        manifest = json.loads((source / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{source} is not a floodwatch backup (no readable manifest.json)") from exc
    database = str(manifest["database"])
    args = ["restore", "-portable", "-host", host, "-db", database]
    if new_name:
        args += ["-newdb", new_name]
    _influxd(settings, *args, str(source / "influx"))
    return new_name or database


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch backup`` and ``floodwatch restore``."""
    for name, text in (
        ("backup", "back up InfluxDB and the configuration"),
        ("restore", "restore a backup made by floodwatch backup"),
    ):
        parser = subparsers.add_parser(
            name, help=text, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        parser.add_argument("folder", type=Path, metavar="DIR", help="the backup folder")
        parser.add_argument(
            "--host",
            metavar="HOST:PORT",
            help="InfluxDB backup/RPC address (default 127.0.0.1:services.influx_rpc_port)",
        )
        if name == "restore":
            parser.add_argument(
                "--as",
                dest="new_name",
                metavar="NAME",
                help="restore under this database name (the original must not exist otherwise)",
            )
        parser.set_defaults(func=run_backup if name == "backup" else run_restore)


def _host(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.host or f"127.0.0.1:{settings.services.influx_rpc_port}")


def run_backup(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch backup``."""
    settings = settings_from(args)
    manifest = backup(
        settings,
        args.folder,
        host=_host(args, settings),
        config=Path(args.config) if getattr(args, "config", None) else None,
    )
    print(
        f"backed up database {manifest['database']} and {len(manifest['files'])} configuration file(s) "  # type: ignore[arg-type]
        f"to {args.folder}"
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch restore``."""
    settings = settings_from(args)
    database = restore(settings, args.folder, host=_host(args, settings), new_name=args.new_name)
    print(
        f"restored database {database}; the configuration files of the backup are in {args.folder / 'config'} "
        "(copy back what you need; restore does not overwrite them)"
    )
    return 0

"""``floodwatch alerts list|ack``: the alerts in InfluxDB, and acknowledging one."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from config.catalogue import load_catalogue
from config.contract import STATION_ID
from floodwatch.args import parse_time, settings_from
from floodwatch.errors import UserError
from store.alerts import Alert, acknowledge_line, list_alerts
from store.influx import InfluxClient, InfluxError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch alerts``."""
    parser = subparsers.add_parser(
        "alerts",
        help="list alerts, acknowledge one",
        description="Alerts raised by the ingester's alert engine, from InfluxDB. Examples:\n"
        "  floodwatch alerts list --active\n"
        "  floodwatch alerts list --since 2022-01-10 --station O200004001 --json\n"
        '  floodwatch alerts ack O200004001/level/1641851100000 --by "Wang Li" --note "patrol sent"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="alerts, red first, newest first")
    listing.add_argument("--active", action="store_true", help="only alerts still firing")
    listing.add_argument("--since", metavar="T", help="raised since T (ISO 8601; default: all) plus all still firing")
    listing.add_argument("--station", metavar="ID", help="one station only")
    listing.add_argument("--json", action="store_true", help="JSON (times in epoch ms, UTC)")
    listing.set_defaults(func=run_list)
    ack = actions.add_parser("ack", help="acknowledge an alert (it stops escalating)")
    ack.add_argument("alert_id", metavar="ID", help="the alert id, as `alerts list` shows it")
    ack.add_argument("--by", required=True, metavar="NAME", help="who acknowledges (kept in the audit trail)")
    ack.add_argument("--note", default="", metavar="TEXT", help="what is being done")
    ack.set_defaults(func=run_ack)


def _client(args: argparse.Namespace) -> tuple[InfluxClient, ZoneInfo]:
    settings = settings_from(args)
    return InfluxClient(settings.influx), ZoneInfo(settings.timezone)


def _local(ms: int | None, zone: ZoneInfo) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def run_list(args: argparse.Namespace) -> int:
    """Print the alerts."""
    if args.station and not STATION_ID.match(args.station):
        raise UserError(f"{args.station!r} is not a station id")
    settings = settings_from(args)
    client, zone = InfluxClient(settings.influx), ZoneInfo(settings.timezone)
    since = parse_time(args.since) if args.since else 0
    try:
        alerts = list_alerts(client, since_ms=since, station=args.station, active_only=args.active)
    except InfluxError as exc:
        raise UserError(f"cannot read alerts from InfluxDB at {settings.influx.url}: {exc}") from exc
    if args.json:
        rows = [{**a.as_json(), "reasons": a.reasons(zone)} for a in alerts]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    catalogue = load_catalogue(settings.catalogue)
    for alert in alerts:
        station = catalogue.get(alert.station)
        name = station.display_name(settings.language) if station else alert.station
        ack = (
            f"ack {alert.acknowledged_by} {_local(alert.acknowledged_ms, zone)}" if alert.acknowledged_ms else "unacked"
        )
        reason = alert.reasons(zone)[settings.language]
        print(
            f"{alert.level.upper():7} {alert.state:8} {_local(alert.raised_ms, zone)}  {name} [{alert.rule}]  "
            f"{reason}  ({ack}; resolved {_local(alert.resolved_ms, zone)})  id {alert.id}"
        )
    if not alerts:
        print("no alerts")
    return 0


def _find(alerts: list[Alert], ident: str) -> Alert:
    for alert in alerts:
        if alert.id == ident:
            return alert
    raise UserError(f"no alert {ident!r}; `floodwatch alerts list` shows the ids")


def run_ack(args: argparse.Namespace) -> int:
    """Record an acknowledgement."""
    client, _ = _client(args)
    station = args.alert_id.split("/", 1)[0]
    if not STATION_ID.match(station) or not args.by.strip():
        raise UserError("give an alert id like STATION/RULE/TIME and a name with --by")
    try:
        alert = _find(list_alerts(client, station=station), args.alert_id)
        client.write(acknowledge_line(alert, args.by.strip(), args.note, int(time.time() * 1000)).encode())
    except InfluxError as exc:
        raise UserError(f"cannot reach InfluxDB: {exc}") from exc
    print(f"acknowledged {alert.id} ({alert.level} at {alert.station}) by {args.by.strip()}")
    return 0

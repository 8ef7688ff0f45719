"""``floodwatch export``: readings from InfluxDB as tidy CSV in SI units, streamed window by window.

Replay followed by export gives back the input, converted to m and mm.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from config.catalogue import Catalogue, load_catalogue
from config.contract import MEASUREMENT, STATION_ID
from config.tidy import COLUMNS, format_time
from config.units import STORED_UNIT, format_interval
from floodwatch.args import parse_time, settings_from
from floodwatch.errors import UserError
from store.influx import InfluxClient, InfluxError, quote_literal

WINDOW_MS = 7 * 86400 * 1000


def station_filter(stations: list[str] | None) -> str:
    """An InfluxQL condition on the station tag (validated ids, quoted literals)."""
    if not stations:
        return ""
    for station in stations:
        if not STATION_ID.match(station):
            raise UserError(f"{station!r} is not a station id")
    return " AND (" + " OR ".join(f"station = {quote_literal(s)}" for s in stations) + ")"


def time_bounds(client: InfluxClient, where: str) -> tuple[int, int] | None:
    """First and last stored time (ms) of the selected readings, or None when there are none."""
    measurements = ", ".join(MEASUREMENT.values())
    first = client.query(f"SELECT first(value) FROM {measurements} WHERE time > 0{where}")
    last = client.query(f"SELECT last(value) FROM {measurements} WHERE time > 0{where}")
    if not first or not last:
        return None
    return min(int(s.values[0][0]) for s in first), max(int(s.values[0][0]) for s in last)


def rows(
    client: InfluxClient,
    catalogue: Catalogue,
    start_ms: int,
    end_ms: int,
    where: str,
    *,
    progress: bool = False,
) -> Iterator[list[str]]:
    """Tidy rows for ``[start_ms, end_ms)``, one InfluxDB query per window, ordered by time then station."""
    windows = range(start_ms, end_ms, WINDOW_MS)
    for window in tqdm(windows, unit="week", desc="export", disable=not progress):
        upper = min(window + WINDOW_MS, end_ms)
        found: list[tuple[int, str, str, float, int | None]] = []
        for quantity, measurement in MEASUREMENT.items():
            fields = "value, interval_s" if quantity == "rain" else "value"
            query = (
                f"SELECT {fields} FROM {measurement} WHERE time >= {window}ms AND time < {upper}ms{where} "
                "GROUP BY station"
            )
            for series in client.query(query):
                station = series.tags["station"]
                for values in series.values:
                    interval = int(values[2]) if quantity == "rain" and values[2] is not None else None
                    found.append((int(values[0]), station, quantity, float(values[1]), interval))
        found.sort()
        for time_ms, station, quantity, value, interval in found:
            yield _row(catalogue, time_ms, station, quantity, value, interval=interval)


def _row(
    catalogue: Catalogue, time_ms: int, station: str, quantity: str, value: float, *, interval: int | None
) -> list[str]:
    known = catalogue.get(station)
    unit = STORED_UNIT[quantity] + (f"/{format_interval(interval)}" if interval else "")
    return [
        station,
        known.name if known else "",
        quantity,
        "" if known is None or known.lat is None else repr(known.lat),
        "" if known is None or known.lon is None else repr(known.lon),
        format_time(time_ms),
        repr(value),
        unit,
    ]


def export(
    client: InfluxClient,
    catalogue: Catalogue,
    out: TextIO,
    *,
    stations: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    progress: bool = False,
) -> int:
    """Write the selected readings to ``out`` as tidy CSV; returns the number of rows."""
    where = station_filter(stations)
    bounds = time_bounds(client, where)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    if bounds is None:
        return 0
    start_ms = parse_time(start) if start else bounds[0]
    end_ms = parse_time(end) if end else bounds[1] + 1
    count = 0
    for row in rows(client, catalogue, start_ms, end_ms, where, progress=progress):
        writer.writerow(row)
        count += 1
    return count


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch export``."""
    parser = subparsers.add_parser(
        "export",
        help="readings from InfluxDB as tidy CSV (SI units)",
        description="Write stored readings as CSV with the columns "
        f"{','.join(COLUMNS)}: levels in m, rain in mm per its interval (mm/15min, mm/day). The same "
        "format replay reads. Example: floodwatch export --station O200004001 --from 2022-01-09 "
        "--to 2022-01-13 --out toulouse.csv",
    )
    parser.add_argument("--station", action="append", metavar="ID", help="only this station (repeatable)")
    parser.add_argument("--from", dest="start", metavar="T", help="from this time (ISO 8601, UTC; default: first)")
    parser.add_argument("--to", dest="end", metavar="T", help="before this time (default: after the last)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="CSV file to write (default: standard output)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch export``."""
    settings = settings_from(args)
    catalogue = load_catalogue(settings.catalogue)
    client = InfluxClient(settings.influx)
    try:
        if args.out:
            with args.out.open("w", encoding="utf-8", newline="") as handle:
                count = export(
                    client,
                    catalogue,
                    handle,
                    stations=args.station,
                    start=args.start,
                    end=args.end,
                    progress=sys.stderr.isatty(),
                )
            print(f"exported {count} readings to {args.out}", file=sys.stderr)
        else:
            export(client, catalogue, sys.stdout, stations=args.station, start=args.start, end=args.end)
    except InfluxError as exc:
        raise UserError(f"cannot read InfluxDB at {settings.influx.url}: {exc}") from exc
    return 0

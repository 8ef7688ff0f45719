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
from zoneinfo import ZoneInfo

from tqdm import tqdm

from config.catalogue import Catalogue, load_catalogue
from config.contract import MEASUREMENT
from config.tidy import COLUMNS, format_time
from config.units import STORED_UNIT, format_interval
from floodwatch.args import parse_time, settings_from
from floodwatch.errors import UserError
from store.influx import InfluxClient, InfluxError
from store.readings import DAY_MS, Selection, station_condition, stream

#: raw readings are not bucketed: the zone only matters to aggregated reads
UTC_ZONE = ZoneInfo("UTC")


def station_filter(stations: list[str] | None) -> str:
    """An InfluxQL condition on the station tag (validated ids, quoted literals), after an AND.

    Raises:
        UserError: an id that is not a station id.
    """
    try:
        condition = station_condition(stations or [])
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    return f" AND {condition}" if condition else ""


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
    stations: list[str] | None = None,
    *,
    progress: bool = False,
) -> Iterator[list[str]]:
    """Tidy rows of levels in ``[start_ms, end_ms)`` and rain in ``(start_ms, end_ms]``, by time then station."""
    days = -(-(end_ms - start_ms) // DAY_MS)
    with tqdm(total=days, unit="day", desc="export", disable=not progress) as bar:
        selection = Selection(tuple(stations or ()), start_ms, end_ms, "raw", UTC_ZONE)
        for row in stream(client, ("level", "rain"), selection):
            bar.update(max(0, (row.time_ms - start_ms) // DAY_MS - bar.n))
            yield _row(catalogue, row.time_ms, row.station, row.quantity, row.value, interval=row.interval_s)
        bar.update(days - bar.n)


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
    # no --from: 1 ms before the first reading, so that a rain reading stamped then (its interval's end) is in
    start_ms = parse_time(start) if start else bounds[0] - 1
    end_ms = parse_time(end) if end else bounds[1] + 1
    count = 0
    for row in rows(client, catalogue, start_ms, end_ms, stations, progress=progress):
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

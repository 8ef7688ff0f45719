"""Readings over a time range, raw or aggregated by InfluxDB, from one set of queries.

What the history explorer draws, the export writes and the API serves.

Aggregations (``AGGREGATIONS``):

- ``raw``: the stored readings.
- ``5m``, ``1h``: levels as the **maximum** over each bucket (a flood peak is never averaged away),
  stamped at the bucket's start; rain as the **total** over each bucket, stamped at the bucket's
  end, like a raw rain reading (its time is the end of its accumulation interval: the bucket is
  (start, end]).
- ``1d``: the same over the **hydrological day** (08:00 to 08:00 in the center's zone,
  ``config.hydrotime``): the daily maximum level stamped 08:00 of the day, the daily rain total stamped
  08:00 of the next day.

Ranges are half-open ``[start_ms, end_ms)`` in UTC ms. Rows come out window by window (``stream``),
ordered by time then station, so that an export of years never sits in memory. Station ids are
checked against ``config.contract.STATION_ID`` and quoted with ``quote_literal``; nothing else of the
caller reaches the InfluxQL text but integers and the names in this module.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from config.contract import MEASUREMENT, STATION_ID
from config.hydrotime import HYDRO_DAY_START_H
from store.influx import InfluxClient, quote_literal

Aggregation = Literal["raw", "5m", "1h", "1d"]
AGGREGATIONS: Final[tuple[str, ...]] = get_args(Aggregation)
Quantity = Literal["level", "rain"]
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
BUCKET_MS: Final[dict[str, int]] = {"raw": 0, "5m": 300_000, "1h": HOUR_MS, "1d": DAY_MS}
#: the automatic choice: the finest aggregation whose longest range this is (a few thousand points a
#: series at most; a year at 1 h is 8,760)
AUTO: Final[tuple[tuple[Aggregation, int], ...]] = (("raw", 2 * DAY_MS), ("5m", 14 * DAY_MS), ("1h", 400 * DAY_MS))
#: how much time one query reads, by aggregation (raw: a week of 1-minute data is 10,080 rows a station)
WINDOW_MS: Final[dict[str, int]] = {"raw": 7 * DAY_MS, "5m": 90 * DAY_MS, "1h": 366 * DAY_MS, "1d": 20 * 366 * DAY_MS}


@dataclass(frozen=True, slots=True)
class Row:
    """One value: a reading, or one bucket of readings."""

    time_ms: int
    station: str
    quantity: str
    value: float
    interval_s: int | None = None  # raw rain: its accumulation interval


def choose(start_ms: int, end_ms: int) -> Aggregation:
    """The aggregation drawn for a range by default: raw up to 2 days, 5 min to 14, hourly to 400, then daily."""
    length = end_ms - start_ms
    for aggregation, longest in AUTO:
        if length <= longest:
            return aggregation
    return "1d"


def check_stations(stations: Iterable[str]) -> list[str]:
    """The ids, unchanged, if every one is a possible station id.

    Raises:
        ValueError: naming the first id that is not.
    """
    chosen = list(stations)
    for station in chosen:
        if not STATION_ID.match(station):
            raise ValueError(f"{station[:80]!r} is not a station id")
    return chosen


def station_condition(stations: Iterable[str]) -> str:
    """``(station = 'A' OR station = 'B')`` of checked, quoted ids ("" for none: every station).

    Raises:
        ValueError: an id that is not a station id.
    """
    chosen = check_stations(stations)
    return "(" + " OR ".join(f"station = {quote_literal(s)}" for s in chosen) + ")" if chosen else ""


@dataclass(frozen=True)
class Selection:
    """Which readings: stations (none = every station), ``[start_ms, end_ms)``, aggregation, the zone of days.

    Raises:
        ValueError: a station id that is not one, an unknown aggregation or an empty range.
    """

    stations: tuple[str, ...]
    start_ms: int
    end_ms: int
    aggregation: Aggregation
    zone: ZoneInfo

    def __post_init__(self) -> None:
        check_stations(self.stations)
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}")
        if not self.start_ms < self.end_ms:
            raise ValueError("the range must end after it starts")

    def between(self, start_ms: int, end_ms: int) -> Selection:
        """The same selection over another range."""
        return replace(self, start_ms=start_ms, end_ms=end_ms)


def _offset_ms(aggregation: str, quantity: str) -> int:
    """Where InfluxDB's buckets start after (local, with tz) midnight; rain 1 ms later: its buckets are (start, end]."""
    offset = HYDRO_DAY_START_H * HOUR_MS if aggregation == "1d" else 0
    return offset + (1 if quantity == "rain" else 0)


def _condition(quantity: Quantity, selection: Selection) -> str:
    """The WHERE condition of the selection's stations and range (rain: ``(start, end]``, levels ``[start, end)``)."""
    where = station_condition(selection.stations)
    low, high = (">", "<=") if quantity == "rain" else (">=", "<")
    bounds = f"time {low} {int(selection.start_ms)}ms AND time {high} {int(selection.end_ms)}ms"
    return f"{where} AND {bounds}" if where else bounds


def query(quantity: Quantity, selection: Selection) -> str:
    """The InfluxQL of one quantity's values over the selection, grouped by station.

    Rain ranges are (start, end] like their buckets, so that consecutive ranges split no interval.
    """
    measurement = MEASUREMENT[quantity]
    condition = _condition(quantity, selection)
    aggregation = selection.aggregation
    if aggregation == "raw":
        fields = "value, interval_s" if quantity == "rain" else "value"
        return f"SELECT {fields} FROM {measurement} WHERE {condition} GROUP BY station"
    function = "sum" if quantity == "rain" else "max"
    offset = _offset_ms(aggregation, quantity)
    tz = f" tz({quote_literal(selection.zone.key)})" if aggregation == "1d" else ""
    return (
        f"SELECT {function}(value) AS value FROM {measurement} WHERE {condition} "
        f"GROUP BY time({BUCKET_MS[aggregation]}ms, {offset}ms), station fill(none){tz}"
    )


def fetch(client: InfluxClient, quantity: Quantity, selection: Selection) -> dict[str, list[Row]]:
    """One quantity's rows per station over the selection, by one query (bounded by the selection's range).

    Raises:
        InfluxError: InfluxDB failed.
    """
    aggregation = selection.aggregation
    found: dict[str, list[Row]] = {}
    for series in client.query(query(quantity, selection)):
        station = series.tags["station"]
        rows = found.setdefault(station, [])
        for values in series.values:
            if values[1] is None:
                continue
            interval = int(values[2]) if len(values) > 2 and values[2] is not None else None
            time_ms = _stamp(int(values[0]), aggregation, quantity)
            rows.append(Row(time_ms, station, quantity, float(values[1]), interval))
    return found


def peaks(client: InfluxClient, quantity: Quantity, selection: Selection) -> dict[str, Row]:
    """Each station's highest raw value over the selection's range, at the time of that reading.

    InfluxDB's ``max()`` selector keeps the time of the point it selects; of equal maxima it keeps
    the earliest. The selection's aggregation is not used.

    Raises:
        InfluxError: InfluxDB failed.
    """
    text = f"SELECT max(value) AS value FROM {MEASUREMENT[quantity]} WHERE {_condition(quantity, selection)} "
    text += "GROUP BY station"
    found: dict[str, Row] = {}
    for series in client.query(text):
        for values in series.values:
            if values[1] is not None:
                station = series.tags["station"]
                found[station] = Row(int(values[0]), station, quantity, float(values[1]))
    return found


def stream(client: InfluxClient, quantities: Iterable[Quantity], selection: Selection) -> Iterator[Row]:
    """Every row of the selection ordered by time, station and quantity, one query per quantity and window.

    Windows are aligned on whole buckets (hydrological days in the zone for ``1d``), so no bucket is split.

    Raises:
        InfluxError: InfluxDB failed (rows already yielded stay yielded).
    """
    kinds = list(quantities)
    for window_start, window_end in windows(selection):
        window = selection.between(window_start, window_end)
        per_quantity = []
        for quantity in kinds:
            rows = fetch(client, quantity, window)
            per_quantity.append(sorted((row for found in rows.values() for row in found), key=_order))
        yield from heapq.merge(*per_quantity, key=_order)


def windows(selection: Selection) -> Iterator[tuple[int, int]]:
    """The selection's range cut into query windows of ``WINDOW_MS``, cut on bucket boundaries."""
    step = WINDOW_MS[selection.aggregation]
    cursor, end_ms = selection.start_ms, selection.end_ms
    while cursor < end_ms:
        upper = min(end_ms, _bucket_floor(cursor + step, selection.aggregation, selection.zone))
        if upper <= cursor:
            upper = min(end_ms, cursor + step)
        yield cursor, upper
        cursor = upper


def _bucket_floor(time_ms: int, aggregation: str, zone: ZoneInfo) -> int:
    if aggregation == "raw":
        return time_ms
    if aggregation == "1d":
        local = datetime.fromtimestamp(time_ms / 1000, UTC).astimezone(zone)
        start = local.replace(hour=HYDRO_DAY_START_H, minute=0, second=0, microsecond=0)
        return int(start.timestamp() * 1000)
    bucket = BUCKET_MS[aggregation]
    return time_ms - time_ms % bucket


def _stamp(bucket_start_ms: int, aggregation: str, quantity: str) -> int:
    """A value's time: raw as stored; a bucket's start (levels) or end (rain), without the 1 ms offset."""
    if aggregation == "raw" or quantity != "rain":
        return bucket_start_ms
    return bucket_start_ms - 1 + BUCKET_MS[aggregation]


def _order(row: Row) -> tuple[int, str, str]:
    return row.time_ms, row.station, row.quantity

"""The HTTP API's parameters, checked before anything reaches a query: names, counts, ids, times, enums.

Pure functions of the request's arguments (a ``MultiDict``), the catalogue and the present; each
refusal is an ``ApiError`` (400) that names the parameter and the fix but never repeats its value.
Station ids must be catalogue ids, times ISO 8601 with a zone, enums one of their values; the range
of ``/readings`` is bounded by ``MAX_SPAN_MS`` per aggregation and ``MAX_ROWS`` in all.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast

from werkzeug.datastructures import MultiDict

from config.catalogue import Catalogue, Station
from config.units import QUANTITIES, Quantity
from dashboard.api_errors import ApiError
from store.readings import AGGREGATIONS, BUCKET_MS, DAY_MS, Aggregation, choose

#: the longest range of each aggregation (raw: a month of 1-minute readings is 44,640 a station)
MAX_SPAN_MS: Final[dict[str, int]] = {
    "raw": 31 * DAY_MS,
    "5m": 366 * DAY_MS,
    "1h": 20 * 366 * DAY_MS,
    "1d": 200 * 366 * DAY_MS,
}
#: the most values one answer may hold, estimated from the stations' reporting intervals (~14 MB of JSON)
MAX_ROWS: Final = 200_000
#: times accepted in parameters: from 1970 to 2200 (InfluxDB stores 1677 to 2262)
EARLIEST_MS: Final = 0
LATEST_MS: Final = 7_258_118_400_000
#: no parameter value is longer (a station id is at most 64 characters, a time about 35)
MAX_VALUE: Final = 64
DEFAULT_RANGE_MS: Final = DAY_MS
TIME_HINT: Final = "use ISO 8601 with a zone, e.g. 2022-01-11T14:15:00+08:00 or 2022-01-11T06:15:00Z"
STATIONS_HINT: Final = "GET /api/v1/stations lists the station ids"
_PLAIN_NAME: Final = re.compile(r"^[a-z_]{1,32}$")


def check_names(args: MultiDict[str, str], allowed: Collection[str]) -> None:
    """Refuse a parameter the path does not take (a typo would otherwise be silently ignored).

    Raises:
        ApiError: 400 naming the parameter when it is a plain word, and those the path takes.
    """
    for name in args:
        if name not in allowed:
            shown = f" {name!r}" if _PLAIN_NAME.match(name) else ""
            takes = ", ".join(sorted(allowed)) or "no parameters"
            raise ApiError(400, f"unknown parameter{shown}", f"this path takes {takes}")


def one(args: MultiDict[str, str], name: str) -> str | None:
    """The single value of ``name`` (None when absent).

    Raises:
        ApiError: 400 when given twice or too long.
    """
    values = args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(400, f"{name} is given {len(values)} times", f"give {name} once")
    if len(values[0]) > MAX_VALUE:
        raise ApiError(400, f"{name} is too long", f"at most {MAX_VALUE} characters")
    return values[0]


def stations(args: MultiDict[str, str], catalogue: Catalogue) -> tuple[str, ...]:
    """The ``station`` values, each a catalogue id, in order, without repeats (none: every station).

    Raises:
        ApiError: 400 for an id not in the catalogue (or too long).
    """
    chosen: dict[str, None] = {}
    for value in args.getlist("station"):
        if len(value) > MAX_VALUE or value not in catalogue:
            raise ApiError(400, "station is not a station of the catalogue", STATIONS_HINT)
        chosen[value] = None
    return tuple(chosen)


def time_ms(args: MultiDict[str, str], name: str) -> int | None:
    """The time ``name`` in UTC ms (None when absent).

    Raises:
        ApiError: 400 when it is not ISO 8601, has no zone or lies outside 1970-2200.
    """
    text = one(args, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ApiError(400, f"{name} has no zone", TIME_HINT)
        value = round(moment.timestamp() * 1000)
    except (ValueError, OverflowError) as exc:
        raise ApiError(400, f"{name} is not an ISO 8601 time", TIME_HINT) from exc
    if not EARLIEST_MS <= value <= LATEST_MS:
        raise ApiError(400, f"{name} is out of range", "give a time between 1970 and 2200")
    return value


def choice(args: MultiDict[str, str], name: str, choices: Sequence[str], default: str | None) -> str | None:
    """The value of ``name``, one of ``choices`` (``default`` when absent).

    Raises:
        ApiError: 400 for any other value.
    """
    value = one(args, name)
    if value is None:
        return default
    if value not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}", f"e.g. {name}={choices[0]}")
    return value


@dataclass(frozen=True)
class ReadingsAsk:
    """What ``/readings`` is asked for, checked: the series, the range and the aggregation applied."""

    pairs: tuple[tuple[str, Quantity], ...]  # (station, quantity) of every series answered
    stations: tuple[str, ...]  # for the query: none = every station (the answer keeps the pairs)
    quantities: tuple[Quantity, ...]
    start_ms: int
    end_ms: int
    aggregation: Aggregation
    requested: str


def readings_ask(args: MultiDict[str, str], catalogue: Catalogue, now_ms: int) -> ReadingsAsk:
    """Check the parameters of ``/readings`` and choose the aggregation.

    Raises:
        ApiError: 400 for a wrong parameter, a station that does not report the quantity, an empty
            range, or a range too long for the aggregation asked for (naming the one to use).
    """
    asked = stations(args, catalogue)
    quantity = cast("Quantity | None", choice(args, "quantity", ("level", "rain"), None))
    requested = choice(args, "aggregation", (*AGGREGATIONS, "auto"), "auto") or "auto"
    end = time_ms(args, "end")
    start = time_ms(args, "start")
    end = now_ms if end is None else end
    start = end - DEFAULT_RANGE_MS if start is None else start
    if start >= end:
        raise ApiError(400, "start must be before end", "e.g. start=2022-01-10T00:00:00Z&end=2022-01-11T00:00:00Z")
    pairs = _pairs(catalogue, asked, quantity)
    span = end - start
    first = choose(start, end) if requested == "auto" else requested
    fit = finest_fitting(catalogue, pairs, span, first)
    if fit is None or requested not in ("auto", fit):
        better = f"use aggregation={fit}, or " if fit else ""
        raise ApiError(
            400,
            f"too many values for aggregation={requested} over this range",
            f"{better}ask for fewer stations or a shorter range "
            f"(raw covers at most {MAX_SPAN_MS['raw'] // DAY_MS} days, an answer at most {MAX_ROWS:,} values)",
        )
    quantities = tuple(dict.fromkeys(q for _, q in pairs))
    return ReadingsAsk(pairs, asked, quantities, start, end, fit, requested)


def _pairs(catalogue: Catalogue, asked: tuple[str, ...], quantity: Quantity | None) -> tuple[tuple[str, Quantity], ...]:
    """The (station, quantity) series: the stations asked (else all) and what they report (or ``quantity``)."""
    pairs: list[tuple[str, Quantity]] = []
    for station in [catalogue[s] for s in asked] or list(catalogue.values()):
        if quantity is not None and quantity not in station.quantities:
            if asked:
                raise ApiError(400, f"station {station.id} does not report {quantity}", "leave quantity out")
            continue
        pairs += [(station.id, q) for q in QUANTITIES if q in station.quantities and quantity in (None, q)]
    return tuple(pairs)


def estimate_rows(stations: Sequence[Station], span_ms: int, aggregation: str) -> int:
    """The most values ``aggregation`` gives over ``span_ms``: one a bucket, or one a reporting interval (raw)."""
    return sum(span_ms // max(BUCKET_MS[aggregation], station.interval_s * 1000) + 1 for station in stations)


def finest_fitting(
    catalogue: Catalogue, pairs: Sequence[tuple[str, Quantity]], span_ms: int, finest: str
) -> Aggregation | None:
    """The finest aggregation from ``finest`` on whose range and value count are within the bounds."""
    series = [catalogue[station] for station, _ in pairs]
    for aggregation in AGGREGATIONS[AGGREGATIONS.index(finest) :]:
        if span_ms <= MAX_SPAN_MS[aggregation] and estimate_rows(series, span_ms, aggregation) <= MAX_ROWS:
            return cast("Aggregation", aggregation)
    return None


def flag(args: MultiDict[str, str], name: str) -> bool:
    """A ``true``/``false`` parameter (false when absent).

    Raises:
        ApiError: 400 for any other value.
    """
    return choice(args, name, ("true", "false"), "false") == "true"

"""The history explorer's state and rules, as plain values: the URL query, ranges, aggregations, zoom, export.

Nothing here reads InfluxDB or the clock (``now_ms`` is an argument), so every rule is a unit test.

- **The view** (``View``) is what the page shows and its URL query says, so a view can be shared:
  ``/history?stations=A,B&range=7d`` (presets ``24h``, ``7d``, ``30d``, ``1y``) or
  ``range=custom&start=2022-01-01&end=2022-01-31`` (local days, first to last), ``agg=1h`` to override
  the automatic aggregation, and two events to compare, ``a=2022-01-09/2022-01-13&b=…&align=peak``.
- **Aggregation**: automatic by the length of the range (``store.readings.choose``: raw up to 2
  days, 5 min to 14, hourly to 400, then daily), or the user's, unless that would read more than
  ``MAX_FETCH_POINTS`` values for the stations shown: then the finest that fits (and the page says so).
  Rain bars are drawn at the same aggregation or a coarser one, so that there are at most ``MAX_BARS``
  bars a gauge (a year of hourly bars is 8,760: its bars are daily totals).
- **Zoom**: the graph's ``relayoutData`` gives the visible window; it is read again at the finer
  aggregation ``choose`` gives for it.
- **Export**: the query of ``/export/readings.csv`` and ``.xlsx``, checked here (``ExportRequest``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import pandas as pd

from config.i18n import LANGUAGES
from dashboard import status
from store.readings import AGGREGATIONS, BUCKET_MS, DAY_MS, Aggregation, choose

#: range presets: key -> length
PRESETS: Final[dict[str, int]] = {"24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "1y": 365 * DAY_MS}
CUSTOM: Final = "custom"
AUTO: Final = "auto"
DEFAULT_PRESET: Final = "7d"
ALIGNS: Final = ("start", "peak")
#: at most this many values are read for one drawing (all stations): a year of 5-minute readings of
#: four stations; a finer aggregation asked for a longer range is coarsened
MAX_FETCH_POINTS: Final = 450_000
#: at most this many rain bars per gauge (coarser rain aggregation beyond)
MAX_BARS: Final = 1500
#: at most this many stations in one view or export
MAX_STATIONS: Final = 20
#: the longest export (and custom range)
MAX_EXPORT_DAYS: Final = status.MAX_CUSTOM_DAYS
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class View:
    """What the history explorer shows (its URL query)."""

    stations: tuple[str, ...] = ()
    preset: str = DEFAULT_PRESET
    start_date: str = ""  # custom: first local day, YYYY-MM-DD
    end_date: str = ""  # custom: last local day
    aggregation: str = AUTO
    event_a: tuple[str, str] = ("", "")  # compare: first and last local day of each event
    event_b: tuple[str, str] = ("", "")
    align: str = "start"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form for a ``dcc.Store``."""
        return {
            "stations": list(self.stations),
            "preset": self.preset,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "aggregation": self.aggregation,
            "event_a": list(self.event_a),
            "event_b": list(self.event_b),
            "align": self.align,
        }


def _date(value: Any) -> str:
    text = str(value or "")[:10]
    return text if _DATE.match(text) else ""


def _pair(value: Any) -> tuple[str, str]:
    parts = list(value) if isinstance(value, list | tuple) else str(value or "").split("/")
    if len(parts) != 2:
        return "", ""
    return _date(parts[0]), _date(parts[1])


def make_view(  # noqa: PLR0917 - the page's controls, one argument each
    stations: Any,
    preset: Any,
    start_date: Any,
    end_date: Any,
    aggregation: Any,
    event_a: Any,
    event_b: Any,
    align: Any,
    known: Collection[str],
) -> View:
    """A view from untrusted values (controls, a URL, a store): unknown stations and values are dropped."""
    chosen = stations.split(",") if isinstance(stations, str) else list(stations or [])
    ids = tuple(dict.fromkeys(s for s in chosen if isinstance(s, str) and s in known))[:MAX_STATIONS]
    return View(
        stations=ids,
        preset=preset if preset in (*PRESETS, CUSTOM) else DEFAULT_PRESET,
        start_date=_date(start_date),
        end_date=_date(end_date),
        aggregation=aggregation if aggregation in (AUTO, *AGGREGATIONS) else AUTO,
        event_a=_pair(event_a),
        event_b=_pair(event_b),
        align=align if align in ALIGNS else "start",
    )


def from_dict(data: Any, known: Collection[str]) -> View:
    """The view kept in a ``dcc.Store`` (``View.as_dict``), checked again."""
    got = data if isinstance(data, Mapping) else {}
    return make_view(
        got.get("stations"),
        got.get("preset"),
        got.get("start_date"),
        got.get("end_date"),
        got.get("aggregation"),
        got.get("event_a"),
        got.get("event_b"),
        got.get("align"),
        known,
    )


def parse_query(search: str | None, known: Collection[str]) -> View:
    """The view of a URL query (``?stations=A,B&range=7d…``); what is not understood is left at its default."""
    query = {key: values[-1] for key, values in parse_qs((search or "").lstrip("?")).items()}
    return make_view(
        query.get("stations", ""),
        query.get("range"),
        query.get("start"),
        query.get("end"),
        query.get("agg"),
        query.get("a"),
        query.get("b"),
        query.get("align"),
        known,
    )


def to_query(view: View) -> str:
    """The URL query of a view (``?…``), defaults left out; ``parse_query`` reads it back."""
    params: dict[str, str] = {}
    if view.stations:
        params["stations"] = ",".join(view.stations)
    if view.preset != DEFAULT_PRESET:
        params["range"] = view.preset
    if view.preset == CUSTOM:
        params.update({"start": view.start_date, "end": view.end_date})
    if view.aggregation != AUTO:
        params["agg"] = view.aggregation
    for key, event in (("a", view.event_a), ("b", view.event_b)):
        if all(event):
            params[key] = "/".join(event)
    if view.align != "start":
        params["align"] = view.align
    return "?" + urlencode(params, safe=",/") if params else ""


def span(view: View, now_ms: int, zone: ZoneInfo) -> tuple[int, int] | None:
    """The view's range in UTC ms: a preset up to now (to the minute) or the custom local days (cut to now)."""
    if view.preset == CUSTOM:
        return status.custom_span(view.start_date, view.end_date, zone, now_ms)
    end_ms = now_ms - now_ms % 60_000
    return end_ms - PRESETS[view.preset], end_ms


def state(view: View, now_ms: int, zone: ZoneInfo) -> dict[str, Any]:
    """What the page keeps in its store: the view and its range, fixed when the view was chosen.

    A preset's range moves with the clock; kept fixed, a zoom a minute later reads the same range
    (and hits the cache) and the figure keeps the user's zoom (``uirevision``).
    """
    return {**view.as_dict(), "span": span(view, now_ms, zone)}


def stored_span(data: Any) -> tuple[int, int] | None:
    """The range kept by ``state``, checked (it comes back from the browser): ints, not empty, not too long."""
    got = data.get("span") if isinstance(data, Mapping) else None
    if not isinstance(got, list | tuple) or len(got) != 2 or not all(isinstance(v, int) for v in got):
        return None
    start_ms, end_ms = got
    return (start_ms, end_ms) if 0 < end_ms - start_ms <= MAX_EXPORT_DAYS * DAY_MS else None


def event_span(event: tuple[str, str], zone: ZoneInfo, now_ms: int) -> tuple[int, int] | None:
    """An event's first to last local day in UTC ms (None when not given or empty)."""
    return status.custom_span(event[0], event[1], zone, now_ms) if all(event) else None


def estimated_points(aggregation: str, length_ms: int, interval_s: int) -> int:
    """How many values one station has over ``length_ms`` at ``aggregation`` (raw: one each ``interval_s``)."""
    step = BUCKET_MS[aggregation] or interval_s * 1000
    return length_ms // max(step, 1) + 1


@dataclass(frozen=True)
class Aggregations:
    """What a drawing reads: levels at ``level``, rain at ``rain``.

    ``auto``: chosen by the range; ``coarsened``: the user's choice was too fine for it.
    """

    level: Aggregation
    rain: Aggregation
    auto: bool
    coarsened: bool = False


def aggregations(requested: str, start_ms: int, end_ms: int, stations: int, interval_s: int) -> Aggregations:
    """The aggregations of a drawing of ``stations`` over ``[start_ms, end_ms)`` (module doc).

    Args:
        requested: ``auto`` or an aggregation.
        start_ms: the range's start.
        end_ms: its end.
        stations: how many stations are drawn.
        interval_s: the shortest reporting interval among them (what ``raw`` means).
    """
    length = end_ms - start_ms
    auto = requested not in AGGREGATIONS
    level: Aggregation = choose(start_ms, end_ms) if auto else requested  # type: ignore[assignment]
    coarsened = False
    order = list(AGGREGATIONS)
    while (
        order.index(level) < len(order) - 1
        and estimated_points(level, length, interval_s) * max(stations, 1) > MAX_FETCH_POINTS
    ):
        level, coarsened = order[order.index(level) + 1], True  # type: ignore[assignment]
    rain = level
    while order.index(rain) < len(order) - 1 and estimated_points(rain, length, interval_s) > MAX_BARS:
        rain = order[order.index(rain) + 1]  # type: ignore[assignment]
    return Aggregations(level, rain, auto, coarsened)


def local_ms(text: Any, zone: ZoneInfo) -> int | None:
    """A plotly date-axis value (local wall time ``2022-01-05 12:30:00.5``, or its ms) as UTC ms (None: unreadable)."""
    try:
        moment = pd.Timestamp(text, unit="ms") if isinstance(text, int | float) else pd.Timestamp(str(text))
    except ValueError:
        return None
    if pd.isna(moment):
        return None
    if moment.tzinfo is None:
        moment = moment.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
    return int(moment.timestamp() * 1000)


def zoom_window(relayout: Any, zone: ZoneInfo) -> tuple[int, int] | str | None:
    """The visible window of a ``relayoutData`` in UTC ms, ``"reset"`` for autorange, None if no x change.

    Any x axis counts (the subplots share theirs): ``xaxis.range[0]``/``[1]``, ``xaxis2.range``, …
    """
    if not isinstance(relayout, Mapping):
        return None
    bounds: list[Any] = []
    for key, value in relayout.items():
        if not isinstance(key, str) or not key.startswith("xaxis"):
            continue
        if key.endswith(".autorange") and value:
            return "reset"
        if key.endswith(".range") and isinstance(value, list | tuple) and len(value) == 2:
            bounds = list(value)
            break
        if key.endswith(".range[0]"):
            bounds = [value, relayout.get(key.replace("[0]", "[1]"))]
            break
    if len(bounds) != 2:
        return None
    low, high = (local_ms(b, zone) for b in bounds)
    if low is None or high is None or high <= low:
        return None
    return low, high


@dataclass(frozen=True)
class ExportRequest:
    """A checked request of ``/export/readings.csv`` / ``.xlsx``."""

    stations: tuple[str, ...]
    start_ms: int
    end_ms: int
    aggregation: Aggregation
    language: str


class ExportParameterError(ValueError):
    """A parameter of an export request is wrong; the message says which and how to fix it."""


def parse_time(text: str, zone: ZoneInfo) -> int:
    """An ISO 8601 time or date as UTC ms; without a zone it is local time in ``zone``.

    Raises:
        ValueError: not such a time.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.astimezone(UTC).timestamp() * 1000)


def parse_export(
    args: Mapping[str, str], known: Collection[str], zone: ZoneInfo, default_language: str
) -> ExportRequest:
    """Check the query of an export request.

    ``stations`` (comma-separated catalogue ids), ``start`` and ``end`` (ISO 8601; local time in the
    center's zone when no offset is given; the range is ``[start, end)`` for levels and
    ``(start, end]`` for rain, as in ``store.readings``), ``aggregation`` (raw, 5m, 1h, 1d or auto),
    ``lang`` (zh or en, the column headers').

    Raises:
        ExportParameterError: naming the parameter and what it takes.
    """
    wanted = [s for s in str(args.get("stations", "")).split(",") if s]
    if not wanted:
        raise ExportParameterError("stations: give one or more station ids separated by commas (stations=A,B)")
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ExportParameterError(f"stations: {unknown[0][:64]!r} is not a station of the catalogue")
    if len(set(wanted)) > MAX_STATIONS:
        raise ExportParameterError(f"stations: at most {MAX_STATIONS} stations in one export")
    times: dict[str, int] = {}
    for name in ("start", "end"):
        text = str(args.get(name, ""))
        try:
            times[name] = parse_time(text, zone)
        except ValueError:
            raise ExportParameterError(
                f"{name}: {text[:40]!r} is not a time; use ISO 8601 like 2022-01-10, 2022-01-10T08:00 (local time) "
                "or 2022-01-10T00:00:00Z"
            ) from None
    start_ms, end_ms = times["start"], times["end"]
    if end_ms <= start_ms:
        raise ExportParameterError("end: the range must end after it starts")
    if end_ms - start_ms > MAX_EXPORT_DAYS * DAY_MS:
        raise ExportParameterError(f"end: at most {MAX_EXPORT_DAYS} days in one export")
    requested = str(args.get("aggregation", AUTO))
    if requested not in (AUTO, *AGGREGATIONS):
        raise ExportParameterError(f"aggregation: one of {AUTO}, {', '.join(AGGREGATIONS)}")
    aggregation: Aggregation = choose(start_ms, end_ms) if requested == AUTO else requested  # type: ignore[assignment]
    language = str(args.get("lang", default_language))
    if language not in LANGUAGES:
        raise ExportParameterError(f"lang: one of {', '.join(LANGUAGES)}")
    return ExportRequest(tuple(dict.fromkeys(wanted)), start_ms, end_ms, aggregation, language)


def export_href(
    fmt: str, stations: tuple[str, ...], start_ms: int, end_ms: int, *, aggregation: str, language: str
) -> str:
    """The export URL (``/export/readings.csv?…``) of a selection, times as UTC ISO 8601."""
    params = {
        "stations": ",".join(stations),
        "start": _iso_utc(start_ms),
        "end": _iso_utc(end_ms),
        "aggregation": aggregation,
        "lang": language,
    }
    return f"/export/readings.{fmt}?" + urlencode(params, safe=",:")


def _iso_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

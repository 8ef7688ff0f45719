"""Pure rules and data shaping of the dashboard: station colours, trends, thresholds, times.

Nothing here reads InfluxDB, the clock or the disk: ``now`` is always an argument, so every rule
is a plain unit test (tests/test_dashboard_unit.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

import pandas as pd

from config.catalogue import Catalogue, Station
from config.i18n import t

#: alert colours from low to high (SL 758-2018: blue IV < yellow III < orange II < red I)
COLOURS: Final = ("blue", "yellow", "orange", "red")
#: every state a station can be shown in, most urgent first (the legend and the wall follow it)
STATES: Final = ("red", "orange", "yellow", "blue", "suspect", "stale", "normal", "nodata")
KINDS: Final = ("river", "reservoir", "rain")
#: trends are measured over at least this span, else they are noise
MIN_TREND_SPAN_MS: Final = 10 * 60 * 1000
#: rain totals the map can colour gauges by: table column -> lower bounds (mm) of the classes above "dry"
#: (below the first bound). 24 h: GB/T 28592-2012 (小雨 0.1, 中雨 10, 大雨 25, 暴雨 50, 大暴雨 100,
#: 特大暴雨 250); 1 h and 3 h: the short-duration classes in common use on Chinese rain maps (1 h: 中雨
#: from 2.6, 大雨 8.1, 暴雨 16; 3 h: 中雨 3, 大雨 10, 暴雨 20, 大暴雨 50, 特大暴雨 70).
RAIN_CLASSES: Final[dict[str, tuple[float, ...]]] = {
    "rain_h1": (0.1, 2.6, 8.1, 16.0, 30.0, 50.0),
    "rain_h3": (0.1, 3.0, 10.0, 20.0, 50.0, 70.0),
    "rain_h24": (0.1, 10.0, 25.0, 50.0, 100.0, 250.0),
}
#: no new reading from any station for this long: the data are stale, the wall and /health say so
STALE_DATA_MS: Final = 15 * 60 * 1000


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as plain dicts (typed, unlike ``itertuples``)."""
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def threshold_level(station: Station, value: float | None, blue_margin_m: float = 0.5) -> str:
    """The warning colour a level reaches against the catalogue thresholds, ``""`` below them all.

    red ≥ ``red_m`` (default the historical maximum), orange ≥ ``guaranteed_m``, yellow ≥
    ``warning_m``, blue ≥ ``blue_m`` (default ``warning_m`` − ``blue_margin_m``).
    """
    if value is None or math.isnan(value):
        return ""
    red = station.red_m if station.red_m is not None else station.historical_max_m
    blue = station.blue_m
    if blue is None and station.warning_m is not None:
        blue = station.warning_m - blue_margin_m
    for level, threshold in (
        ("red", red),
        ("orange", station.guaranteed_m),
        ("yellow", station.warning_m),
        ("blue", blue),
    ):
        if threshold is not None and value >= threshold:
            return level
    return ""


def station_state(
    station: Station,
    *,
    value: float | None,
    time_ms: int | None,
    flags: str,
    alert_level: str,
    now_ms: int,
    blue_margin_m: float = 0.5,
) -> str:
    """The one state a station is shown in (a value of ``STATES``).

    Order: no reading at all (``nodata``), reading older than ``stale_after_s`` (``stale``), the
    highest active alert from the alert engine, a flagged latest reading (``suspect``), the level
    against the catalogue thresholds (only when the engine has said nothing), else ``normal``.
    """
    if time_ms is None:
        return "nodata"
    if now_ms - time_ms > station.stale_after_s() * 1000:
        return "stale"
    if alert_level in COLOURS:
        return alert_level
    if flags or alert_level == "suspect":
        return "suspect"
    if alert_level == "stale":
        return "stale"
    if "level" in station.quantities:
        return threshold_level(station, value, blue_margin_m) or "normal"
    return "normal"


def trend_m_per_h(
    first_value: float | None, first_ms: int | None, last_value: float | None, last_ms: int | None
) -> float | None:
    """Rate of change between two readings in units per hour; None when they are too close."""
    if first_value is None or first_ms is None or last_value is None or last_ms is None:
        return None
    span = last_ms - first_ms
    if span < MIN_TREND_SPAN_MS:
        return None
    return (last_value - first_value) / (span / 3_600_000)


@dataclass(frozen=True)
class NextThreshold:
    """The next threshold above a level and, on the present trend, when it is reached."""

    key: str  # i18n key of the threshold's name
    level_m: float
    hours: float | None  # None: not rising


def thresholds(station: Station, blue_margin_m: float = 0.5) -> list[tuple[str, float]]:
    """The station's thresholds, low to high, as (i18n key, metres)."""
    out: list[tuple[str, float]] = []
    blue = station.blue_m
    if blue is None and station.warning_m is not None:
        blue = station.warning_m - blue_margin_m
    red = station.red_m if station.red_m is not None else station.historical_max_m
    for key, level in (
        ("threshold.blue", blue),
        ("threshold.warning", station.warning_m),
        ("threshold.guaranteed", station.guaranteed_m),
        ("threshold.red", red),
    ):
        if level is not None:
            out.append((key, level))
    return out


def next_threshold(
    station: Station, value: float | None, trend: float | None, blue_margin_m: float = 0.5
) -> NextThreshold | None:
    """The lowest threshold above ``value``, with the predicted hours to reach it when rising."""
    if value is None:
        return None
    for key, level in thresholds(station, blue_margin_m):
        if level > value:
            hours = (level - value) / trend if trend is not None and trend > 0 else None
            return NextThreshold(key, level, hours)
    return None


#: the longest custom range of the station page (longer asks are cut to their last part)
MAX_CUSTOM_DAYS: Final = 5 * 366


def custom_span(start_date: Any, end_date: Any, zone: ZoneInfo, now_ms: int) -> tuple[int, int] | None:
    """A custom range of whole local days, start day 00:00 to the day after the end day, UTC ms.

    The end is cut to ``now_ms`` (rounded down to the minute, so that the cache keeps it a minute) and
    the span to ``MAX_CUSTOM_DAYS``. None when a date is missing or unreadable, or the span is empty.
    """
    try:
        start_day = datetime.strptime(str(start_date)[:10], "%Y-%m-%d").date()
        end_day = datetime.strptime(str(end_date)[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone) + timedelta(days=1)
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    end_ms = min(end_ms, now_ms - now_ms % 60_000)
    start_ms = max(start_ms, end_ms - MAX_CUSTOM_DAYS * 86_400_000)
    return (start_ms, end_ms) if start_ms < end_ms else None


def local_date(ms: int, zone: ZoneInfo) -> str:
    """The local calendar day of a UTC ms time: ``2022-01-11``."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d")


def format_time(ms: int | None, zone: ZoneInfo, *, seconds: bool = False, date: bool = True) -> str:
    """A UTC ms time as local wall time: ``2022-01-11 14:15`` (empty for None)."""
    if ms is None:
        return ""
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    pattern = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    return local.strftime(pattern)


def zone_label(zone: ZoneInfo, now_ms: int) -> str:
    """The zone's name and offset: ``Asia/Shanghai UTC+08:00``."""
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    offset = local.strftime("%z")
    return f"{zone.key} UTC{offset[:3]}:{offset[3:]}"


def format_value(value: float | None, quantity: str) -> str:
    """A level in m with 2 decimals, a rain amount in mm with 1 ("–" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f} m" if quantity == "level" else f"{value:.1f} mm"


def format_trend(trend: float | None, quantity: str = "level") -> str:
    """``↑ 0.12 m/h``, ``↓ …``, ``→ …`` (``–`` when unknown)."""
    if trend is None:
        return "–"
    arrow = "↑" if trend > 0.005 else "↓" if trend < -0.005 else "→"
    unit = "m/h" if quantity == "level" else "mm/h"
    return f"{arrow} {abs(trend):.2f} {unit}"


def format_hours(hours: float | None, language: str) -> str:
    """``~40 min`` / ``~3.5 h`` (localized), empty when unknown."""
    if hours is None:
        return ""
    if hours < 1:
        return t(language, "unit.minutes").format(n=max(1, round(hours * 60)))
    return t(language, "unit.hours").format(n=f"{hours:.1f}")


def rain_class(total: float | None, column: str) -> int:
    """The class of a rain total: 0 dry (or unknown), 1 … len(bounds) from ``RAIN_CLASSES[column]``."""
    if total is None or math.isnan(total):
        return 0
    return sum(1 for bound in RAIN_CLASSES[column] if total >= bound - 1e-9)


def rain_class_label(index: int, column: str) -> str:
    """``< 0.1 mm``, ``10–25 mm``, ``≥ 250 mm``: the range of a class."""
    bounds = RAIN_CLASSES[column]
    if index == 0:
        return f"< {bounds[0]:g} mm"
    if index == len(bounds):
        return f"≥ {bounds[-1]:g} mm"
    return f"{bounds[index - 1]:g}–{bounds[index]:g} mm"


def station_quantity(station: Station) -> str:
    """What a station is shown by: its level when it has one, else its rain."""
    return "level" if "level" in station.quantities else "rain"


def station_table(  # noqa: PLR0917 - the inputs are the loaders' results, one each
    catalogue: Catalogue,
    latest: pd.DataFrame,
    first: pd.DataFrame,
    alert_levels: Mapping[str, str],
    rain: pd.DataFrame,
    now_ms: int,
    blue_margin_m: float = 0.5,
) -> pd.DataFrame:
    """One row per catalogue station: its latest value, time, flags, trend, state and rain totals.

    Args:
        catalogue: the stations.
        latest: columns station, quantity, time_ms, value, flags (the last reading per station and quantity).
        first: columns station, quantity, time_ms, value (the first reading of the trend window).
        alert_levels: station -> highest active alert level (``store.alerts.current_states``).
        rain: index station, columns h1, h3, h24, day (rain totals in mm).
        now_ms: the present, UTC ms.
        blue_margin_m: blue when this close below the warning stage.
    """
    last_by = {(r["station"], r["quantity"]): r for r in records(latest)}
    first_by = {(r["station"], r["quantity"]): r for r in records(first)}
    rain_by = rain.to_dict("index") if not rain.empty else {}
    rows = []
    for station in catalogue.values():
        quantity = station_quantity(station)
        last = last_by.get((station.id, quantity))
        start = first_by.get((station.id, quantity))
        value = None if last is None else float(last["value"])
        time_ms = None if last is None else int(last["time_ms"])
        flags = "" if last is None or pd.isna(last.get("flags")) else str(last.get("flags") or "")
        trend = None
        if quantity == "level" and last is not None and start is not None:
            trend = trend_m_per_h(float(start["value"]), int(start["time_ms"]), value, time_ms)
        totals = rain_by.get(station.id, {})
        rows.append(
            {
                "id": station.id,
                "kind": station.kind,
                "quantity": quantity,
                "lat": station.lat,
                "lon": station.lon,
                "value": value,
                "time_ms": time_ms,
                "flags": flags,
                "trend": trend,
                "alert": alert_levels.get(station.id, ""),
                "state": station_state(
                    station,
                    value=value,
                    time_ms=time_ms,
                    flags=flags,
                    alert_level=alert_levels.get(station.id, ""),
                    now_ms=now_ms,
                    blue_margin_m=blue_margin_m,
                ),
                "warning_m": station.warning_m,
                "rain_h1": totals.get("h1"),
                "rain_h3": totals.get("h3"),
                "rain_h24": totals.get("h24"),
                "rain_day": totals.get("day"),
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


TABLE_COLUMNS: Final = [
    "id",
    "kind",
    "quantity",
    "lat",
    "lon",
    "value",
    "time_ms",
    "flags",
    "trend",
    "alert",
    "state",
    "warning_m",
    "rain_h1",
    "rain_h3",
    "rain_h24",
    "rain_day",
]


@dataclass(frozen=True)
class Counters:
    """The wall's counters."""

    stations: int
    reporting: int
    stale: int
    suspect: int
    alerts: dict[str, int]


def counters(table: pd.DataFrame) -> Counters:
    """Stations reporting (a fresh reading), stale or silent, suspect, and stations per alert colour."""
    states = table["state"].value_counts().to_dict() if not table.empty else {}
    stale = int(states.get("stale", 0) + states.get("nodata", 0))
    return Counters(
        stations=len(table),
        reporting=len(table) - stale,
        stale=stale,
        suspect=int(states.get("suspect", 0)),
        alerts={level: int(states.get(level, 0)) for level in COLOURS},
    )


def red_stations(table: pd.DataFrame) -> list[str]:
    """The ids of the stations shown red, sorted (the wall beeps when a new one appears)."""
    return sorted(str(sid) for sid in table.loc[table["state"] == "red", "id"]) if not table.empty else []


def nearest_thresholds(table: pd.DataFrame, limit: int = 8) -> pd.DataFrame:
    """Level stations with a warning stage, highest above (or closest below) it first."""
    fresh = table[
        (table["quantity"] == "level")
        & table["warning_m"].notna()
        & table["value"].notna()
        & ~table["state"].isin(["stale", "nodata", "suspect"])
    ].copy()
    fresh["margin"] = fresh["value"] - fresh["warning_m"]
    return fresh.sort_values("margin", ascending=False).head(limit)


def rain_ranking(table: pd.DataFrame, column: str = "rain_h24", limit: int = 6) -> pd.DataFrame:
    """Rain gauges with the largest totals in ``column``, zero totals left out."""
    rain = table[table[column].fillna(0) > 0]
    return rain.sort_values(column, ascending=False).head(limit)


def distance_km(a: Station, b: Station) -> float:
    """Great-circle distance between two stations with coordinates."""
    lat1, lon1, lat2, lon2 = (math.radians(v or 0.0) for v in (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def nearest_gauges(station: Station, stations: Iterable[Station], limit: int = 3) -> list[Station]:
    """The rain gauges nearest to ``station`` (itself first when it reports rain too)."""
    if station.lat is None:
        return [station] if "rain" in station.quantities else []
    gauges = [s for s in stations if "rain" in s.quantities and s.lat is not None]
    return sorted(gauges, key=lambda s: (s.id != station.id, distance_km(station, s)))[:limit]


def view_of(catalogue: Catalogue) -> tuple[dict[str, float], float, tuple[float, float, float, float]]:
    """Map centre, zoom and bounding box (west, south, east, north) that show every station."""
    lats = [s.lat for s in catalogue.values() if s.lat is not None]
    lons = [s.lon for s in catalogue.values() if s.lon is not None]
    if not lats:
        return {"lat": 0.0, "lon": 0.0}, 1.0, (-180.0, -85.0, 180.0, 85.0)
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    span = max(east - west, (north - south) * 1.5, 0.05)
    zoom = max(1.0, min(12.0, math.log2(360 / span) - 0.6))
    return {"lat": (south + north) / 2, "lon": (west + east) / 2}, round(zoom, 2), (west, south, east, north)


def iso_time(ms: int | None, zone: ZoneInfo) -> str | None:
    """A UTC ms time as ISO 8601 in ``zone`` with its offset (None for None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).isoformat(timespec="seconds")


def health_report(table: pd.DataFrame | None, now_ms: int, zone: ZoneInfo, error: str = "") -> dict[str, Any]:
    """The ``/health`` document: InfluxDB reachable, the newest data time, stations reporting.

    ``status`` is ``ok``, ``stale`` (InfluxDB answers but no station reported for
    ``STALE_DATA_MS``: the dashboard works, the data feed does not) or ``unavailable`` (InfluxDB did
    not answer: ``table`` is None and ``error`` says why).
    """
    report: dict[str, Any] = {"time": iso_time(now_ms, zone)}
    if table is None:
        return {**report, "ok": False, "status": "unavailable", "influxdb": "unreachable", "error": error}
    times = table["time_ms"].dropna()
    newest = int(times.max()) if not times.empty else None
    stale = newest is None or now_ms - newest > STALE_DATA_MS
    count = counters(table)
    return {
        **report,
        "ok": True,
        "status": "stale" if stale else "ok",
        "influxdb": "reachable",
        "newest_data": iso_time(newest, zone),
        "newest_data_age_s": None if newest is None else max(0, (now_ms - newest) // 1000),
        "stations": count.stations,
        "reporting": count.reporting,
    }

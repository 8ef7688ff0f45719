"""The HTTP API's answers as plain JSON data: stations, the latest snapshot, readings, alerts.

Pure functions of what ``dashboard.data`` loaded; their shapes are the schemas of
``dashboard.openapi``. Times are UTC ISO 8601 with milliseconds and ``Z``, each beside its epoch
milliseconds; a missing number is ``null``, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.catalogue import LEVEL_COLUMNS, Station
from dashboard import status
from dashboard.api_params import ReadingsAsk
from dashboard.data import Snapshot
from store.alerts import Alert
from store.readings import Row

UNITS: Final = {"level": "m", "rain": "mm"}
#: the warning colour of each threshold of ``status.thresholds``
THRESHOLD_COLOURS: Final = {
    "threshold.blue": "blue",
    "threshold.warning": "yellow",
    "threshold.guaranteed": "orange",
    "threshold.red": "red",
}


def iso_utc(ms: int | None) -> str | None:
    """``2022-01-11T06:15:00.000Z`` of UTC ms (None for None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: Any) -> float | None:
    """A finite float, or None (pandas' NaN of a missing value included)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def integer(value: Any) -> int | None:
    """An int, or None (NaN included)."""
    found = number(value)
    return None if found is None else int(found)


def station_json(station: Station, blue_margin_m: float) -> dict[str, Any]:
    """A catalogue station (``Station`` schema)."""
    return {
        "id": station.id,
        "name_zh": station.name_zh,
        "name_en": station.name_en,
        "kind": station.kind,
        "quantities": list(station.quantities),
        "lat": station.lat,
        "lon": station.lon,
        "river": station.river,
        "basin": station.basin,
        "district": station.district,
        "datum_m": number(station.datum_m),
        "datum_name": station.datum_name,
        "interval_s": station.interval_s,
        "stale_after_s": station.stale_after_s(),
        "thresholds": {
            **{key: number(getattr(station, key)) for key in LEVEL_COLUMNS},
            "historical_max_time": station.historical_max_time or None,
            "source": station.thresholds_source,
        },
        "levels": [
            {"level": THRESHOLD_COLOURS[key], "m": level} for key, level in status.thresholds(station, blue_margin_m)
        ],
        "plausibility": {
            "min": number(station.plaus_min),
            "max": number(station.plaus_max),
            "max_rate_per_h": number(station.max_rate_per_h),
        },
    }


def stations_json(stations: Iterable[Station], blue_margin_m: float) -> dict[str, Any]:
    """The catalogue (``Stations`` schema)."""
    found = [station_json(station, blue_margin_m) for station in stations]
    return {"count": len(found), "stations": found}


def latest_json(snapshot: Snapshot, chosen: tuple[str, ...]) -> dict[str, Any]:
    """The snapshot's stations (``chosen`` ones only when given), as the ``Latest`` schema."""
    rows = status.records(snapshot.table)
    if chosen:
        wanted = set(chosen)
        rows = [row for row in rows if row["id"] in wanted]
    found = [
        {
            "station": row["id"],
            "kind": row["kind"],
            "quantity": row["quantity"],
            "unit": UNITS[row["quantity"]],
            "value": number(row["value"]),
            "time": iso_utc(integer(row["time_ms"])),
            "time_ms": integer(row["time_ms"]),
            "trend_per_h": number(row["trend"]),
            "state": row["state"],
            "alert_level": row["alert"] or None,
            "flags": row["flags"] or None,
            "rain": {window: number(row[f"rain_{window}"]) for window in ("h1", "h3", "h24", "day")},
        }
        for row in rows
    ]
    return {
        "time": iso_utc(snapshot.now_ms),
        "time_ms": snapshot.now_ms,
        "newest": iso_utc(snapshot.newest_ms),
        "newest_ms": snapshot.newest_ms,
        "count": len(found),
        "stations": found,
    }


def readings_json(ask: ReadingsAsk, rows: Iterable[Row], zone: ZoneInfo) -> dict[str, Any]:
    """The rows of the series asked for (``Readings`` schema), one series per pair, empty ones included."""
    points: dict[tuple[str, str], list[dict[str, Any]]] = {pair: [] for pair in ask.pairs}
    for row in rows:
        series = points.get((row.station, row.quantity))
        if series is not None:
            series.append(
                {"time": iso_utc(row.time_ms), "time_ms": row.time_ms, "value": row.value, "interval_s": row.interval_s}
            )
    statistic = {"level": "max", "rain": "sum"} if ask.aggregation != "raw" else {"level": "reading", "rain": "reading"}
    return {
        "start": iso_utc(ask.start_ms),
        "start_ms": ask.start_ms,
        "end": iso_utc(ask.end_ms),
        "end_ms": ask.end_ms,
        "aggregation": ask.aggregation,
        "requested_aggregation": ask.requested,
        "zone": zone.key,
        "series": [
            {
                "station": station,
                "quantity": quantity,
                "unit": UNITS[quantity],
                "statistic": statistic[quantity],
                "count": len(found),
                "points": found,
            }
            for (station, quantity), found in points.items()
        ],
    }


def alert_json(alert: Alert, zone: ZoneInfo) -> dict[str, Any]:
    """One alert (``Alert`` schema)."""
    return {
        "id": alert.id,
        "station": alert.station,
        "rule": alert.rule,
        "level": alert.level,
        "state": alert.state,
        "raised": iso_utc(alert.raised_ms),
        "raised_ms": alert.raised_ms,
        "acknowledged": iso_utc(alert.acknowledged_ms),
        "acknowledged_ms": alert.acknowledged_ms,
        "acknowledged_by": alert.acknowledged_by or None,
        "note": alert.note or None,
        "escalated": iso_utc(alert.escalated_ms),
        "escalated_ms": alert.escalated_ms,
        "resolved": iso_utc(alert.resolved_ms),
        "resolved_ms": alert.resolved_ms,
        "value": number(alert.value),
        "threshold": number(alert.threshold),
        "reason": alert.reason,
        "reasons": alert.reasons(zone),
        "explanation": alert.explanation.as_dict() if alert.explanation else None,
        "muted": alert.muted,
    }


def alerts_json(alerts: Iterable[Alert], since_ms: int | None, active: bool, zone: ZoneInfo) -> dict[str, Any]:
    """The alerts (``Alerts`` schema); reasons with times in ``zone``."""
    found = [alert_json(alert, zone) for alert in alerts]
    return {"since": iso_utc(since_ms), "since_ms": since_ms, "active": active, "count": len(found), "alerts": found}

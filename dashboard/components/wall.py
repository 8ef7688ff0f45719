"""The wall display's panels: counters, stations nearest their thresholds, latest alerts, rain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from dash import html
from dash.development.base_component import Component

from config.i18n import t
from dashboard import status
from dashboard.components.common import badge, rule_name, table
from dashboard.theme import STATE_COLOURS
from store.alerts import Alert


def counters(values: status.Counters, language: str) -> list[Component]:
    """Seven tiles: reporting, stale, suspect, and stations per alert colour (red pulses when > 0)."""
    tiles = [
        ("wall.reporting", f"{values.reporting}/{values.stations}", "#43a047", ""),
        ("wall.stale", str(values.stale), STATE_COLOURS["stale"], ""),
        ("wall.suspect", str(values.suspect), STATE_COLOURS["suspect"], ""),
    ]
    for level in ("red", "orange", "yellow", "blue"):
        count = values.alerts[level]
        pulse = " fw-red-active" if level == "red" and count else ""
        tiles.append(("state." + level, str(count), STATE_COLOURS[level], pulse))
    return [
        html.Div(
            [html.Div(number, className="fw-n", style={"color": colour}), html.Div(t(language, key), className="fw-l")],
            className="fw-counter" + extra,
            id=f"counter-{key.split('.')[-1]}",
        )
        for key, number, colour, extra in tiles
    ]


def _name(station_id: str, names: Mapping[str, str]) -> Component:
    """A station's name, cut with an ellipsis when long (whole on hover): the panels keep one line a row."""
    name = names.get(station_id, station_id)
    return html.Span(name, title=name, className="fw-name")


def nearest(rows: pd.DataFrame, names: Mapping[str, str], language: str) -> Component:
    """Level stations highest above (or closest below) their warning stage."""
    body = []
    for row in status.records(rows):
        body.append(
            [
                _name(row["id"], names),
                badge(row["state"], language),
                status.format_value(float(row["value"]), "level"),
                status.format_value(float(row["warning_m"]), "level"),
                f"{float(row['margin']):+.2f} m",
                status.format_trend(None if pd.isna(row["trend"]) else float(row["trend"])),
            ]
        )
    headers = [t(language, k) for k in ("col.station", "col.state", "col.value", "col.threshold", "col.margin")]
    return table([*headers, t(language, "col.trend")], body)


def latest_alerts(
    alerts: list[Alert], names: Mapping[str, str], zone: ZoneInfo, language: str, limit: int = 8
) -> Component:
    """Active alerts first, then the newest resolved ones."""
    if not alerts:
        return html.Div(t(language, "wall.no_alerts"))
    ordered = sorted(
        alerts,
        key=lambda a: (
            a.state != "firing",
            -status.COLOURS.index(a.level) if a.level in status.COLOURS else 0,
            -a.raised_ms,
        ),
    )[:limit]
    rows = [
        [
            badge(a.level, language),
            _name(a.station, names),
            rule_name(a.rule, language),
            status.format_time(a.raised_ms, zone, date=False),
            t(language, "alert." + a.state),
        ]
        for a in ordered
    ]
    headers = [t(language, k) for k in ("col.level", "col.station", "col.rule", "col.raised", "col.state")]
    return table(headers, rows)


def _mm(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def rain_totals(rows: pd.DataFrame, names: Mapping[str, str], language: str) -> Component:
    """The wettest gauges: last 1 h, last 24 h and since 08:00 local."""
    if rows.empty:
        return html.Div(t(language, "wall.no_rain"))
    body = [
        [_name(row["id"], names), *(f"{_mm(row[c]):.1f}" for c in ("rain_h1", "rain_h24", "rain_day"))]
        for row in status.records(rows)
    ]
    headers = [t(language, k) for k in ("col.station", "col.h1", "col.h24", "col.day")]
    return table([f"{headers[0]} (mm)", *headers[1:]], body)

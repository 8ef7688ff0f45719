"""The station page's panels: summary (latest, trend, next threshold), thresholds, alert history."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from dash import html
from dash.development.base_component import Component

from config.catalogue import Station
from config.i18n import t
from dashboard import status
from dashboard.components.common import badge, rule_name, station_link, table
from store.alerts import Alert


def summary(  # noqa: PLR0917 - one card per argument
    station: Station,
    value: float | None,
    time_ms: int | None,
    trend: float | None,
    state: str,
    zone: ZoneInfo,
    language: str,
    blue_margin_m: float = 0.5,
) -> Component:
    """Cards: latest value with its time and state, trend, next threshold and when it is reached."""
    quantity = status.station_quantity(station)
    cards = [
        html.Div(
            [
                html.H3(t(language, "station.latest")),
                html.Div(status.format_value(value, quantity), className="fw-big", id="station-latest"),
                html.Div([status.format_time(time_ms, zone), " ", badge(state, language)]),
            ],
            className="fw-card",
        )
    ]
    if quantity == "level":
        cards.append(
            html.Div(
                [html.H3(t(language, "station.trend")), html.Div(status.format_trend(trend), className="fw-big")],
                className="fw-card",
            )
        )
        upcoming = status.next_threshold(station, value, trend, blue_margin_m)
        lines: list[Component | str]
        if upcoming is None:
            lines = [t(language, "station.above_all")] if value is not None and status.thresholds(station) else []
        else:
            eta = status.format_hours(upcoming.hours, language)
            lines = [
                html.Div(f"{t(language, upcoming.key)} {upcoming.level_m:.2f} m", className="fw-big"),
                html.Div(t(language, "station.eta").format(eta=eta) if eta else t(language, "station.not_rising")),
            ]
        cards.append(html.Div([html.H3(t(language, "station.next")), *lines], className="fw-card"))
    return html.Div(cards, className="fw-grid")


def facts(station: Station, gauges: list[Station], language: str, blue_margin_m: float = 0.5) -> Component:
    """Kind, river, datum, thresholds and their source, the nearest rain gauges."""
    rows: list[list[object]] = [[t(language, "station.kind"), t(language, "kind." + station.kind)]]
    if station.river:
        rows.append([t(language, "station.river"), station.river])
    if station.datum_m is not None or station.datum_name:
        rows.append([t(language, "station.datum"), f"{station.datum_m or ''} {station.datum_name}".strip()])
    for key, level in status.thresholds(station, blue_margin_m):
        rows.append([t(language, key), f"{level:.2f} m"])
    if station.thresholds_source:
        rows.append([t(language, "station.demo_thresholds"), station.thresholds_source])
    others = [g for g in gauges if g.id != station.id]
    if others:
        links: list[Component | str] = []
        for gauge in others:
            links += [station_link(gauge.id, gauge.display_name(language)), " "]
        rows.append([t(language, "station.gauges"), html.Span(links)])
    return table(["", ""], rows)


def alert_history(alerts: list[Alert], zone: ZoneInfo, language: str) -> Component:
    """Every alert of the station, newest first."""
    if not alerts:
        return html.Div(t(language, "station.no_alerts"))
    rows = [
        [
            badge(a.level, language),
            rule_name(a.rule, language),
            status.format_time(a.raised_ms, zone),
            status.format_time(a.resolved_ms, zone) if a.resolved_ms else t(language, "alert.firing"),
            f"{status.format_time(a.acknowledged_ms, zone)} {a.acknowledged_by}".strip() if a.acknowledged_ms else "",
            f"{a.value:.2f}" if a.value is not None else "",
        ]
        for a in sorted(alerts, key=lambda a: -a.raised_ms)
    ]
    headers = ["col.level", "col.rule", "col.raised", "col.resolved", "col.acknowledged", "col.value"]
    return table([t(language, k) for k in headers], rows)


def names_of(stations: Mapping[str, Station], language: str) -> dict[str, str]:
    """Station id -> display name."""
    return {sid: s.display_name(language) for sid, s in stations.items()}

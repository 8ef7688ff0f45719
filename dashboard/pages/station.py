"""The station page (``/station/<id>``): hydrograph with thresholds, rain, trend, alert history."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component

from config.i18n import t
from dashboard import figures, ids, status
from dashboard.components import station as parts
from dashboard.components.common import date_range, header
from dashboard.context import Context
from dashboard.data import RANGES, DataUnavailableError

DEFAULT_RANGE = "72h"
#: the range option that reads the date pickers
CUSTOM = "custom"


def layout(ctx: Context, station_id: str, language: str) -> Component:
    """The page of one station (a plain message for an unknown id)."""
    station = ctx.catalogue.get(station_id)
    if station is None:
        return html.Div(
            [
                header(language, ""),
                html.Div(
                    [
                        html.P(t(language, "station.not_found").format(id=station_id)),
                        dcc.Link(t(language, "station.back"), href="/"),
                    ],
                    className="fw-page",
                ),
            ]
        )
    gauges = status.nearest_gauges(station, ctx.catalogue.values())
    now_ms = int(ctx.data.now() * 1000)
    today = status.local_date(now_ms, ctx.zone)
    has_level = "level" in station.quantities
    return html.Div(
        [
            header(language, ""),
            html.Div(
                [
                    html.H2(f"{station.display_name(language)} ({station.id})", id="station-title"),
                    html.Div(
                        [
                            dcc.Link(t(language, "station.back"), href="/"),
                            dcc.Link(
                                t(language, "history.open"),
                                href=f"/history?stations={station.id}",
                                id="station-history",
                            ),
                        ],
                        className="fw-toolbar",
                    ),
                    dcc.Store(id=ids.STATION_ID, data=station.id),
                    html.Div(
                        [
                            html.Span(f"{t(language, 'station.range')}: "),
                            dcc.RadioItems(
                                id=ids.STATION_RANGE,
                                options=[
                                    *({"label": t(language, f"range.{key}"), "value": key} for key in RANGES),
                                    {"label": t(language, "range.custom"), "value": CUSTOM},
                                ],
                                value=DEFAULT_RANGE,
                                inline=True,
                                style={"display": "inline-block"},
                            ),
                            date_range(
                                ids.STATION_DATES,
                                status.local_date(now_ms - 6 * 86_400_000, ctx.zone),
                                today,
                                today,
                                language,
                                start_id=ids.STATION_DATE_START,
                                end_id=ids.STATION_DATE_END,
                            ),
                        ],
                        className="fw-toolbar",
                        style={"margin": ".5em 0"},
                    ),
                    html.Div(id=ids.STATION_SUMMARY),
                    dcc.Graph(
                        id=ids.STATION_LEVEL,
                        style={"height": "420px", "display": "block" if has_level else "none"},
                        config={"displaylogo": False},
                    ),
                    dcc.Graph(id=ids.STATION_RAIN, style={"height": "300px"}, config={"displaylogo": False}),
                    html.H3(t(language, "station.thresholds")),
                    parts.facts(station, gauges, language, ctx.blue_margin_m),
                    html.H3(t(language, "station.alerts")),
                    html.Div(id=ids.STATION_ALERTS),
                    dcc.Interval(id=ids.STATION_TICK, interval=max(ctx.refresh_ms, 30_000)),
                ],
                className="fw-page",
            ),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The station page's refresh callback (range change or interval)."""

    @app.callback(
        Output(ids.STATION_LEVEL, "figure"),
        Output(ids.STATION_RAIN, "figure"),
        Output(ids.STATION_SUMMARY, "children"),
        Output(ids.STATION_ALERTS, "children"),
        Input(ids.STATION_RANGE, "value"),
        Input(ids.STATION_DATES, "start_date"),
        Input(ids.STATION_DATES, "end_date"),
        Input(ids.STATION_TICK, "n_intervals"),
        State(ids.STATION_ID, "data"),
        State(ids.LANG, "data"),
    )
    def refresh(
        range_key: str, start_date: Any, end_date: Any, _n: int | None, station_id: str, language: str
    ) -> tuple[Any, ...]:
        station = ctx.catalogue.get(station_id)
        span = None
        if range_key == CUSTOM:
            span = status.custom_span(start_date, end_date, ctx.zone, int(ctx.data.now() * 1000))
        if station is None or (range_key not in RANGES and span is None):
            return no_update, no_update, no_update, no_update
        try:
            if span is not None:
                series = ctx.data.station_series_between(station.id, *span)
            else:
                series = ctx.data.station_series(station.id, range_key)
            snapshot = ctx.data.snapshot()
        except DataUnavailableError:
            return no_update, no_update, html.Div(t(language, "station.unavailable"), className="fw-error"), no_update
        row = next(r for r in status.records(snapshot.table) if r["id"] == station.id)
        value = None if pd.isna(row["value"]) else float(row["value"])
        time_ms = None if pd.isna(row["time_ms"]) else int(row["time_ms"])
        trend = None if pd.isna(row["trend"]) else float(row["trend"])
        span = (series.start_ms, series.end_ms)
        level = figures.hydrograph(
            series.level, station, ctx.zone, language, blue_margin_m=ctx.blue_margin_m, x_range=span
        )
        rain = figures.rain_chart(series.rain, ctx.names(language), ctx.zone, language, x_range=span)
        summary = parts.summary(
            station, value, time_ms, trend, str(row["state"]), ctx.zone, language, ctx.blue_margin_m
        )
        return level, rain, summary, parts.alert_history(series.alerts, ctx.zone, language)

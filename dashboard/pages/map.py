"""The one map (``/``): every station coloured by state, grouped by kind; a click opens its page."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, Patch, State, dcc, html, no_update
from dash.development.base_component import Component

from config.i18n import t
from dashboard import figures, ids, status
from dashboard.components.common import header
from dashboard.context import Context
from dashboard.data import DataUnavailableError


def layout(ctx: Context, language: str) -> Component:
    """The map page: header, hint, the map (stations arrive with the first refresh)."""
    figure = figures.base_map(ctx.layers, ctx.center, ctx.zoom, attribution=t(language, "map.attribution"))
    figure.update_layout(showlegend=True)
    return html.Div(
        [
            header(language, "/"),
            html.Div(
                [
                    html.Span(t(language, "map.hint")),
                    html.Span(className="fw-spacer"),
                    html.Span(t(language, "map.view")),
                    dcc.RadioItems(
                        id=ids.MAP_RAIN_VIEW,
                        options=[
                            {"label": t(language, "map.view.state"), "value": ""},
                            *({"label": t(language, "map.rain." + c), "value": c} for c in status.RAIN_CLASSES),
                        ],
                        value="",
                        inline=True,
                        persistence=True,  # the browser remembers the choice
                        className="fw-lang",
                    ),
                ],
                className="fw-hint fw-toolbar",
            ),
            html.Div(id=ids.MAP_ERROR),
            dcc.Graph(
                id=ids.MAP_GRAPH,
                figure=figure,
                className="fw-map",
                config={"displaylogo": False, "scrollZoom": True},
            ),
            dcc.Interval(id=ids.MAP_TICK, interval=ctx.refresh_ms),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The map's refresh and click callbacks."""

    @app.callback(
        Output(ids.MAP_GRAPH, "figure"),
        Output(ids.MAP_ERROR, "children"),
        Input(ids.MAP_TICK, "n_intervals"),
        Input(ids.MAP_RAIN_VIEW, "value"),
        State(ids.LANG, "data"),
    )
    def refresh(_n: int | None, rain_view: Any, language: str) -> tuple[Any, Any]:
        try:
            snapshot = ctx.data.snapshot()
        except DataUnavailableError:
            return no_update, html.Div(t(language, "status.unreachable"), className="fw-error")
        patch = Patch()
        # only the stations change: the basemap and the view stay as the user left them
        rain_column = rain_view if rain_view in status.RAIN_CLASSES else ""
        patch["data"] = figures.station_traces(snapshot.table, ctx.names(language), ctx.zone, language, rain_column)
        return patch, None

    @app.callback(Output(ids.URL, "pathname"), Input(ids.MAP_GRAPH, "clickData"), prevent_initial_call=True)
    def open_station(click: dict[str, Any] | None) -> Any:
        points = (click or {}).get("points") or []
        station = points[0].get("customdata") if points else None
        if isinstance(station, list):
            station = station[0] if station else None
        if not isinstance(station, str) or station not in ctx.catalogue:
            return no_update
        return f"/station/{station}"

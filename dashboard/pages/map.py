"""The one map (``/``): stations coloured by state, switchable layers; a click opens a station or a camera.

The layer switches (station groups, district boundaries, rivers, engineering assets, cameras) and the
rain view are inputs of the one refresh callback: it patches the stations and layers' traces and the
basemap layers' visibility, never the view, so zoom and pan stay as the user left them.
"""

from __future__ import annotations

from typing import Any, Final

from dash import Dash, Input, Output, Patch, State, dcc, html, no_update
from dash.development.base_component import Component

from config.i18n import t
from dashboard import figures, ids, status
from dashboard.components.common import header
from dashboard.context import Context
from dashboard.data import DataUnavailableError
from dashboard.theme import LIGHT

#: a click on a camera opens its link in a new tab (a station id never holds a "/", a link always does)
OPEN_LINK_JS: Final = """
function (click) {
  var point = click && click.points && click.points[0];
  var link = point && point.customdata;
  if (typeof link === 'string' && /^https?:\\/\\//.test(link)) {
    window.open(link, '_blank', 'noopener');
    return link;
  }
  return window.dash_clientside.no_update;
}
"""


def layout(ctx: Context, language: str) -> Component:
    """The map page: header, switches, the map (stations and layers arrive with the first refresh)."""
    figure = figures.base_map(
        ctx.layers, ctx.center, ctx.zoom, attribution=ctx.attribution(language), tile_url=ctx.tile_url
    )
    figure.update_layout(showlegend=True)
    switches = figures.layer_switches(ctx.layers, ctx.features)
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
            html.Div(
                [
                    html.Span(t(language, "map.layers")),
                    dcc.Checklist(
                        id=ids.MAP_LAYERS,
                        options=[
                            {"label": t(language, "layer." + switch.replace(":", "_")), "value": switch}
                            for switch in switches
                        ],
                        value=switches,
                        inline=True,
                        persistence=True,
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
            dcc.Store(id=ids.MAP_LINK),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The map's refresh and click callbacks."""

    @app.callback(
        Output(ids.MAP_GRAPH, "figure"),
        Output(ids.MAP_ERROR, "children"),
        Input(ids.MAP_TICK, "n_intervals"),
        Input(ids.MAP_RAIN_VIEW, "value"),
        Input(ids.MAP_LAYERS, "value"),
        State(ids.LANG, "data"),
    )
    def refresh(_n: int | None, rain_view: Any, layers: Any, language: str) -> tuple[Any, Any]:
        try:
            snapshot = ctx.data.snapshot()
        except DataUnavailableError:
            return no_update, html.Div(t(language, "status.unreachable"), className="fw-error")
        shown = {value for value in layers or [] if isinstance(value, str)}
        rain_column = rain_view if rain_view in status.RAIN_CLASSES else ""
        patch = Patch()
        # the traces and the basemap layers' visibility change: the view stays as the user left it
        patch["data"] = [
            *figures.layer_traces(ctx.features, language, shown),
            *ctx.station_traces(snapshot, language, rain_column, shown),
        ]
        for index, layer in enumerate(figures.basemap_layers(ctx.layers, LIGHT, shown)):
            patch["layout"]["map"]["layers"][index]["visible"] = layer["visible"]
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

    app.clientside_callback(
        OPEN_LINK_JS, Output(ids.MAP_LINK, "data"), Input(ids.MAP_GRAPH, "clickData"), prevent_initial_call=True
    )

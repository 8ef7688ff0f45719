"""``create_app(settings)``: the Dash app. A placeholder status page until the dashboard issues land."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, dcc, html
from dash.development.base_component import Component

from config.catalogue import load_catalogue
from config.i18n import t
from config.settings import Settings
from dashboard import data
from store.influx import InfluxClient

REFRESH_MS = 10_000


def create_app(settings: Settings) -> Dash:
    """Build the app for ``settings`` (no module-level state)."""
    catalogue = load_catalogue(settings.catalogue)
    client = InfluxClient(settings.influx)
    zone = ZoneInfo(settings.timezone)
    app = Dash(__name__, title="floodwatch", serve_locally=True)
    app.layout = html.Div(
        [
            dcc.Store(id="lang", data=settings.language, storage_type="local"),
            dcc.Interval(id="tick", interval=REFRESH_MS),
            html.Button(id="lang-switch", n_clicks=0, style={"float": "right"}),
            html.H1(id="title"),
            html.P(id="intro"),
            html.Dl(id="status"),
        ],
        style={"fontFamily": "sans-serif", "maxWidth": "60em", "margin": "2em auto"},
    )

    @app.callback(
        Output("lang", "data"),
        Input("lang-switch", "n_clicks"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def switch(_clicks: int, language: str) -> str:
        return "en" if language == "zh" else "zh"

    @app.callback(
        Output("title", "children"),
        Output("intro", "children"),
        Output("lang-switch", "children"),
        Output("status", "children"),
        Input("tick", "n_intervals"),
        Input("lang", "data"),
    )
    def refresh(_n: int | None, language: str) -> tuple[str, str, str, list[Component]]:
        status = data.store_status(client)
        now = datetime.now(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
        if status is None:
            items: list[Component] = [html.Dt(t(language, "status.unreachable"))]
        else:
            latest = (
                datetime.fromtimestamp(status.latest_ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
                if status.latest_ms
                else t(language, "status.none")
            )
            items = [
                html.Dt(t(language, "status.stations")),
                html.Dd(f"{len(catalogue):,}"),
                html.Dt(t(language, "status.readings")),
                html.Dd(f"{status.readings:,}", id="readings"),
                html.Dt(t(language, "status.latest")),
                html.Dd(latest),
            ]
        items += [html.Dt(t(language, "status.refreshed")), html.Dd(now)]
        return t(language, "app.title"), t(language, "status.placeholder"), t(language, "lang.switch"), items

    return app

"""``create_app(settings)``: the Dash app with its three pages, routed by ``dcc.Location``.

Nothing lives at module level: the catalogue, the data layer (with its cache) and the clipped
basemap belong to the app built here. Dash serves its own scripts (``serve_locally``) and the CSS
is inlined in the page, so a browser asks nothing of any other host.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, dcc, html, no_update
from dash.development.base_component import Component

from config.catalogue import load_catalogue
from config.i18n import LANGUAGES
from config.settings import Settings
from dashboard import geo, ids, status, theme
from dashboard.context import Context
from dashboard.data import DataLayer
from dashboard.pages import map as map_page
from dashboard.pages import station as station_page
from dashboard.pages import wall as wall_page
from store.influx import InfluxClient

REFRESH_MS = 10_000


def route(ctx: Context, pathname: str | None, language: str) -> Component:
    """The page for a path: ``/``, ``/wall``, ``/station/<id>`` (anything else: the map)."""
    path = (pathname or "/").rstrip("/") or "/"
    if path == "/wall":
        return wall_page.layout(ctx, language)
    if path.startswith("/station/"):
        return station_page.layout(ctx, path.removeprefix("/station/"), language)
    return map_page.layout(ctx, language)


def create_app(settings: Settings, *, refresh_ms: int = REFRESH_MS) -> Dash:
    """Build the app for ``settings`` (reads the catalogue and the basemap files once)."""
    catalogue = load_catalogue(settings.catalogue)
    zone = ZoneInfo(settings.timezone)
    center, zoom, bbox = status.view_of(catalogue)
    data = DataLayer(InfluxClient(settings.influx), catalogue, zone, blue_margin_m=settings.alerts.blue_margin_m)
    ctx = Context(
        settings=settings,
        catalogue=catalogue,
        zone=zone,
        data=data,
        layers=geo.load_layers(geo.padded(bbox)),
        center=center,
        zoom=zoom,
        refresh_ms=refresh_ms,
    )
    app = Dash(
        __name__,
        title="floodwatch",
        update_title=None,  # type: ignore[arg-type]  # None is documented: keep the title while loading
        serve_locally=True,
        suppress_callback_exceptions=True,
        assets_ignore=".*",
    )
    app.index_string = theme.index_string("floodwatch")
    app.layout = html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Store(id=ids.LANG, data=settings.language, storage_type="local"),
            html.Div(id=ids.PAGE),
        ]
    )

    @app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"), Input(ids.LANG, "data"))
    def show(pathname: str | None, language: Any) -> Component:
        return route(ctx, pathname, language if language in LANGUAGES else settings.language)

    @app.callback(Output(ids.LANG, "data"), Input(ids.LANG_PICK, "value"), prevent_initial_call=True)
    def pick_language(language: Any) -> Any:
        return language if language in LANGUAGES else no_update

    app._floodwatch_ctx = ctx  # type: ignore[attr-defined]  # for tests and tools; never a module global
    map_page.register(app, ctx)
    wall_page.register(app, ctx)
    station_page.register(app, ctx)
    return app

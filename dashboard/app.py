"""``create_app(settings)``: the Dash app with its pages, routed by ``dcc.Location``.

Nothing lives at module level: the catalogue, the data layer (with its cache) and the clipped
basemap belong to the app built here. Dash serves its own scripts (``serve_locally``) and the CSS
is inlined in the page, so a browser asks nothing of any other host. Responses are compressed
(flask-compress: plotly.js is 4.8 MB, ~1.5 MB gzipped) and the Flask server answers ``/health``
for a load balancer or a monitoring probe, and the read-only HTTP API under ``/api/v1/``
(``dashboard.api``). ``dashboard.wsgi`` serves it with gunicorn.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component
from flask import Flask, Response, jsonify
from flask_compress import Compress

from config.catalogue import load_catalogue
from config.i18n import LANGUAGES
from config.settings import Settings
from dashboard import api, export, geo, ids, sound, status, theme
from dashboard.auth import Auth
from dashboard.components.common import user_bar
from dashboard.context import Context
from dashboard.data import DataLayer, DataUnavailableError
from dashboard.pages import alerts as alerts_page
from dashboard.pages import history as history_page
from dashboard.pages import map as map_page
from dashboard.pages import station as station_page
from dashboard.pages import wall as wall_page
from store.influx import InfluxClient

#: what flask-compress may use, best first (browsers offer br and zstd over HTTPS only, gzip always)
COMPRESS_ALGORITHMS = ["zstd", "br", "gzip"]


def route(ctx: Context, pathname: str | None, language: str, search: str | None = None) -> Component:
    """The page for a path: ``/``, ``/wall``, ``/alerts``, ``/history?…``, ``/station/<id>`` (else: the map)."""
    path = (pathname or "/").rstrip("/") or "/"
    if path == "/wall":
        return wall_page.layout(ctx, language)
    if path == "/alerts":
        return alerts_page.layout(ctx, language)
    if path == "/history":
        return history_page.layout(ctx, language, search or "")
    if path.startswith("/station/"):
        return station_page.layout(ctx, path.removeprefix("/station/"), language)
    return map_page.layout(ctx, language)


def health(ctx: Context) -> tuple[dict[str, Any], int]:
    """``/health``: the data the screens see (cached snapshot) summarised, HTTP 503 when InfluxDB fails."""
    now_ms = int(time.time() * 1000)
    try:
        snapshot = ctx.data.snapshot()
    except DataUnavailableError as exc:
        return status.health_report(None, now_ms, ctx.zone, error=str(exc)), 503
    return status.health_report(snapshot.table, now_ms, ctx.zone), 200


def add_server_routes(server: Flask, ctx: Context) -> None:
    """Compression of every response, ``/health`` and the wall's alarm sound on the Flask server."""
    server.config.update(COMPRESS_ALGORITHM=COMPRESS_ALGORITHMS, COMPRESS_LEVEL=6, COMPRESS_MIN_SIZE=500)
    Compress(server)

    @server.route("/health")
    def health_route() -> tuple[Response, int]:
        body, code = health(ctx)
        return jsonify(body), code

    alarm = sound.beep_wav()

    @server.route(sound.ALARM_PATH)
    def alarm_route() -> Response:
        response = Response(alarm, mimetype="audio/wav")
        response.cache_control.max_age = 86_400
        return response


def shared_cache_folder(settings: Settings) -> Path:
    """Where the workers of this machine share the snapshot: one folder per database and catalogue."""
    key = "\n".join([settings.influx.url, settings.influx.database, str(settings.catalogue.resolve())])
    return settings.var_dir / "dashboard-cache" / hashlib.sha256(key.encode()).hexdigest()[:16]


def create_app(settings: Settings, *, refresh_ms: int | None = None) -> Dash:
    """Build the app for ``settings`` (reads the catalogue and the basemap files once).

    Args:
        settings: validated settings.
        refresh_ms: how often the map and the wall refresh; default ``dashboard.refresh_s``.
    """
    if refresh_ms is None:
        refresh_ms = int(settings.dashboard.refresh_s * 1000)
    catalogue = load_catalogue(settings.catalogue)
    zone = ZoneInfo(settings.timezone)
    center, zoom, bbox = status.view_of(catalogue)
    data = DataLayer(
        InfluxClient(settings.influx),
        catalogue,
        zone,
        blue_margin_m=settings.alerts.blue_margin_m,
        shared_folder=shared_cache_folder(settings) if settings.dashboard.shared_cache else None,
    )
    ctx = Context(
        settings=settings,
        catalogue=catalogue,
        zone=zone,
        data=data,
        layers=geo.load_layers(geo.padded(bbox)),
        features=geo.load_features(geo.layer_files(list(settings.dashboard.layers)), geo.padded(bbox)),
        center=center,
        zoom=zoom,
        refresh_ms=refresh_ms,
        auth=Auth(settings),
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

    # the query is a State: the history page writes its state there without being built again
    @app.callback(
        Output(ids.PAGE, "children"), Input(ids.URL, "pathname"), Input(ids.LANG, "data"), State(ids.URL, "search")
    )
    def show(pathname: str | None, language: Any, search: str | None) -> Component:
        return route(ctx, pathname, language if language in LANGUAGES else settings.language, search)

    @app.callback(Output(ids.USER_BAR, "children"), Input(ids.URL, "pathname"), Input(ids.LANG, "data"))
    def show_user(pathname: str | None, language: Any) -> Component:
        return user_bar(
            ctx.auth.current_user(), pathname or "/", language if language in LANGUAGES else settings.language
        )

    @app.callback(Output(ids.LANG, "data"), Input(ids.LANG_PICK, "value"), prevent_initial_call=True)
    def pick_language(language: Any) -> Any:
        return language if language in LANGUAGES else no_update

    ctx.auth.install(app.server)
    add_server_routes(app.server, ctx)
    app.server.register_blueprint(api.blueprint(ctx))
    app._floodwatch_ctx = ctx  # type: ignore[attr-defined]  # for tests and tools; never a module global
    map_page.register(app, ctx)
    wall_page.register(app, ctx)
    station_page.register(app, ctx)
    alerts_page.register(app, ctx)
    history_page.register(app, ctx)
    export.register(app.server, ctx)
    return app

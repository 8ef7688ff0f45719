"""``/api/v1/``: the read-only HTTP API for other systems, a Flask blueprint on the dashboard's server.

``GET`` only: the catalogue (``/stations``, ``/stations/{id}``), the cached snapshot the screens show
(``/latest``), readings over a bounded range (``/readings``) and the alerts (``/alerts``), described
by ``/openapi.json`` (``dashboard.openapi``) and ``/docs``. Views are thin: they check the parameters
(``dashboard.api_params``), read through ``dashboard.data`` and shape the answer
(``dashboard.api_shapes``); nothing here builds a query. The login gate (``dashboard.auth``) runs
first: with ``dashboard.login_required`` a request needs a session or HTTP Basic credentials.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from dashboard import api_docs, openapi
from dashboard.api_errors import ApiError, error_response
from dashboard.api_params import check_names, flag, readings_ask, stations, time_ms
from dashboard.api_shapes import alerts_json, latest_json, readings_json, station_json, stations_json
from dashboard.context import Context
from dashboard.data import RECENT_ALERTS_MS, DataUnavailableError
from store.readings import Selection

log = logging.getLogger(__name__)
DOCS_HINT = f"the endpoints are listed at {openapi.PREFIX}/docs"


def answer(body: Any, status: int = 200) -> Response:
    """A JSON answer (never NaN: ``allow_nan=False`` fails loudly rather than send invalid JSON)."""
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False), status=status, mimetype="application/json")


def arguments(path: str) -> MultiDict[str, str]:
    """The request's query parameters, if ``path`` documents each of them.

    Raises:
        ApiError: 400 for a parameter the path does not take.
    """
    check_names(request.args, openapi.query_parameters(path))
    return request.args


def blueprint(ctx: Context) -> Blueprint:
    """The API's routes for the app of ``ctx`` (``create_app`` registers it)."""
    api = Blueprint("api", __name__, url_prefix="/api")
    document = openapi.spec()
    docs = api_docs.page(document)
    margin = ctx.settings.alerts.blue_margin_m

    @api.errorhandler(ApiError)
    def refused(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.hint)

    @api.errorhandler(DataUnavailableError)
    def unavailable(exc: DataUnavailableError) -> Response:
        log.warning("API %s: InfluxDB unavailable: %s", request.path, exc)
        return error_response(503, "InfluxDB does not answer", "try again in a moment; /health tells more")

    @api.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @api.get("/v1/stations")
    def all_stations() -> Response:
        arguments("/stations")
        return answer(stations_json(ctx.catalogue.values(), margin))

    @api.get("/v1/stations/<station_id>")
    def one_station(station_id: str) -> Response:
        arguments("/stations/{id}")
        station = ctx.catalogue.get(station_id)
        if station is None:
            raise ApiError(404, "no such station", "GET /api/v1/stations lists the station ids")
        return answer(station_json(station, margin))

    @api.get("/v1/latest")
    def latest() -> Response:
        chosen = stations(arguments("/latest"), ctx.catalogue)
        return answer(latest_json(ctx.data.snapshot(), chosen))

    @api.get("/v1/readings")
    def readings() -> Response:
        ask = readings_ask(arguments("/readings"), ctx.catalogue, int(ctx.data.now() * 1000))
        selection = Selection(ask.stations, ask.start_ms, ask.end_ms, ask.aggregation, ctx.zone)
        return answer(readings_json(ask, ctx.data.readings(selection, ask.quantities), ctx.zone))

    @api.get("/v1/alerts")
    def alerts() -> Response:
        args = arguments("/alerts")
        chosen = stations(args, ctx.catalogue)
        active = flag(args, "active")
        since = time_ms(args, "since")
        if since is None and not active:  # the last 24 hours, from a whole minute: polling clients share the cache
            now_ms = int(ctx.data.now() * 1000)
            since = now_ms - now_ms % 60_000 - RECENT_ALERTS_MS
        found = ctx.data.alerts(
            since_ms=since or 0, station=chosen[0] if len(chosen) == 1 else None, active_only=active
        )
        found = [
            a for a in found if (not chosen or a.station in chosen) and (not active or a.raised_ms >= (since or 0))
        ]
        return answer(alerts_json(found, since, active, ctx.zone))

    @api.get("/v1/openapi.json")
    def openapi_json() -> Response:
        arguments("/openapi.json")
        return answer(document)

    @api.get("/v1/docs")
    def docs_page() -> Response:
        arguments("/docs")
        return Response(docs, mimetype="text/html")

    @api.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @api.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def elsewhere(**_: str) -> Response:
        # Dash answers every other path with its page: an API client gets JSON instead. A method other
        # than GET on an endpoint lands here too (Werkzeug prefers a rule that takes the method).
        if request.method != "GET":
            response = error_response(405, "the API only reads", "use GET")
            response.headers["Allow"] = "GET, HEAD"
            return response
        return error_response(404, "no such path", DOCS_HINT)

    return api

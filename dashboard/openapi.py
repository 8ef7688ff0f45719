"""The OpenAPI 3.1 description of the read-only HTTP API (``/api/v1/openapi.json``), as plain data.

The one source of truth of the API's parameters: ``dashboard.api`` refuses any query parameter that
is not documented here for its path, and tests/test_api.py checks every documented path and status
against the server's answers (``additionalProperties: false``: an undocumented field fails).
"""

from __future__ import annotations

from typing import Any, Final

from config.catalogue import KIND_QUANTITIES
from config.contract import STATION_ID
from config.units import QUANTITIES
from dashboard.api_params import MAX_ROWS, MAX_SPAN_MS
from dashboard.status import COLOURS, STATES
from store.readings import AGGREGATIONS

PREFIX: Final = "/api/v1"
AUTO: Final = "auto"
#: the answers' times: UTC, ISO 8601 with milliseconds and Z (``2022-01-11T06:15:00.000Z``)
TIME: Final[dict[str, Any]] = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601"}
NULLABLE_TIME: Final[dict[str, Any]] = {"type": ["string", "null"], "format": "date-time", "description": "UTC"}
EPOCH_MS: Final[dict[str, Any]] = {"type": "integer", "description": "milliseconds since 1970-01-01T00:00:00Z"}
NULLABLE_MS: Final[dict[str, Any]] = {"type": ["integer", "null"], "description": "epoch milliseconds"}


def _number(description: str) -> dict[str, Any]:
    return {"type": ["number", "null"], "description": description}


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A closed object whose every property is always present (null when unknown)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


STATION_PARAMETER: Final[dict[str, Any]] = {
    "name": "station",
    "in": "query",
    "description": "A station id of the catalogue; repeat it for several (default: every station).",
    "schema": {"type": "array", "items": {"type": "string", "pattern": STATION_ID.pattern.replace(r"\Z", "$")}},
    "style": "form",
    "explode": True,
}


def _time_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description + " ISO 8601 with a zone: `2022-01-11T14:15:00+08:00` or `2022-01-11T06:15:00Z`.",
        "schema": {"type": "string", "format": "date-time"},
    }


#: the query parameters of each path (the API refuses any other)
PARAMETERS: Final[dict[str, list[dict[str, Any]]]] = {
    "/stations": [],
    "/stations/{id}": [],
    "/latest": [STATION_PARAMETER],
    "/readings": [
        STATION_PARAMETER,
        _time_parameter("start", "From this time (default: 24 hours before `end`)."),
        _time_parameter("end", "Until this time (default: now)."),
        {
            "name": "aggregation",
            "in": "query",
            "description": "`raw` readings; `5m`, `1h` or `1d` (the hydrological day, 08:00 to 08:00 in the "
            "center's zone) buckets: the maximum level and the rain total of each; `auto` (default) the "
            "finest that the range allows (raw up to 2 days, 5 min to 14, hourly to 400, then daily, coarser "
            "when too many rows). A range too long for the aggregation asked for is refused with a 400 that "
            "names the one to use.",
            "schema": {"type": "string", "enum": [*AGGREGATIONS, AUTO], "default": AUTO},
        },
        {
            "name": "quantity",
            "in": "query",
            "description": "Only `level` or only `rain` (default: what each station reports).",
            "schema": {"type": "string", "enum": list(QUANTITIES)},
        },
    ],
    "/alerts": [
        STATION_PARAMETER,
        {
            "name": "active",
            "in": "query",
            "description": "`true`: only the alerts still firing.",
            "schema": {"type": "string", "enum": ["true", "false"], "default": "false"},
        },
        _time_parameter(
            "since",
            "Alerts raised since this time (default: the last 24 hours, or with active=true any time); "
            "without active=true every alert still firing is listed too.",
        ),
    ],
    "/openapi.json": [],
    "/docs": [],
}

POINT: Final = _object(
    {
        "time": {**TIME, "description": "UTC: a reading's device time; a level bucket's start; a rain bucket's end"},
        "time_ms": EPOCH_MS,
        "value": {"type": "number", "description": "m (level) or mm (rain)"},
        "interval_s": {"type": ["integer", "null"], "description": "raw rain: its accumulation interval"},
    }
)
SERIES: Final = _object(
    {
        "station": _text("station id"),
        "quantity": {"type": "string", "enum": list(QUANTITIES)},
        "unit": {"type": "string", "enum": ["m", "mm"]},
        "statistic": {
            "type": "string",
            "enum": ["reading", "max", "sum"],
            "description": "raw readings, or the bucket's maximum (levels) or total (rain)",
        },
        "count": {"type": "integer"},
        "points": _list_of("Point"),
    }
)
THRESHOLDS: Final = _object(
    {
        "blue_m": _number("blue-level override"),
        "warning_m": _number("warning stage 警戒水位 (yellow)"),
        "guaranteed_m": _number("guaranteed stage 保证水位 (orange)"),
        "red_m": _number("red-level override (default: the historical maximum)"),
        "historical_max_m": _number("historical maximum 历史最高水位"),
        "historical_max_time": {"type": ["string", "null"], "description": "when it was reached"},
        "flood_limit_m": _number("reservoirs: flood-limit level 汛限水位"),
        "source": _text("where the thresholds come from"),
    },
    "In metres above the station's datum, as the catalogue gives them.",
)
STATION: Final = _object(
    {
        "id": _text("station id"),
        "name_zh": _text("name in Chinese"),
        "name_en": _text("name in English or the local language"),
        "kind": {"type": "string", "enum": sorted(KIND_QUANTITIES)},
        "quantities": {"type": "array", "items": {"type": "string", "enum": list(QUANTITIES)}},
        "lat": _number("latitude, WGS 84"),
        "lon": _number("longitude, WGS 84"),
        "river": _text("river"),
        "basin": _text("basin"),
        "district": _text("administrative district"),
        "datum_m": _number("elevation of the gauge zero"),
        "datum_name": _text("name of that datum"),
        "interval_s": {"type": "integer", "description": "reporting interval"},
        "stale_after_s": {"type": "integer", "description": "no reading for this long: stale"},
        "thresholds": _ref("Thresholds"),
        "levels": {
            "type": "array",
            "description": "the warning levels in force, low to high (blue derived from the warning stage "
            "when not given, red from the historical maximum)",
            "items": _object({"level": {"type": "string", "enum": list(COLOURS)}, "m": {"type": "number"}}),
        },
        "plausibility": _object(
            {
                "min": _number("level: m; rain: mm/h"),
                "max": _number("level: m; rain: mm/h"),
                "max_rate_per_h": _number("largest credible change per hour"),
            }
        ),
    }
)
LATEST_STATION: Final = _object(
    {
        "station": _text("station id"),
        "kind": {"type": "string", "enum": sorted(KIND_QUANTITIES)},
        "quantity": {"type": "string", "enum": list(QUANTITIES), "description": "what the station is shown by"},
        "unit": {"type": "string", "enum": ["m", "mm"]},
        "value": _number("the latest reading (within the last 2 days)"),
        "time": NULLABLE_TIME,
        "time_ms": NULLABLE_MS,
        "trend_per_h": _number("levels: change per hour over the last hour (m/h)"),
        "state": {"type": "string", "enum": list(STATES), "description": "the colour the map shows"},
        "alert_level": {
            "type": ["string", "null"],
            "description": "the highest active alert of the alert engine (blue, yellow, orange, red, stale, suspect)",
        },
        "flags": {"type": ["string", "null"], "description": "data-quality flags of the latest reading"},
        "rain": _object(
            {
                "h1": _number("mm in the last hour"),
                "h3": _number("mm in the last 3 hours"),
                "h24": _number("mm in the last 24 hours"),
                "day": _number("mm since 08:00 local (the hydrological day)"),
            }
        ),
    }
)
ALERT: Final = _object(
    {
        "id": _text("station/rule/fired_ms"),
        "station": _text("station id"),
        "rule": _text("the rule that fired (level, rain_3h, rise, ...)"),
        "level": _text("blue, yellow, orange, red, stale or suspect"),
        "state": {"type": "string", "enum": ["firing", "resolved"]},
        "raised": TIME,
        "raised_ms": EPOCH_MS,
        "acknowledged": NULLABLE_TIME,
        "acknowledged_ms": NULLABLE_MS,
        "acknowledged_by": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"], "description": "the acknowledgement's note"},
        "escalated": NULLABLE_TIME,
        "escalated_ms": NULLABLE_MS,
        "resolved": NULLABLE_TIME,
        "resolved_ms": NULLABLE_MS,
        "value": _number("the value that raised it (or changed its level)"),
        "threshold": _number("the threshold it crossed"),
        "reason": _text("why, in English, as it read when the event was stored"),
        "reasons": _object(
            {"zh": _text("in Chinese"), "en": _text("in English")},
            "why, in each language, times in the center's zone: the sentence of the desk and the notifications",
        ),
        "explanation": {
            "type": ["object", "null"],
            "description": "why, in numbers (store.explain.Explanation): rule, kind, event, level, value and "
            "threshold in SI units (unit), display_unit, source and note of the threshold, the rule's params and "
            "the facts seen (the trend and its window for forecasts); null for alerts stored before explanations",
        },
        "muted": {"type": "boolean", "description": "inhibited by a higher alert: recorded, not notified"},
    }
)
SCHEMAS: Final[dict[str, Any]] = {
    "Error": _object({"error": _text("what is wrong"), "hint": _text("how to put it right")}),
    "Thresholds": THRESHOLDS,
    "Station": STATION,
    "Stations": _object({"count": {"type": "integer"}, "stations": _list_of("Station")}),
    "LatestStation": LATEST_STATION,
    "Latest": _object(
        {
            "time": {**TIME, "description": "when the snapshot was taken (it is cached for a few seconds)"},
            "time_ms": EPOCH_MS,
            "newest": {**NULLABLE_TIME, "description": "the newest reading of any station"},
            "newest_ms": NULLABLE_MS,
            "count": {"type": "integer"},
            "stations": _list_of("LatestStation"),
        }
    ),
    "Point": POINT,
    "Series": SERIES,
    "Readings": _object(
        {
            "start": TIME,
            "start_ms": EPOCH_MS,
            "end": TIME,
            "end_ms": EPOCH_MS,
            "aggregation": {"type": "string", "enum": list(AGGREGATIONS), "description": "the one applied"},
            "requested_aggregation": {"type": "string", "enum": [*AGGREGATIONS, AUTO]},
            "zone": _text("the zone of the hydrological days (aggregation 1d)"),
            "series": _list_of("Series"),
        },
        "Levels in [start, end), rain in (start, end] (a rain reading is stamped at its interval's end).",
    ),
    "Alert": ALERT,
    "Alerts": _object(
        {
            "since": NULLABLE_TIME,
            "since_ms": NULLABLE_MS,
            "active": {"type": "boolean"},
            "count": {"type": "integer"},
            "alerts": _list_of("Alert"),
        }
    ),
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES: Final[dict[str, Any]] = {
    "BadRequest": _error("A parameter is unknown, repeated or wrong; `hint` says how to put it right."),
    "NotFound": _error("No such station (or path)."),
    "Unauthorized": _error(
        "`dashboard.login_required` is on and the request has neither a valid session nor Basic credentials.",
        {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Basic realm="floodwatch"'}},
    ),
    "TooManyRequests": _error(
        "Too many failed logins for this user or address.",
        {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}},
    ),
    "Unavailable": _error("InfluxDB does not answer."),
}


def _operation(
    path: str,
    summary: str,
    description: str,
    errors: tuple[str, ...] = (),
    *,
    schema: str = "",
    media: tuple[str, dict[str, Any]] = ("application/json", {"type": "object"}),
) -> dict[str, Any]:
    """The GET of ``path``: a 200 of the component ``schema`` (else of ``media``), the ``errors``, 401 and 429."""
    content = {"application/json": {"schema": _ref(schema)}} if schema else {media[0]: {"schema": media[1]}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    codes = {"BadRequest": "400", "NotFound": "404", "Unavailable": "503"}
    for name in errors:
        responses[codes[name]] = {"$ref": f"#/components/responses/{name}"}
    responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
    responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
    operation: dict[str, Any] = {
        "operationId": path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace(".", "_"),
        "summary": summary,
        "description": description,
        "responses": dict(sorted(responses.items())),
    }
    parameters = list(PARAMETERS[path])
    if "{id}" in path:
        parameters.append(
            {"name": "id", "in": "path", "required": True, "description": "station id", "schema": {"type": "string"}}
        )
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


DESCRIPTION: Final = """\
Read-only JSON for other systems: the station catalogue, every station's latest value and state,
readings over a range (raw or aggregated by InfluxDB) and the alerts.

- **Times** in answers are UTC, ISO 8601 (`2022-01-11T06:15:00.000Z`), each beside its epoch
  milliseconds (`time_ms`). Times in parameters need a zone (`Z` or `+08:00`).
- **Units**: levels in metres above the station's datum, rain in millimetres.
- **Errors** are JSON `{"error": ..., "hint": ...}` with HTTP 400, 401, 404, 429 or 503 (405 for a
  method other than GET: the API only reads); unknown or repeated parameters are refused.
- **Login**: when the dashboard's `login_required` setting is on, send HTTP Basic credentials of a
  dashboard user (`floodwatch users add NAME --role viewer`) or the session cookie of a login at
  `/login`; every role may read.
"""


def _length(ms: int) -> str:
    days = ms // 86_400_000
    return f"{days} days" if days < 366 else f"{days // 366} years"


def limits_text() -> str:
    """The bounds of ``/readings`` in words: ``raw at most 31 days, 5m at most 366 days, ...``."""
    spans = ", ".join(f"{name} at most {_length(span)}" for name, span in MAX_SPAN_MS.items())
    return f"{spans}, and at most {MAX_ROWS:,} values in all (estimated from the stations' reporting intervals)"


def spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "floodwatch API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": PREFIX}],
        "security": [{}, {"basic": []}, {"session": []}],
        "paths": {
            "/stations": _operation(
                "/stations",
                "The station catalogue",
                "Every station: names, kind, coordinates, river, basin, district, thresholds.",
                schema="Stations",
            ),
            "/stations/{id}": _operation(
                "/stations/{id}", "One station of the catalogue", "As in `/stations`.", ("NotFound",), schema="Station"
            ),
            "/latest": _operation(
                "/latest",
                "Every station's latest value and state",
                "The snapshot the map and the wall show (cached a few seconds): latest value and time, trend, "
                "state (alert colour, stale, suspect), active alert level and rain totals.",
                ("BadRequest", "Unavailable"),
                schema="Latest",
            ),
            "/readings": _operation(
                "/readings",
                "Readings over a range",
                "Raw readings or buckets aggregated by InfluxDB, per station and quantity. Bounded: "
                f"{limits_text()}; a larger ask is refused with a 400 naming the aggregation to use.",
                ("BadRequest", "Unavailable"),
                schema="Readings",
            ),
            "/alerts": _operation(
                "/alerts",
                "Alerts",
                "Alerts of the alert engine, most severe and newest first, with their acknowledgement.",
                ("BadRequest", "Unavailable"),
                schema="Alerts",
            ),
            "/openapi.json": _operation("/openapi.json", "This document", "OpenAPI 3.1."),
            "/docs": _operation("/docs", "This document as a page", "HTML.", media=("text/html", {"type": "string"})),
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "a dashboard user's name and password"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "floodwatch_session",
                    "description": "the session cookie of a login at /login",
                },
            },
        },
    }


def query_parameters(path: str) -> frozenset[str]:
    """The names of the query parameters documented for ``path`` (as in ``PARAMETERS``)."""
    return frozenset(p["name"] for p in PARAMETERS[path] if p["in"] == "query")

"""The read-only HTTP API on the real services: answers against the seeded data and against its own
OpenAPI 3.1 document (every documented path and status is called and its body validated), bounds
and parameter checks, and the pure parameter rules."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import MultiDict

from config.catalogue import load_catalogue
from config.units import Quantity
from config.users import User, hash_password, save_users
from dashboard import openapi
from dashboard.api_errors import ApiError
from dashboard.api_params import MAX_ROWS, finest_fitting, readings_ask
from floodwatch.services import LocalServices, free_port
from tests.api_seed import HISTORY_START_MS, STEP_MS, history_level, recent_level, seed, write_catalogue
from tests.conftest import Env, write_env
from tests.served import AppServer

pytestmark = pytest.mark.services

SPEC = openapi.spec()
SPEC_URI = "urn:floodwatch:openapi"
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))
PASSWORD = "api-client-pw-1"
DAY_MS = 86_400_000


@dataclass
class Apps:
    """The API served three ways: open, behind a login, and over a dead InfluxDB."""

    open: AppServer
    secured: AppServer
    dead: AppServer
    env: Env
    now_ms: int


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory, services: LocalServices) -> Iterator[Apps]:
    """The seeded database, and the app served open, with login_required (one proxy trusted) and without InfluxDB."""
    folder = tmp_path_factory.mktemp("api")
    env = write_env(folder, services, write_catalogue(folder))
    now_ms = int(time.time() * 1000)
    seed(env.client, now_ms)
    secured = env.settings.model_copy(
        update={"dashboard": env.settings.dashboard.model_copy(update={"login_required": True, "trusted_proxies": 1})}
    )
    save_users(secured.users_file, {"client": User("client", "viewer", "", hash_password(PASSWORD))})
    dead = env.settings.model_copy(
        update={"influx": env.settings.influx.model_copy(update={"url": f"http://127.0.0.1:{free_port()}"})}
    )
    servers = Apps(AppServer(env), AppServer(env, settings=secured), AppServer(env, settings=dead), env, now_ms)
    yield servers
    for server in (servers.open, servers.secured, servers.dead):
        server.stop()


def get(server: AppServer, path: str, params: Any = None, **kwargs: Any) -> requests.Response:
    """GET an API path (relative to /api/v1) of ``server``."""
    return requests.get(f"{server.url}{openapi.PREFIX}{path}", params=params, timeout=30, **kwargs)


def pointer(*parts: str) -> str:
    """A JSON pointer into the OpenAPI document."""
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def check_against_spec(path: str, status: int, response: requests.Response) -> None:
    """The answer's status is documented for ``path``, and its type, headers and body are as documented."""
    responses = SPEC["paths"][path]["get"]["responses"]
    assert str(status) in responses, f"{path} answers {status}, which it does not document"
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    where: tuple[str, ...] = ("paths", path, "get", "responses", str(status))
    documented = responses[str(status)]
    if "$ref" in documented:
        where = ("components", "responses", documented["$ref"].rsplit("/", 1)[-1])
        documented = SPEC["components"]["responses"][where[-1]]
    for header in documented.get("headers", {}):
        assert header in response.headers, (path, status, header)
    (media,) = documented["content"]
    assert response.headers["Content-Type"].split(";")[0] == media
    if media == "application/json":
        schema = {"$ref": SPEC_URI + pointer(*where, "content", media, "schema")}
        Draft202012Validator(schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
            response.json()
        )


def throttled_address(apps: Apps) -> dict[str, str]:
    """Headers of a client address (behind the trusted proxy) that has failed to log in too often."""
    headers = {"X-Forwarded-For": "127.0.0.77"}
    for _ in range(5):
        get(apps.secured, "/stations", auth=("nobody", "wrong-password"), headers=headers)
    return headers


#: (path, the path with its parameters filled, query, which app, status) for every documented path and status
CASES: list[tuple[str, str, dict[str, Any], str, int]] = [
    ("/stations", "/stations", {}, "open", 200),
    ("/stations/{id}", "/stations/T01", {}, "open", 200),
    ("/stations/{id}", "/stations/NOPE", {}, "open", 404),
    ("/latest", "/latest", {}, "open", 200),
    ("/latest", "/latest", {"station": "NOPE"}, "open", 400),
    ("/latest", "/latest", {}, "dead", 503),
    (
        "/readings",
        "/readings",
        {"station": "T01", "start": "2022-01-10T00:00:00Z", "end": "2022-01-10T02:00:00Z"},
        "open",
        200,
    ),
    ("/readings", "/readings", {"aggregation": "2h"}, "open", 400),
    ("/readings", "/readings", {"station": "T01"}, "dead", 503),
    ("/alerts", "/alerts", {}, "open", 200),
    ("/alerts", "/alerts", {"active": "maybe"}, "open", 400),
    ("/alerts", "/alerts", {}, "dead", 503),
    ("/openapi.json", "/openapi.json", {}, "open", 200),
    ("/docs", "/docs", {}, "open", 200),
    *[(path, path.replace("{id}", "T01"), {}, "secured", 401) for path in SPEC["paths"]],
    *[(path, path.replace("{id}", "T01"), {}, "throttled", 429) for path in SPEC["paths"]],
]


def test_the_document_is_valid_openapi_3_1() -> None:
    """The OpenAPI document passes the OpenAPI 3.1 validator, and date-time formats are really checked."""
    validate_spec(SPEC)
    assert SPEC["openapi"].startswith("3.1")
    assert "date-time" in Draft202012Validator.FORMAT_CHECKER.checkers


def test_the_cases_cover_every_documented_path_and_status() -> None:
    """CASES below call every (path, status) the document promises, and nothing it does not."""
    documented = {(path, int(code)) for path, item in SPEC["paths"].items() for code in item["get"]["responses"]}
    assert {(path, status) for path, _, _, _, status in CASES} == documented


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in CASES])
def test_every_documented_answer_matches_its_schema(
    apps: Apps, case: tuple[str, str, dict[str, Any], str, int]
) -> None:
    """Each documented path answers each documented status with the documented body and headers."""
    path, url, query, app, status = case
    if app == "throttled":  # credentials from an address that failed too often: refused unverified
        response = get(apps.secured, url, query, headers=throttled_address(apps), auth=("client", PASSWORD))
    else:
        response = get(getattr(apps, app), url, query)
    check_against_spec(path, status, response)


def test_every_api_route_is_documented(apps: Apps) -> None:
    """The server's /api/v1 routes are the document's paths (no undocumented endpoint)."""
    rules = {
        re.sub(r"<[^>]+>", "{}", rule.rule.removeprefix(openapi.PREFIX))
        for rule in apps.open.app.server.url_map.iter_rules()
        if rule.rule.startswith(openapi.PREFIX + "/") and "<path:" not in rule.rule
    }
    assert rules == {re.sub(r"\{[^}]+\}", "{}", path) for path in SPEC["paths"]}


def test_the_docs_page_lists_every_endpoint_and_parameter(apps: Apps) -> None:
    """/api/v1/docs names every path and every parameter of the document, and loads nothing from elsewhere."""
    page = get(apps.open, "/docs").text
    for path, item in SPEC["paths"].items():
        assert f"{openapi.PREFIX}{path}" in page
        for parameter in item["get"].get("parameters", []):
            assert f"<code>{parameter['name']}</code>" in page
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page


def test_stations_give_the_catalogue_with_thresholds(apps: Apps) -> None:
    """/stations lists the catalogue in order; a station carries its names, place and warning levels."""
    body = get(apps.open, "/stations").json()
    assert [s["id"] for s in body["stations"]] == ["T01", "T02", "R1"]
    t01 = get(apps.open, "/stations/T01").json()
    assert (t01["name_zh"], t01["name_en"], t01["kind"], t01["river"], t01["district"]) == (
        "沙市站",
        "Shashi",
        "river",
        "长江",
        "沙市区",
    )
    assert (t01["lat"], t01["lon"]) == (30.3, 112.2)
    assert t01["thresholds"]["warning_m"] == 2.5
    assert t01["thresholds"]["historical_max_time"] == "1998-08-17T09:00:00+08:00"
    assert t01["levels"] == [
        {"level": "blue", "m": 2.0},
        {"level": "yellow", "m": 2.5},
        {"level": "orange", "m": 3.5},
        {"level": "red", "m": 4.2},
    ]
    assert get(apps.open, "/stations/R1").json()["levels"] == []


def test_latest_is_the_snapshot_with_state_and_rain_totals(apps: Apps) -> None:
    """/latest gives each station's latest value and time (UTC Z and ms), its state and its rain totals."""
    body = get(apps.open, "/latest").json()
    by_id = {s["station"]: s for s in body["stations"]}
    assert set(by_id) == {"T01", "T02", "R1"}
    t01 = by_id["T01"]
    assert t01["value"] == recent_level(36)
    assert t01["time"].endswith("Z")
    assert abs(t01["time_ms"] - apps.now_ms) < 2 * STEP_MS
    assert t01["state"] == "yellow"
    assert t01["alert_level"] == "yellow"
    assert t01["trend_per_h"] == pytest.approx(0.12, abs=0.01)
    assert by_id["T02"]["state"] == "nodata"
    assert by_id["T02"]["value"] is None
    assert by_id["R1"]["rain"]["h1"] == pytest.approx(0.2 * 12, abs=0.21)
    assert by_id["R1"]["unit"] == "mm"
    only = get(apps.open, "/latest", {"station": ["R1", "T01"]}).json()
    assert [s["station"] for s in only["stations"]] == ["T01", "R1"]
    assert only["count"] == 2


def test_raw_readings_come_back_as_stored_with_utc_times(apps: Apps) -> None:
    """Two hours of T01 raw: 24 levels in [start, end) with their values, ISO UTC times and epoch ms."""
    body = get(
        apps.open, "/readings", {"station": "T01", "start": "2022-01-10T08:00:00+08:00", "end": "2022-01-10T02:00:00Z"}
    ).json()
    assert (body["aggregation"], body["requested_aggregation"]) == ("raw", "auto")
    assert body["start"] == "2022-01-10T00:00:00.000Z"
    assert body["start_ms"] == HISTORY_START_MS
    (series,) = body["series"]
    assert (series["station"], series["quantity"], series["unit"], series["statistic"]) == (
        "T01",
        "level",
        "m",
        "reading",
    )
    assert series["count"] == 24
    assert [p["value"] for p in series["points"]] == [history_level(step) for step in range(24)]
    assert series["points"][1] == {
        "time": "2022-01-10T00:05:00.000Z",
        "time_ms": HISTORY_START_MS + STEP_MS,
        "value": history_level(1),
        "interval_s": None,
    }


def test_hourly_rain_totals_and_level_maxima(apps: Apps) -> None:
    """aggregation=1h: rain summed over (start, end] stamped at the hour's end; levels the hour's maximum."""
    window = {"start": "2022-01-10T00:00:00Z", "end": "2022-01-10T06:00:00Z", "aggregation": "1h"}
    rain = get(apps.open, "/readings", {**window, "station": "R1"}).json()
    (series,) = rain["series"]
    assert series["statistic"] == "sum"
    assert [p["time"] for p in series["points"]] == [f"2022-01-10T0{h}:00:00.000Z" for h in range(1, 7)]
    assert [p["value"] for p in series["points"]] == [pytest.approx(6.0)] * 6
    both = get(apps.open, "/readings", {**window, "station": "T02"}).json()
    assert [(s["quantity"], s["statistic"]) for s in both["series"]] == [("level", "max"), ("rain", "sum")]
    levels = get(apps.open, "/readings", {**window, "station": "T01", "quantity": "level"}).json()
    assert [p["value"] for p in levels["series"][0]["points"]] == [history_level(12 * h + 11) for h in range(6)]


def test_auto_aggregation_follows_the_range(apps: Apps) -> None:
    """aggregation=auto picks store.readings.choose: hourly for 30 days, daily (in the zone) for two years."""
    month = get(
        apps.open, "/readings", {"station": "T01", "start": "2022-01-01T00:00:00Z", "end": "2022-01-31T00:00:00Z"}
    )
    assert month.json()["aggregation"] == "1h"
    years = get(
        apps.open, "/readings", {"station": "T02", "start": "2021-01-01T00:00:00Z", "end": "2023-01-01T00:00:00Z"}
    )
    body = years.json()
    assert body["aggregation"] == "1d"
    assert body["zone"] == "Asia/Shanghai"
    rain = next(s for s in body["series"] if s["quantity"] == "rain")
    assert sum(p["value"] for p in rain["points"]) == pytest.approx(0.5 * 577)


def test_too_long_a_raw_range_is_refused_naming_the_aggregation_to_use(apps: Apps) -> None:
    """Raw over 32 days answers 400 whose hint names aggregation=5m; the same range at 5m is answered."""
    query = {"station": "T01", "start": "2022-01-01T00:00:00Z", "end": "2022-02-02T00:00:00Z"}
    refused = get(apps.open, "/readings", {**query, "aggregation": "raw"})
    assert refused.status_code == 400
    assert "aggregation=5m" in refused.json()["hint"]
    assert get(apps.open, "/readings", {**query, "aggregation": "5m"}).json()["aggregation"] == "5m"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"station": "T01", "quantity": "rain"}, "does not report rain"),
        ({"start": "2022-01-02T00:00:00Z", "end": "2022-01-01T00:00:00Z"}, "start must be before end"),
        ({"start": "2022-01-01T00:00:00"}, "start has no zone"),
        ({"end": "yesterday"}, "end is not an ISO 8601 time"),
        ({"start": "1969-12-31T00:00:00Z"}, "start is out of range"),
        ({"aggregation": ["1h", "1d"]}, "aggregation is given 2 times"),
        ({"statoin": "T01"}, "unknown parameter 'statoin'"),
        ({"quantity": "flow"}, "quantity must be one of level, rain"),
    ],
)
def test_wrong_readings_parameters_are_400_with_a_hint(apps: Apps, query: dict[str, Any], error: str) -> None:
    """Each wrong parameter of /readings answers 400 with an error naming it and a hint."""
    response = get(apps.open, "/readings", query)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert response.json()["hint"]


def test_alerts_with_acknowledgement_and_filters(apps: Apps) -> None:
    """/alerts lists the firing and the resolved alert of the last day; active, station and since filter them."""
    body = get(apps.open, "/alerts").json()
    assert [(a["station"], a["state"]) for a in body["alerts"]] == [("T01", "firing"), ("T02", "resolved")]
    firing = body["alerts"][0]
    assert (firing["level"], firing["value"], firing["threshold"]) == ("yellow", 2.6, 2.5)
    assert firing["acknowledged_by"] == "王丽 (wangli)"
    assert firing["note"] == "patrol sent"
    assert firing["acknowledged_ms"] == firing["raised_ms"] + 60_000
    assert firing["raised"].endswith("Z")
    assert body["alerts"][1]["resolved_ms"] is not None
    active = get(apps.open, "/alerts", {"active": "true"}).json()
    assert [a["station"] for a in active["alerts"]] == ["T01"]
    assert active["since"] is None
    assert [a["station"] for a in get(apps.open, "/alerts", {"station": "T02"}).json()["alerts"]] == ["T02"]
    later = get(apps.open, "/alerts", {"since": "2100-01-01T00:00:00Z"}).json()
    assert [a["station"] for a in later["alerts"]] == ["T01"]  # still firing, whatever since says
    assert get(apps.open, "/alerts", {"active": "true", "since": "2100-01-01T00:00:00Z"}).json()["alerts"] == []


def test_an_unknown_api_path_is_json_not_the_dashboard_page(apps: Apps) -> None:
    """Unknown /api paths answer JSON 404 (not Dash's page), other methods 405: the API only reads."""
    for path in ("/api/v1/nope", "/api/v2/stations", "/api/"):
        response = requests.get(apps.open.url + path, timeout=10)
        assert response.status_code == 404
        assert response.json()["hint"]
    post = requests.post(f"{apps.open.url}{openapi.PREFIX}/stations", timeout=10)
    assert post.status_code == 405
    assert post.headers["Allow"] == "GET, HEAD"


def test_station_path_with_encoded_text_is_a_plain_404(apps: Apps) -> None:
    """A station id path of odd characters is only ever looked up in the catalogue."""
    for text in ("T01' OR 1=1", "..%2F..%2Fetc", "T01;DROP", "T01%00"):
        response = get(apps.open, "/stations/" + quote(text, safe="%"))
        assert response.status_code == 404, text


# -- the pure rules of the parameters ----------------------------------------------------------------


def many_stations(tmp_path: Path, count: int, interval_s: int = 300) -> Any:
    rows = [f"S{i},Station {i},river,level,{interval_s}" for i in range(count)]
    path = tmp_path / "many.csv"
    path.write_text("id,name_en,kind,quantities,interval_s\n" + "\n".join(rows) + "\n")
    return load_catalogue(path)


def test_the_value_budget_moves_to_coarser_aggregations(tmp_path: Path) -> None:
    """With 200 five-minute stations, 31 days raw is too many values, 5m too (the same interval); hourly fits."""
    catalogue = many_stations(tmp_path, 200)
    pairs: list[tuple[str, Quantity]] = [(sid, "level") for sid in catalogue]
    span = 31 * DAY_MS
    assert 200 * (span // 300_000) > MAX_ROWS
    assert finest_fitting(catalogue, pairs, span, "raw") == "1h"
    assert finest_fitting(catalogue, pairs + pairs, span, "raw") == "1d"
    assert finest_fitting(catalogue, pairs[:10], span, "raw") == "raw"
    assert finest_fitting(catalogue, pairs[:1], 32 * DAY_MS, "raw") == "5m"


def test_auto_takes_the_finest_fitting_and_an_explicit_ask_is_refused(tmp_path: Path) -> None:
    """auto over every station becomes coarser when needed; aggregation=raw is then refused naming 5m."""
    catalogue = many_stations(tmp_path, 600, interval_s=60)
    now = HISTORY_START_MS + 10 * DAY_MS
    args = MultiDict({"start": "2022-01-10T00:00:00Z", "end": "2022-01-11T00:00:00Z"})
    assert readings_ask(args, catalogue, now).aggregation == "5m"
    with pytest.raises(ApiError) as info:
        readings_ask(MultiDict({**args, "aggregation": "raw"}), catalogue, now)
    assert "aggregation=5m" in info.value.hint
    default = readings_ask(MultiDict({"station": "S1"}), catalogue, now)
    assert (default.start_ms, default.end_ms, default.aggregation) == (now - DAY_MS, now, "raw")
    assert default.pairs == (("S1", "level"),)

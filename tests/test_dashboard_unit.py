"""Dashboard rules, data shaping, figures, cache and translations, without a browser (STYLE.md 18)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from config.catalogue import Catalogue, Station, load_catalogue
from config.hydrotime import hydro_day_start_ms
from config.i18n import texts
from config.settings import Settings
from dashboard import figures, geo, status, theme
from dashboard.cache import TTLCache
from dashboard.components import history as history_parts
from dashboard.pages import wall

REPO = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Shanghai")
NOW = 1_700_000_000_000


def river(**thresholds: float) -> Station:
    return Station(id="R1", name_en="River 1", name_zh="一号站", kind="river", lat=43.6, lon=1.44, **thresholds)


FULL = river(warning_m=3.0, guaranteed_m=4.0, historical_max_m=5.0)


@pytest.mark.parametrize(
    ("station", "value", "expected"),
    [
        (FULL, 2.0, ""),
        (FULL, 2.5, "blue"),  # warning - 0.5 m
        (FULL, 3.0, "yellow"),
        (FULL, 3.99, "yellow"),
        (FULL, 4.0, "orange"),
        (FULL, 5.0, "red"),  # the historical maximum
        (river(warning_m=3.0, guaranteed_m=4.0, red_m=4.5, historical_max_m=6.0), 4.6, "red"),  # red_m first
        (river(blue_m=2.9, warning_m=3.0), 2.8, ""),  # an explicit blue_m replaces the margin
        (river(blue_m=2.9, warning_m=3.0), 2.95, "blue"),
        (river(), 100.0, ""),  # no thresholds: never coloured
        (FULL, None, ""),
    ],
)
def test_threshold_level(station: Station, value: float | None, expected: str) -> None:
    """A level's colour follows SL 758-2018 against the catalogue thresholds."""
    assert status.threshold_level(station, value) == expected


def test_threshold_level_uses_the_configured_blue_margin() -> None:
    """The blue margin is the alert engine's setting, not a constant."""
    assert status.threshold_level(FULL, 2.2, blue_margin_m=1.0) == "blue"
    assert status.threshold_level(FULL, 2.2, blue_margin_m=0.5) == ""


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"value": None, "time_ms": None, "flags": "", "alert_level": ""}, "nodata"),
        ({"value": 5.5, "time_ms": NOW - 901_000, "flags": "", "alert_level": "red"}, "stale"),  # silent wins
        ({"value": 1.0, "time_ms": NOW - 60_000, "flags": "", "alert_level": "orange"}, "orange"),  # engine wins
        ({"value": 9.0, "time_ms": NOW - 60_000, "flags": "range", "alert_level": ""}, "suspect"),
        ({"value": 9.0, "time_ms": NOW - 60_000, "flags": "", "alert_level": "suspect"}, "suspect"),
        ({"value": 4.2, "time_ms": NOW - 60_000, "flags": "", "alert_level": ""}, "orange"),  # derived
        ({"value": 1.0, "time_ms": NOW - 60_000, "flags": "", "alert_level": ""}, "normal"),
    ],
)
def test_station_state(kwargs: dict[str, object], expected: str) -> None:
    """Stale beats everything, then the engine's alert, then suspect flags, then the thresholds."""
    assert status.station_state(FULL, now_ms=NOW, **kwargs) == expected  # type: ignore[arg-type]


def test_trend_and_next_threshold() -> None:
    """The trend is m/h over the window; the next threshold's ETA follows it; falling means no ETA."""
    trend = status.trend_m_per_h(2.0, NOW - 3_600_000, 2.3, NOW)
    assert trend == pytest.approx(0.3)
    assert status.trend_m_per_h(2.0, NOW - 60_000, 2.3, NOW) is None  # too short to mean anything
    upcoming = status.next_threshold(FULL, 2.8, 0.3)
    assert upcoming is not None
    assert (upcoming.key, upcoming.level_m) == ("threshold.warning", 3.0)
    assert upcoming.hours == pytest.approx(0.2 / 0.3)
    falling = status.next_threshold(FULL, 2.8, -0.1)
    assert falling is not None
    assert falling.hours is None
    assert status.next_threshold(FULL, 5.5, 0.3) is None
    assert status.format_hours(0.5, "en") == "~30 min"
    assert status.format_hours(2.0, "zh") == "约2.0小时"


def test_hydrological_day_starts_at_eight_local() -> None:
    """Before 08:00 local the hydrological day began yesterday at 08:00."""
    at = pd.Timestamp("2022-01-11 07:59", tz="Asia/Shanghai")
    start = hydro_day_start_ms(int(at.timestamp() * 1000), ZONE)
    assert pd.Timestamp(start, unit="ms", tz="UTC").tz_convert(ZONE) == pd.Timestamp("2022-01-10 08:00", tz=ZONE)
    at = pd.Timestamp("2022-01-11 08:00", tz="Asia/Shanghai")
    start = hydro_day_start_ms(int(at.timestamp() * 1000), ZONE)
    assert pd.Timestamp(start, unit="ms", tz="UTC").tz_convert(ZONE) == pd.Timestamp("2022-01-11 08:00", tz=ZONE)


def test_formatting() -> None:
    """Levels 2 decimals, rain 1, local time, arrows for the trend."""
    assert status.format_value(3.14159, "level") == "3.14 m"
    assert status.format_value(12.34, "rain") == "12.3 mm"
    assert status.format_value(None, "level") == "–"
    assert status.format_time(0, ZONE) == "1970-01-01 08:00"
    assert status.format_trend(0.25) == "↑ 0.25 m/h"
    assert status.format_trend(-0.25) == "↓ 0.25 m/h"
    assert status.zone_label(ZONE, NOW) == "Asia/Shanghai UTC+08:00"


def catalogue() -> Catalogue:
    stations = [
        FULL,
        Station(id="R2", name_en="River 2", kind="river", lat=43.7, lon=1.5, warning_m=1.0),
        Station(id="G1", name_en="Gauge 1", kind="rain", lat=43.61, lon=1.45),
        Station(id="G2", name_en="Gauge 2", kind="rain", lat=44.5, lon=2.5),
        Station(id="X", name_en="No coordinates", kind="rain"),
    ]
    return Catalogue({s.id: s for s in stations})


def table() -> pd.DataFrame:
    latest = pd.DataFrame(
        [
            {"station": "R1", "quantity": "level", "time_ms": NOW - 60_000, "value": 4.5, "flags": ""},
            {"station": "R2", "quantity": "level", "time_ms": NOW - 3_600_000, "value": 0.5, "flags": ""},
            {"station": "G1", "quantity": "rain", "time_ms": NOW - 60_000, "value": 1.5, "flags": ""},
        ]
    )
    first = pd.DataFrame([{"station": "R1", "quantity": "level", "time_ms": NOW - 3_660_000, "value": 4.0}])
    rain = pd.DataFrame({"h1": [1.5], "h3": [3.0], "h24": [10.0], "day": [8.0]}, index=["G1"])
    return status.station_table(catalogue(), latest, first, {"R2": "red"}, rain, NOW)


def test_station_table_counters_and_rankings() -> None:
    """One row per station with its state; counters and the wall's rankings come from it."""
    frame = table().set_index("id")
    assert frame.loc["R1", "state"] == "orange"
    assert frame.loc["R1", "trend"] == pytest.approx(0.5 / (3_600_000 / 3_600_000), rel=0.02)
    assert frame.loc["R2", "state"] == "stale"  # an hour old, interval 300 s: stale though the engine says red
    assert frame.loc["G1", "state"] == "normal"
    assert frame.loc["G2", "state"] == "nodata"
    counts = status.counters(table())
    assert (counts.stations, counts.reporting, counts.stale) == (5, 2, 3)
    assert counts.alerts == {"blue": 0, "yellow": 0, "orange": 1, "red": 0}
    assert status.nearest_thresholds(table())["id"].tolist() == ["R1"]  # stale R2 is left out
    assert status.rain_ranking(table())["id"].tolist() == ["G1"]


def test_nearest_gauges_and_view() -> None:
    """A level station's nearest rain gauges come by distance; the view covers every station."""
    cat = catalogue()
    assert [g.id for g in status.nearest_gauges(cat["R1"], cat.values(), limit=2)] == ["G1", "G2"]
    center, zoom, bbox = status.view_of(cat)
    assert bbox == (1.44, 43.6, 2.5, 44.5)
    assert 1 <= zoom <= 12
    assert center == {"lat": pytest.approx(44.05), "lon": pytest.approx(1.97)}


def test_station_traces_group_by_kind_and_state() -> None:
    """One trace per (kind, state), ids in customdata, markers only (text would fetch glyphs)."""
    traces = figures.station_traces(table(), {"R1": "河一"}, ZONE, "zh")
    assert [t["uid"] for t in traces] == ["river-stale", "river-orange", "rain-nodata", "rain-normal"]
    assert all(t["type"] == "scattermap" and t["mode"] == "markers" for t in traces)
    orange = traces[1]
    assert orange["customdata"] == ["R1"]
    assert "河一" in orange["hovertext"][0]
    assert "4.50 m" in orange["hovertext"][0]
    assert "↑" in orange["hovertext"][0]
    assert sum(len(t["customdata"]) for t in traces) == 4  # the station without coordinates is not drawn


def test_three_thousand_stations_are_a_few_traces() -> None:
    """Grouping keeps the map to at most kinds × states traces whatever the catalogue's size."""
    stations = [
        Station(id=f"S{i}", name_en=f"S{i}", kind=("river", "rain", "reservoir")[i % 3], lat=30 + i / 1000, lon=120)
        for i in range(3000)
    ]
    cat = Catalogue({s.id: s for s in stations})
    empty = pd.DataFrame(columns=["station", "quantity", "time_ms", "value", "flags"])
    frame = status.station_table(cat, empty, empty, {}, pd.DataFrame(), NOW)
    traces = figures.station_traces(frame, {}, ZONE, "en")
    assert len(traces) == 3
    assert sum(len(t["lat"]) for t in traces) == 3000


def test_map_style_requests_nothing() -> None:
    """The blank style has no sources, glyphs or sprite, and the basemap is inline GeoJSON."""
    layers = [geo.Layer("rivers", "river", {"type": "FeatureCollection", "features": [{"type": "Feature"}]})]
    fig = figures.map_figure(table(), {}, layers, {"lat": 43, "lon": 1}, 7, ZONE, "en", dark=True)
    style = fig.layout.map.style
    assert set(style) == {"version", "name", "sources", "layers"}
    assert [source["type"] for source in style["sources"].values()] == ["geojson"]
    assert fig.layout.map.layers[0].sourcetype == "geojson"
    assert fig.layout.uirevision == figures.MAP_REVISION
    assert "http" not in json.dumps(fig.to_plotly_json()["layout"]["map"])


def test_hydrograph_has_threshold_lines_and_local_times() -> None:
    """Thresholds are drawn as lines (and bands between them); times are shown in the local zone."""
    level = pd.DataFrame({"time_ms": [0, 3_600_000], "value": [2.0, 2.5]})
    fig = figures.hydrograph(level, FULL, ZONE, "en")
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 4  # blue, warning, guaranteed, historical max
    assert [a.text for a in fig.layout.annotations][1] == "Warning stage 3.00 m"
    assert str(fig.data[0].x[0]).startswith("1970-01-01T08:00:00")


def test_rain_chart_bars_and_cumulative() -> None:
    """Each gauge gets its bars and its cumulative line on the second axis."""
    rain = {"G1": pd.DataFrame({"time_ms": [3_600_000, 0], "value": [2.0, 1.0]})}
    fig = figures.rain_chart(rain, {"G1": "Gauge"}, ZONE, "en")
    bars, line = fig.data
    assert bars.type == "bar"
    assert list(line.y) == [1.0, 3.0]


def test_clipping() -> None:
    """Rings and lines are cut to the box; what lies outside disappears."""
    box = (0.0, 0.0, 10.0, 10.0)
    ring = geo.clip_ring([[-5, -5], [5, -5], [5, 5], [-5, 5], [-5, -5]], box)
    assert {tuple(p) for p in ring} == {(0, 0), (5, 0), (5, 5), (0, 5)}
    assert geo.clip_ring([[20, 20], [30, 20], [30, 30], [20, 20]], box) == []
    assert geo.clip_line([[-5, 5], [5, 5], [15, 5]], box) == [[[0.0, 5], [5, 5], [10.0, 5]]]
    assert geo.clip_line([[20, 20], [30, 30]], box) == []


def test_shipped_basemap_covers_the_shipped_catalogues() -> None:
    """The offline basemap has land and rivers around the Garonne and Calder stations."""
    for name in ("garonne.csv", "onemap_uk_525.csv"):
        _, _, bbox = status.view_of(load_catalogue(REPO / "config" / "catalogues" / name))
        layers = {layer.name: layer for layer in geo.load_layers(geo.padded(bbox))}
        assert layers["countries"].geojson["features"], name
        assert layers["rivers"].geojson["features"], name


def test_cache_computes_once_per_period() -> None:
    """Many callers at once cost one computation; after the TTL it is computed again; errors are not kept."""
    clock = [0.0]
    cache = TTLCache(5.0, clock=lambda: clock[0])
    calls = []
    barrier = threading.Barrier(10)

    def compute() -> int:
        calls.append(1)
        return len(calls)

    def worker() -> None:
        barrier.wait()
        assert cache.get(("k",), compute) == 1

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    clock[0] = 6.0
    assert cache.get(("k",), compute) == 2

    def fail() -> int:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        cache.get(("other",), fail)
    assert cache.get(("other",), compute) == 3


def test_wall_status_flags_stale_data() -> None:
    """The wall says how long no station has reported once that exceeds 15 minutes."""
    assert wall.wall_status(NOW - 60_000, NOW)["stale_minutes"] is None
    assert wall.wall_status(NOW - 20 * 60_000, NOW)["stale_minutes"] == "20"
    assert wall.wall_status(None, NOW)["stale_minutes"] == "∞"


def test_translations_cover_every_key_in_both_languages() -> None:
    """zh and en have the same keys, and every key the dashboard uses exists in both."""
    zh, en = texts("zh"), texts("en")
    assert set(zh) == set(en)
    assert all(v.strip() for v in [*zh.values(), *en.values()])
    used: set[str] = set()
    for path in (REPO / "dashboard").rglob("*.py"):
        used |= set(re.findall(r"""t\(language, ["']([a-z0-9_.]+)["']\)""", path.read_text(encoding="utf-8")))
        used |= set(
            re.findall(
                r"""["']((?:wall|station|col|map|nav|hover|fig|range|threshold|alert|unit|app|"""
                r"""status|state|kind|rule|history|export)\.[a-z0-9_.]+)["']""",
                path.read_text(encoding="utf-8"),
            )
        )
    used |= {f"state.{s}" for s in status.STATES} | {f"kind.{k}" for k in status.KINDS}
    used |= {f"range.{r}" for r in ("24h", "72h", "7d", "30d", "custom")} | {key for key, _ in status.thresholds(FULL)}
    # prefixes of keys built in the code, and the keys built from them
    used = {key for key in used if not key.endswith(".")}
    used |= {f"map.rain.{c}" for c in status.RAIN_CLASSES} | {"hover.rain_h1", "hover.rain_h3"}
    used |= {f"layer.{kind}" for kind in (*geo.LAYER_KINDS, "water", "st_rain", "st_level")}
    # the history explorer's and the export's keys built from aggregations, presets and alignments
    aggregations = ("raw", "5m", "1h", "1d")
    used |= {f"history.{kind}_agg.{a}" for kind in ("level", "rain") for a in aggregations}
    used |= {f"history.agg.{a}" for a in ("auto", *aggregations)} | {f"export.agg.{a}" for a in aggregations}
    used |= {f"history.range.{r}" for r in ("24h", "7d", "30d", "1y", "custom")}
    used |= {f"history.{prefix}{a}" for prefix in ("align.", "hours_from_") for a in ("start", "peak")}
    used |= {f"history.event_{e}" for e in "ab"}
    used |= {f"history.picker.{key}" for key in history_parts.PICKER_LABELS}
    columns = ("station", "peak", "peak_time", "above_warning", "above_guaranteed", "rain_total", "rain_1h", "rain_24h")
    used |= {f"history.col.{key}" for key in columns}
    assert used - set(en) == set()


def test_pages_render_in_both_languages(tmp_path: Path) -> None:
    """Each route builds its layout without touching InfluxDB, in Chinese and English."""
    from dashboard.app import create_app, route

    settings = Settings.model_validate(
        {"catalogue": str(REPO / "config/catalogues/garonne.csv"), "var_dir": str(tmp_path)}
    )
    app = create_app(settings)
    assert app.config.serve_locally
    for language, title in (("zh", "防汛监测预警大屏"), ("en", "Flood monitoring — wall display")):
        ctx = app._floodwatch_ctx  # type: ignore[attr-defined]
        assert title in json.dumps(route(ctx, "/wall", language).to_plotly_json(), default=str, ensure_ascii=False)
        station = json.dumps(route(ctx, "/station/O200004001", language).to_plotly_json(), default=str)
        assert "O200004001" in station
        missing = json.dumps(route(ctx, "/station/NOPE", language).to_plotly_json(), default=str, ensure_ascii=False)
        assert "NOPE" in missing


def test_health_report() -> None:
    """/health says whether InfluxDB answered, how old the newest reading is, and stale when no station reports."""
    fresh = status.health_report(table(), NOW, ZONE)
    assert (fresh["ok"], fresh["status"], fresh["influxdb"]) == (True, "ok", "reachable")
    assert fresh["newest_data"] == status.iso_time(NOW - 60_000, ZONE)
    assert fresh["newest_data"].endswith("+08:00")
    assert (fresh["newest_data_age_s"], fresh["stations"], fresh["reporting"]) == (60, 5, 2)
    later = status.health_report(table(), NOW + 20 * 60_000, ZONE)
    assert (later["ok"], later["status"]) == (True, "stale")
    down = status.health_report(None, NOW, ZONE, error="InfluxDB at x unreachable")
    assert (down["ok"], down["status"], down["error"]) == (False, "unavailable", "InfluxDB at x unreachable")


def unreachable_settings(var_dir: Path) -> Settings:
    from floodwatch.services import free_port

    return Settings.model_validate(
        {
            "catalogue": str(REPO / "config/catalogues/garonne.csv"),
            "var_dir": str(var_dir),
            "influx": {"url": f"http://127.0.0.1:{free_port()}", "timeout_s": 2},
        }
    )


def test_health_answers_503_when_influxdb_does_not_answer(tmp_path: Path) -> None:
    """A load balancer sees HTTP 503 and the reason when the database is down."""
    from dashboard.app import create_app

    client = create_app(unreachable_settings(tmp_path)).server.test_client()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["ok"] is False
    assert "unreachable" in response.json["error"]


def test_responses_are_gzipped(tmp_path: Path) -> None:
    """plotly.js (4.8 MB) and the page go out gzipped when the browser accepts it, plain otherwise."""
    from dashboard.app import create_app

    client = create_app(unreachable_settings(tmp_path)).server.test_client()
    plain = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js")
    assert len(plain.data) > 4_000_000
    assert "Content-Encoding" not in plain.headers
    packed = client.get(
        "/_dash-component-suites/plotly/package_data/plotly.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert packed.headers["Content-Encoding"] == "gzip"
    assert len(packed.data) < 1_600_000
    assert "Accept-Encoding" in packed.headers["Vary"]
    page = client.get("/wall", headers={"Accept-Encoding": "gzip, deflate"})
    assert page.headers["Content-Encoding"] == "gzip"


def test_wsgi_builds_the_app_from_the_config_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dashboard.wsgi reads $FLOODWATCH_CONFIG; a wrong file stops it with the settings error."""
    from config.errors import ConfigError
    from floodwatch.services import free_port

    config = tmp_path / "floodwatch.toml"
    config.write_text(f'var_dir = "var"\n[influx]\nurl = "http://127.0.0.1:{free_port()}"\ntimeout_s = 2\n')
    monkeypatch.setenv("FLOODWATCH_CONFIG", str(config))  # importing the module builds its app
    from dashboard.wsgi import build

    server = build({"FLOODWATCH_CONFIG": str(config)})
    response = server.test_client().get("/health")
    assert response.status_code == 503
    assert response.json is not None
    assert str(config.read_text().split('"')[3]) in response.json["error"]
    config.write_text("[dashboard]\nprot = 80\n")
    with pytest.raises(ConfigError, match="prot"):
        build({"FLOODWATCH_CONFIG": str(config)})


def test_every_alert_rule_of_the_engine_is_shown_in_words() -> None:
    """Each rule id the alert engine can raise (level, flood_limit, rain_Nh, rate, forecast, stale, suspect)
    reads as words in both languages, in the station's alert history and on the wall."""
    from config.settings import AlertSettings
    from dashboard.components import station as station_parts
    from dashboard.components import wall as wall_parts
    from dashboard.components.common import rule_name
    from ingest.rules import rules_for
    from store.alerts import Alert

    reservoir = Station(
        id="V1",
        name_en="Reservoir",
        kind="reservoir",
        lat=1,
        lon=1,
        warning_m=3.0,
        flood_limit_m=2.0,
        quantities=("level",),
    )
    gauge = Station(id="G1", name_en="Gauge", kind="rain", lat=1, lon=1)
    critical = {1: {"red": 40.0}, 24: {"blue": 80.0}}
    rules = {rule.name for s in (FULL, reservoir, gauge) for rule in rules_for(s, AlertSettings(), critical)}
    assert {"level", "flood_limit", "rate", "forecast", "stale", "suspect", "rain_1h", "rain_24h"} <= rules
    for language in ("zh", "en"):
        for rule in rules:
            words = rule_name(rule, language)
            assert words != rule
            assert "rule." not in words
            assert "{" not in words
    assert rule_name("rain_3h", "en") == "Rainfall in 3 h"
    assert rule_name("rain_3h", "zh") == "3小时降雨"
    assert rule_name("made_up", "en") == "made_up"  # a rule of a newer engine still shows
    alert = Alert("R1/flood_limit/1", "R1", "flood_limit", "yellow", "firing", NOW, 2.1, 2.0, "")
    history = json.dumps(
        station_parts.alert_history([alert], ZONE, "zh").to_plotly_json(), ensure_ascii=False, default=str
    )
    assert "超汛限水位" in history
    latest = json.dumps(wall_parts.latest_alerts([alert], {}, ZONE, "en").to_plotly_json(), default=str)
    assert "Above the flood-limit level" in latest
    assert "flood_limit" not in latest.replace("R1/flood_limit/1", "")


@pytest.mark.parametrize(
    ("total", "column", "expected"),
    [
        (None, "rain_h24", 0),
        (0.05, "rain_h24", 0),
        (0.1, "rain_h24", 1),
        (9.9, "rain_h24", 1),
        (10.0, "rain_h24", 2),
        (50.0, "rain_h24", 4),  # 暴雨
        (250.0, "rain_h24", 6),  # 特大暴雨
        (16.0, "rain_h1", 4),  # 1 h: 暴雨 from 16 mm
        (20.0, "rain_h3", 4),
    ],
)
def test_rain_classes(total: float | None, column: str, expected: int) -> None:
    """Rain totals fall in graduated classes per window (24 h: GB/T 28592-2012)."""
    assert status.rain_class(total, column) == expected


def test_rain_view_colours_gauges_by_their_total() -> None:
    """In the accumulation view a gauge's colour is its total's class; silent gauges stay grey; rivers keep states."""
    frame = table()
    traces = figures.station_traces(frame, {}, ZONE, "en", rain_column="rain_h1")
    by_uid = {trace["uid"]: trace for trace in traces}
    assert set(by_uid) == {"river-stale", "river-orange", "rain-rain_h1-1", "rain-nodata"}
    wet = by_uid["rain-rain_h1-1"]
    assert wet["customdata"] == ["G1"]
    assert wet["marker"]["color"] == theme.RAIN_CLASS_COLOURS[1]
    assert wet["name"] == "0.1–2.6 mm (1)"
    assert wet["legendgrouptitle"]["text"] == "Rain gauge · 1 h total"
    assert "Rain 1 h: 1.5 mm" in wet["hovertext"][0]
    assert status.rain_class_label(0, "rain_h24") == "< 0.1 mm"
    assert status.rain_class_label(6, "rain_h24") == "≥ 250 mm"
    # the default view is unchanged: states
    assert "rain-normal" in {trace["uid"] for trace in figures.station_traces(frame, {}, ZONE, "en")}


DEMO_LAYER = REPO / "config" / "geo" / "layers" / "demo_assets.geojson"
BOX = (0.0, 40.0, 3.0, 45.0)


def test_layer_features_follow_the_properties_convention() -> None:
    """kind/name_zh/name_en/url are read; unknown kinds are 'other'; only http(s) links; polygons become outlines."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"kind": "camera", "name_en": "Cam", "url": "https://v.local/1"},
                "geometry": {"type": "Point", "coordinates": [1.0, 43.0]},
            },
            {
                "type": "Feature",
                "properties": {"kind": "camera", "name": "Evil", "url": "javascript:alert(1)"},
                "geometry": {"type": "MultiPoint", "coordinates": [[1.0, 43.0], [2.0, 44.0], [9.0, 9.0]]},
            },
            {
                "type": "Feature",
                "properties": {"kind": "castle", "name_zh": "城堡"},
                "geometry": {"type": "Polygon", "coordinates": [[[1, 41], [2, 41], [2, 42], [1, 41]]]},
            },
            {
                "type": "Feature",
                "properties": {"kind": "levee"},
                "geometry": {"type": "LineString", "coordinates": [[10, 10], [11, 11]]},
            },  # outside: dropped
            {"type": "Feature", "properties": None, "geometry": None},
        ],
    }
    features = geo.layer_features(collection, BOX)
    assert [(f.kind, f.url) for f in features] == [
        ("camera", "https://v.local/1"),
        ("camera", ""),
        ("camera", ""),
        ("other", ""),
    ]
    assert features[1].name("zh") == "Evil"  # name_en from "name", shown when there is no Chinese name
    assert features[3].name("en") == "城堡"
    assert features[3].geometry["type"] == "MultiLineString"
    with pytest.raises(ValueError, match="FeatureCollection"):
        geo.layer_features({"type": "Feature"}, BOX)


def test_a_bad_layer_file_stops_the_start_naming_it(tmp_path: Path) -> None:
    """A missing or non-GeoJSON layer file is a ConfigError with its path and the setting."""
    from config.errors import ConfigError

    bad = tmp_path / "levees.geojson"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"levees\.geojson") as caught:
        geo.load_features([bad], BOX)
    assert caught.value.key == "dashboard.layers"
    with pytest.raises(ConfigError, match=r"missing\.geojson"):
        geo.load_features([tmp_path / "missing.geojson"], BOX)


def test_demo_layer_is_labelled_and_drawn_as_switchable_traces() -> None:
    """The shipped demo layer says it is invented; each kind is a trace below the stations, switched by kind."""
    _, _, bbox = status.view_of(load_catalogue(REPO / "config/catalogues/garonne.csv"))
    features = geo.load_features(geo.layer_files([]), geo.padded(bbox))
    assert {f.kind for f in features} == {
        "district",
        "levee",
        "dangerous_section",
        "reservoir",
        "sluice",
        "pumping_station",
        "camera",
    }
    assert all("DEMO" in f.name("en") and "演示" in f.name("zh") for f in features)
    every = {f.kind for f in features}
    traces = figures.layer_traces(features, "zh", every)
    uids = [trace["uid"] for trace in traces]
    assert uids[0] == "layer-district-lines"  # boundaries at the bottom
    assert "layer-levee-lines" in uids
    camera = next(trace for trace in traces if trace["uid"] == "layer-camera-points")
    assert camera["customdata"] == ["https://camera.invalid/demo/pont-neuf"]
    assert "点击打开视频" in camera["hovertext"][0]
    levee = next(trace for trace in traces if trace["uid"] == "layer-levee-lines")
    assert levee["lat"][-1] is None  # features are separated by breaks
    assert "堤防" in levee["hovertext"][0]
    assert "layer-levee-lines" not in {t["uid"] for t in figures.layer_traces(features, "zh", every - {"levee"})}
    layers = geo.load_layers(geo.padded(bbox))
    switches = figures.layer_switches(layers, features)
    assert switches[:2] == ["st:rain", "st:level"]
    assert {"district", "river", "water", "levee", "camera"} <= set(switches)


def test_basemap_layers_keep_their_index_when_switched_off() -> None:
    """A basemap layer switched off stays in the list, invisible; land has no switch."""
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature"}]}
    layers = [geo.Layer("countries", "area", fc, fc), geo.Layer("rivers", "river", fc)]
    on = figures.basemap_layers(layers, theme.LIGHT)
    off = figures.basemap_layers(layers, theme.LIGHT, shown={"st:rain"})
    assert [entry["name"] for entry in on] == [entry["name"] for entry in off] == ["countries", "countries", "rivers"]
    assert [entry["visible"] for entry in off] == [True, True, False]
    assert all(entry["visible"] for entry in on)


def test_station_groups_can_be_switched_off() -> None:
    """The rain-gauge and level-station switches filter the stations drawn."""
    assert set(figures.shown_stations(table(), {"st:rain"})["kind"]) == {"rain"}
    assert set(figures.shown_stations(table(), {"st:level"})["kind"]) == {"river"}
    assert figures.shown_stations(table(), set()).empty


def test_tile_url_adds_a_raster_source_only_when_set() -> None:
    """With dashboard.tile_url the style gets one raster source above the background; invalid URLs are refused."""
    from pydantic import ValidationError

    style = figures.blank_style(theme.LIGHT, "http://tiles.local/{z}/{x}/{y}.png")
    assert style["sources"]["tiles"] == {
        "type": "raster",
        "tiles": ["http://tiles.local/{z}/{x}/{y}.png"],
        "tileSize": 256,
    }
    assert [layer["id"] for layer in style["layers"]] == ["background", "tiles"]
    assert "tiles" not in figures.blank_style(theme.LIGHT)["sources"]
    for bad in ("ftp://x/{z}/{x}/{y}", "http://tiles.local/tile.png"):
        with pytest.raises(ValidationError, match="tile URL"):
            Settings.model_validate({"dashboard": {"tile_url": bad}})


def test_custom_span_is_whole_local_days_cut_to_now() -> None:
    """A custom range runs from the first day's local midnight to the end of the last day, never past now."""
    now = int(pd.Timestamp("2022-01-11 14:15:30", tz="Asia/Shanghai").timestamp() * 1000)
    span = status.custom_span("2022-01-01", "2022-01-03", ZONE, now)
    assert span is not None
    start, end = (pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(ZONE) for ms in span)
    assert (str(start), str(end)) == ("2022-01-01 00:00:00+08:00", "2022-01-04 00:00:00+08:00")
    today = status.custom_span("2022-01-11T00:00:00", "2022-01-11", ZONE, now)
    assert today is not None
    assert today[1] == now - 30_000  # cut to now, rounded down to the minute
    assert status.custom_span("2022-01-12", "2022-01-13", ZONE, now) is None  # the future holds nothing
    assert status.custom_span("2022-01-05", "2022-01-01", ZONE, now) is None
    assert status.custom_span(None, "2022-01-01", ZONE, now) is None
    assert status.custom_span("not a date", "2022-01-01", ZONE, now) is None
    ten_years = status.custom_span("2012-01-01", "2022-01-10", ZONE, now)
    assert ten_years is not None
    assert ten_years[1] - ten_years[0] == status.MAX_CUSTOM_DAYS * 86_400_000
    assert status.local_date(now, ZONE) == "2022-01-11"


def test_long_custom_ranges_are_aggregated_by_influxdb() -> None:
    """Raw readings up to two days; longer spans get coarser buckets, so years stay a few thousand points."""
    from dashboard.data import RANGES, buckets_for

    day = 86_400_000
    assert buckets_for(day) == (None, None)
    assert buckets_for(7 * day) == RANGES["7d"][1:]  # the presets' own choice for the same length
    assert buckets_for(30 * day) == RANGES["30d"][1:]
    assert buckets_for(365 * day) == ("1d", "1d")
    assert buckets_for(status.MAX_CUSTOM_DAYS * day) == ("1d", "7d")


def test_alarm_is_a_short_wav_served_by_the_app(tmp_path: Path) -> None:
    """The alarm is a valid mono 16-bit WAV of under a second, served by the app itself; the wall has an
    audio element only when dashboard.alarm_sound is on."""
    import io
    import wave as wavefile

    from dashboard import ids, sound
    from dashboard.app import create_app, route

    with wavefile.open(io.BytesIO(sound.beep_wav())) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16_000)
        assert 0.5 < wav.getnframes() / wav.getframerate() < 1.0
    settings = unreachable_settings(tmp_path)
    app = create_app(settings)
    response = app.server.test_client().get(sound.ALARM_PATH)
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.data == sound.beep_wav()
    ctx = app._floodwatch_ctx  # type: ignore[attr-defined]
    assert f"Audio(id='{ids.WALL_AUDIO}'" not in json.dumps(route(ctx, "/wall", "en").to_plotly_json(), default=str)
    loud = settings.model_copy(update={"dashboard": settings.dashboard.model_copy(update={"alarm_sound": True})})
    ctx = create_app(loud)._floodwatch_ctx  # type: ignore[attr-defined]
    wall_json = json.dumps(route(ctx, "/wall", "en").to_plotly_json(), default=str)
    assert f"Audio(id='{ids.WALL_AUDIO}'" in wall_json
    assert sound.ALARM_PATH in wall_json


def test_red_stations() -> None:
    """The wall's alarm compares the ids of the stations shown red between refreshes."""
    frame = table()
    assert status.red_stations(frame) == []
    frame.loc[frame["id"] == "R1", "state"] = "red"
    assert status.red_stations(frame) == ["R1"]
    assert status.red_stations(frame.iloc[0:0]) == []


def test_a_4k_wall_shows_the_same_area_with_markers_and_type_twice_as_large() -> None:
    """Twice as wide as 1080p: one zoom level more, type and markers doubled; 1080p unchanged."""
    assert figures.wall_scaled(7.0, 2.0) == {
        ("map", "zoom"): 8.0,
        ("font", "size"): 2 * figures.WALL_FONT,
        ("hoverlabel", "font", "size"): 2 * figures.WALL_FONT,
    }
    assert figures.wall_scaled(7.0, 1.0)[("map", "zoom")] == 7.0
    table = pd.DataFrame(
        [
            {
                "id": "A",
                "kind": "river",
                "state": "red",
                "lat": 1.0,
                "lon": 2.0,
                "quantity": "level",
                "value": 1.0,
                "time_ms": NOW,
                "trend": 0.1,
                "rain_h24": None,
            }
        ]
    )
    one = figures.station_traces(table, {}, ZONE, "en")
    two = figures.station_traces(table, {}, ZONE, "en", scale=2.0)
    assert two[0]["marker"]["size"] == 2 * one[0]["marker"]["size"]

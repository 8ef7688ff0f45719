"""The history explorer in Debian's headless Chromium against the real services, with a year of 5-minute readings
of three stations: it draws them with no console error and no request to any host but the app, a zoom reads the
window again in detail without losing the zoom, and the export the page links to gives back the stored readings."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains

from dashboard.explorer import parse_time
from floodwatch.services import LocalServices
from tests.conftest import Env, eventually, write_env
from tests.test_dashboard_browser import AppServer, browser, drain_logs, load, text_of  # noqa: F401 - browser: a fixture

pytestmark = pytest.mark.services

STEP_MS = 300_000
POINTS = 105_120  # a year of 5-minute readings
CATALOGUE = """id,name_en,name_zh,kind,interval_s,warning_m,guaranteed_m,historical_max_m
HA,River A,甲站,river,300,3.0,3.5,4.0
HB,River B,乙站,river,300,2.5,,
HR,Rain R,丙雨量站,rain,300,,,
"""
STATIONS = ("HA", "HB", "HR")
GRAPH = "document.querySelector('#history-graph .js-plotly-plot')"
#: the graph's traces: uid -> number of points
TRACES_JS = f"""
const gd = {GRAPH};
if (!gd || !gd._fullData) {{ return {{}}; }}
const out = {{}};
for (const t of gd._fullData) {{ out[t.uid] = t._length || 0; }}
return out;
"""
NOTE_JS = "const n = document.querySelector('#history-note > div'); return n ? n.dataset : {};"


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory, services: LocalServices) -> tuple[Env, pd.DataFrame]:
    """A year of 5-minute levels at HA and HB and 5-minute rain at HR, up to now, written once."""
    folder = tmp_path_factory.mktemp("history-browser")
    catalogue = folder / "stations.csv"
    catalogue.write_text(CATALOGUE)
    env = write_env(folder, services, catalogue)
    env.client.create_database()
    end = int(time.time() * 1000) // STEP_MS * STEP_MS
    times = end - STEP_MS * np.arange(POINTS - 1, -1, -1, dtype="int64")
    steps = np.arange(POINTS)
    frames = {
        "HA": np.round(2.0 + np.sin(steps / 288 * 2 * np.pi) + 1.5 * np.sin(steps / 9000.0), 3),
        "HB": np.round(1.5 + 0.5 * np.cos(steps / 500.0), 3),
        "HR": np.round(np.maximum(0.0, 4 * np.sin(steps / 37.0) - 3.2), 1),
    }
    rows = []
    for station, values in frames.items():
        quantity = "rain" if station == "HR" else "level"
        extra = ",interval_s=300" if quantity == "rain" else ""
        lines = [
            f'{quantity},station={station} flags="",lag_s=0{extra},value={v} {t}'
            for t, v in zip(times, values, strict=True)
        ]
        for start in range(0, len(lines), 50_000):
            env.client.write("\n".join(lines[start : start + 50_000]).encode())
        rows.append(pd.DataFrame({"time_ms": times, "station": station, "quantity": quantity, "value": values}))
    return env, pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def app(year: tuple[Env, pd.DataFrame]) -> Iterator[AppServer]:
    """The dashboard on loopback."""
    server = AppServer(year[0])
    yield server
    server.stop()


def drawn(driver: webdriver.Chrome) -> dict[str, int]:
    """The graph's traces once every station has one with points ({} before)."""
    traces = driver.execute_script(TRACES_JS) or {}
    wanted = ("level-HA", "level-HB", "rain-HR")
    return traces if all(traces.get(uid, 0) > 0 for uid in wanted) else {}


def test_a_year_of_three_stations_is_drawn_and_a_zoom_reads_the_window_in_detail(
    app: AppServer,
    browser: webdriver.Chrome,  # noqa: F811 - the fixture imported above
) -> None:
    """A year of 5-minute data of three stations is drawn (hourly maxima, daily rain) offline and without error; a
    drag-zoom to a few days redraws the window from every 5-minute reading and keeps the zoom."""
    load(browser, f"{app.url}/history?stations=HA,HB,HR&range=1y", drawn, "the year drawn", timeout=60)
    traces = drawn(browser)
    assert traces["level-HA"] >= 8000  # 8,760 hourly maxima (a year's worth, thinned no further)
    assert 300 <= traces["rain-HR"] <= 367  # daily totals
    assert traces["threshold-HA-warning_m"] == 2
    assert browser.execute_script(NOTE_JS)["level"] == "1h"
    assert browser.find_elements("css selector", "#history-graph canvas")  # WebGL lines
    errors, hosts = drain_logs(browser)
    assert errors == []
    assert hosts == {f"127.0.0.1:{app.port}"}
    # a drag across a few pixels of the level panel, as a user zooms: the window is read again in detail
    area = browser.find_element("css selector", "#history-graph .nsewdrag[data-subplot='xy']")
    width = area.size["width"]
    chain = ActionChains(browser)
    chain.move_to_element_with_offset(area, width // 2 - width // 2 + 40, 0).click_and_hold()
    chain.move_by_offset(6, 2).move_by_offset(6, 2).release().perform()
    eventually(lambda: browser.execute_script(NOTE_JS).get("zoomed") in ("raw", "5m"), 30, 0.1, "the window read again")
    kept = browser.execute_script(f"return {GRAPH}.layout.xaxis.range;")
    low, high = (pd.Timestamp(value) for value in kept)
    assert pd.Timedelta(hours=12) < high - low < pd.Timedelta(days=14)
    inside = f"""const gd = {GRAPH}; const t = gd._fullData.find(t => t.uid === 'level-HA');
        let n = 0; for (const x of t.x) {{ if (x >= arguments[0] && x < arguments[1]) n++; }} return n;"""
    points = browser.execute_script(inside, low.value / 1e6, high.value / 1e6)
    five_minutes = (high - low) / pd.Timedelta(minutes=5)
    assert five_minutes - 2 <= points <= five_minutes + 2  # every 5-minute reading of the window
    errors, _ = drain_logs(browser)
    assert errors == []


def test_the_export_link_downloads_the_stored_readings(
    app: AppServer,
    browser: webdriver.Chrome,  # noqa: F811 - the fixture imported above
    year: tuple[Env, pd.DataFrame],
) -> None:
    """The page's CSV link (fetched with the browser's cookies) holds the hourly maxima and totals of what is stored,
    and the view survives the language switch."""
    load(browser, f"{app.url}/history?stations=HA,HR&range=30d", drawn_two, "30 days drawn", timeout=60)
    href = browser.find_element("css selector", "#history-export-csv").get_attribute("href")
    assert href is not None
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    response = requests.get(href, cookies=cookies, timeout=60)
    assert response.status_code == 200
    query = {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}
    assert (query["stations"], query["aggregation"]) == ("HA,HR", "1h")
    zone = ZoneInfo(year[0].settings.timezone)
    start, end = parse_time(query["start"], zone), parse_time(query["end"], zone)
    back = pd.read_csv(io.BytesIO(response.content))
    stored = year[1]
    level = stored[(stored["station"] == "HA") & (stored["time_ms"] >= start) & (stored["time_ms"] < end)]
    rain = stored[(stored["station"] == "HR") & (stored["time_ms"] > start) & (stored["time_ms"] <= end)]
    hour = 3_600_000
    expected_level = level.groupby(level["time_ms"] // hour * hour)["value"].max()
    expected_rain = rain.groupby((rain["time_ms"] - 1) // hour * hour)["value"].sum()
    # the page's language (Chinese here) names the columns: period start, end, station, name, level, rain
    opens, _, station, _, level_max, rain_total, _ = back.columns
    assert opens.endswith("(Asia/Shanghai, UTC+08:00)")
    local = pd.to_datetime(back[opens]).dt.tz_localize(zone)
    back["bucket"] = local.map(lambda moment: int(moment.timestamp() * 1000))
    got_level = back[back[station] == "HA"].set_index("bucket")[level_max]
    got_rain = back[back[station] == "HR"].set_index("bucket")[rain_total]
    assert got_level.to_dict() == expected_level.to_dict()
    assert got_rain.round(6).to_dict() == expected_rain.round(6).to_dict()
    # the language switch builds the page again from the URL: the same view, in English
    browser.find_element("xpath", "//label[normalize-space()='English']").click()
    eventually(lambda: "History explorer" in text_of(browser, "h2"), 20, 0.1, "English title")
    eventually(lambda: drawn_two(browser), 30, 0.1, "the same stations drawn again")
    assert "stations=HA,HR&range=30d" in browser.current_url
    errors, hosts = drain_logs(browser)
    assert errors == []
    assert hosts == {f"127.0.0.1:{app.port}"}


def drawn_two(driver: webdriver.Chrome) -> bool:
    """The graph shows HA and HR and the export links are there."""
    traces = driver.execute_script(TRACES_JS) or {}
    links = driver.find_elements("css selector", "#history-export-csv")
    return traces.get("level-HA", 0) > 0 and traces.get("rain-HR", 0) > 0 and bool(links)

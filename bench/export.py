"""The history explorer and its export on a store of a year of 5-minute readings of ten stations (1,051,200).

- **export**: the whole store through ``/export/readings.csv`` and ``/export/readings.xlsx`` of a real
  ``floodwatch dashboard`` process (a fresh one per format, so that its peak RSS is the export's),
  timed from the request to the last byte: rows/s, and the server's peak RSS (VmHWM) beside its RSS
  just before. The rows are counted in what arrived (CSV lines, xlsx ``<row`` elements).
- **history draw, server**: the explorer's drawing callback posted as the browser does, for a year of
  three stations (hourly maxima, daily rain), the cache cold each time; and the zoom to two days
  (read raw) beside it.
- **history draw, browser**: ``/history?stations=…&range=1y`` in headless Chromium, navigation to the
  three stations' traces drawn.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.dashboard import CHROMEDRIVER, CHROMIUM, start_dashboard
from bench.harness import (
    GUARANTEED_M,
    HISTORICAL_MAX_M,
    WARNING_M,
    BenchError,
    Harness,
    Run,
    Spread,
    proc_stats,
    settle,
    wait_for,
    write_catalogue,
)
from bench.query import level_lines, rain_lines
from bench.report import Figure, Report
from bench.scale import Scale
from floodwatch.services import free_port

MB = 2**20
DAY_MS = 86_400_000
STEP_MS = 300_000
LEVELS, RAINS = 7, 3
DATABASE = "exportbench"
#: cache TTL of the data layer (dashboard.data.CACHE_TTL_S) and a margin: the next request reads InfluxDB again
COLD_S = 4.2
#: the drawing callback's figure is drawn once traces of all the stations have points
DRAWN_JS = """
const gd = document.querySelector('#history-graph .js-plotly-plot');
if (!gd || !gd._fullData) { return 0; }
const uids = gd._fullData.filter(t => (t._length || 0) > 0).map(t => t.uid);
return arguments[0].every(u => uids.includes('level-' + u) || uids.includes('rain-' + u)) ? performance.now() : 0;
"""


def export_store(h: Harness, scale: Scale) -> tuple[Run, list[str], int, int]:
    """The store of this section: (run, stations, points, end_ms), written once."""
    if "export_store" in h.shared:
        return h.shared["export_store"]  # type: ignore[no-any-return]
    catalogue = write_catalogue(h.root / "export-stations.csv", LEVELS, RAINS)
    # stages the generated levels (0.5 to 2.5 m) reach often: the statistics then read raw levels
    catalogue.write_text(
        catalogue.read_text().replace(f",{WARNING_M},{GUARANTEED_M},{HISTORICAL_MAX_M},", ",2.0,2.3,2.6,")
    )
    run = h.run_settings(catalogue, database=DATABASE, dashboard={"port": free_port()})
    client = run.client()
    client.create_database()
    end_ms = int(time.time() * 1000) // STEP_MS * STEP_MS
    count = scale.export_days * DAY_MS // STEP_MS
    stations = [f"L{n:05d}" for n in range(LEVELS)] + [f"R{n:05d}" for n in range(RAINS)]
    points = 0
    for index, station in enumerate(stations):
        make = level_lines if station.startswith("L") else rain_lines
        lines = make(station, index, count, end_ms)
        for start in range(0, len(lines), 10_000):
            client.write("\n".join(lines[start : start + 10_000]).encode())
        points += len(lines)
    client.close()
    settle(h.service_pid("influxdb"), 120)
    h.shared["export_store"] = (run, stations, points, end_ms)
    print(f"  export store: {len(stations)} stations x {scale.export_days} days of 5-minute data: {points:,} points")
    return run, stations, points, end_ms


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def download(url: str, path: Path) -> tuple[float, int]:
    """GET ``url`` into ``path``: (seconds to the last byte, bytes)."""
    started = time.perf_counter()
    size = 0
    with urllib.request.urlopen(url, timeout=1800) as response, path.open("wb") as out:  # noqa: S310 - loopback
        while block := response.read(1 << 20):
            out.write(block)
            size += len(block)
    return time.perf_counter() - started, size


def rows_in(path: Path, fmt: str) -> int:
    """Data rows of a downloaded export (header and title rows left out)."""
    if fmt == "csv":
        with path.open("rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1
    rows = 0
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/sheet"):
                with book.open(name) as sheet:
                    tail = b""
                    while block := sheet.read(1 << 20):
                        rows += (tail + block).count(b"<row ") - tail.count(b"<row ")
                        tail = block[-5:]
                rows -= 2  # title and header
    return rows


def exports(h: Harness, scale: Scale, report: Report) -> None:
    """The whole store as CSV and as xlsx through the HTTP routes: rows/s and the server's memory."""
    run, stations, points, end_ms = export_store(h, scale)
    start_ms = end_ms - scale.export_days * DAY_MS
    base = f"http://127.0.0.1:{run.settings.dashboard.port}"
    query = f"stations={','.join(stations)}&start={_iso(start_ms)}&end={_iso(end_ms + 1000)}&aggregation=raw&lang=en"
    for fmt in ("csv", "xlsx"):
        path = h.root / f"export.{fmt}"
        process = start_dashboard(h, run)
        try:
            # warm-up: imports, the first queries; then the memory the export starts from
            small = f"stations={stations[0]}&start={_iso(end_ms - DAY_MS)}&end={_iso(end_ms)}&aggregation=raw"
            download(f"{base}/export/readings.{fmt}?{small}", path)
            before = proc_stats(process.pid).rss_bytes
            seconds, size = download(f"{base}/export/readings.{fmt}?{query}", path)
            peak = proc_stats(process.pid).peak_rss_bytes
        finally:
            h.stop(process)
        rows = rows_in(path, fmt)
        path.unlink()
        if rows != points:
            raise BenchError(f"the {fmt} export has {rows:,} rows, the store {points:,} readings")
        rate = rows / seconds
        note = f"{rows:,} rows, {size / MB:.0f} MB in {seconds:.1f} s; one run"
        report.add(
            Figure("export", f"{fmt} export through HTTP", "rows/s", Spread(rate, rate, rate, 1), "", None, note=note)
        )
        report.add(
            Figure(
                "export",
                f"{fmt} export: server peak RSS",
                "MB",
                Spread(peak / MB, peak / MB, peak / MB, 1),
                "RSS before the export",
                before / MB,
                "bounded (not growing with the rows)",
                None,
                note=f"the dashboard process's VmHWM after {rows:,} rows",
            )
        )


class ExplorerCallback:
    """Posts one of the history explorer's callbacks (named by an output) as the browser does."""

    def __init__(self, base: str, output: str) -> None:
        self.url = f"{base}/_dash-update-component"
        with urllib.request.urlopen(f"{base}/_dash-dependencies", timeout=30) as response:  # noqa: S310 - loopback
            deps = json.loads(response.read())
        found = next((d for d in deps if output in d["output"]), None)
        if found is None:
            raise BenchError(f"the dashboard has no history callback with the output {output}")
        self.callback = found

    def body(self, view: dict[str, Any], zoom: dict[str, Any] | None) -> bytes:
        """The request of one call: the view's store, a zoom (or none) and the language."""
        outputs = [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in self.callback["output"].strip(".").split("...")
        ]
        values = {"history-view": view, "history-zoom": zoom}
        return json.dumps(
            {
                "output": self.callback["output"],
                "outputs": outputs,
                "inputs": [{**i, "value": values.get(i["id"])} for i in self.callback["inputs"]],
                "state": [{**s, "value": "zh"} for s in self.callback["state"]],
                "changedPropIds": ["history-zoom.data" if zoom else "history-view.data"],
            }
        ).encode()

    def post(self, body: bytes) -> tuple[float, int]:
        """One call: (milliseconds, response bytes)."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
            size = len(response.read())
        return (time.perf_counter() - started) * 1000, size


def _cold(call: Callable[[], tuple[float, int]], runs: int) -> tuple[list[float], int]:
    call()  # warm-up: imports, the first figure
    times, size = [], 0
    for _ in range(runs):
        time.sleep(COLD_S)
        ms, size = call()
        times.append(ms)
    return times, size


def history_draw(h: Harness, scale: Scale, report: Report) -> None:
    """The explorer's drawing of a year of three stations: server time of the callback, and in Chromium."""
    run, stations, _, end_ms = export_store(h, scale)
    three = [*stations[:2], stations[LEVELS]]  # two level stations and a rain gauge
    start_ms = end_ms - scale.export_days * DAY_MS
    view = {"stations": three, "preset": "custom", "aggregation": "auto", "span": [start_ms, end_ms + 1000]}
    zone = ZoneInfo(run.settings.timezone)
    zoom_end = datetime.fromtimestamp(end_ms / 1000, UTC).astimezone(zone).replace(tzinfo=None)
    zoom_start = datetime.fromtimestamp((end_ms - 2 * DAY_MS) / 1000, UTC).astimezone(zone).replace(tzinfo=None)
    zoom = {"xaxis.range[0]": f"{zoom_start:%Y-%m-%d %H:%M:%S}", "xaxis.range[1]": f"{zoom_end:%Y-%m-%d %H:%M:%S}"}
    process = start_dashboard(h, run)
    base = f"http://127.0.0.1:{run.settings.dashboard.port}"
    try:
        draw = ExplorerCallback(base, "history-graph.figure")
        year, size = _cold(lambda: draw.post(draw.body(view, None)), scale.page_loads)
        zoomed, _ = _cold(lambda: draw.post(draw.body(view, zoom)), scale.page_loads)
        table = ExplorerCallback(base, "history-stats.children")
        statistics, _ = _cold(lambda: table.post(table.body(view, None)), scale.page_loads)
        browser = _browser_draws(base, three, scale.page_loads)
    finally:
        h.stop(process)
    days = f"{scale.export_days} days" if scale.export_days != 365 else "a year"
    report.add(
        Figure(
            "history",
            f"draw {days} of 3 stations (5-minute data), server callback",
            "ms",
            Spread.of(year),
            "",
            None,
            note=f"hourly maxima and daily rain read by InfluxDB, cache cold; answer {size / 1024:.0f} KiB",
        )
    )
    report.add(
        Figure(
            "history",
            "zoom to 2 days of the same, server callback",
            "ms",
            Spread.of(zoomed),
            f"draw {days}",
            Spread.of(year).median,
            note="the window read raw and merged into the year, cache cold",
        )
    )
    report.add(
        Figure(
            "history",
            f"event statistics of {days} of the same, server callback",
            "ms",
            Spread.of(statistics),
            f"draw {days}",
            Spread.of(year).median,
            note="peaks by max(), raw levels near the thresholds, raw rain over the range; cache cold",
        )
    )
    if browser is None:
        report.add(
            Figure("history", f"draw {days} in Chromium", "ms", None, "", None, note="not measured: no Chromium")
        )
    else:
        report.add(
            Figure(
                "history",
                f"draw {days} of 3 stations in headless Chromium",
                "ms",
                Spread.of(browser),
                "server callback",
                Spread.of(year).median,
                note="navigation to the three stations' traces drawn; same browser, cache cold each load",
            )
        )


def _browser_draws(base: str, stations: list[str], loads: int) -> list[float] | None:
    """Milliseconds from navigation to the year drawn, ``loads`` times (None without Chromium or selenium)."""
    try:
        from selenium import webdriver  # noqa: PLC0415 - a dev extra
        from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
    except ImportError:
        return None
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1920,1080"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    url = f"{base}/history?stations={','.join(stations)}&range=1y"
    out = []
    try:
        for index in range(loads + 1):
            time.sleep(COLD_S)
            driver.get("about:blank")
            driver.get(url)
            drawn = float(wait_for(lambda: driver.execute_script(DRAWN_JS, stations), 120, "the year drawn", 0.05))
            if index:  # the first load fills the browser's cache of scripts
                out.append(drawn)
    finally:
        driver.quit()
    return out

"""The dashboard on the realistic store: data functions, the wall's refresh, page load, memory over time.

- the data layer's loaders (``dashboard.data.DataLayer``) timed in-process with the cache off;
- the wall's whole refresh, server-side: ten screens posting the wall's refresh callback to a real
  ``floodwatch dashboard`` process at once, the snapshot stale at each round (served while the next one
  loads, as in the steady state), and once right after the start (nothing loaded yet);
- page load of ``/`` and ``/wall`` in Debian's headless Chromium, each in a fresh profile: time from
  navigation to the map drawn (MapLibre reports rendered station circles) and bytes transferred;
- RSS of the ingester and the dashboard sampled during a steady load with ten wall screens polling.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bench.alerts import steady
from bench.harness import BenchError, Harness, Run, Spread, percentile, proc_stats, wait_for
from bench.query import DATABASE, store
from bench.report import Figure, Report
from bench.scale import Scale
from config.catalogue import load_catalogue
from floodwatch.services import free_port

MB = 2**20
SCREENS = 10
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: milliseconds since navigation once MapLibre has rendered at least arguments[1] station circles, else 0
MAP_DRAWN_JS = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = plot && plot._fullLayout && plot._fullLayout.map && plot._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded()) { return 0; }
const circles = sub.map.queryRenderedFeatures().filter(f => f.layer.type === 'circle').length;
return circles >= arguments[1] ? performance.now() : 0;
"""
#: bytes of the page and everything it loaded: [transferred (compressed), decoded]
BYTES_JS = """
const all = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'));
return [all.reduce((s, e) => s + e.transferSize, 0), all.reduce((s, e) => s + e.decodedBodySize, 0)];
"""


def dashboard_run(h: Harness, scale: Scale) -> Run:
    """Settings for the dashboard (and the soak's ingester) on the session's realistic store."""
    data = store(h, scale)
    return h.run_settings(data.catalogue, database=DATABASE, dashboard={"port": free_port()})


def start_dashboard(h: Harness, run: Run) -> Any:
    """``floodwatch dashboard`` for ``run``, once it answers."""
    process = h.floodwatch(run, "dashboard")
    url = f"http://127.0.0.1:{run.settings.dashboard.port}/"

    def answers() -> bool:
        if process.poll() is not None:
            log = h.log_tail(run, "dashboard")
            raise BenchError(f"the dashboard exited with status {process.returncode}:\n{log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(answers, 90, "the dashboard answered", 0.2)
    return process


class WallScreen:
    """Posts the wall's refresh callback as a browser on ``/wall`` would."""

    def __init__(self, base: str) -> None:
        self.url = f"{base}_dash-update-component"
        with urllib.request.urlopen(f"{base}_dash-dependencies", timeout=10) as response:  # noqa: S310 - ours
            deps = json.loads(response.read())
        wall = next((d for d in deps if any(i["id"] == "wall-tick" for i in d["inputs"])), None)
        if wall is None:
            raise BenchError("the dashboard has no wall refresh callback (input wall-tick)")
        outputs = [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in wall["output"].strip(".").split("...")
        ]
        self.body = json.dumps(
            {
                "output": wall["output"],
                "outputs": outputs,
                "inputs": [{**i, "value": 1} for i in wall["inputs"]],
                "state": [{**s, "value": "zh" if s["id"] == "lang" else None} for s in wall["state"]],
                "changedPropIds": ["wall-tick.n_intervals"],
            }
        ).encode()

    def refresh(self) -> tuple[float, int]:
        """One refresh: (milliseconds, response bytes)."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            self.url, data=self.body, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own loopback server
            size = len(response.read())
        return (time.perf_counter() - started) * 1000, size


def ten_screens(screen: WallScreen) -> tuple[float, int]:
    """Ten screens refresh at once: (milliseconds until the last has its answer, bytes of one answer)."""
    results: list[tuple[float, int]] = []
    start = threading.Barrier(SCREENS)

    def one() -> None:
        start.wait()
        results.append(screen.refresh())

    threads = [threading.Thread(target=one) for _ in range(SCREENS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(results) < SCREENS:
        raise BenchError("a wall screen's refresh failed")
    return max(ms for ms, _ in results), results[0][1]


def _timed(call: Callable[[], Any], repeats: int) -> list[float]:
    call()  # warm-up
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def refresh(h: Harness, scale: Scale, report: Report) -> None:
    """The data layer's loads, uncached, and the wall's whole refresh with ten screens, steady and cold."""
    from dashboard.data import CACHE_TTL_S, DataLayer  # noqa: PLC0415 - only this section needs the dashboard

    run = dashboard_run(h, scale)
    data = store(h, scale)
    layer = DataLayer(run.client(), load_catalogue(data.catalogue), ZoneInfo(run.settings.timezone), ttl_s=0)
    full = Spread.of(_timed(layer.load_snapshot, scale.refresh_rounds))
    previous = layer.load_snapshot()
    time.sleep(CACHE_TTL_S)  # the next refresh period: what an incremental load reads then
    incremental = Spread.of(_timed(lambda: layer.load_snapshot(previous), scale.refresh_rounds))
    series = Spread.of(_timed(lambda: layer.station_series(data.year_stations[0], "30d"), scale.query_repeats))
    process = start_dashboard(h, run)
    try:
        screen = WallScreen(f"http://127.0.0.1:{run.settings.dashboard.port}/")
        cold, size = ten_screens(screen)  # the first screens after the start wait for the first load
        rounds: list[float] = []
        for _ in range(scale.refresh_rounds * 3):
            # the snapshot is stale again: this round's screens are served while one thread loads the next
            time.sleep(CACHE_TTL_S + 0.2)
            ms, size = ten_screens(screen)
            rounds.append(ms)
    finally:
        h.stop(process)
    stations = f"{len(data.levels) + len(data.rains):,} stations"
    minimal = _minimal_ms(run)
    report.add(
        Figure(
            "dashboard",
            f"data: snapshot of {stations}, full load",
            "ms",
            full,
            "minimal query",
            minimal,
            note="latest over 2 days, trend, 4 rain totals, alert states; at the start and every 60 s, in the "
            "background",
        )
    )
    report.add(
        Figure(
            "dashboard",
            f"data: snapshot of {stations}, incremental load",
            "ms",
            incremental,
            "full load",
            full.median,
            note="latest from the readings stamped since the previous load; every refresh period, in the background",
        )
    )
    report.add(Figure("dashboard", "data: station_series(30d), cache off", "ms", series, "minimal query", minimal))
    wall = Spread.of(rounds)
    report.add(
        Figure(
            "dashboard",
            f"wall refresh, {SCREENS} screens at once, server-side",
            "ms",
            wall,
            "incremental snapshot load",
            incremental.median,
            "< 300 ms",
            wall.median < 300,
            note=f"p95 {percentile(rounds, 0.95):.0f} ms; answer {size / 1024:.0f} KiB; the snapshot stale at each "
            "round (served while the next loads)",
        )
    )
    report.add(
        Figure(
            "dashboard",
            f"wall refresh, {SCREENS} screens at once, first after the start",
            "ms",
            Spread(cold, cold, cold, 1),
            "full snapshot load",
            full.median,
            note="nothing loaded yet: the screens wait for the first full load",
        )
    )


def _minimal_ms(run: Run) -> float:
    client = run.client()
    text = "SELECT last(value) FROM level WHERE station = 'L00000' AND time > now() - 1h"
    return Spread.of(_timed(lambda: client.query(text), 10)).median


def page_load(h: Harness, scale: Scale, report: Report) -> None:
    """``/`` and ``/wall`` in headless Chromium: time to the map drawn, bytes transferred."""
    missing = ""
    try:
        from selenium import webdriver  # noqa: PLC0415 - a dev extra; said when missing
        from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
    except ImportError:
        missing = "selenium is not installed (pip install -e .[dev])"
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing = "Debian's chromium and chromium-driver are not installed"
    if missing:
        report.add(Figure("dashboard", "page load", "ms", None, "", None, note=f"not measured: {missing}"))
        return
    run = dashboard_run(h, scale)
    data = store(h, scale)
    half = (len(data.levels) + len(data.rains)) // 2  # drawn: at least half of the stations' circles
    base = f"http://127.0.0.1:{run.settings.dashboard.port}"
    process = start_dashboard(h, run)

    def load(path: str, selector: str | None) -> tuple[float, int, int]:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1920,1080",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        try:
            if process.poll() is not None:
                log = h.log_tail(run, "dashboard")
                raise BenchError(f"the dashboard exited with status {process.returncode}:\n{log}")
            driver.get(base + path)
            if selector is None:
                drawn = float(driver.execute_script("return performance.now();"))
            else:
                drawn = float(
                    wait_for(lambda: driver.execute_script(MAP_DRAWN_JS, selector, half), 60, "map drawn", 0.05)
                )
            sent, decoded = driver.execute_script(BYTES_JS)
        finally:
            driver.quit()
        return drawn, int(sent), int(decoded)

    try:
        floor = Spread.of(load("/_dash-dependencies", None)[0] for _ in range(scale.page_loads))
        pages = {
            path: [load(path, selector) for _ in range(scale.page_loads)]
            for path, selector in (("/wall", "#wall-graph"), ("/", "#map-graph"))
        }
    finally:
        h.stop(process)
    if scale.page_loads < 5:
        report.note(f"page load: median of {scale.page_loads} loads per page (the issue asks 5)")
    for path, loads in pages.items():
        drawn = Spread.of(ms for ms, _, _ in loads)
        sent = Spread.of(b / MB for _, b, _ in loads)
        decoded = Spread.of(d / MB for _, _, d in loads).median
        report.add(
            Figure(
                "dashboard",
                f"{path} map drawn, fresh profile",
                "ms",
                drawn,
                "browser floor: small JSON, same server",
                floor.median,
                "< 3,000 ms" if path == "/wall" else "",
                drawn.median < 3000 if path == "/wall" else None,
                note=f"navigation to ≥ {half:,} station circles rendered",
            )
        )
        report.add(
            Figure(
                "dashboard",
                f"{path} bytes transferred",
                "MB",
                sent,
                "uncompressed",
                decoded,
                "< 2 MB" if path == "/wall" else "",
                sent.median < 2 if path == "/wall" else None,
            )
        )


def memory(h: Harness, scale: Scale, report: Report) -> None:
    """RSS of the ingester and the dashboard over a steady load with ten wall screens polling."""
    run = dashboard_run(h, scale)
    data = store(h, scale)
    ingester = h.start_ingester(run)
    board = start_dashboard(h, run)
    screen = WallScreen(f"http://127.0.0.1:{run.settings.dashboard.port}/")
    samples: list[tuple[float, int, int]] = []
    stop = threading.Event()

    def poll() -> None:  # ten screens, each every 10 s (the wall's interval), spread over the period
        while not stop.wait(1.0):
            screen.refresh()

    def sample() -> None:
        started = time.monotonic()
        while not stop.wait(2.0):
            samples.append(
                (time.monotonic() - started, proc_stats(ingester.pid).rss_bytes, proc_stats(board.pid).rss_bytes)
            )

    workers = [threading.Thread(target=poll, daemon=True), threading.Thread(target=sample, daemon=True)]
    for worker in workers:
        worker.start()
    try:
        steady(h.mqtt_port, run.prefix, scale.memory_rate, scale.memory_seconds, len(data.levels), cross=False)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        h.stop(board)
        h.stop(ingester)
    warm = [s for s in samples if s[0] >= scale.memory_seconds / 5] or samples
    minutes = scale.memory_seconds / 60
    what = (
        f"{minutes:g} min at {scale.memory_rate:,.0f} readings/s with {SCREENS} wall screens polling"
        f"{'' if minutes >= 30 else ' (shortened from 30 min)'}; first fifth is warm-up"
    )
    for index, name in ((1, "ingester"), (2, "dashboard")):
        start, end = warm[0][index] / MB, warm[-1][index] / MB
        peak = max(s[index] for s in warm) / MB
        grew = end - start
        report.add(
            Figure(
                "memory",
                f"{name} RSS at the end",
                "MB",
                Spread(end, min(start, end), peak, 1),
                "RSS after warm-up",
                start,
                "no growth beyond noise (10 %)",
                grew <= 0.1 * start,
                note=f"{what}; peak {peak:.0f} MB",
            )
        )
    if minutes < 30:
        report.note(f"memory over time shortened: {what}")

"""Page load of the dashboard in headless Chromium: time to the map drawn, bytes, refresh callback time.

Usage: .venv/bin/python bench/dashboard_load.py [CATALOGUE] [--runs N] [--limit N]

Starts Mosquitto and InfluxDB on free loopback ports (state in a temporary folder), writes 3 hours of
5-minute readings for every station of the catalogue (default: the 525-station one map), serves
``create_app`` on a free loopback port in a thread, then per path (``/`` and ``/wall``) loads the page
N times in a fresh Chromium profile (cold: empty cache) and N times in the same profile (warm), timing
from navigation to MapLibre rendering the stations' circles. Prints the medians, the bytes received
(compressed, as transferred) and the server time of the wall's refresh without the cache: the
snapshot's queries, then the map's traces and the panels. ``--limit N`` keeps the first N stations
with coordinates of the catalogue (e.g. 3,000 of the Environment Agency's 3,269).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from config.catalogue import load_catalogue  # noqa: E402
from config.settings import Settings  # noqa: E402
from dashboard import figures, status  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.components import wall as panels  # noqa: E402
from floodwatch.services import LocalServices, free_port  # noqa: E402
from store.influx import InfluxClient  # noqa: E402

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1920,1080",
]
DRAWN_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
const map = sub && sub.map;
if (!map || !map.loaded()) { return 0; }
return map.queryRenderedFeatures().filter(f => f.layer.type === 'circle').length;
"""


def browser(profile: str) -> webdriver.Chrome:
    """Headless Chromium with the given profile folder, logging the network."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def load(driver: webdriver.Chrome, url: str, graph: str, minimum: int) -> tuple[float, int]:
    """Seconds from navigation to ``minimum`` station circles rendered, and bytes received."""
    driver.get("about:blank")
    driver.get_log("performance")
    start = time.monotonic()
    driver.get(url)
    while int(driver.execute_script(DRAWN_JS, graph) or 0) < minimum:
        if time.monotonic() - start > 60:
            raise SystemExit(f"{url}: map not drawn within 60 s")
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    received = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.loadingFinished":
            received += int(message["params"].get("encodedDataLength", 0))
    return elapsed, received


def first_stations(source: Path, limit: int, out: Path) -> Path:
    """A copy of the catalogue ``source`` with its first ``limit`` stations that have coordinates."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row.get("lat") and row.get("lon")][:limit]
        fields = list(reader.fieldnames or [])
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return out


def wall_work(ctx: Any, snapshot: Any) -> None:
    """What the wall's refresh callback computes from a snapshot (map traces, counters, panels)."""
    names = ctx.names("zh")
    table = snapshot.table
    figures.station_traces(table, names, ctx.zone, "zh")
    panels.counters(status.counters(table), "zh")
    panels.nearest(status.nearest_thresholds(table), names, "zh")
    panels.latest_alerts(snapshot.alerts, names, ctx.zone, "zh")
    panels.rain_totals(status.rain_ranking(table), names, "zh")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalogue", nargs="?", default=str(REPO / "config/catalogues/onemap_uk_525.csv"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="keep the first N stations with coordinates")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with tempfile.TemporaryDirectory() as root:
        if args.limit:
            args.catalogue = str(first_stations(Path(args.catalogue), args.limit, Path(root) / "catalogue.csv"))
        mqtt, influx, rpc = free_port(), free_port(), free_port()
        settings = Settings.model_validate(
            {
                "var_dir": root,
                "catalogue": args.catalogue,
                "mqtt": {"port": mqtt},
                "influx": {"url": f"http://127.0.0.1:{influx}", "database": "bench"},
                "services": {"influx_rpc_port": rpc},
            }
        )
        services = LocalServices(settings)
        services.start()
        try:
            client = InfluxClient(settings.influx)
            client.create_database()
            catalogue = load_catalogue(Path(args.catalogue))
            now = int(time.time() * 1000)
            lines = []
            for station in catalogue.values():
                for step in range(36):
                    quantity = "level" if "level" in station.quantities else "rain"
                    value = (station.warning_m or 1.0) * (0.6 + 0.01 * step) if quantity == "level" else 0.2
                    lines.append(
                        f'{quantity},station={station.id} flags="",lag_s=0,value={value} {now - step * 300_000}'
                    )
            for index in range(0, len(lines), 5000):
                client.write("\n".join(lines[index : index + 5000]).encode())
            app = create_app(settings)
            ctx = app._floodwatch_ctx  # type: ignore[attr-defined]
            queries, drawing = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                snapshot = ctx.data.load_snapshot()
                middle = time.perf_counter()
                wall_work(ctx, snapshot)
                queries.append(middle - start)
                drawing.append(time.perf_counter() - middle)
            print(
                f"{len(catalogue)} stations; wall refresh without the cache: queries median "
                f"{statistics.median(queries) * 1000:.0f} ms + traces and panels "
                f"{statistics.median(drawing) * 1000:.0f} ms"
            )
            port = free_port()
            server = make_server("127.0.0.1", port, app.server, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            placed = sum(1 for s in catalogue.values() if s.lat is not None)
            try:
                for path, graph in (("/", "#map-graph"), ("/wall", "#wall-graph")):
                    cold, warm, sizes = [], [], []
                    for _ in range(args.runs):
                        with tempfile.TemporaryDirectory() as profile:
                            driver = browser(profile)
                            try:
                                seconds, size = load(driver, f"http://127.0.0.1:{port}{path}", graph, placed // 2)
                                cold.append(seconds)
                                sizes.append(size)
                                warm.append(load(driver, f"http://127.0.0.1:{port}{path}", graph, placed // 2)[0])
                            finally:
                                driver.quit()
                    print(
                        f"{path}: map drawn cold median {statistics.median(cold):.2f} s, warm "
                        f"{statistics.median(warm):.2f} s; {statistics.median(sizes) / 1e6:.2f} MB received cold"
                    )
            finally:
                server.shutdown()
                server.server_close()
        finally:
            services.stop()


if __name__ == "__main__":
    main()

"""The wall display left running: browser tab memory and server RSS over a long run with data arriving.

Usage: .venv/bin/python bench/wall_soak.py [CATALOGUE] [--limit N] [--minutes 30] [--refresh-s 10]
                                           [--sample-s 60] [--json FILE]

Starts Mosquitto and InfluxDB on free loopback ports (state in a temporary folder), writes 3 hours
of 5-minute readings for every station of the catalogue (default: the 525-station one map;
``--limit N`` keeps its first N stations with coordinates), serves the dashboard with gunicorn
(``dashboard.wsgi:app``, one worker, 8 threads, as in production) refreshing every ``--refresh-s``,
and opens ``/wall`` in Debian's headless Chromium. While it runs, a writer adds a reading per
station every minute (levels wander, one station at a time climbs above its record and falls back,
so the red counter, the panels and the map change). Every ``--sample-s`` it records, after a
garbage collection in the tab: the tab's JS heap and DOM size (CDP ``Performance.getMetrics``), the
renderer process's RSS, the gunicorn worker's RSS, and the newest data time the wall shows (proof
that it kept refreshing). Prints the samples and the first/last comparison. Not a test: run it by
hand, it takes ``--minutes``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from bench.dashboard_load import first_stations  # noqa: E402
from config.catalogue import Catalogue, load_catalogue  # noqa: E402
from config.settings import Settings, load_settings  # noqa: E402
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
    # a background tab is throttled: a wall is always the visible tab
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--window-size=1920,1080",
]


@dataclass
class Sample:
    """One measurement."""

    minute: float
    js_heap_mb: float
    js_heap_total_mb: float
    dom_nodes: int
    listeners: int
    renderer_rss_mb: float
    server_rss_mb: float
    wall_data_time: str
    banner: str


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def children(pid: int) -> list[int]:
    """The direct children of a process."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def renderer(profile: str) -> int | None:
    """The renderer process of the wall's tab in the Chromium using ``profile`` (None if not found).

    Chromium rewrites its processes' command lines into one space-separated string; of the renderers
    with that profile, the UI's (``--top-chrome-webui``) is left out and the largest is the tab's.
    """
    found: list[tuple[float, int]] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if (
                "--type=renderer" in command
                and f"--user-data-dir={profile} " in command + " "
                and "--top-chrome-webui" not in command
            ):
                found.append((rss_mb(int(entry.name)), int(entry.name)))
    return max(found)[1] if found else None


def history(catalogue: Catalogue, now_ms: int) -> list[str]:
    """Three hours of 5-minute readings for every station."""
    lines = []
    for station in catalogue.values():
        for step in range(36):
            lines.append(reading(station.id, station, now_ms - step * 300_000, 0.0))
    return lines


def reading(station_id: str, station: object, time_ms: int, phase: float) -> str:
    """One line of line protocol: a level wandering below the warning stage, or a light rain."""
    warning = getattr(station, "warning_m", None) or 1.0
    if "level" in getattr(station, "quantities", ()):
        value = warning * (0.6 + 0.1 * math.sin(phase + hash(station_id) % 7))
        return f'level,station={station_id} flags="",lag_s=0,value={value:.3f} {time_ms}'
    value = round(random.choice((0.0, 0.0, 0.2, 0.5, 1.5)), 1)  # noqa: S311 - a benchmark's weather
    return f'rain,station={station_id} flags="",interval_s=300,lag_s=0,value={value} {time_ms}'


def writer(client: InfluxClient, catalogue: Catalogue, stop: threading.Event) -> None:
    """A reading per station every minute; every 5 minutes the next level station climbs above its record."""
    levels = [s for s in catalogue.values() if "level" in s.quantities and s.historical_max_m is not None]
    minute = 0
    while not stop.wait(60 if minute else 0):
        now_ms = int(time.time() * 1000)
        lines = [reading(s.id, s, now_ms, minute / 10) for s in catalogue.values()]
        if levels:
            hot = levels[(minute // 5) % len(levels)]
            record = hot.historical_max_m or 0.0
            lines.append(f'level,station={hot.id} flags="",lag_s=0,value={record + 0.3} {now_ms + 1}')
        for index in range(0, len(lines), 5000):
            client.write("\n".join(lines[index : index + 5000]).encode())
        minute += 1


def start_gunicorn(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn serving dashboard.wsgi:app with the settings file ``config``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8", "--no-control-socket"),
                *("--bind", f"127.0.0.1:{port}", "dashboard.wsgi:app"),
            ],
            cwd=REPO,
            env={**os.environ, "FLOODWATCH_CONFIG": str(config)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, wait, then SIGKILL: by PID, ours only."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sample(driver: webdriver.Chrome, started: float, profile: str, worker: int) -> Sample:
    """Collect garbage in the tab, then read its metrics and both processes' memory."""
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    shown = driver.execute_script(
        "const t = document.getElementById('wall-data-time'); const b = document.getElementById('wall-banner');"
        "return [t ? t.innerText : '', b ? b.innerText : ''];"
    )
    return Sample(
        minute=round((time.monotonic() - started) / 60, 1),
        js_heap_mb=round(metrics["JSHeapUsedSize"] / 1e6, 1),
        js_heap_total_mb=round(metrics["JSHeapTotalSize"] / 1e6, 1),
        dom_nodes=int(metrics["Nodes"]),
        listeners=int(metrics["JSEventListeners"]),
        renderer_rss_mb=round(rss_mb(tab), 1) if (tab := renderer(profile)) else 0.0,
        server_rss_mb=round(rss_mb(worker), 1),
        wall_data_time=str(shown[0]),
        banner=str(shown[1]),
    )


def write_config(root: Path, catalogue: Path, refresh_s: float) -> tuple[Path, Settings, int]:
    """The soak's settings file (free loopback ports, state in ``root``), its settings and the app's port."""
    mqtt, influx, rpc, port = free_port(), free_port(), free_port(), free_port()
    config = root / "floodwatch.toml"
    config.write_text(
        f'catalogue = "{catalogue}"\nvar_dir = "{root / "var"}"\n'
        f"[mqtt]\nport = {mqtt}\n"
        f'[influx]\nurl = "http://127.0.0.1:{influx}"\ndatabase = "soak"\n'
        f"[services]\ninflux_rpc_port = {rpc}\n"
        f"[dashboard]\nrefresh_s = {refresh_s}\n"
    )
    return config, load_settings(config), port


def wait_healthy(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until the app's /health answers 200 (exit with gunicorn's log if it dies or takes 2 minutes)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(log.read_text())
        time.sleep(0.5)


def open_browser(profile: str) -> webdriver.Chrome:
    """Headless Chromium with its own profile and CDP performance metrics on."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Performance.enable", {})
    return driver


def summary(samples: list[Sample]) -> str:
    """First against last sample (and the second half's median heap)."""
    first, last = samples[0], samples[-1]
    later = statistics.median(s.js_heap_mb for s in samples[len(samples) // 2 :])
    return (
        f"JS heap after GC: {first.js_heap_mb} MB at {first.minute} min -> {last.js_heap_mb} MB at "
        f"{last.minute} min (median of the second half {later} MB); "
        f"DOM nodes {first.dom_nodes} -> {last.dom_nodes}; listeners {first.listeners} -> {last.listeners}\n"
        f"renderer RSS {first.renderer_rss_mb} -> {last.renderer_rss_mb} MB; "
        f"gunicorn worker RSS {first.server_rss_mb} -> {last.server_rss_mb} MB; "
        f"wall data time {first.wall_data_time!r} -> {last.wall_data_time!r}; "
        f"banner at the end: {last.banner or 'none'}"
    )


def soak(args: argparse.Namespace, root: Path) -> list[Sample]:
    """Services, data, gunicorn, the writer and the browser; the samples, everything stopped after."""
    catalogue_path = Path(args.catalogue)
    if args.limit:
        catalogue_path = first_stations(catalogue_path, args.limit, root / "catalogue.csv")
    config, settings, port = write_config(root, catalogue_path, args.refresh_s)
    services = LocalServices(settings)
    services.start()
    halt = threading.Event()
    server: subprocess.Popen[bytes] | None = None
    driver: webdriver.Chrome | None = None
    try:
        client = InfluxClient(settings.influx)
        client.create_database()
        catalogue = load_catalogue(catalogue_path)
        lines = history(catalogue, int(time.time() * 1000) - 60_000)
        for index in range(0, len(lines), 5000):
            client.write("\n".join(lines[index : index + 5000]).encode())
        server = start_gunicorn(config, port, root / "gunicorn.log")
        wait_healthy(server, port, root / "gunicorn.log")
        workers = children(server.pid)
        if len(workers) != 1:
            raise SystemExit(f"expected one gunicorn worker, found {workers}")
        threading.Thread(target=writer, args=(client, catalogue, halt), daemon=True).start()
        profile = str(root / "chromium")
        driver = open_browser(profile)
        driver.get(f"http://127.0.0.1:{port}/wall")
        started = time.monotonic()
        print(f"{len(catalogue)} stations, refresh every {args.refresh_s:g} s, {args.minutes:g} min", flush=True)
        time.sleep(min(30.0, args.sample_s))  # the first load and a few refreshes
        samples: list[Sample] = []
        end = started + args.minutes * 60
        while True:
            samples.append(sample(driver, started, profile, workers[0]))
            print(" | ".join(f"{k}={v}" for k, v in asdict(samples[-1]).items()), flush=True)
            if time.monotonic() >= end - 1:  # the last sample is the one at the end
                return samples
            time.sleep(min(args.sample_s, max(0.0, end - time.monotonic())))
    finally:
        halt.set()
        if driver is not None:
            driver.quit()
        if server is not None:
            stop(server)
        services.stop()


def interrupt(signum: int, _frame: object) -> None:
    """Turn SIGTERM (and SIGINT, ignored by a shell's background jobs) into a clean stop."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    """Run the soak and print its samples and summary (SIGINT or SIGTERM stop everything it started)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalogue", nargs="?", default=str(REPO / "config/catalogues/onemap_uk_525.csv"))
    parser.add_argument("--limit", type=int, default=0, help="keep the first N stations with coordinates")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--refresh-s", type=float, default=10.0)
    parser.add_argument("--sample-s", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
    with tempfile.TemporaryDirectory() as root:
        samples = soak(args, Path(root))
    print("\n" + summary(samples))
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Query latency on a realistic store: thousands of stations, weeks of 5-minute data, a year for some.

The store is written once per session (raw line protocol in the ingester's schema, big batches, two
writer processes) and shared with the dashboard section. Each query is the InfluxQL the dashboard
sends (or would send, for the history page still being built), timed from the benchmark's HTTP
request to its parsed answer: "server-side", as opposed to the browser. Queries take turns, after
one warm-up pass, so a slow moment of the machine does not land on one query only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import load
from bench.harness import Harness, Spread, percentile, settle, write_catalogue
from bench.report import Figure, Report
from bench.scale import Scale
from config.settings import InfluxSettings
from dashboard.data import LATEST_OVERLAP_MS
from store import readings
from store.influx import InfluxClient, quote_literal

DATABASE = "store"
#: what the dashboard's incremental latest read covers each refresh: the refresh period and the overlap
INCREMENTAL_MS = 10_000 + LATEST_OVERLAP_MS
DAY_MS = 86_400_000
STEP_MS = load.STEP_MS
BATCH = 10_000


@dataclass(frozen=True)
class Store:
    """The realistic store of this session."""

    catalogue: Path
    levels: list[str]
    rains: list[str]
    days: int
    year_stations: list[str]
    end_ms: int
    points: int
    seconds: float
    settled: float  # seconds until InfluxDB stopped compacting after the write

    def describe(self) -> str:
        """What the store holds, in words."""
        return (
            f"{len(self.levels) + len(self.rains):,} stations ({len(self.levels):,} level, {len(self.rains):,} rain) "
            f"x {self.days} days of 5-minute data, {len(self.year_stations)} of them a year: "
            f"{self.points:,} points written in {self.seconds:.0f} s, queried once InfluxDB was idle again "
            f"({self.settled:.0f} s later)"
        )


def level_lines(station: str, index: int, count: int, end_ms: int) -> list[str]:
    """``count`` 5-minute level points of one station up to ``end_ms``, in the ingester's schema."""
    out = []
    for i in range(count):
        value = round(1.5 + 0.4 * math.sin(2 * math.pi * i / 288 + index) + 0.6 * math.sin(i / 4000 + index), 2)
        out.append(f'level,station={station} flags="",lag_s=0.8,value={value} {end_ms - (count - 1 - i) * STEP_MS}')
    return out


def rain_lines(station: str, index: int, count: int, end_ms: int) -> list[str]:
    """``count`` 5-minute rain amounts (mm, mostly zero, in showers) of one gauge up to ``end_ms``."""
    out = []
    for i in range(count):
        value = max(0.0, round(4 * math.sin(i / 37 + index) - 3.2, 1))
        stamp = end_ms - (count - 1 - i) * STEP_MS
        out.append(f'rain,station={station} flags="",interval_s=300,lag_s=0.8,value={value} {stamp}')
    return out


def write_share(url: str, plan: list[tuple[str, int, int]], end_ms: int) -> int:
    """Writer process: every (station, index, points) of ``plan``, in batches; returns points written."""
    client = InfluxClient(InfluxSettings(url=url, database=DATABASE, timeout_s=120))
    pending: list[str] = []
    written = 0
    for station, index, count in plan:
        make = level_lines if station.startswith("L") else rain_lines
        pending += make(station, index, count, end_ms)
        while len(pending) >= BATCH:
            client.write("\n".join(pending[:BATCH]).encode())
            written += BATCH
            del pending[:BATCH]
    if pending:
        client.write("\n".join(pending).encode())
        written += len(pending)
    client.close()
    return written


def store(h: Harness, scale: Scale) -> Store:
    """The session's realistic store, written on first use."""
    if "store" in h.shared:
        return h.shared["store"]  # type: ignore[no-any-return]
    levels_n = round(scale.query_stations * 0.48)  # the reference city: 250 level stations, 275 rain gauges
    catalogue = write_catalogue(h.root / "store-stations.csv", levels_n, scale.query_stations - levels_n)
    levels = [f"L{n:05d}" for n in range(levels_n)]
    rains = [f"R{n:05d}" for n in range(scale.query_stations - levels_n)]
    end_ms = int(time.time() * 1000) // STEP_MS * STEP_MS
    per_day = DAY_MS // STEP_MS
    year = levels[: scale.year_stations]
    plan = [(s, i, (365 if s in year else scale.query_days) * per_day) for i, s in enumerate(levels)]
    plan += [(s, i, scale.query_days * per_day) for i, s in enumerate(rains)]
    client = InfluxClient(InfluxSettings(url=f"http://127.0.0.1:{h.influx_port}", database=DATABASE))
    client.create_database()
    started = time.monotonic()
    writers = 2  # two clients: ~410k points/s here against ~240k from one (DESIGN.md §7)
    with load.CTX.Pool(writers) as pool:
        points = sum(pool.starmap(write_share, [(client.base, plan[k::writers], end_ms) for k in range(writers)]))
    seconds = time.monotonic() - started
    waited = settle(h.service_pid("influxdb"), 120)
    result = Store(catalogue, levels, rains, scale.query_days, year, end_ms, points, seconds, waited)
    h.shared["store"] = result
    print(f"  store: {result.describe()}", flush=True)
    return result


def time_queries(client: InfluxClient, queries: dict[str, str], repeats: int) -> dict[str, list[float]]:
    """Milliseconds of each query over ``repeats`` rounds (after a warm-up round), taking turns."""
    for text in queries.values():
        client.query(text)
    times: dict[str, list[float]] = {name: [] for name in queries}
    for _ in range(repeats):
        for name, text in queries.items():
            started = time.perf_counter()
            client.query(text)
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def queries(h: Harness, scale: Scale, report: Report) -> None:
    """Section 4: InfluxQL latency of the dashboard's reads, median and p95, beside a minimal query."""
    data = store(h, scale)
    client = InfluxClient(InfluxSettings(url=f"http://127.0.0.1:{h.influx_port}", database=DATABASE, timeout_s=60))
    now = int(time.time() * 1000)
    one = quote_literal(data.year_stations[0])
    year = f"time > {now - 365 * DAY_MS}ms"
    hour = f"time > {now - 3_600_000}ms"
    asked = {
        "minimal: one station's last hour": f"SELECT last(value) FROM level WHERE station = {one} AND {hour}",
        "latest state of all stations (2-day window)": "SELECT last(value) AS value, flags FROM level, rain "
        f"WHERE time > {now - 2 * DAY_MS}ms GROUP BY station",
        "variant: latest of all stations, 1-hour window": "SELECT last(value) AS value, flags FROM level, rain "
        f"WHERE {hour} GROUP BY station",
        "latest state, incremental (stamped in the last refresh period + overlap)": "SELECT value, flags, station "
        f"FROM level, rain WHERE time > {now - INCREMENTAL_MS}ms",
        "one station's 30 days raw": f"SELECT value FROM level WHERE station = {one} AND time > {now - 30 * DAY_MS}ms",
        "one station's year, hourly max": f"SELECT max(value) AS value FROM level WHERE station = {one} AND {year} "
        "GROUP BY time(1h) fill(none)",
        "24 h rain totals of all rain gauges": f"SELECT sum(value) AS total FROM rain WHERE time > {now - DAY_MS}ms "
        "GROUP BY station",
        # the history explorer's own query (store.readings) for a year: hourly maxima
        "history: one year of three stations, hourly max": readings.query(
            "level", readings.Selection(tuple(data.year_stations[:3]), now - 365 * DAY_MS, now, "1h", ZoneInfo("UTC"))
        ),
    }
    times = time_queries(client, asked, scale.query_repeats)
    client.close()
    floor = Spread.of(times.pop("minimal: one station's last hour")).median
    targets = {
        "latest state, incremental (stamped in the last refresh period + overlap)": 100.0,
        "one station's year, hourly max": 300.0,
    }
    for name, ms in times.items():
        target = targets.get(name)
        p95 = percentile(ms, 0.95)
        spread = Spread.of(ms)
        report.add(
            Figure(
                "query",
                f"{name}, median",
                "ms",
                spread,
                "minimal query median",
                floor,
                f"< {target:.0f} ms" if target else "",
                spread.median < target if target else None,
                note=f"p95 {p95:.0f} ms over {len(ms)} runs",
            )
        )
        report.add(Figure("query", f"{name}, p95", "ms", Spread(p95, p95, p95, len(ms)), "minimal query median", floor))
    scaled = data.days < 30 or len(data.year_stations) < 50 or len(data.levels) + len(data.rains) < 3000
    if scaled:
        report.note(f"query store scaled: {data.describe()} (the issue asks 3,000 x 30 days, 50 with a year)")
    else:
        report.note(f"query store: {data.describe()}")

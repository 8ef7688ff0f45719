"""The only module of the dashboard that reads InfluxDB: bounded queries behind one shared TTL cache.

Every loader is a method of ``DataLayer`` (one per app, created by ``create_app``) whose results are
cached for ``ttl_s`` seconds keyed by the loader and its arguments, with one lock per key: ten wall
screens refreshing at once cost one set of queries per period, not ten. Queries are bounded: the
latest values come from a 2-day window, long ranges are aggregated by InfluxDB with
``GROUP BY time() fill(none)``. InfluxQL is built only from catalogue ids (validated by the
catalogue) through ``store.influx.quote_literal`` and from integers.

It is also the only module that writes: the alert desk's acknowledgements, notes and handovers
(``store.alerts`` lines), each followed by ``TTLCache.clear`` so that the page that wrote sees the
change at once (other workers see it within their ``ttl_s``). The person recorded is the ``User``
the callback got from the session; the alerts acted on are read again from InfluxDB, never taken from
the browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd

from config.catalogue import Catalogue
from config.hydrotime import hydro_day_start_ms
from config.users import User
from dashboard import desk, stats, status
from dashboard.cache import SharedValue, TTLCache
from store import readings
from store.alerts import (
    Alert,
    Handover,
    acknowledge_line,
    current_states,
    handover_line,
    list_alerts,
    list_handovers,
    note_line,
)
from store.influx import InfluxClient, InfluxError, quote_literal
from store.readings import HOUR_MS, Aggregation, Quantity, Row, Selection, stream

#: the latest value of a station is looked for this far back (a bounded query, DESIGN.md §7)
LATEST_WINDOW_MS: Final = 2 * 86_400_000
#: the trend is measured over the last hour
TREND_WINDOW_MS: Final = 3_600_000
#: how long a loaded result is served to every screen before it is loaded again
CACHE_TTL_S: Final = 4.0
#: the snapshot is never served older than this (then screens wait for a load, or say it failed)
SNAPSHOT_MAX_STALE_S: Final = 30.0
#: the latest values are read over the whole window this often (late readings of a backlog); in
#: between, only what was stamped since the previous read, less an overlap
FULL_LATEST_EVERY_MS: Final = 60_000
LATEST_OVERLAP_MS: Final = 120_000
LATEST_COLUMNS: Final = ["time", "value", "flags", "station", "quantity"]
#: history results are large (up to a year of 5-minute readings of several stations): few are kept
HISTORY_CACHE_ITEMS: Final = 16
#: time above a threshold is read raw in at most this many spans (hours near the threshold) a station,
#: else over the whole range
MAX_RAW_SPANS: Final = 40
#: the wall's "latest alerts" look this far back
RECENT_ALERTS_MS: Final = 24 * 3_600_000
#: ranges of the station page: length in ms, and the level / rain aggregation (None = raw readings)
RANGES: Final[dict[str, tuple[int, str | None, str | None]]] = {
    "24h": (86_400_000, None, None),
    "72h": (3 * 86_400_000, None, "1h"),
    "7d": (7 * 86_400_000, "15m", "3h"),
    "30d": (30 * 86_400_000, "1h", "1d"),
}
#: a custom range's aggregation by its length: (longest length in ms, level bucket, rain bucket);
#: the presets' own choices, then coarser ones so that years stay a few thousand points
CUSTOM_BUCKETS: Final[tuple[tuple[int, str | None, str | None], ...]] = (
    (2 * 86_400_000, None, None),
    (4 * 86_400_000, None, "1h"),
    (10 * 86_400_000, "15m", "3h"),
    (45 * 86_400_000, "1h", "1d"),
    (200 * 86_400_000, "6h", "1d"),
    (800 * 86_400_000, "1d", "1d"),
)
#: beyond the table: daily maximum levels and weekly rain
LONGEST_BUCKETS: Final = ("1d", "7d")


def buckets_for(length_ms: int) -> tuple[str | None, str | None]:
    """The level and rain aggregation of a range of ``length_ms`` (None: raw readings)."""
    for longest, level, rain in CUSTOM_BUCKETS:
        if length_ms <= longest:
            return level, rain
    return LONGEST_BUCKETS


class DataUnavailableError(Exception):
    """InfluxDB could not be read; the page shows that instead of old figures."""


@dataclass(frozen=True)
class Snapshot:
    """What the map and the wall show, loaded at ``now_ms``."""

    now_ms: int
    table: pd.DataFrame  # status.station_table
    alerts: list[Alert] = field(default_factory=list)  # raised in the last 24 h or still active
    latest: pd.DataFrame = field(default_factory=pd.DataFrame)  # the latest rows read (time, value, flags, ...)
    full_ms: int = 0  # when ``latest`` was last read over the whole LATEST_WINDOW_MS

    @property
    def newest_ms(self) -> int | None:
        """Device time of the newest reading of any station."""
        times = self.table["time_ms"].dropna()
        return int(times.max()) if not times.empty else None


@dataclass(frozen=True)
class History:
    """Levels and rain of stations over a range, as ``store.readings`` aggregates them."""

    start_ms: int
    end_ms: int
    level: dict[str, pd.DataFrame]  # level station -> time_ms, value
    rain: dict[str, pd.DataFrame]  # rain station -> time_ms, value (raw: and interval_s)


@dataclass(frozen=True)
class StationSeries:
    """One station's readings over a range, in UTC ms."""

    start_ms: int
    end_ms: int
    level: pd.DataFrame  # time_ms, value
    rain: dict[str, pd.DataFrame]  # gauge id -> time_ms, value
    alerts: list[Alert]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    if "time" in frame.columns:
        frame = frame.rename(columns={"time": "time_ms"})
    return frame


class DataLayer:
    """Cached, bounded reads of one database for one catalogue."""

    def __init__(
        self,
        client: InfluxClient,
        catalogue: Catalogue,
        zone: ZoneInfo,
        *,
        blue_margin_m: float = 0.5,
        ttl_s: float = CACHE_TTL_S,
        shared_folder: Path | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.catalogue = catalogue
        self.zone = zone
        self.blue_margin_m = blue_margin_m
        self.cache = TTLCache(ttl_s)
        self.history_cache = TTLCache(ttl_s, max_items=HISTORY_CACHE_ITEMS)
        self.now = now
        self.snapshots: SharedValue[Snapshot] = SharedValue(
            self.load_snapshot,
            ttl_s=ttl_s,
            max_stale_s=SNAPSHOT_MAX_STALE_S,
            folder=shared_folder,
            clock=now,
        )

    def _rows(self, influxql: str, measurement_as: str | None = None) -> list[dict[str, Any]]:
        """The points as dicts with their series' tags (and, if asked, the measurement's name)."""
        try:
            result = self.client.query(influxql)
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        rows = []
        for series in result:
            for values in series.values:
                row = dict(zip(series.columns, values, strict=True))
                row.update(series.tags)
                if measurement_as:
                    row[measurement_as] = series.name
                rows.append(row)
        return rows

    def snapshot(self) -> Snapshot:
        """Latest value, trend, alert level, state and rain totals of every station.

        Shared by every screen and worker, refreshed in the background (``cache.SharedValue``).

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """
        return self.snapshots.get()

    def load_snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        """Load the snapshot now (uncached), reading only the newest readings when ``previous`` allows.

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """
        now_ms = int(self.now() * 1000)
        if previous is None or now_ms - previous.full_ms >= FULL_LATEST_EVERY_MS or previous.latest.empty:
            full_ms = now_ms
            latest = _frame(
                self._rows(
                    "SELECT last(value) AS value, flags FROM level, rain "
                    f"WHERE time > {now_ms - LATEST_WINDOW_MS}ms GROUP BY station",
                    measurement_as="quantity",
                ),
                LATEST_COLUMNS,
            )
        else:
            full_ms = previous.full_ms
            latest = self._newer_latest(previous, now_ms)
        first = _frame(
            self._rows(
                f"SELECT first(value) AS value FROM level WHERE time > {now_ms - TREND_WINDOW_MS}ms GROUP BY station",
                measurement_as="quantity",
            ),
            ["time", "value", "station", "quantity"],
        )
        rain = self._rain_totals(now_ms)
        try:
            states = current_states(self.client)
            alerts = list_alerts(self.client, since_ms=now_ms - RECENT_ALERTS_MS)
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        levels = {station: state.level for station, state in states.items()}
        table = status.station_table(self.catalogue, latest, first, levels, rain, now_ms, self.blue_margin_m)
        return Snapshot(now_ms, table, alerts, latest, full_ms)

    def _newer_latest(self, previous: Snapshot, now_ms: int) -> pd.DataFrame:
        """The previous latest rows updated with the readings stamped since the previous load.

        One cheap query without ``GROUP BY``: its cost follows the rows read, not the number of series.
        """
        since = max(previous.now_ms - LATEST_OVERLAP_MS, now_ms - LATEST_WINDOW_MS)
        query = f"SELECT value, flags, station FROM level, rain WHERE time > {since}ms"
        newer = _frame(self._rows(query, measurement_as="quantity"), LATEST_COLUMNS)
        both = pd.concat([previous.latest, newer], ignore_index=True) if not newer.empty else previous.latest
        both = both[both["time_ms"] > now_ms - LATEST_WINDOW_MS]
        return both.sort_values("time_ms", kind="stable").drop_duplicates(["station", "quantity"], keep="last")

    def _rain_totals(self, now_ms: int) -> pd.DataFrame:
        windows = {
            "h1": now_ms - 3_600_000,
            "h3": now_ms - 3 * 3_600_000,
            "h24": now_ms - 86_400_000,
            "day": hydro_day_start_ms(now_ms, self.zone),
        }
        totals: dict[str, dict[str, float]] = {}
        for name, since in windows.items():
            for row in self._rows(f"SELECT sum(value) AS total FROM rain WHERE time > {since}ms GROUP BY station"):
                totals.setdefault(row["station"], {})[name] = float(row["total"])
        frame = pd.DataFrame.from_dict(totals, orient="index")
        return frame.reindex(columns=list(windows)).fillna(0.0) if not frame.empty else frame

    def station_series(self, station_id: str, range_key: str) -> StationSeries:
        """One station's level (and the nearest gauges' rain) over a range, aggregated when long (cached).

        Raises:
            KeyError: unknown station or range.
            DataUnavailableError: InfluxDB did not answer.
        """
        station = self.catalogue[station_id]
        length, level_bucket, rain_bucket = RANGES[range_key]

        def load() -> StationSeries:
            end = int(self.now() * 1000)
            return self._load_series(station.id, end - length, end, level_bucket, rain_bucket)

        return self.cache.get(("series", station.id, range_key), load)

    def station_series_between(self, station_id: str, start_ms: int, end_ms: int) -> StationSeries:
        """One station's series over a custom span (``status.custom_span``), aggregated by its length (cached).

        Raises:
            KeyError: unknown station.
            DataUnavailableError: InfluxDB did not answer.
        """
        station = self.catalogue[station_id]
        level_bucket, rain_bucket = buckets_for(end_ms - start_ms)
        return self.cache.get(
            ("between", station.id, start_ms, end_ms),
            lambda: self._load_series(station.id, start_ms, end_ms, level_bucket, rain_bucket),
        )

    def _load_series(
        self, station_id: str, start: int, end: int, level_bucket: str | None, rain_bucket: str | None
    ) -> StationSeries:
        station = self.catalogue[station_id]
        where = f"WHERE station = {quote_literal(station.id)} AND time > {start}ms AND time <= {end}ms"
        level = pd.DataFrame(columns=["time_ms", "value"])
        if "level" in station.quantities:
            if level_bucket is None:
                query = f"SELECT value FROM level {where}"
            else:
                query = f"SELECT max(value) AS value FROM level {where} GROUP BY time({level_bucket}) fill(none)"
            level = _frame(self._rows(query), ["time", "value"])
        rain: dict[str, pd.DataFrame] = {}
        for gauge in status.nearest_gauges(station, self.catalogue.values()):
            gauge_where = f"WHERE station = {quote_literal(gauge.id)} AND time > {start}ms AND time <= {end}ms"
            if rain_bucket is None:
                query = f"SELECT value FROM rain {gauge_where}"
            else:
                query = f"SELECT sum(value) AS value FROM rain {gauge_where} GROUP BY time({rain_bucket}) fill(none)"
            rain[gauge.id] = _frame(self._rows(query), ["time", "value"])
        try:
            alerts = list_alerts(self.client, station=station.id)
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        return StationSeries(start, end, level, rain, alerts)

    def readings(self, selection: Selection, quantities: tuple[Quantity, ...]) -> list[Row]:
        """The rows of ``selection`` (``store.readings.stream``: by time, station, quantity), not cached.

        For the HTTP API: each client asks its own range, so a cache would mostly hold answers nobody
        asks again; the API bounds what one answer may hold instead (``dashboard.api_params``).

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """
        try:
            return list(stream(self.client, quantities, selection))
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc

    def alerts(self, *, since_ms: int, station: str | None = None, active_only: bool = False) -> list[Alert]:
        """The alerts of ``store.alerts.list_alerts`` (cached).

        Raised since ``since_ms`` and every one still firing, or with ``active_only`` only those still
        firing; ``station`` is a catalogue id.

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """

        def load() -> list[Alert]:
            try:
                return list_alerts(self.client, since_ms=since_ms, station=station, active_only=active_only)
            except InfluxError as exc:
                raise DataUnavailableError(str(exc)) from exc

        return self.cache.get(("alerts", since_ms, station, active_only), load)

    # -- the alert desk ----------------------------------------------------------------------------

    def desk_alerts(self, since_ms: int) -> list[Alert]:
        """The alerts still firing or with anything recorded since ``since_ms`` (cached).

        Alerts raised up to ``desk.LOOKBACK_MS`` before ``since_ms`` are read too, so that one resolved
        or acknowledged in the window shows there.

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """

        def load() -> list[Alert]:
            try:
                alerts = list_alerts(self.client, since_ms=since_ms - desk.LOOKBACK_MS)
            except InfluxError as exc:
                raise DataUnavailableError(str(exc)) from exc
            return desk.relevant(alerts, since_ms)

        return self.cache.get(("desk-alerts", since_ms), load)

    def handovers(self, since_ms: int) -> list[Handover]:
        """The shift handovers recorded since ``since_ms``, newest first (cached).

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """

        def load() -> list[Handover]:
            try:
                return list_handovers(self.client, since_ms=since_ms)
            except InfluxError as exc:
                raise DataUnavailableError(str(exc)) from exc

        return self.cache.get(("desk-handovers", since_ms), load)

    def acknowledge(self, alert_ids: list[str], user: User, note: str) -> desk.Outcome:
        """Acknowledge the alerts of ``alert_ids`` not acknowledged yet, as ``user``, with ``note``.

        Raises:
            DataUnavailableError: InfluxDB did not answer (nothing, or not everything, was written).
        """
        return self._act("acknowledged", alert_ids, user, note)

    def add_note(self, alert_ids: list[str], user: User, note: str) -> desk.Outcome:
        """Write ``note`` on the alerts of ``alert_ids`` as ``user`` (without acknowledging them).

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """
        return self._act("noted", alert_ids, user, note)

    def _act(self, action: str, alert_ids: list[str], user: User, note: str) -> desk.Outcome:
        wanted = desk.picked_ids(alert_ids)
        if not wanted:
            return desk.Outcome(action)
        # the alerts as InfluxDB has them now (not the cache, not the browser): their stations, their acks
        since = min(desk.fired_ms(i) for i in wanted) - 3_600_000
        try:
            outcome = desk.plan(action, wanted, list_alerts(self.client, since_ms=since))
            now_ms = int(self.now() * 1000)
            make = acknowledge_line if action == "acknowledged" else note_line
            lines = [make(alert, user.label, desk.clean_text(note), now_ms) for alert in outcome.done]
            if lines:
                self.client.write("\n".join(lines).encode())
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        finally:
            self.cache.clear()
        return outcome

    def record_handover(self, user: User, outgoing: str, incoming: str, note: str) -> Handover:
        """Record a shift handover, now, by ``user``.

        Raises:
            DataUnavailableError: InfluxDB did not answer.
        """
        handover = Handover(
            int(self.now() * 1000),
            user.label,
            desk.clean_text(outgoing, desk.MAX_NAME),
            desk.clean_text(incoming, desk.MAX_NAME),
            desk.clean_text(note),
        )
        try:
            self.client.write(handover_line(handover).encode())
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        finally:
            self.cache.clear()
        return handover

    # -- the history explorer and export (store.readings) -----------------------------------------

    def _with(self, quantity: str, stations: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s for s in stations if quantity in self.catalogue[s].quantities)

    def _fetch(
        self, quantity: Quantity, stations: tuple[str, ...], start_ms: int, end_ms: int, aggregation: Aggregation
    ) -> dict[str, pd.DataFrame]:
        """``store.readings.fetch`` as one frame per station (every station given, empty when it has nothing)."""
        if not stations:
            return {}
        try:
            found = readings.fetch(self.client, quantity, Selection(stations, start_ms, end_ms, aggregation, self.zone))
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        return {station: rows_frame(found.get(station, [])) for station in stations}

    def history(
        self,
        stations: tuple[str, ...],
        start_ms: int,
        end_ms: int,
        level_aggregation: Aggregation,
        rain_aggregation: Aggregation,
    ) -> History:
        """Levels and rain of catalogue stations over ``[start_ms, end_ms)`` at the given aggregations (cached).

        Raises:
            KeyError: a station not in the catalogue.
            DataUnavailableError: InfluxDB did not answer.
        """
        chosen = tuple(self.catalogue[s].id for s in stations)

        def load() -> History:
            level = self._fetch("level", self._with("level", chosen), start_ms, end_ms, level_aggregation)
            rain = self._fetch("rain", self._with("rain", chosen), start_ms, end_ms, rain_aggregation)
            return History(start_ms, end_ms, level, rain)

        key = ("history", chosen, start_ms, end_ms, level_aggregation, rain_aggregation)
        return self.history_cache.get(key, load)

    def event_stats(self, stations: tuple[str, ...], start_ms: int, end_ms: int) -> list[stats.StationStats]:
        """Peak, time at or above warning and guaranteed, rain total and maximum intensities per station (cached).

        Definitions in ``dashboard.stats``. Bounded reads: the peak is InfluxDB's ``max()``; the
        time above a threshold reads raw levels only in the hours whose maximum reaches it (plus the
        station's hold; over the whole range, a week at a time, when they are more than
        ``MAX_RAW_SPANS`` spans), rain is read raw over the range, a week at a time.

        Raises:
            KeyError: a station not in the catalogue.
            DataUnavailableError: InfluxDB did not answer.
        """
        chosen = tuple(self.catalogue[s].id for s in stations)
        return self.history_cache.get(
            ("stats", chosen, start_ms, end_ms), lambda: self._stats(chosen, start_ms, end_ms)
        )

    def _stats(self, stations: tuple[str, ...], start_ms: int, end_ms: int) -> list[stats.StationStats]:
        level_ids = self._with("level", stations)
        try:
            peaks = readings.peaks(self.client, "level", Selection(level_ids, start_ms, end_ms, "raw", self.zone))
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc
        hourly = self._fetch("level", level_ids, start_ms, end_ms, "1h")
        rain = self._raw("rain", self._with("rain", stations), start_ms, end_ms)
        out = []
        for station_id in stations:
            station = self.catalogue[station_id]
            found = stats.StationStats(station.id)
            if station.id in hourly:
                thresholds = {
                    key: value
                    for key, value in (
                        ("threshold.warning", station.warning_m),
                        ("threshold.guaranteed", station.guaranteed_m),
                    )
                    if value is not None
                }
                hold = station.stale_after_s() * 1000
                raw = self._raw_levels(
                    station.id,
                    hourly=hourly[station.id],
                    thresholds=thresholds,
                    hold_ms=hold,
                    start_ms=start_ms,
                    end_ms=end_ms,
                )
                peak = peaks.get(station.id)
                found = replace(
                    found,
                    peak_m=peak.value if peak else None,
                    peak_ms=peak.time_ms if peak else None,
                    above={
                        key: (value, stats.time_at_or_above(raw, value, hold_ms=hold, end_ms=end_ms))
                        for key, value in thresholds.items()
                    },
                )
            if station.id in rain:
                total, windows = stats.rain_stats(rain[station.id], default_interval_s=station.interval_s)
                found = replace(found, rain_total_mm=total, rain_max=windows)
            out.append(found)
        return out

    def _raw_levels(
        self,
        station_id: str,
        *,
        hourly: pd.DataFrame,
        thresholds: dict[str, float],
        hold_ms: int,
        start_ms: int,
        end_ms: int,
    ) -> pd.DataFrame:
        """The raw levels that can count towards the time above the lowest threshold (``stats.spans_at_or_above``)."""
        if not thresholds:
            return rows_frame([])
        spans = stats.spans_at_or_above(hourly, min(thresholds.values()), bucket_ms=HOUR_MS, hold_ms=hold_ms)
        if len(spans) > MAX_RAW_SPANS:
            return self._raw("level", (station_id,), start_ms, end_ms)[station_id]
        frames = [
            self._fetch("level", (station_id,), max(low, start_ms), min(high, end_ms), "raw")[station_id]
            for low, high in spans
            if max(low, start_ms) < min(high, end_ms)
        ]
        return pd.concat(frames, ignore_index=True) if frames else rows_frame([])

    def _raw(
        self, quantity: Quantity, stations: tuple[str, ...], start_ms: int, end_ms: int
    ) -> dict[str, pd.DataFrame]:
        """Raw readings of each station over the range, read a window at a time (``store.readings.stream``)."""
        if not stations:
            return {}
        found: dict[str, list[Row]] = {station: [] for station in stations}
        for row in self.stream_rows(stations, start_ms, end_ms, "raw", quantities=(quantity,)):
            found[row.station].append(row)
        return {station: rows_frame(rows) for station, rows in found.items()}

    def stream_rows(
        self,
        stations: tuple[str, ...],
        start_ms: int,
        end_ms: int,
        aggregation: Aggregation,
        *,
        quantities: tuple[Quantity, ...] = ("level", "rain"),
    ) -> Iterator[Row]:
        """Every row of the selection in time order, a window at a time (``store.readings.stream``; not cached).

        Raises:
            DataUnavailableError: InfluxDB did not answer (rows already yielded stay yielded).
        """
        selection = Selection(stations, start_ms, end_ms, aggregation, self.zone)
        try:
            yield from readings.stream(self.client, quantities, selection)
        except InfluxError as exc:
            raise DataUnavailableError(str(exc)) from exc


def rows_frame(rows: list[Row]) -> pd.DataFrame:
    """``store.readings`` rows as a frame: time_ms (int), value (float), interval_s (float, NaN when none)."""
    return pd.DataFrame(
        {
            "time_ms": pd.array([row.time_ms for row in rows], dtype="int64"),
            "value": pd.array([row.value for row in rows], dtype="float64"),
            "interval_s": pd.array(
                [float("nan") if row.interval_s is None else float(row.interval_s) for row in rows], dtype="float64"
            ),
        }
    )

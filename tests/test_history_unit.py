"""The history explorer and export without a browser or InfluxDB: statistics against values worked out by
hand or by plain pandas, the view in the URL, aggregation rules, zoom, figures and export rows."""

from __future__ import annotations

import io
import json
import random
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from config.catalogue import Station
from config.hydrotime import hydro_day_bounds_ms
from config.settings import Settings
from dashboard import explorer, export, history_figures, stats
from dashboard.components import history as parts
from store.readings import DAY_MS, HOUR_MS, Row

REPO = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Shanghai")
MIN = 60_000
T0 = int(datetime(2022, 1, 1, tzinfo=ZONE).timestamp() * 1000)
KNOWN = ("L1", "L2", "R1")


def frame(times: list[int], values: list[float], intervals: list[float] | None = None) -> pd.DataFrame:
    data = {"time_ms": times, "value": values}
    if intervals is not None:
        data["interval_s"] = intervals
    return pd.DataFrame(data)


def levels(values: list[float], step_ms: int = 5 * MIN, start: int = T0) -> pd.DataFrame:
    return frame([start + i * step_ms for i in range(len(values))], values)


# -- statistics ------------------------------------------------------------------------------------


def test_time_at_or_above_adds_the_holds_of_the_readings_at_or_above() -> None:
    """Five-minute readings: each reading at or above the threshold adds five minutes, an equal value counts."""
    series = levels([1.0, 2.9, 3.0, 3.4, 3.1, 2.0, 3.2, 1.0])  # 3.0, 3.4, 3.1 then 3.2: four readings
    assert stats.time_at_or_above(series, 3.0, hold_ms=15 * MIN, end_ms=T0 + DAY_MS) == 4 * 5 * MIN
    assert stats.time_at_or_above(series, 3.3, hold_ms=15 * MIN, end_ms=T0 + DAY_MS) == 5 * MIN
    assert stats.time_at_or_above(series, 9.0, hold_ms=15 * MIN, end_ms=T0 + DAY_MS) == 0
    assert stats.time_at_or_above(levels([]), 1.0, hold_ms=15 * MIN, end_ms=T0) == 0


def test_a_gap_holds_only_up_to_the_stale_limit_and_the_last_reading_up_to_the_end() -> None:
    """A reading before a two-hour gap holds 15 minutes; the last reading holds to the range's end, at most 15."""
    series = frame([T0, T0 + 5 * MIN, T0 + 125 * MIN], [4.0, 4.0, 4.0])
    # 5 min (to the next), 15 min (gap capped), then 7 min to the end of the range
    assert stats.time_at_or_above(series, 3.0, hold_ms=15 * MIN, end_ms=T0 + 132 * MIN) == (5 + 15 + 7) * MIN
    assert stats.time_at_or_above(series, 3.0, hold_ms=15 * MIN, end_ms=T0 + 300 * MIN) == (5 + 15 + 15) * MIN
    # out of order input is put in time order first
    assert stats.time_at_or_above(series.iloc[::-1], 3.0, hold_ms=15 * MIN, end_ms=T0 + 132 * MIN) == 27 * MIN


def test_the_hourly_prefilter_gives_the_same_time_as_the_whole_raw_series() -> None:
    """Reading raw only in the spans of hours whose maximum reaches the threshold changes nothing (random series)."""
    rng = random.Random(3)
    times, values, level = [], [], 2.0
    for step in range(6 * 288):
        if rng.random() < 0.03:
            continue  # a missed reading now and then
        level = min(6.0, max(0.0, level + rng.uniform(-0.25, 0.25)))
        times.append(T0 + step * 5 * MIN + rng.randrange(0, 60_000))
        values.append(round(level, 2))
    raw = frame(times, values)
    end = T0 + 6 * DAY_MS
    hourly = raw.assign(time_ms=raw["time_ms"] // HOUR_MS * HOUR_MS).groupby("time_ms", as_index=False)["value"].max()
    for threshold in raw["value"].quantile([0.5, 0.8, 0.95]).round(2):
        spans = stats.spans_at_or_above(hourly, threshold, bucket_ms=HOUR_MS, hold_ms=15 * MIN)
        inside = pd.concat([raw[(raw["time_ms"] >= a) & (raw["time_ms"] < b)] for a, b in spans] or [raw.iloc[0:0]])
        whole = stats.time_at_or_above(raw, threshold, hold_ms=15 * MIN, end_ms=end)
        assert whole > 0
        assert stats.time_at_or_above(inside, threshold, hold_ms=15 * MIN, end_ms=end) == whole
        assert sum(b - a for a, b in spans) < 6 * DAY_MS  # it did leave something out


def test_peak_is_the_first_highest_reading() -> None:
    """The peak is the highest value and the time it was first reached."""
    assert stats.peak(levels([1.0, 3.5, 2.0, 3.5])) == (T0 + 5 * MIN, 3.5)
    assert stats.peak(levels([])) is None


def test_max_window_totals_of_a_known_burst() -> None:
    """Twelve 5-minute amounts of 2 mm in one hour, 1 mm in the hour before: max 1 h 24 mm, max 24 h 36 mm."""
    times = [T0 + i * 5 * MIN for i in range(1, 25)]
    amounts = [1.0] * 12 + [2.0] * 12
    rain = frame(times, amounts, [300.0] * 24)
    hour = stats.max_window_total(rain, HOUR_MS, default_interval_s=300)
    assert hour == stats.WindowMax(24.0, T0 + 24 * 5 * MIN)
    day = stats.max_window_total(rain, DAY_MS, default_interval_s=300)
    assert day is not None
    assert day.total_mm == 36.0
    total, windows = stats.rain_stats(rain, default_interval_s=300)
    assert total == 36.0
    assert windows["1h"] == hour


def test_max_window_respects_the_intervals_of_the_readings() -> None:
    """An hourly amount counts spread over its hour: a window across two hourly readings holds half of each."""
    rain = frame([T0 + HOUR_MS, T0 + 2 * HOUR_MS], [10.0, 20.0], [3600.0, 3600.0])
    assert stats.max_window_total(rain, HOUR_MS, default_interval_s=3600) == stats.WindowMax(20.0, T0 + 2 * HOUR_MS)
    two_hours = stats.max_window_total(rain, 2 * HOUR_MS, default_interval_s=3600)
    assert two_hours == stats.WindowMax(30.0, T0 + 2 * HOUR_MS)
    # 90 minutes: all of the 20 mm hour and half of the 10 mm one
    assert stats.max_window_total(rain, 90 * MIN, default_interval_s=3600) == stats.WindowMax(25.0, T0 + 2 * HOUR_MS)
    # a daily gauge cannot say what fell in one hour; missing intervals are the station's
    daily = frame([T0 + DAY_MS], [30.0], [86400.0])
    assert stats.max_window_total(daily, HOUR_MS, default_interval_s=300) is None
    assert stats.max_window_total(frame([T0], [3.0], [float("nan")]), HOUR_MS, default_interval_s=3600) == (
        stats.WindowMax(3.0, T0)
    )
    assert stats.max_window_total(frame([], []), HOUR_MS, default_interval_s=300) == stats.WindowMax(0.0, None)


def test_max_window_equals_the_rolling_sum_of_grid_aligned_readings() -> None:
    """On 5-minute amounts, the highest 1 h and 24 h totals are pandas' rolling sums over (t - W, t] (random data)."""
    rng = random.Random(11)
    times = [T0 + i * 5 * MIN for i in range(3 * 288)]
    amounts = [round(rng.choice([0, 0, 0, 0.1, 0.5, 1.2, 3.0]) * rng.random(), 1) for _ in times]
    rain = frame(times, amounts, [300.0] * len(times))
    series = pd.Series(amounts, index=pd.to_datetime(times, unit="ms"))
    for window, label in ((HOUR_MS, "1h"), (DAY_MS, "24h")):
        got = stats.max_window_total(rain, window, default_interval_s=300)
        assert got is not None
        assert got.total_mm == pytest.approx(series.rolling(label.replace("24h", "1D")).sum().max(), abs=1e-9)


# -- the view, aggregations, zoom --------------------------------------------------------------------


def test_the_view_round_trips_through_the_url_query() -> None:
    """A view written to the URL query reads back the same; unknown stations and values are dropped."""
    view = explorer.View(
        stations=("L2", "R1"),
        preset="custom",
        start_date="2022-01-01",
        end_date="2022-01-31",
        aggregation="1h",
        event_a=("2022-01-09", "2022-01-13"),
        event_b=("2022-06-01", "2022-06-05"),
        align="peak",
    )
    query = explorer.to_query(view)
    assert query.startswith("?stations=L2,R1&range=custom&start=2022-01-01")
    assert explorer.parse_query(query, KNOWN) == view
    assert explorer.from_dict(json.loads(json.dumps(view.as_dict())), KNOWN) == view
    assert explorer.to_query(explorer.View()) == ""
    odd = explorer.parse_query("?stations=L1,NOPE,L1&range=2y&agg=10m&align=x&a=2022-01-01", KNOWN)
    assert odd == explorer.View(stations=("L1",))


def test_presets_end_now_and_custom_days_are_local() -> None:
    """A preset ends at the minute of now; custom days run from the first local midnight to the day after the last."""
    now = T0 + 10 * DAY_MS + 123_456
    assert explorer.span(explorer.View(preset="24h"), now, ZONE) == (now - 123_456 + 120_000 - DAY_MS, now - 3456)
    custom = explorer.span(explorer.View(preset="custom", start_date="2022-01-02", end_date="2022-01-03"), now, ZONE)
    assert custom == (T0 + DAY_MS, T0 + 3 * DAY_MS)
    assert explorer.span(explorer.View(preset="custom"), now, ZONE) is None


def test_the_stored_state_keeps_the_range_fixed_and_checked() -> None:
    """The store holds the view's range as chosen; a range sent back from the browser is checked."""
    now = T0 + 10 * DAY_MS
    kept = explorer.state(explorer.View(stations=("L1",), preset="24h"), now, ZONE)
    assert explorer.stored_span(json.loads(json.dumps(kept))) == (now - DAY_MS, now)
    assert explorer.from_dict(kept, KNOWN).stations == ("L1",)
    for bad in ([1, 1], [2, 1], ["0", "1"], [0, 10 * 366 * DAY_MS], None, [1]):
        assert explorer.stored_span({"span": bad}) is None


def test_aggregation_is_chosen_by_range_and_overridable_within_bounds() -> None:
    """Automatic by the range's length; the user's choice unless it reads too much; rain bars coarser when many."""
    year, week = 365 * DAY_MS, 7 * DAY_MS
    assert explorer.aggregations("auto", 0, DAY_MS, 3, 300) == explorer.Aggregations("raw", "raw", auto=True)
    assert explorer.aggregations("auto", 0, week, 3, 300) == explorer.Aggregations("5m", "1h", auto=True)
    assert explorer.aggregations("auto", 0, year, 3, 300) == explorer.Aggregations("1h", "1d", auto=True)
    assert explorer.aggregations("auto", 0, 3 * year, 3, 300) == explorer.Aggregations("1d", "1d", auto=True)
    # a year of raw 5-minute readings of three stations (315,000 values) may be asked; of ten it is too much
    assert explorer.aggregations("raw", 0, year, 3, 300).level == "raw"
    coarse = explorer.aggregations("raw", 0, year, 10, 300)
    assert (coarse.level, coarse.auto, coarse.coarsened) == ("1h", False, True)
    assert explorer.aggregations("1d", 0, week, 3, 300) == explorer.Aggregations("1d", "1d", auto=False)


def test_zoom_window_reads_any_shared_x_axis() -> None:
    """The visible window comes from xaxis or xaxis2 ranges in local time; autorange resets; other changes do not."""
    local = "2022-01-05 12:00:00"
    low = T0 + 4 * DAY_MS + 12 * HOUR_MS
    assert explorer.zoom_window({"xaxis.range[0]": local, "xaxis.range[1]": "2022-01-06 00:00"}, ZONE) == (
        low,
        low + 12 * HOUR_MS,
    )
    assert explorer.zoom_window({"xaxis2.range": [local, "2022-01-05 13:00:00.5"]}, ZONE) == (low, low + HOUR_MS + 500)
    assert explorer.zoom_window({"xaxis.autorange": True, "xaxis2.autorange": True}, ZONE) == "reset"
    wall = pd.Timestamp(local).value // 1_000_000  # the same local time as a number of the date axis
    assert explorer.zoom_window({"xaxis.range": [wall, wall + HOUR_MS]}, ZONE) == (low, low + HOUR_MS)
    assert explorer.zoom_window({"autosize": True}, ZONE) is None
    assert explorer.zoom_window({"yaxis.range[0]": 1, "yaxis.range[1]": 2}, ZONE) is None
    assert explorer.zoom_window(None, ZONE) is None
    assert explorer.zoom_window({"xaxis.range": ["garbage", local]}, ZONE) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "stations: give one"),
        ({"stations": "L1,NOPE", "start": "2022-01-01", "end": "2022-01-02"}, "'NOPE' is not a station"),
        ({"stations": "L1", "start": "yesterday", "end": "2022-01-02"}, "start: 'yesterday' is not a time"),
        ({"stations": "L1", "start": "2022-01-02", "end": "2022-01-01"}, "end: the range must end after"),
        ({"stations": "L1", "start": "2000-01-01", "end": "2022-01-01"}, "end: at most"),
        ({"stations": "L1", "start": "2022-01-01", "end": "2022-01-02", "aggregation": "2h"}, "aggregation: one of"),
        ({"stations": "L1", "start": "2022-01-01", "end": "2022-01-02", "lang": "fr"}, "lang: one of"),
    ],
)
def test_export_parameters_are_checked_with_a_clear_message(args: dict[str, str], message: str) -> None:
    """Every parameter of an export is checked; the message names it and what it takes."""
    with pytest.raises(explorer.ExportParameterError, match=message):
        explorer.parse_export(args, KNOWN, ZONE, "zh")


def test_export_links_carry_the_selection() -> None:
    """The page's export URL reads back as the same stations, range and aggregation; local times without a zone."""
    href = explorer.export_href("csv", ("L1", "R1"), T0, T0 + DAY_MS, aggregation="1h", language="en")
    assert href.startswith("/export/readings.csv?stations=L1,R1&start=2021-12-31T16:00:00.000Z")
    query = {k: v[0] for k, v in __import__("urllib.parse").parse.parse_qs(href.split("?", 1)[1]).items()}
    wanted = explorer.parse_export(query, KNOWN, ZONE, "zh")
    assert wanted == explorer.ExportRequest(("L1", "R1"), T0, T0 + DAY_MS, "1h", "en")
    local = explorer.parse_export(
        {"stations": "L1", "start": "2022-01-01", "end": "2022-01-01T08:00"}, KNOWN, ZONE, "zh"
    )
    assert (local.start_ms, local.end_ms, local.aggregation) == (T0, T0 + 8 * HOUR_MS, "raw")


# -- figures ----------------------------------------------------------------------------------------

LEVEL = Station(
    id="L1", name_en="Level one", name_zh="一号", kind="river", warning_m=3.0, guaranteed_m=4.0, historical_max_m=5.0
)
LEVEL2 = Station(id="L2", name_en="Level two", kind="river", warning_m=2.0)
GAUGE = Station(id="R1", name_en="Gauge", kind="rain")


def test_levels_above_rain_on_shared_time_axes_with_dashed_thresholds() -> None:
    """Two level stations as WebGL lines over rain bars, one shared x axis, thresholds dashed in each one's colour."""
    level = {"L1": levels([1.0, 3.5, 2.0]), "L2": levels([0.5, 0.6, 0.7])}
    rain = {"R1": frame([T0 + 5 * MIN], [1.5])}
    stations = {"L1": LEVEL, "L2": LEVEL2, "R1": GAUGE}
    drawn = history_figures.history_figure(level, rain, stations, (T0, T0 + HOUR_MS), ZONE, "en", revision="v1")
    fig = drawn.figure
    kinds = [(trace.type, trace.uid) for trace in fig.data]
    assert ("scattergl", "level-L1") in kinds
    assert ("bar", "rain-R1") in kinds
    assert fig.layout.xaxis2.matches == "x" or fig.layout.xaxis.matches == "x2"
    assert fig.layout.xaxis.type == "date"
    assert fig.layout.uirevision == "v1"
    lines = {trace.uid: trace for trace in fig.data if str(trace.uid).startswith("threshold-")}
    assert set(lines) == {
        "threshold-L1-warning_m",
        "threshold-L1-guaranteed_m",
        "threshold-L1-historical_max_m",
        "threshold-L2-warning_m",
    }
    colours = history_figures.station_colours(list(stations))
    assert {lines["threshold-L1-warning_m"].line.color, lines["threshold-L2-warning_m"].line.color} == {
        colours["L1"],
        colours["L2"],
    }
    assert lines["threshold-L1-warning_m"].line.dash == "dash"
    assert list(lines["threshold-L1-guaranteed_m"].y) == [4.0, 4.0]
    assert not fig.layout.shapes  # several stations: lines, no bands
    bar = next(trace for trace in fig.data if trace.uid == "rain-R1")
    assert bar.xaxis == "x2"
    # local wall time: 2022-01-01 00:05 Beijing time as a date-axis value
    assert float(bar.x[0]) == pd.Timestamp("2022-01-01 00:05").value / 1e6


def test_one_station_gets_threshold_bands() -> None:
    """With one level station, the spans between its thresholds are shaded."""
    drawn = history_figures.history_figure(
        {"L1": levels([1.0])}, {}, {"L1": LEVEL}, (T0, T0 + HOUR_MS), ZONE, "zh", revision=""
    )
    assert len([shape for shape in drawn.figure.layout.shapes if shape.type == "rect"]) == 2
    assert "xaxis2" not in drawn.figure.to_plotly_json()["layout"]  # no rain: one panel


def test_thinning_keeps_peaks_and_bounds_the_points() -> None:
    """A year of 5-minute levels is drawn with at most MAX_DRAWN points, its highest and lowest values kept."""
    values = np.sin(np.arange(105_120) / 500.0)
    values[77_777] = 9.0
    series = levels(list(values))
    thinned = history_figures.thin(series)
    assert len(thinned) <= history_figures.MAX_DRAWN
    assert thinned["value"].max() == 9.0
    assert thinned["value"].min() == series["value"].min()
    assert thinned["time_ms"].is_monotonic_increasing
    assert history_figures.thin(series.head(10)) is not None
    assert len(history_figures.thin(series.head(10))) == 10


def test_zoomed_detail_replaces_the_coarse_buckets_it_covers() -> None:
    """Inside the window the fine rows; outside only the coarse buckets that lie wholly outside it."""
    coarse = frame([T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS], [1.0, 2.0, 3.0, 4.0])
    fine = frame([T0 + HOUR_MS + 5 * MIN * i for i in range(12)], [9.0] * 12)
    window = (T0 + HOUR_MS, T0 + 2 * HOUR_MS)
    merged = history_figures.merge_window(coarse, fine, window, (0, HOUR_MS))  # levels: stamped at the start
    assert list(merged["value"]) == [1.0, *([9.0] * 12), 3.0, 4.0]
    rain = history_figures.merge_window(coarse, fine, window, (HOUR_MS, 0))  # rain: stamped at the end
    # (T0, T0 + 1 h] lies before the window, (T0 + 1 h, T0 + 2 h] overlaps it, (T0 + 2 h, T0 + 3 h] after it
    assert list(rain["value"]) == [1.0, 2.0, *([9.0] * 12), 4.0]


def test_two_events_are_overlaid_in_hours_from_start_or_peak() -> None:
    """Each event's series is drawn against hours from its start, or from each station's own peak in it."""
    a = (
        T0,
        {"L1": levels([1.0, 3.0, 2.0], step_ms=HOUR_MS)},
        {"R1": frame([T0 + HOUR_MS, T0 + 2 * HOUR_MS], [2.0, 3.0])},
    )
    later = T0 + 100 * DAY_MS
    b = (later, {"L1": levels([1.0, 1.5, 4.0], step_ms=HOUR_MS, start=later)}, {})
    stations = {"L1": LEVEL, "R1": GAUGE}
    labels = {"a": "A", "b": "B"}
    fig = history_figures.compare_figure({"a": a, "b": b}, labels, stations, "start", "en", revision="")
    by_uid = {trace.uid: trace for trace in fig.data}
    assert list(by_uid["compare-a-level-L1"].x) == [0.0, 1.0, 2.0]
    assert list(by_uid["compare-b-level-L1"].x) == [0.0, 1.0, 2.0]
    assert by_uid["compare-b-level-L1"].line.dash == "dash"
    assert list(by_uid["compare-a-rain-R1"].y) == [2.0, 5.0]  # cumulative
    peak = history_figures.compare_figure({"a": a, "b": b}, labels, stations, "peak", "en", revision="")
    by_uid = {trace.uid: trace for trace in peak.data}
    assert list(by_uid["compare-a-level-L1"].x) == [-1.0, 0.0, 1.0]
    assert list(by_uid["compare-b-level-L1"].x) == [-2.0, -1.0, 0.0]
    assert peak.layout.xaxis2.title.text == "Hours from the peak"


# -- texts of the page --------------------------------------------------------------------------------


def test_durations_and_lengths_are_said_in_the_language() -> None:
    """Durations and range lengths read naturally in Chinese and English."""
    assert parts.format_duration(185 * MIN, "en") == "3 h 05 min"
    assert parts.format_duration(185 * MIN, "zh") == "3小时05分"
    assert parts.format_duration(None, "zh") == "–"
    assert parts.format_length(365 * DAY_MS, "zh") == "365天"
    assert parts.format_length(DAY_MS, "en") == "24 h"
    note = parts.note(explorer.Aggregations("1h", "1d", auto=True), 365 * DAY_MS, "en", drawn=10, read=20)
    for words in ("hourly maximum", "daily totals", "365 days", "10 of 20"):
        assert words in str(note.children)


def test_station_options_search_both_names_and_the_id() -> None:
    """The picker's options show the name in the language and search by id and both names."""
    (option,) = parts.station_options([LEVEL], "zh")
    assert option == {"label": "一号 (L1)", "value": "L1", "search": "L1 一号 Level one"}


# -- export rows ------------------------------------------------------------------------------------


def rows(*items: tuple[int, str, str, float, int | None]) -> list[Row]:
    return [Row(time_ms, station, quantity, value, interval) for time_ms, station, quantity, value, interval in items]


def test_raw_records_put_a_station_s_level_and_rain_of_one_time_together() -> None:
    """Raw: one record per station and time, level and rain side by side, in time then station order."""
    found = list(
        export.records(
            rows(
                (T0, "L1", "level", 1.0, None),
                (T0, "L1", "rain", 0.5, 300),
                (T0, "R1", "rain", 0.2, 300),
                (T0 + 5 * MIN, "L1", "level", 1.1, None),
            ),
            "raw",
            ZONE,
        )
    )
    assert found == [
        export.Record(T0, None, None, "L1", 1.0, 0.5, 300),
        export.Record(T0, None, None, "R1", None, 0.2, 300),
        export.Record(T0 + 5 * MIN, None, None, "L1", 1.1, None, None),
    ]


def test_aggregated_records_join_a_bucket_s_level_and_its_rain_stamped_at_the_end() -> None:
    """Hourly: the rain total stamped at a bucket's end joins that bucket's level maximum, stamped at its start."""
    found = list(
        export.records(
            rows(
                (T0, "L1", "level", 1.0, None),
                (T0 + HOUR_MS, "L1", "level", 2.0, None),
                (T0 + HOUR_MS, "L1", "rain", 3.0, None),  # (T0, T0 + 1 h]
                (T0 + 2 * HOUR_MS, "L1", "rain", 4.0, None),
                (T0 + 5 * HOUR_MS, "L1", "level", 5.0, None),
            ),
            "1h",
            ZONE,
        )
    )
    assert [(r.start_ms - T0, r.end_ms - T0, r.level, r.rain) for r in found if r.end_ms] == [
        (0, HOUR_MS, 1.0, 3.0),
        (HOUR_MS, 2 * HOUR_MS, 2.0, 4.0),
        (5 * HOUR_MS, 6 * HOUR_MS, 5.0, None),
    ]


def test_daily_records_are_hydrological_days() -> None:
    """Daily: the level of the day stamped 08:00 and the rain stamped 08:00 the next day are one hydrological day."""
    start, end = hydro_day_bounds_ms(date(2022, 1, 1), ZONE)
    found = list(export.records(rows((start, "L1", "level", 2.0, None), (end, "L1", "rain", 12.5, None)), "1d", ZONE))
    assert found == [export.Record(start, end, date(2022, 1, 1), "L1", 2.0, 12.5, None)]


def test_csv_reads_back_in_pandas_with_zone_and_units_in_the_header() -> None:
    """The CSV (BOM, header, rows) reads back with pandas: local times, the zone and units named in the header."""
    start, end = hydro_day_bounds_ms(date(2022, 1, 1), ZONE)
    found = [export.Record(start, end, date(2022, 1, 1), "L1", 2.0, 12.5, None)]
    columns = export.header("1d", ZONE, start, "en")
    assert columns[:3] == [
        "period start (Asia/Shanghai, UTC+08:00)",
        "period end (Asia/Shanghai, UTC+08:00)",
        "hydrological day",
    ]
    text = "".join(export.csv_chunks(found, "1d", {"L1": "一号"}, export.LocalClock(ZONE), columns))
    assert text.startswith("\ufeff")
    back = pd.read_csv(io.StringIO(text))
    assert list(back.columns) == columns
    assert back.iloc[0].tolist() == [
        "2022-01-01 08:00:00",
        "2022-01-02 08:00:00",
        "2022-01-01",
        "L1",
        "一号",
        2.0,
        12.5,
        "1d",
    ]
    raw = export.header("raw", ZONE, start, "zh")
    assert raw[0] == "时间 (Asia/Shanghai, UTC+08:00)"
    assert {"水位 (m)", "雨量 (mm)"} <= set(raw)


def test_xlsx_has_a_title_row_then_the_header_then_excel_times(tmp_path: Path) -> None:
    """The workbook states the aggregation in its title row; pandas reads the rows back with local times."""
    found = [
        export.Record(T0, None, None, "L1", 1.25, None, None),
        export.Record(T0 + 5 * MIN, None, None, "R1", None, 0.5, 300),
    ]
    columns = export.header("raw", ZONE, T0, "en")
    wanted = explorer.ExportRequest(("L1", "R1"), T0, T0 + DAY_MS, "raw", "en")
    clock = export.LocalClock(ZONE)
    path = tmp_path / "out.xlsx"
    title = export.title(wanted, clock)
    assert export.write_xlsx(path, found, "raw", {"L1": "One"}, clock, columns, title, "readings") == 2
    head = pd.read_excel(path, header=None, nrows=1)
    assert "raw readings" in head.iloc[0, 0]
    assert "Asia/Shanghai, UTC+08:00" in head.iloc[0, 0]
    back = pd.read_excel(path, skiprows=1)
    assert list(back.columns) == columns
    assert back.iloc[0, 0] == pd.Timestamp("2022-01-01 00:00:00")
    assert back.iloc[1, 0] == pd.Timestamp("2022-01-01 00:05:00")
    assert back["level (m)"].iloc[0] == 1.25
    assert back["rain interval (s)"].iloc[1] == 300
    assert export.file_name(wanted, clock, "xlsx") == "floodwatch_L1-R1_20220101-20220101_raw.xlsx"


def test_rows_beyond_a_sheet_go_on_in_the_next_one(tmp_path: Path) -> None:
    """A workbook whose rows exceed a sheet continues them in "readings 2", each sheet with its title and header."""
    found = [export.Record(T0 + i * 5 * MIN, None, None, "L1", float(i), None, None) for i in range(5)]
    columns = export.header("raw", ZONE, T0, "en")
    path = tmp_path / "long.xlsx"
    clock = export.LocalClock(ZONE)
    assert export.write_xlsx(path, found, "raw", {}, clock, columns, "title", "readings", sheet_rows=5) == 5
    sheets = pd.read_excel(path, sheet_name=None, skiprows=1)
    assert list(sheets) == ["readings", "readings 2"]
    assert [list(sheet["level (m)"]) for sheet in sheets.values()] == [[0.0, 1.0, 2.0], [3.0, 4.0]]


def test_history_page_renders_in_both_languages_with_the_url_state() -> None:
    """/history builds its layout from the URL query without InfluxDB, in Chinese and English; the header links it."""
    from dashboard.app import create_app, route

    settings = Settings.model_validate({"catalogue": str(REPO / "config/catalogues/garonne.csv")})
    ctx = create_app(settings)._floodwatch_ctx  # type: ignore[attr-defined]
    for language, title in (("zh", "历史数据查询"), ("en", "History explorer")):
        page = json.dumps(
            route(ctx, "/history", language, "?stations=O200004001&range=30d&agg=1h").to_plotly_json(),
            default=str,
            ensure_ascii=False,
        )
        assert title in page
        assert "value=['O200004001']" in page
        assert "href='/history'" in page
    station = json.dumps(route(ctx, "/station/O200004001", "en").to_plotly_json(), default=str)
    assert "/history?stations=O200004001" in station

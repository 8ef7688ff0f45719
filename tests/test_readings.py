"""store.readings on the real InfluxDB: aggregations equal the same sums and maxima computed here from the
raw readings, the hydrological day runs 08:00-08:00 local, and streamed windows split nothing."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from config.hydrotime import hydro_day_bounds_ms, hydro_day_of, hydro_day_start_ms
from store.readings import DAY_MS, HOUR_MS, Selection, choose, fetch, peaks, query, stream, windows
from tests.conftest import Env

ZONE = ZoneInfo("Asia/Shanghai")
STATIONS = ("T01", "T02", "R1")
#: 2022-01-01 00:00 Beijing time
START_MS = int(datetime(2022, 1, 1, tzinfo=ZONE).timestamp() * 1000)
DAYS = 10


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """Ten days of 5-minute levels at T01/T02 and 5-minute rain at T01/R1 (rain stamped at each interval's end)."""
    rng = random.Random(7)
    rows = []
    for step in range(DAYS * 288 + 1):
        time_ms = START_MS + step * 300_000
        for station in ("T01", "T02"):
            rows.append((time_ms, station, "level", round(rng.uniform(0, 5), 3)))
        for station in ("T01", "R1"):
            if rng.random() < 0.3:
                rows.append((time_ms, station, "rain", round(rng.choice([0.1, 0.5, 1.0, 2.5]), 1)))
    return pd.DataFrame(rows, columns=["time_ms", "station", "quantity", "value"])


@pytest.fixture
def seeded(env: Env, raw: pd.DataFrame) -> Env:
    """The raw readings in the test's database."""
    env.client.create_database()
    lines = []
    for row in raw.itertuples():
        extra = ",interval_s=300" if row.quantity == "rain" else ""
        lines.append(f'{row.quantity},station={row.station} flags="",lag_s=0{extra},value={row.value} {row.time_ms}')
    env.client.write("\n".join(lines).encode())
    return env


def expected(raw: pd.DataFrame, quantity: str, selection: Selection) -> dict[tuple[str, int], float]:
    """Buckets computed here: levels max over [start, end) stamped at the start; rain total over (start, end]
    stamped at the end; days from 08:00 local."""
    frame = raw[raw["quantity"] == quantity]
    times = frame["time_ms"]
    inside = (times > selection.start_ms) & (times <= selection.end_ms)
    if quantity == "level":
        inside = (times >= selection.start_ms) & (times < selection.end_ms)
    frame = frame[inside & frame["station"].isin(selection.stations)]
    out: dict[tuple[str, int], float] = {}
    for row in frame.itertuples():
        if selection.aggregation == "raw":
            out[(row.station, row.time_ms)] = row.value
            continue
        if selection.aggregation == "1d":
            local = datetime.fromtimestamp(row.time_ms / 1000, UTC).astimezone(ZONE)
            if quantity == "rain":
                local -= timedelta(milliseconds=1)
            day = (local - timedelta(hours=8)).date()
            start = int(datetime(day.year, day.month, day.day, 8, tzinfo=ZONE).timestamp() * 1000)
            stamp = start + (DAY_MS if quantity == "rain" else 0)
        else:
            bucket = {"5m": 300_000, "1h": HOUR_MS}[selection.aggregation]
            stamp = -(-row.time_ms // bucket) * bucket if quantity == "rain" else row.time_ms // bucket * bucket
        key = (row.station, stamp)
        if quantity == "rain":
            out[key] = round(out.get(key, 0.0) + row.value, 6)
        else:
            out[key] = max(out.get(key, -1.0), row.value)
    return out


@pytest.mark.services
@pytest.mark.parametrize("aggregation", ["raw", "5m", "1h", "1d"])
@pytest.mark.parametrize("quantity", ["level", "rain"])
def test_aggregations_equal_the_sums_and_maxima_of_the_raw_readings(
    seeded: Env, raw: pd.DataFrame, aggregation: str, quantity: str
) -> None:
    """Each aggregation of each quantity gives exactly the buckets computed from the raw readings here."""
    # an uneven range: starts and ends inside buckets and inside hydrological days
    selection = Selection(STATIONS, START_MS + 37 * 60_000, START_MS + 7 * DAY_MS + 5 * HOUR_MS, aggregation, ZONE)  # type: ignore[arg-type]
    got = {
        (row.station, row.time_ms): round(row.value, 6)
        for rows in fetch(seeded.client, quantity, selection).values()  # type: ignore[arg-type]
        for row in rows
    }
    want = expected(raw, quantity, selection)
    if aggregation != "raw":
        # the first and last buckets hold only the part of them inside the range
        assert got == pytest.approx(want)
    else:
        assert got == want


@pytest.mark.services
def test_a_rain_reading_at_0800_belongs_to_the_day_that_ends_then(seeded: Env) -> None:
    """A daily total stamped 08:00 on D+1 holds the readings stamped after 08:00 on D up to 08:00 on D+1."""
    seeded.client.write(
        b'rain,station=R9 flags="",lag_s=0,interval_s=3600,value=10 ' + str(START_MS + 8 * HOUR_MS).encode()
    )
    seeded.client.write(
        b'rain,station=R9 flags="",lag_s=0,interval_s=3600,value=1 ' + str(START_MS + 8 * HOUR_MS + 1000).encode()
    )
    selection = Selection(("R9",), START_MS - DAY_MS, START_MS + 3 * DAY_MS, "1d", ZONE)
    rows = fetch(seeded.client, "rain", selection)["R9"]
    by_day = {hydro_day_of(row.time_ms, ZONE): row.value for row in rows}
    assert by_day == {date(2021, 12, 31): 10.0, date(2022, 1, 1): 1.0}
    assert [row.time_ms for row in rows] == [START_MS + 8 * HOUR_MS, START_MS + DAY_MS + 8 * HOUR_MS]


@pytest.mark.services
@pytest.mark.parametrize("aggregation", ["raw", "1d"])
def test_streamed_windows_give_every_row_once_in_time_order(seeded: Env, aggregation: str) -> None:
    """Streaming in windows yields the same rows as one query per quantity, ordered by time and station."""
    selection = Selection(STATIONS, START_MS, START_MS + DAYS * DAY_MS, aggregation, ZONE)  # type: ignore[arg-type]
    streamed = list(stream(seeded.client, ("level", "rain"), selection))
    whole = [
        row
        for quantity in ("level", "rain")
        for rows in fetch(seeded.client, quantity, selection).values()
        for row in rows
    ]  # type: ignore[arg-type]
    assert sorted(streamed, key=lambda r: (r.time_ms, r.station, r.quantity)) == streamed
    assert sorted(streamed, key=repr) == sorted(whole, key=repr)


def test_windows_cut_on_hydrological_days_and_cover_the_range() -> None:
    """Query windows are contiguous, cover the range and (daily) end at 08:00 local."""
    selection = Selection((), START_MS, START_MS + 8000 * DAY_MS, "1d", ZONE)
    cuts = list(windows(selection))
    assert cuts[0][0] == selection.start_ms
    assert cuts[-1][1] == selection.end_ms
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cuts))
    assert len(cuts) > 1
    for _, end in cuts[:-1]:
        assert datetime.fromtimestamp(end / 1000, ZONE).hour == 8
    raw = list(windows(Selection((), START_MS, START_MS + 20 * DAY_MS, "raw", ZONE)))
    assert [b - a for a, b in raw] == [7 * DAY_MS, 7 * DAY_MS, 6 * DAY_MS]


def test_the_automatic_aggregation_follows_the_length_of_the_range() -> None:
    """Up to 2 days raw, to 14 days 5 minutes, to 400 days hourly, then daily."""
    assert choose(0, 2 * DAY_MS) == "raw"
    assert choose(0, 2 * DAY_MS + 1) == "5m"
    assert choose(0, 14 * DAY_MS) == "5m"
    assert choose(0, 366 * DAY_MS) == "1h"
    assert choose(0, 401 * DAY_MS) == "1d"


@pytest.mark.parametrize("hostile", ["x' OR 1=1 --", 'a"b', "T01\nDROP DATABASE x", "", "a" * 65, "T 01"])
def test_a_selection_refuses_what_is_not_a_station_id(hostile: str) -> None:
    """Only station ids reach the InfluxQL text."""
    with pytest.raises(ValueError, match="station id"):
        Selection((hostile,), 0, 1, "raw", ZONE)


def test_the_daily_query_groups_by_the_hydrological_day_of_the_zone() -> None:
    """Daily buckets are grouped in the zone, starting at 08:00 (rain 1 ms later: its buckets are (start, end])."""
    text = query("rain", Selection(("R1",), 0, DAY_MS, "1d", ZONE))
    assert "GROUP BY time(86400000ms, 28800001ms), station fill(none) tz('Asia/Shanghai')" in text
    assert "time > 0ms AND time <= 86400000ms" in text


def test_hydrological_day_helpers_agree() -> None:
    """The day of a reading, the bounds of a day and the start of today agree at the 08:00 boundary."""
    start, end = hydro_day_bounds_ms(date(2022, 1, 1), ZONE)
    assert end - start == DAY_MS
    assert hydro_day_of(end, ZONE) == date(2022, 1, 1)
    assert hydro_day_of(end + 1, ZONE) == date(2022, 1, 2)
    assert hydro_day_of(start, ZONE) == date(2021, 12, 31)
    assert hydro_day_start_ms(end, ZONE) == end
    assert hydro_day_start_ms(end - 1, ZONE) == start


@pytest.mark.services
def test_peaks_are_the_highest_raw_reading_with_its_time(seeded: Env, raw: pd.DataFrame) -> None:
    """max() per station over the range gives the highest raw level and the time of its first occurrence."""
    selection = Selection(("T01", "T02"), START_MS + 37 * 60_000, START_MS + 3 * DAY_MS, "1h", ZONE)
    got = peaks(seeded.client, "level", selection)
    levels = raw[(raw["quantity"] == "level") & (raw["time_ms"] >= selection.start_ms)]
    levels = levels[levels["time_ms"] < selection.end_ms]
    for station in ("T01", "T02"):
        own = levels[levels["station"] == station]
        top = own["value"].max()
        assert got[station].value == top
        assert got[station].time_ms == own[own["value"] == top]["time_ms"].min()
    # a tie: the earliest reading of the maximum
    seeded.client.write(
        "\n".join(
            f'level,station=P1 flags="",lag_s=0,value={v} {START_MS + i * 300_000}' for i, v in enumerate([1, 3, 2, 3])
        ).encode()
    )
    tie = peaks(seeded.client, "level", Selection(("P1",), START_MS, START_MS + DAY_MS, "raw", ZONE))["P1"]
    assert (tie.time_ms, tie.value) == (START_MS + 300_000, 3.0)

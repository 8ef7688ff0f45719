"""The engine's kept readings (ingest.kept.Series): order, replacement, forgetting, running sums; and the rain
window sums made from them equal the walk over the window they replaced."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.engine import rain_sum
from ingest.kept import Series


def test_readings_are_kept_by_time_and_a_reading_at_a_kept_time_replaces_it() -> None:
    """Out-of-order puts come back in time order; the same reading again changes nothing; a new value replaces."""
    series = Series()
    assert series.put((300, 3.0, 60, ""))
    assert series.put((100, 1.0, 60, "flat"))
    assert series.put((200, 2.0, 60, ""))
    assert not series.put((200, 2.0, 60, ""))
    assert series.put((200, 2.5, 60, "rate"))
    assert [series[i] for i in range(len(series))] == [
        (100, 1.0, 60, "flat"),
        (200, 2.5, 60, "rate"),
        (300, 3.0, 60, ""),
    ]
    assert list(series.since(150)) == [(200, 2.5, 60, "rate"), (300, 3.0, 60, "")]
    assert series.total(0, 3) == 6.5
    assert series.total(1, 3) == 5.5
    assert series.put((200, 2.5, 60, ""))  # the flags go, the value stays
    assert series[1] == (200, 2.5, 60, "")


def test_forgetting_the_oldest_keeps_sums_flags_and_intervals_right() -> None:
    """After dropping the readings before a time, totals, flags and the uniform interval describe what is left."""
    series = Series()
    for time_ms, interval in ((100, 3600), (200, 60), (300, 60), (400, 60)):
        series.put((time_ms, float(time_ms), interval, "x" if time_ms == 100 else ""))
    assert series.uniform_interval() is None
    series.drop_before(200)
    assert len(series) == 3
    assert series.uniform_interval() == 60
    assert series.flags == {}
    assert series.total(0, 3) == 900.0
    assert series.total(1, 2) == 300.0
    series.drop_before(1000)
    assert len(series) == 0
    assert series.uniform_interval() is None


def reference_rain_sum(readings: list[tuple[int, float, int]], time_ms: int, window_s: int) -> float:
    """The walk over the window that the running sums replaced (ingest/engine.py before)."""
    start = time_ms - window_s * 1000
    total = 0.0
    for end, mm, interval in sorted(readings):
        if end <= start or end > time_ms or interval > window_s or interval <= 0:
            continue
        overlap = min(end, time_ms) - max(end - interval * 1000, start)
        if overlap > 0:
            total += mm * overlap / (interval * 1000)
    return round(total, 6)


readings_strategy = st.lists(
    st.tuples(
        st.integers(0, 200).map(lambda n: n * 300_000),
        st.sampled_from([0.0, 0.1, 0.5, 1.2, 7.9, 25.0]),
        st.sampled_from([300, 300, 300, 3600, 86400, 0]),
    ),
    max_size=80,
    unique_by=lambda r: r[0],
)


@settings(max_examples=300, deadline=None)
@given(
    readings_strategy,
    st.integers(0, 60_000_000),
    st.sampled_from([3600, 3 * 3600, 6 * 3600, 24 * 3600]),
    st.integers(0, 30_000_000),
)
def test_rain_window_sums_equal_the_walk_over_the_window(
    readings: list[tuple[int, float, int]], now_ms: int, window_s: int, forget_before_ms: int
) -> None:
    """Uniform or mixed intervals, any window and time, after forgetting the oldest: the same total as the walk."""
    rain = Series()
    for end, mm, interval in readings:
        rain.put((end, mm, interval, ""))
    rain.drop_before(forget_before_ms)
    kept = [r for r in readings if r[0] >= forget_before_ms]
    got = rain_sum(rain, now_ms, window_s)
    assert abs(got - reference_rain_sum(kept, now_ms, window_s)) <= 2e-6

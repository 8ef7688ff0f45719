"""Event statistics of stations over a range: plain functions over DataFrames (no Dash, no InfluxDB).

Frames have the columns ``time_ms`` (UTC ms) and ``value``; raw rain also ``interval_s``. What each
figure means (the history page and the README say the same):

- **peak**: the highest raw level reading in ``[start, end)`` and its time (the first, if repeated).
- **time at or above a threshold**: every raw level reading *holds* from its time until the next
  reading, but at most ``hold_ms`` (the station's stale limit, max(3 × interval, 15 min): a longer
  gap is a silent station, not a known level) and never past the end of the range. The time at or
  above is the sum of the holds of the readings whose value is ≥ the threshold. A reading before the
  range does not count into it.
- **rain total**: the sum of the raw amounts stamped in ``(start, end]``.
- **maximum intensity over W** (1 h, 24 h): each raw amount is spread evenly over its accumulation
  interval ``(t - interval, t]``; the highest total that any window of length W holds, wherever it
  lies (not only on clock hours), with the window's end time. None when a reading's interval is
  longer than W (a daily gauge cannot say what fell in one hour).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: a window total this close to the maximum counts as reaching it (float sums of 0.1 mm readings)
TOLERANCE_MM = 1e-9


@dataclass(frozen=True)
class WindowMax:
    """The highest total over a sliding window and when that window ends (None: nothing fell)."""

    total_mm: float
    end_ms: int | None


@dataclass(frozen=True)
class StationStats:
    """The statistics of one station over a range (None: not applicable or no readings)."""

    station: str
    peak_m: float | None = None
    peak_ms: int | None = None
    #: i18n key of a threshold (``threshold.warning``, ``threshold.guaranteed``) -> its level and ms at or above
    above: dict[str, tuple[float, int]] = field(default_factory=dict)
    rain_total_mm: float | None = None
    rain_max: dict[str, WindowMax | None] = field(default_factory=dict)  # "1h", "24h"


def peak(level: pd.DataFrame) -> tuple[int, float] | None:
    """The highest value and the time of its first reading (None for no readings)."""
    if level.empty:
        return None
    values = level["value"].to_numpy(dtype=float)
    top = float(values.max())
    times = level["time_ms"].to_numpy(dtype="int64")[values == top]
    return int(times.min()), top


def holds(level: pd.DataFrame, *, hold_ms: int, end_ms: int) -> pd.DataFrame:
    """The readings in time order with the span each one holds (``hold_ms`` column).

    A reading holds until the next one, at most ``hold_ms`` and not past ``end_ms``.
    """
    ordered = level.sort_values("time_ms", kind="stable")
    times = ordered["time_ms"].to_numpy(dtype="int64")
    following = np.append(times[1:], np.iinfo(np.int64).max)
    span = np.minimum(np.minimum(following - times, hold_ms), np.maximum(end_ms - times, 0))
    return ordered.assign(hold_ms=span)


def time_at_or_above(level: pd.DataFrame, threshold: float, *, hold_ms: int, end_ms: int) -> int:
    """Milliseconds the level was at or above ``threshold``: the holds of the readings ≥ it (module doc)."""
    if level.empty:
        return 0
    held = holds(level, hold_ms=hold_ms, end_ms=end_ms)
    return int(held.loc[held["value"].to_numpy(dtype=float) >= threshold, "hold_ms"].sum())


def spans_at_or_above(maxima: pd.DataFrame, threshold: float, *, bucket_ms: int, hold_ms: int) -> list[tuple[int, int]]:
    """The time spans whose raw readings can add to the time at or above ``threshold``.

    ``maxima`` are bucket maxima stamped at their bucket's start (``store.readings``' hourly levels).
    Readings in a bucket whose maximum is below the threshold are all below it and hold nothing at or
    above it; the readings of the other buckets hold at most ``hold_ms`` past their bucket. So the
    spans are the runs of buckets at or above, each extended by ``hold_ms``, merged where they touch.
    """
    starts = np.sort(maxima.loc[maxima["value"].to_numpy(dtype=float) >= threshold, "time_ms"].to_numpy("int64"))
    spans: list[tuple[int, int]] = []
    for start in starts.tolist():
        end = start + bucket_ms + hold_ms
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def max_window_total(rain: pd.DataFrame, window_ms: int, *, default_interval_s: int) -> WindowMax | None:
    """The highest rain total of any window of ``window_ms``, amounts spread over their intervals (module doc).

    The total of a window ending at ``w`` is ``C(w) - C(w - window)`` where ``C`` is the cumulative
    rain, piecewise linear between the readings' interval bounds; its maximum lies where ``w`` or
    ``w - window`` is such a bound, so those candidates are all evaluated.

    Args:
        rain: raw amounts (mm) stamped at the end of their interval, with ``interval_s`` (may be missing).
        window_ms: the window's length.
        default_interval_s: the interval of a reading that does not give one (the station's).
    """
    if rain.empty:
        return WindowMax(0.0, None)
    ends = rain["time_ms"].to_numpy(dtype=float)
    amounts = rain["value"].to_numpy(dtype=float)
    given = rain["interval_s"] if "interval_s" in rain.columns else pd.Series(np.nan, index=rain.index)
    intervals = pd.to_numeric(given, errors="coerce").fillna(default_interval_s).to_numpy(dtype=float) * 1000
    if float(intervals.max()) > window_ms:
        return None
    intervals = np.maximum(intervals, 1.0)
    starts = ends - intervals
    knots = np.unique(np.concatenate([starts, ends]))
    rates = amounts / intervals
    change = np.zeros(len(knots))
    np.add.at(change, np.searchsorted(knots, starts), rates)
    np.add.at(change, np.searchsorted(knots, ends), -rates)
    rate = np.cumsum(change)[:-1]  # on each segment between two knots
    cumulative = np.concatenate([[0.0], np.cumsum(rate * np.diff(knots))])
    candidates = np.unique(np.concatenate([knots, knots + window_ms]))
    totals = np.interp(candidates, knots, cumulative) - np.interp(candidates - window_ms, knots, cumulative)
    best = float(totals.max())
    if best <= TOLERANCE_MM:
        return WindowMax(0.0, None)
    first = int(np.argmax(totals >= best - TOLERANCE_MM))
    return WindowMax(round(best, 6), int(candidates[first]))


#: the rain windows of the statistics: name -> length
RAIN_WINDOWS_MS = {"1h": 3_600_000, "24h": 86_400_000}


def rain_stats(rain: pd.DataFrame, *, default_interval_s: int) -> tuple[float, dict[str, WindowMax | None]]:
    """The total and the maximum 1 h and 24 h intensities of one gauge's raw amounts."""
    total = round(float(rain["value"].sum()), 6) if not rain.empty else 0.0
    windows = {
        name: max_window_total(rain, length, default_interval_s=default_interval_s)
        for name, length in RAIN_WINDOWS_MS.items()
    }
    return total, windows

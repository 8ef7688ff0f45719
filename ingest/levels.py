"""What the alert engine reads from a station's kept levels: the trend, the last plausible reading, flat runs.

Pure functions over an ``ingest.kept.Series`` of levels (metres, by time), used by the engine's rules
(``rate`` and ``forecast`` share one trend) and its quality control.

- **Trend**: the least-squares slope (m/h) of the usable levels (not flagged ``range`` or ``rate``) in
  the window ``[t - window, t]``; it needs at least ``TREND_MIN_READINGS`` readings spanning at least
  half the window, so a gap in the data gives no trend rather than a made-up one. Least squares rather
  than the two ends of the window: a level reported to 0.01 ft moves in steps, and one step at either
  end would swing a two-point slope.
- **Flat run** (QARTOD flat-line test, IOOS *Manual for Real-Time Quality Control of Water Level Data*,
  and ``ioos_qc.qartod.flat_line_test``: the present value and those before it within a tolerance for
  longer than a threshold): the level and the readings before it stay within half a resolution step
  of each other (so only repeats of one reported value count, whatever float noise a unit conversion
  left). A sensor that sticks is told from a river that rests by what the river did before the run:

  - over the ``flat_line_s`` before the run, the level changed by ``change``; if that is less than
    ``FLAT_MOVING_STEPS`` resolution steps the river was at rest (base flow reported to the
    millimetre keeps one value for a day or more: the Lèze at Labarthe did for 34 h in January 2022,
    flickering between two values at each change, as only a live sensor does), and the run is never
    suspect: a flat-line test cannot tell a resting river from a stuck sensor;
  - if it moved, one resolution step took ``lookback x resolution / change`` there, and the run is
    suspect once it lasts ``FLAT_STEP_FACTOR`` times that, at least ``flat_line_s`` and at most
    ``flat_line_max_s``, and holds ``FLAT_MIN_READINGS`` readings: a level in slow recession
    reported to 0.01 ft stays on one value for hours, and that is the river, not the sensor;
  - a run whose start is no longer kept is judged by the flag of the reading before: once suspect, a
    run stays suspect until the level changes.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Final

from ingest.kept import Series

#: flags that make a level unusable for threshold rules and trends
UNUSABLE: Final = frozenset({"range", "rate"})
#: a trend needs this many usable readings (spanning half its window)
TREND_MIN_READINGS: Final = 3
#: a flat run is suspect only once it holds this many readings (QARTOD counts repeated observations)
FLAT_MIN_READINGS: Final = 12
#: a run up to this many times the time one resolution step took before it is the river's own pace
FLAT_STEP_FACTOR: Final = 3.0
#: the river moved before a run when its level changed by this many resolution steps in the lookback
#: (one step is the flicker of a level sitting on the boundary between two reported values)
FLAT_MOVING_STEPS: Final = 2
#: the resolution assumed when the catalogue gives none (levels are reported to the millimetre or coarser)
DEFAULT_RESOLUTION_M: Final = 0.001
HOUR_MS: Final = 3_600_000


def usable(flags: str) -> bool:
    """Whether a level with these flags may drive thresholds and trends."""
    return not flags or not UNUSABLE.intersection(flags.split(","))


@dataclass(frozen=True, slots=True)
class Trend:
    """A least-squares slope of the level."""

    slope: float  # m/h
    readings: int
    span_ms: int  # from the first reading used to the last


def trend(levels: Series, time_ms: int, window_ms: int) -> Trend | None:
    """The trend of the usable levels in ``[time_ms - window_ms, time_ms]`` (None without enough of them).

    Times are taken relative to ``time_ms`` and values relative to the newest usable one, so the sums
    stay small and exact enough at any epoch.
    """
    first, last = levels.find(time_ms - window_ms), levels.after(time_ms)
    times, values, flags = levels.times, levels.values, levels.flags
    count = 0
    sum_x = sum_y = sum_xx = sum_xy = 0.0
    origin: float | None = None
    oldest = newest = 0
    for index in range(last - 1, first - 1, -1):
        at = times[index]
        if flags and not usable(flags.get(at, "")):
            continue
        if origin is None:
            origin, newest = values[index], at
        x = (at - time_ms) / HOUR_MS
        y = values[index] - origin
        count += 1
        sum_x += x
        sum_y += y
        sum_xx += x * x
        sum_xy += x * y
        oldest = at
    if count < TREND_MIN_READINGS or 2 * (newest - oldest) < window_ms:
        return None
    spread = count * sum_xx - sum_x * sum_x
    if spread <= 0:
        return None
    return Trend((count * sum_xy - sum_x * sum_y) / spread, count, newest - oldest)


def last_usable(levels: Series, index: int) -> int | None:
    """The index of the newest usable reading before ``index`` (None when there is none)."""
    flags = levels.flags
    for position in range(index - 1, -1, -1):
        if not flags or usable(flags.get(levels.times[position], "")):
            return position
    return None


@dataclass(frozen=True, slots=True)
class Flat:
    """A run of one unchanged level ending at a reading, and whether it is suspect."""

    since_ms: int  # the first reading of the run (as far as it is kept)
    readings: int  # in the run, the last one included
    duration_ms: int
    limit_ms: int  # 0: no limit (the river was at rest before the run)
    resolution: float  # m
    lookback_ms: int  # before the run, over which the change was measured
    change: float  # m, over the lookback
    step_ms: int  # the time one resolution step took over the lookback (0: at rest)
    continued: bool = False  # the reading before was flagged flat already

    @property
    def suspect(self) -> bool:
        """Long enough, in time and readings, after the river had moved (or flagged flat already)."""
        if self.continued:
            return True
        return bool(self.limit_ms) and self.duration_ms >= self.limit_ms and self.readings >= FLAT_MIN_READINGS


def flat_run(
    levels: Series,
    index: int,
    value: float,
    time_ms: int,
    *,
    resolution: float | None,
    min_ms: int,
    max_ms: int,
) -> Flat | None:
    """The flat run that ``value`` at ``time_ms`` ends, if it has lasted ``min_ms`` (None otherwise).

    ``index`` is where the reading stands in ``levels``: the run is made of the readings before it.
    ``resolution`` is the catalogue's (None: ``DEFAULT_RESOLUTION_M`` for the tolerance, and the
    smallest step seen around the run for the pace of the river).
    """
    tolerance = (resolution or DEFAULT_RESOLUTION_M) / 2
    times, values = levels.times, levels.values
    if not index or abs(values[index - 1] - value) > tolerance:
        return None  # the quick test: most levels differ from the one before
    start = levels.find(time_ms - min_ms)
    if start >= index or times[start] > time_ms - min_ms:
        start -= 1  # the run must reach back to time_ms - min_ms: the reading at or before it
    if start < 0 or abs(values[start] - value) > tolerance:
        return None
    window = values[start:index]
    if max(window) - value > tolerance or value - min(window) > tolerance:
        return None
    while start > 0 and abs(values[start - 1] - value) <= tolerance:
        start -= 1
    since = times[start]
    readings = index - start + 1
    continued = "flat" in levels.flags.get(times[index - 1], "").split(",")
    before = levels.find(since - min_ms)
    step = resolution or _smallest_step(values, before, index)
    if before >= start:  # nothing kept before the run: what the river did is unknown
        return Flat(since, readings, time_ms - since, 0, step, 0, 0.0, 0, continued)
    change = abs(value - values[before])
    measured = since - times[before]
    if change < FLAT_MOVING_STEPS * step - tolerance:
        return Flat(since, readings, time_ms - since, 0, step, measured, change, 0, continued)  # at rest
    step_ms = int(measured * step / change)
    limit = min(max_ms, max(min_ms, int(FLAT_STEP_FACTOR * step_ms)))
    return Flat(since, readings, time_ms - since, limit, step, measured, change, step_ms, continued)


def _smallest_step(values: array[float], first: int, last: int) -> float:
    """The smallest change between consecutive values ``first`` .. ``last - 1`` (the resolution seen)."""
    steps = [abs(b - a) for a, b in zip(values[first : last - 1], values[first + 1 : last], strict=True)]
    seen = [s for s in steps if s > 5e-7]
    return round(min(seen), 6) if seen else DEFAULT_RESOLUTION_M

"""Alert rules per station, built from the catalogue and the settings (pure).

A rule names what it measures and the thresholds at which each warning level starts:

- ``level``: the water level against blue (warning - margin, or ``blue_m``), yellow (warning
  stage), orange (guaranteed stage), red (``red_m``, default the historical maximum);
- ``flood_limit``: a reservoir's level against its flood-limit level (at least yellow), which may
  differ by sub-season (``alerts.flood_limits``: from month-day to month-day, local time);
- ``rain_<N>h``: the rain fallen in the last N hours against the CMA defaults and the station's
  critical-rainfall table (the lower threshold of the two wins at each level);
- ``rate``: the rate of rise over ``rate_window_s``, in m/h;
- ``forecast``: the level the recent trend reaches ``forecast_horizon_s`` from now, against the
  warning stage (blue: "reaches the warning stage in ~N min");
- ``stale``: seconds since the last reading, against max(3 x interval, 15 min);
- ``suspect``: 1 when the last reading carries a quality flag.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from config.catalogue import Station
from config.errors import ConfigError
from config.settings import AlertSettings

LEVELS: Final = ("blue", "yellow", "orange", "red")


@dataclass(frozen=True)
class Rule:
    """One rule of one station: thresholds ascending as (level, value), and its hysteresis."""

    name: str
    thresholds: tuple[tuple[str, float], ...]
    deadband: float
    unit: str
    window_s: int = 0
    #: sub-seasons (start MM-DD, end MM-DD inclusive, value) replacing the first threshold's value
    seasons: tuple[tuple[str, str, float], ...] = ()
    zone: str = "UTC"

    def at(self, time_ms: int) -> Rule:
        """The rule in force at ``time_ms``: its sub-season's threshold, if it has sub-seasons."""
        if not self.seasons:
            return self
        day = datetime.fromtimestamp(time_ms / 1000, ZoneInfo(self.zone)).strftime("%m-%d")
        for start, end, value in self.seasons:
            inside = start <= day <= end if start <= end else (day >= start or day <= end)
            if inside:
                return replace(self, thresholds=((self.thresholds[0][0] if self.thresholds else "yellow", value),))
        return self

    def level_of(self, measure: float, *, deadband: bool = False) -> str | None:
        """The highest level whose threshold ``measure`` reaches (less the deadband when asked)."""
        reached = None
        for level, threshold in self.thresholds:
            if measure >= threshold - (self.deadband if deadband else 0.0):
                reached = level
        return reached

    def threshold(self, level: str) -> float:
        """The threshold of ``level``."""
        return dict(self.thresholds)[level]


def _ladder(values: Mapping[str, float | None]) -> tuple[tuple[str, float], ...]:
    """Thresholds in level order, dropping missing ones; of equal thresholds the higher level wins."""
    ladder: list[tuple[str, float]] = []
    for level in LEVELS:
        value = values.get(level)
        if value is None:
            continue
        if ladder and value <= ladder[-1][1]:
            if value == ladder[-1][1]:
                ladder[-1] = (level, value)
            continue
        ladder.append((level, value))
    return tuple(ladder)


@contextmanager
def _table(path: Path, key: str, columns: str) -> Iterator[csv.DictReader[str]]:
    """A CSV table of the alert settings, opened with a clear error when it cannot be read."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ConfigError(
            f"cannot read ({exc.strerror})", path=path, key=key, hint=f"give a CSV with {columns}"
        ) from exc
    with handle:
        yield csv.DictReader(handle)


def read_critical_rain(path: Path) -> dict[str, dict[int, dict[str, float]]]:
    """Per-station critical rainfall: ``{station: {window_h: {level: mm}}}`` from a CSV.

    Columns: ``station,window_h,blue,yellow,orange,red`` (empty cells: no threshold at that level).

    Raises:
        ConfigError: naming the file, the line and the column.
    """
    table: dict[str, dict[int, dict[str, float]]] = {}
    with _table(path, "alerts.critical_rain", "station,window_h,blue,yellow,orange,red") as reader:
        for row in reader:
            line = reader.line_num
            try:
                window = int(row["window_h"])
                levels = {lv: float(row[lv]) for lv in LEVELS if (row.get(lv) or "").strip()}
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"not a critical-rainfall row: {exc}",
                    path=path,
                    line=line,
                    hint="columns station,window_h,blue,yellow,orange,red; numbers in mm",
                ) from exc
            values = [levels[lv] for lv in LEVELS if lv in levels]
            if values != sorted(values) or not 1 <= window <= 72:
                raise ConfigError("thresholds must rise blue→red and the window be 1-72 h", path=path, line=line)
            table.setdefault(row["station"].strip(), {})[window] = levels
    return table


def read_flood_limits(path: Path) -> dict[str, list[tuple[str, str, float]]]:
    """Reservoir flood-limit levels by sub-season: ``{station: [(start MM-DD, end MM-DD, metres)]}``.

    Columns: ``station,start,end,flood_limit_m`` (``end`` inclusive; a season may wrap the new year).

    Raises:
        ConfigError: naming the file, the line and the fix.
    """
    seasons: dict[str, list[tuple[str, str, float]]] = {}
    with _table(path, "alerts.flood_limits", "station,start,end,flood_limit_m") as reader:
        for row in reader:
            try:
                start, end = row["start"].strip(), row["end"].strip()
                value = float(row["flood_limit_m"])
                if not (_MONTH_DAY.match(start) and _MONTH_DAY.match(end)):
                    raise ValueError("start and end are month-days like 06-01")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ConfigError(
                    f"not a flood-limit row: {exc}",
                    path=path,
                    line=reader.line_num,
                    hint="columns station,start,end,flood_limit_m, e.g. R1,06-01,08-31,120.5",
                ) from exc
            seasons.setdefault(row["station"].strip(), []).append((start, end, value))
    return seasons


_MONTH_DAY: Final = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def rules_for(
    station: Station,
    settings: AlertSettings,
    critical_rain: Mapping[int, Mapping[str, float]] | None = None,
    *,
    flood_limits: list[tuple[str, str, float]] | None = None,
    zone: str = "UTC",
) -> list[Rule]:
    """Every rule of ``station`` (``zone``: where sub-season dates are counted)."""
    rules: list[Rule] = []
    if "level" in station.quantities:
        blue = station.blue_m
        if blue is None and station.warning_m is not None:
            blue = station.warning_m - settings.blue_margin_m
        ladder = _ladder(
            {
                "blue": blue,
                "yellow": station.warning_m,
                "orange": station.guaranteed_m,
                "red": station.red_m if station.red_m is not None else station.historical_max_m,
            }
        )
        if ladder:
            rules.append(Rule("level", ladder, settings.level_deadband_m, "m"))
        if station.flood_limit_m is not None or flood_limits:
            default = () if station.flood_limit_m is None else (("yellow", station.flood_limit_m),)
            rules.append(
                Rule(
                    "flood_limit", default, settings.level_deadband_m, "m", seasons=tuple(flood_limits or ()), zone=zone
                )
            )
        rules.append(
            Rule(
                "rate",
                ((settings.rate_level, settings.rate_m_per_h),),
                settings.rate_m_per_h / 3,
                "m/h",
                settings.rate_window_s,
            )
        )
        if station.warning_m is not None and settings.forecast_horizon_s:
            rules.append(
                Rule(
                    "forecast",
                    (("blue", station.warning_m),),
                    settings.level_deadband_m,
                    "m",
                    settings.forecast_horizon_s,
                )
            )
    if "rain" in station.quantities:
        windows: dict[int, dict[str, float]] = {}
        for rain_rule in settings.rain_rules:
            levels = windows.setdefault(rain_rule.window_h, {})
            levels[rain_rule.level] = min(rain_rule.mm, levels.get(rain_rule.level, rain_rule.mm))
        for window_h, table in (critical_rain or {}).items():
            levels = windows.setdefault(window_h, {})
            for level, mm in table.items():
                levels[level] = min(mm, levels.get(level, mm))
        for window_h in sorted(windows):
            rules.append(
                Rule(
                    f"rain_{window_h}h",
                    _ladder(dict(windows[window_h])),
                    settings.rain_deadband_mm,
                    "mm",
                    window_h * 3600,
                )
            )
    rules.append(Rule("stale", (("stale", float(station.stale_after_s())),), 0.0, "s"))
    rules.append(Rule("suspect", (("suspect", 1.0),), 0.0, ""))
    return rules

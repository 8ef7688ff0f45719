"""Alert rules per station, built from the catalogue and the settings (pure), one builder per kind.

A rule names what it measures (its ``kind``: the engine's measure of that kind, and the sentences of
``store.explain``) and the thresholds at which each warning level starts, each with its source:

- ``level``: the water level against blue (``blue_m``, else warning - ``alerts.blue_margin_m``),
  yellow (warning stage), orange (guaranteed stage), red (``red_m``, default the historical maximum);
- ``flood_limit``: a reservoir's level against its flood-limit level (at least yellow), which may
  differ by sub-season (``alerts.flood_limits``: from month-day to month-day, local time);
- ``rain`` (``rain_<N>h``): the rain fallen in the last N hours against ``alerts.rain_rules`` (default
  the CMA rainstorm signals) and the station's critical-rainfall table (the lower of the two wins);
- ``rate``: the level's trend (least-squares slope over the trend window), in m/h;
- ``forecast``: the level the trend reaches ``forecast_horizon_s`` ahead, against the next threshold
  not yet reached (warning stage: blue; guaranteed stage: yellow; red level: orange), beyond the level
  the ``level`` rule is firing at;
- ``stale``: seconds since the last reading, against max(3 x interval, 15 min);
- ``suspect``: 1 when the last reading carries a quality flag.

Rules are table-driven (``BUILDERS``): a new kind (e.g. an engineering work's design level) is one more
builder here, one more measure in ``ingest.engine.MEASURES`` and its sentences in
``config/i18n/explain``; the state machine is the same for all.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.catalogue import Station
from config.errors import ConfigError
from config.settings import CMA_RAIN_RULES, AlertSettings

LEVELS: Final = ("blue", "yellow", "orange", "red")


@dataclass(frozen=True)
class Rule:
    """One rule of one station: thresholds ascending as (level, value), their sources, and its hysteresis.

    Attributes:
        name: the rule's id at its station (``level``, ``rain_3h``...), part of alert ids.
        kind: what it measures (see the module docstring).
        thresholds: (level, value) ascending; the state machine's ladder.
        deadband: hysteresis: a level ends below its threshold minus this.
        unit: the unit of the measure and thresholds (``m``, ``mm``, ``m/h``, ``s``, empty).
        window_s: the window measured over (rain windows, the trend of ``rate`` and ``forecast``).
        seasons: sub-seasons (start MM-DD, end MM-DD inclusive, value) replacing the first threshold.
        zone: where sub-season dates are counted.
        sources: (level, source) per threshold: the catalogue column or setting it comes from.
        note: the catalogue's ``thresholds_source`` (official, demo...), quoted in explanations.
        hold_s: how long below threshold - deadband before a level ends (None: ``alerts.hold_s``).
        horizon_s: ``forecast``: how far ahead the trend is projected.
        beyond: ``forecast``: aims only at thresholds above the level this rule is firing at.
        season: the sub-season in force (``06-01–08-31``), set by ``at``.
    """

    name: str
    kind: str
    thresholds: tuple[tuple[str, float], ...]
    deadband: float
    unit: str
    window_s: int = 0
    seasons: tuple[tuple[str, str, float], ...] = ()
    zone: str = "UTC"
    sources: tuple[tuple[str, str], ...] = ()
    note: str = ""
    hold_s: int | None = None
    horizon_s: int = 0
    beyond: str = ""
    season: str = ""

    def at(self, time_ms: int) -> Rule:
        """The rule in force at ``time_ms``: its sub-season's threshold, if it has sub-seasons."""
        if not self.seasons:
            return self
        day = datetime.fromtimestamp(time_ms / 1000, ZoneInfo(self.zone)).strftime("%m-%d")
        for start, end, value in self.seasons:
            inside = start <= day <= end if start <= end else (day >= start or day <= end)
            if inside:
                level = self.thresholds[0][0] if self.thresholds else "yellow"
                return replace(
                    self,
                    thresholds=((level, value),),
                    sources=((level, "flood_limits"),),
                    season=f"{start}–{end}",
                )
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

    def source(self, level: str) -> str:
        """Where the threshold of ``level`` comes from."""
        return dict(self.sources).get(level, "")


def _ladder(values: Mapping[str, tuple[float, str] | None]) -> tuple[tuple[str, float, str], ...]:
    """(level, threshold, source) in level order, without missing ones; of equal thresholds the higher wins."""
    ladder: list[tuple[str, float, str]] = []
    for level in LEVELS:
        given = values.get(level)
        if given is None:
            continue
        value, source = given
        if ladder and value <= ladder[-1][1]:
            if value == ladder[-1][1]:
                ladder[-1] = (level, value, source)
            continue
        ladder.append((level, value, source))
    return tuple(ladder)


def _rule(
    name: str, kind: str, ladder: tuple[tuple[str, float, str], ...], deadband: float, unit: str, **more: Any
) -> Rule:
    return Rule(
        name,
        kind,
        tuple((level, value) for level, value, _ in ladder),
        deadband,
        unit,
        sources=tuple((level, source) for level, _, source in ladder),
        **more,
    )


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


@dataclass(frozen=True)
class Tables:
    """A station's entries of the alert tables (``alerts.critical_rain``, ``alerts.flood_limits``)."""

    critical_rain: Mapping[int, Mapping[str, float]] | None = None
    flood_limits: list[tuple[str, str, float]] | None = None
    zone: str = "UTC"


def trend_window_s(station: Station, settings: AlertSettings) -> int:
    """The window the level's trend is fitted over: ``alerts.rate_window_s``, or 2 reporting intervals."""
    return max(settings.rate_window_s, 2 * station.interval_s)


def _level_ladder(station: Station, settings: AlertSettings) -> tuple[tuple[str, float, str], ...]:
    blue: tuple[float, str] | None = None
    if station.blue_m is not None:
        blue = (station.blue_m, "blue_m")
    elif station.warning_m is not None:
        blue = (station.warning_m - settings.blue_margin_m, "blue_margin")
    red = station.red_m if station.red_m is not None else station.historical_max_m

    def given(value: float | None, source: str) -> tuple[float, str] | None:
        return None if value is None else (value, source)

    return _ladder(
        {
            "blue": blue,
            "yellow": given(station.warning_m, "warning_m"),
            "orange": given(station.guaranteed_m, "guaranteed_m"),
            "red": given(red, "red_m" if station.red_m is not None else "historical_max_m"),
        }
    )


def _level(station: Station, settings: AlertSettings, _tables: Tables) -> list[Rule]:
    ladder = _level_ladder(station, settings)
    if not ladder:
        return []
    return [_rule("level", "level", ladder, settings.level_deadband_m, "m", note=station.thresholds_source)]


def _flood_limit(station: Station, settings: AlertSettings, tables: Tables) -> list[Rule]:
    if station.flood_limit_m is None and not tables.flood_limits:
        return []
    default = () if station.flood_limit_m is None else (("yellow", station.flood_limit_m, "flood_limit_m"),)
    return [
        _rule(
            "flood_limit",
            "flood_limit",
            default,
            settings.level_deadband_m,
            "m",
            seasons=tuple(tables.flood_limits or ()),
            zone=tables.zone,
            note=station.thresholds_source,
        )
    ]


def _rate(station: Station, settings: AlertSettings, _tables: Tables) -> list[Rule]:
    ladder = ((settings.rate_level, settings.rate_m_per_h, "rate_m_per_h"),)
    return [
        _rule(
            "rate",
            "rate",
            ladder,
            settings.rate_m_per_h / 3,
            "m/h",
            window_s=trend_window_s(station, settings),
            hold_s=settings.rate_hold_s,
        )
    ]


def _forecast(station: Station, settings: AlertSettings, _tables: Tables) -> list[Rule]:
    """Targets: each threshold above blue, forecast at the level below it (warning stage: blue)."""
    if not settings.forecast_horizon_s:
        return []
    ladder = _level_ladder(station, settings)
    targets = tuple(
        (LEVELS[LEVELS.index(level) - 1], value, source) for level, value, source in ladder if level != "blue"
    )
    if not targets:
        return []
    return [
        _rule(
            "forecast",
            "forecast",
            targets,
            settings.level_deadband_m,
            "m",
            window_s=trend_window_s(station, settings),
            horizon_s=settings.forecast_horizon_s,
            beyond="level",
            note=station.thresholds_source,
        )
    ]


def _rain(_station: Station, settings: AlertSettings, tables: Tables) -> list[Rule]:
    windows: dict[int, dict[str, tuple[float, str]]] = {}

    def lower(window_h: int, level: str, mm: float, source: str) -> None:
        levels = windows.setdefault(window_h, {})
        if level not in levels or mm < levels[level][0]:
            levels[level] = (mm, source)

    for rain_rule in settings.rain_rules:
        lower(rain_rule.window_h, rain_rule.level, rain_rule.mm, "cma" if rain_rule in CMA_RAIN_RULES else "setting")
    for window_h, table in (tables.critical_rain or {}).items():
        for level, mm in table.items():
            lower(window_h, level, mm, "critical_rain")
    return [
        _rule(
            f"rain_{window_h}h",
            "rain",
            _ladder(windows[window_h]),
            settings.rain_deadband_mm,
            "mm",
            window_s=window_h * 3600,
        )
        for window_h in sorted(windows)
    ]


def _stale(station: Station, _settings: AlertSettings, _tables: Tables) -> list[Rule]:
    return [_rule("stale", "stale", (("stale", float(station.stale_after_s()), "interval_s"),), 0.0, "s", hold_s=0)]


def _suspect(_station: Station, _settings: AlertSettings, _tables: Tables) -> list[Rule]:
    return [_rule("suspect", "suspect", (("suspect", 1.0, "flags"),), 0.0, "")]


Builder = Callable[[Station, AlertSettings, Tables], list[Rule]]
#: the rules of a station, in evaluation order (``forecast`` reads the state ``level`` has just taken)
BUILDERS: Final[tuple[tuple[str, Builder], ...]] = (
    ("level", _level),
    ("flood_limit", _flood_limit),
    ("rate", _rate),
    ("forecast", _forecast),
    ("rain", _rain),
    ("stale", _stale),
    ("suspect", _suspect),
)
#: the quantity each kind is measured on (``stale`` is measured by the clock, not by readings)
QUANTITY: Final[dict[str, str]] = {
    "level": "level",
    "flood_limit": "level",
    "rate": "level",
    "forecast": "level",
    "rain": "rain",
    "stale": "",
    "suspect": "any",
}


def rules_for(
    station: Station,
    settings: AlertSettings,
    critical_rain: Mapping[int, Mapping[str, float]] | None = None,
    *,
    flood_limits: list[tuple[str, str, float]] | None = None,
    zone: str = "UTC",
) -> list[Rule]:
    """Every rule of ``station`` (``zone``: where sub-season dates are counted)."""
    tables = Tables(critical_rain, flood_limits, zone)
    wanted = {"level": "level" in station.quantities, "rain": "rain" in station.quantities}
    return [
        rule
        for _, builder in BUILDERS
        for rule in builder(station, settings, tables)
        if QUANTITY[rule.kind] in ("", "any") or wanted[QUANTITY[rule.kind]]
    ]

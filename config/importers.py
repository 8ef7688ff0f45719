"""Turn other station lists into canonical catalogue stations (pure functions over local files).

Accepted sources: a canonical catalogue CSV, the tidy-dataset ``stations.csv`` files (Garonne,
Calder), the EA station catalogues and an NWPS-like US list. Columns are found by case-insensitive
aliases (``ALIASES``, ``LENGTH_ALIASES``); a ``mapping`` ``{canonical: source column}`` overrides them.
Every cell is read as text, so ids such as ``077336`` keep their leading zeros.

Kinds: ``level`` becomes a ``river`` station, ``rain`` a rain gauge, ``reservoir`` a reservoir. A
station listed twice (once level, once rain) or with a kind like ``level+rain`` becomes one station
reporting ``level rain``.

Thresholds (DESIGN.md §4, SL 758 levels blue < yellow (warning) < orange (guaranteed) < red):

- Environment Agency: ``typicalRangeHigh`` -> ``warning_m``. It is the top of the normal range, not
  an official flood stage, and the row's ``thresholds_source`` says so. ``maxOnRecord`` (+ its time)
  -> ``historical_max_m``/``historical_max_time``. ``typicalRangeLow`` has no counterpart: unused.
- US National Weather Service flood categories map one-to-one onto the four levels:
  ``action_stage`` -> ``blue_m``, ``flood_stage`` -> ``warning_m``, ``moderate_flood_stage`` ->
  ``guaranteed_m``, ``major_flood_stage`` -> ``red_m``; a record stage (``record_stage``,
  ``max_on_record``) -> ``historical_max_m``.
- Length units: a column ending ``_m`` is metres, ``_cm`` centimetres, ``_mm`` millimetres, ``_ft``
  feet; otherwise the row's ``unit`` column applies (``m``, ``cm``, ``mm``, ``ft``; EA ``mAOD``/``mASD``
  are metres). ``-9999`` and empty cells are missing values.
- ``demo_thresholds``: level stations with no level threshold at all get values derived from their
  record in the readings (blue, warning and guaranteed at median + 30 %/50 %/80 % of the rise to the
  peak; record = peak), marked "NOT official" in ``thresholds_source``. Stations whose rise is under
  5 cm get none. Blue is given too: the default blue (warning - ``alerts.blue_margin_m``) can fall
  below the normal level of a small river, which would then be blue most of the time.

With ``readings`` (a tidy ``readings.csv[.gz]``), stations that report but are not listed are added,
every station gets the quantities it reports, ``interval_s`` is the median spacing of its
timestamps (rain: the interval of its unit, ``mm/day`` -> 86400), ``resolution_m`` the smallest step
between two of its level values, and ``level_unit`` the unit its levels come in when it is ``cm`` or
``ft`` (a row's ``unit`` column gives it too): alert texts show levels in that unit beside metres.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from config import tidy
from config.catalogue import COLUMNS, LEVEL_COLUMNS, Station, parse_row
from config.errors import ConfigError
from config.units import UnitError, parse_interval, parse_tidy_unit, to_si

#: canonical column -> lower-case source column names, best first
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "id": ("id", "station_id", "stationreference", "station_reference", "code_station"),
    "name_zh": ("name_zh",),
    "name_en": ("name_en", "name", "station_name", "stationname", "label"),
    "kind": ("kind", "type"),
    "quantities": ("quantities",),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "long", "longitude", "lng"),
    "river": ("river", "rivername", "river_name"),
    "basin": ("basin", "catchment", "catchmentname"),
    "district": ("district", "town", "county", "state"),
    "datum_name": ("datum_name",),
    "interval_s": ("interval_s",),
    "historical_max_time": (
        "historical_max_time",
        "maxonrecord_time",
        "max_on_record_time",
        "record_stage_time",
    ),
    "plaus_min": ("plaus_min",),
    "plaus_max": ("plaus_max",),
    "max_rate_per_h": ("max_rate_per_h",),
    "level_unit": ("level_unit",),
    "thresholds_source": ("thresholds_source",),
    "source": ("source",),
}
#: canonical length column -> source names without their unit suffix (``warning_m`` -> ``warning``)
LENGTH_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "datum_m": ("datum", "gauge_datum"),
    "blue_m": ("blue", "action_stage"),
    "warning_m": ("warning", "typicalrangehigh", "flood_stage"),
    "guaranteed_m": ("guaranteed", "moderate_flood_stage"),
    "red_m": ("red", "major_flood_stage"),
    "historical_max_m": ("historical_max", "maxonrecord", "max_on_record", "record_stage"),
    "flood_limit_m": ("flood_limit",),
    "resolution_m": ("resolution",),
}
UNIT_ALIASES: Final = ("unit", "units", "unitname")
#: where a threshold came from, by the source column (without unit suffix) it was read from
NWS_NOTE: Final = "NWS flood categories: action=blue, flood=warning, moderate=guaranteed, major=red"
THRESHOLD_NOTES: Final[dict[str, str]] = {
    "typicalrangehigh": "EA typical range high used as warning stage (not an official flood stage)",
    "maxonrecord": "EA max on record as historical maximum",
    "action_stage": NWS_NOTE,
    "flood_stage": NWS_NOTE,
    "moderate_flood_stage": NWS_NOTE,
    "major_flood_stage": NWS_NOTE,
}
DEMO_NOTE: Final = (
    "demo: derived from the readings' record (median + 30 %/50 %/80 % of the rise; record = peak), NOT official"
)
#: a level record that rises less than this (m) gives no demo thresholds
DEMO_MIN_RISE_M: Final = 0.05
MISSING: Final = frozenset({"", "na", "nan", "null", "none", "-9999", "-9999.0", "-9999.00"})
#: source kind word -> (canonical kind, quantity)
KIND_WORDS: Final[dict[str, tuple[str, str]]] = {
    "level": ("river", "level"),
    "river": ("river", "level"),
    "stage": ("river", "level"),
    "rain": ("rain", "rain"),
    "rainfall": ("rain", "rain"),
    "reservoir": ("reservoir", "level"),
}
_KIND_SPLIT = re.compile(r"[+;,/&|\s]+")
_LENGTH_UNITS: Final = {"m": "m", "cm": "cm", "mm": "mm", "ft": "ft", "feet": "ft", "foot": "ft"}
#: EA level units carry the datum: metres above Ordnance Datum / above the stage datum
_EA_DATUMS: Final = {"maod": "AOD (Ordnance Datum Newlyn)", "masd": "stage datum (mASD)"}
_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<unit>m|cm|mm|ft)$")
READINGS_COLUMNS: Final = ("station_id", "kind", "time", "value", "unit")
#: level units a station's values are shown in beside metres (catalogue ``level_unit``)
SHOWN_UNITS: Final = ("cm", "ft")


@dataclass(frozen=True)
class Profile:
    """A known source dataset: how to recognise it, whom to credit, and quirks of its columns.

    Attributes:
        signature: lower-case columns that together identify the dataset.
        attribution: the credit line its licence asks for (becomes each station's ``source``).
        column_units: source column (lower case) -> the unit it really holds, where its name misleads.
    """

    signature: frozenset[str]
    attribution: str
    column_units: Mapping[str, str] = field(default_factory=dict)


EA_ATTRIBUTION: Final = (
    "Contains Environment Agency data licensed under the Open Government Licence v3.0 "
    "(© Environment Agency copyright and/or database right)"
)
#: most specific first; wording from each dataset's README
PROFILES: Final[tuple[Profile, ...]] = (
    # Garonne January 2022 (Toulouse Dataviz Hackaviz 2025)
    Profile(
        frozenset({"gauge_datum_cm", "site_altitude_m", "catchment_area"}),
        "Hauteurs d'eau : Hub'Eau / Vigicrues (Ministère de la Transition écologique), pluviométrie : "
        "Météo-France — Licence Ouverte Etalab 2.0; compilation Toulouse Dataviz Hackaviz 2025",
        # The column holds Hub'Eau's `cote_zero_echelle`, an elevation in metres despite its name:
        # Toulouse Pont-Neuf has 131.905 at a site altitude of 132 m (original/station.csv).
        {"gauge_datum_cm": "m"},
    ),
    # EA Calder valley tidy dataset (Hydrology API readings)
    Profile(
        frozenset({"hydrology_station_uuid", "typicalrangehigh_m"}),
        "Contains Environment Agency data licensed under the Open Government Licence v3.0 "
        "(© Environment Agency copyright and/or database right 2025)",
    ),
    # EA station catalogues (flood-monitoring API records, EA station list)
    Profile(frozenset({"typicalrangehigh_m", "maxonrecord_m"}), EA_ATTRIBUTION),
    # NOAA NWPS all-gauges report
    Profile(
        frozenset({"action_stage", "flood_stage"}),
        "NOAA/NWS National Water Prediction Service (US government data, public domain)",
    ),
)


@dataclass(frozen=True)
class Column:
    """Where a canonical column is read from: the source column and, for lengths, its unit if named."""

    name: str
    unit: str | None = None


@dataclass
class Draft:
    """A station being assembled from source rows and readings, before validation."""

    values: dict[str, str]
    kind: str
    quantities: set[str]
    path: Path
    line: int | None
    intervals: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    #: canonical column -> the source column it was read from (for error messages)
    origin: dict[str, str] = field(default_factory=dict)


@dataclass
class Record:
    """What the readings say about one station."""

    line: int
    name: str = ""
    lat: str = ""
    lon: str = ""
    quantities: set[str] = field(default_factory=set)
    intervals: set[int] = field(default_factory=set)
    level: pd.Series | None = None
    level_unit: str = ""  # the unit its level readings come in, when shown beside metres
    resolution_m: float | None = None  # the smallest step between two of its level values


def import_stations(
    source: Path,
    *,
    readings: Path | None = None,
    mapping: dict[str, str] | None = None,
    demo_thresholds: bool = False,
    attribution: str | None = None,
) -> list[Station]:
    """Read a station list and return canonical, validated stations in file order.

    Args:
        source: a CSV station list (see the module docstring for the formats understood).
        readings: a tidy readings CSV (may be gzipped): adds unlisted stations, quantities, intervals.
        mapping: ``{canonical column: source column}``, overriding the built-in aliases.
        demo_thresholds: derive demo thresholds for level stations without any (needs ``readings``).
        attribution: the ``source`` of every station, replacing what the importer knows.

    Returns:
        The stations: those of ``source`` first, then those only found in ``readings``.

    Raises:
        ConfigError: naming the file, the line, the column and the fix.
    """
    if demo_thresholds and readings is None:
        raise ConfigError(
            "demo thresholds are derived from readings, and none were given",
            key="demo_thresholds",
            hint="pass the station's readings too (--readings readings.csv.gz)",
        )
    header, rows = _read_csv(source)
    profile = detect_profile(header)
    columns = resolve_columns(header, mapping or {}, source, profile)
    drafts = _drafts_from_rows(rows, header, columns, source)
    if readings is not None:
        records = read_readings(readings)
        _merge_readings(drafts, records, readings)
        if demo_thresholds:
            _add_demo_thresholds(drafts, records)
    for draft in drafts.values():
        draft.values["source"] = _credit(draft.values.get("source", ""), profile, attribution)
    return [_finish(draft) for draft in drafts.values()]


def _credit(row_source: str, profile: Profile | None, attribution: str | None) -> str:
    """``attribution`` if given, else the row's own source followed by the dataset's credit line."""
    if attribution is not None:
        return attribution
    parts = [row_source, profile.attribution if profile else ""]
    return "; ".join(p for p in parts if p)


def apply_overrides(stations: Iterable[Station], overrides: Path) -> list[Station]:
    """Overwrite fields of stations from a partial canonical CSV (``id`` plus canonical columns).

    Non-empty cells replace the station's value; empty cells keep it. Used for hand-made additions
    such as Chinese names.

    Raises:
        ConfigError: unknown column or station, or a row that makes a station invalid.
    """
    header, rows = _read_csv(overrides)
    unknown = [c for c in header if c not in COLUMNS]
    if unknown or "id" not in header:
        raise ConfigError(
            f"unknown column(s) {', '.join(unknown)}" if unknown else "no id column",
            path=overrides,
            line=1,
            key=unknown[0] if unknown else "id",
            hint="an overrides file has the column id and any canonical catalogue columns",
        )
    result = {s.id: s for s in stations}
    for line, row in rows:
        station_id = row.get("id", "").strip()
        if station_id not in result:
            raise ConfigError(
                f"station {station_id!r} is not in the catalogue",
                path=overrides,
                line=line,
                key="id",
                hint="override only stations the source lists",
            )
        merged = result[station_id].to_row() | {k: v for k, v in row.items() if v.strip()}
        result[station_id] = parse_row(merged, path=overrides, line=line)
    return list(result.values())


def detect_profile(header: Iterable[str]) -> Profile | None:
    """The known dataset whose signature columns are all in ``header``, if any."""
    lower = {c.strip().lower() for c in header}
    return next((p for p in PROFILES if p.signature <= lower), None)


def resolve_columns(
    header: list[str], mapping: Mapping[str, str], path: Path, profile: Profile | None = None
) -> dict[str, Column]:
    """Find, for each canonical column, the source column that holds it.

    Raises:
        ConfigError: a mapping naming an unknown canonical column or a missing source column, or no
            id/kind column.
    """
    by_lower = {c.strip().lower(): c for c in header}
    quirks = profile.column_units if profile else {}
    found: dict[str, Column] = {}
    for canonical, aliases in ALIASES.items():
        name = next((by_lower[a] for a in aliases if a in by_lower), None)
        if name is not None:
            found[canonical] = Column(name)
    for canonical, bases in LENGTH_ALIASES.items():
        column = _find_length_column(by_lower, bases, quirks)
        if column is not None:
            found[canonical] = column
    for canonical, name in mapping.items():
        found[canonical] = _mapped_column(canonical, name, by_lower, path, quirks)
    for required in ("id", "kind"):
        if required not in found:
            raise ConfigError(
                f"no {required} column (looked for {', '.join(ALIASES[required])})",
                path=path,
                line=1,
                key=required,
                hint=f"name the column with --map {required}=COLUMN",
            )
    return found


def _find_length_column(
    by_lower: Mapping[str, str], bases: tuple[str, ...], quirks: Mapping[str, str]
) -> Column | None:
    for base in bases:
        for lower, name in by_lower.items():
            match = _SUFFIX.match(lower)
            if lower == base:
                return Column(name, quirks.get(lower))
            if match and match["base"] == base:
                return Column(name, quirks.get(lower, match["unit"]))
    return None


def _mapped_column(
    canonical: str, name: str, by_lower: Mapping[str, str], path: Path, quirks: Mapping[str, str]
) -> Column:
    if canonical not in ALIASES and canonical not in LENGTH_ALIASES:
        raise ConfigError(
            f"{canonical!r} is not a catalogue column",
            key=canonical,
            hint=f"map one of: {', '.join(COLUMNS)}",
        )
    lower = name.strip().lower()
    if lower not in by_lower:
        raise ConfigError(
            f"the mapping names column {name!r}, which the file does not have",
            path=path,
            line=1,
            key=name,
            hint=f"columns of the file: {', '.join(by_lower.values())}",
        )
    match = _SUFFIX.match(lower)
    unit = quirks.get(lower, match["unit"] if match else None) if canonical in LENGTH_ALIASES else None
    return Column(by_lower[lower], unit)


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and ``(1-based start line, row)`` pairs; every cell is text."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            table = [(reader.line_num, cells) for cells in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read the station list ({exc})", path=path, hint="give a UTF-8 CSV file") from exc
    header = [c.strip() for c in table[0][1]] if table else []
    if not header or not any(header):
        raise ConfigError("the file is empty", path=path, line=1, hint="the first line names the columns")
    rows: list[tuple[int, dict[str, str]]] = []
    for (previous_end, _), (_, cells) in itertools.pairwise(table):
        start = previous_end + 1  # a quoted cell may span lines: report where the row starts
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ConfigError(
                f"{len(cells)} cells where the header has {len(header)} columns",
                path=path,
                line=start,
                hint="quote cells that contain commas",
            )
        rows.append((start, dict(zip(header, cells, strict=True))))
    return header, rows


def _drafts_from_rows(
    rows: list[tuple[int, dict[str, str]]],
    header: list[str],
    columns: Mapping[str, Column],
    path: Path,
) -> dict[str, Draft]:
    unit_column = next((c for c in header if c.strip().lower() in UNIT_ALIASES), None)
    drafts: dict[str, Draft] = {}
    for line, row in rows:
        draft = _draft_from_row(row, columns, unit_column, path, line)
        known = drafts.get(draft.values["id"])
        if known is None:
            drafts[draft.values["id"]] = draft
        else:
            _merge_drafts(known, draft, columns)
    if not drafts:
        raise ConfigError("the file lists no stations", path=path, hint="add one row per station")
    return drafts


def _draft_from_row(
    row: Mapping[str, str], columns: Mapping[str, Column], unit_column: str | None, path: Path, line: int
) -> Draft:
    """One source row as a draft station, with numbers checked and lengths in metres."""
    cell = {canonical: row[col.name].strip() for canonical, col in columns.items()}
    if not cell["id"]:
        raise ConfigError(
            "empty station id", path=path, line=line, key=columns["id"].name, hint="every row needs an id"
        )
    kind, quantities = _parse_kind(cell["kind"], cell.get("quantities", ""), path, line, columns["kind"].name)
    unit = row[unit_column].strip() if unit_column else ""
    draft = Draft({}, kind, quantities, path, line, origin={c: col.name for c, col in columns.items()})
    for canonical, text in cell.items():
        if canonical in ("kind", "quantities") or not text:
            continue
        column = columns[canonical]
        if canonical in LENGTH_ALIASES:
            value = _length(text, column, unit, path=path, line=line, unit_column=unit_column)
            if value is not None:
                draft.values[canonical] = repr(value)
                _note_threshold(draft, canonical, column)
        elif canonical in ("lat", "lon", "plaus_min", "plaus_max", "max_rate_per_h"):
            value = _number(text, path, line, column.name)
            if value is not None:
                draft.values[canonical] = repr(value)
        elif canonical == "interval_s":
            draft.values[canonical] = str(_interval(text, path, line, column.name))
        else:
            draft.values[canonical] = text
    _apply_unit(draft, unit, path, line, unit_column)
    return draft


def _parse_kind(text: str, quantities: str, path: Path, line: int, column: str) -> tuple[str, set[str]]:
    words = [w for w in _KIND_SPLIT.split(text.lower()) if w]
    unknown = [w for w in words if w not in KIND_WORDS]
    if not words or unknown:
        raise ConfigError(
            f"unknown kind {text!r}" if text else "empty kind",
            path=path,
            line=line,
            key=column,
            hint="use level, rain or reservoir (or river); a station reporting both: level+rain",
        )
    kinds = {KIND_WORDS[w][0] for w in words}
    kind = next(k for k in ("reservoir", "river", "rain") if k in kinds)
    return kind, {KIND_WORDS[w][1] for w in words} | set(quantities.split())


def _apply_unit(draft: Draft, unit: str, path: Path, line: int, unit_column: str | None) -> None:
    """Take the reporting interval of a rain unit (``mm/15min``) and the datum of an EA level unit."""
    lower = unit.lower()
    if "rain" in draft.quantities and "/" in unit:
        try:
            interval = parse_tidy_unit("rain", unit)[2]
        except UnitError as exc:
            raise ConfigError(
                str(exc), path=path, line=line, key=unit_column, hint="a rain unit is like mm/15min or mm/day"
            ) from exc
        if interval is not None:
            draft.intervals.add(interval)
    if "level" in draft.quantities and lower in _EA_DATUMS:
        draft.values.setdefault("datum_name", _EA_DATUMS[lower])
    if "level" in draft.quantities and _row_length_unit(unit) in SHOWN_UNITS:
        draft.values.setdefault("level_unit", str(_row_length_unit(unit)))


def _length(text: str, column: Column, unit: str, *, path: Path, line: int, unit_column: str | None) -> float | None:
    """A length cell in metres, its unit taken from the column name, else from the row's unit."""
    value = _number(text, path, line, column.name)
    if value is None:
        return None
    name = column.unit or _row_length_unit(unit)
    if name is None:
        raise ConfigError(
            f"no unit for {value} (the row's unit is {unit!r})",
            path=path,
            line=line,
            key=column.name,
            hint=f"give a unit column{f' ({unit_column})' if unit_column else ''} with m, cm, mm or ft, "
            "or suffix the column name with _m, _cm, _mm or _ft",
        )
    return to_si("level", value, name)


def _row_length_unit(unit: str) -> str | None:
    lower = unit.strip().lower()
    if lower in _LENGTH_UNITS:
        return _LENGTH_UNITS[lower]
    # EA writes level units with their datum: mAOD, mASD, m/mASD
    if re.fullmatch(r"m(aod|asd)?(/m(aod|asd))?", lower):
        return "m"
    return None


def _number(text: str, path: Path, line: int, column: str) -> float | None:
    """A float, or ``None`` for a missing value (empty, NA, -9999)."""
    if text.strip().lower() in MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(
            f"{text!r} is not a number",
            path=path,
            line=line,
            key=column,
            hint="write a decimal number with a point (43.6), or leave the cell empty",
        )
    if value == -9999:
        return None
    return value


def _interval(text: str, path: Path, line: int, column: str) -> int:
    try:
        return parse_interval(int(text) if text.isdigit() else text)
    except UnitError as exc:
        raise ConfigError(str(exc), path=path, line=line, key=column, hint="seconds, or 5min, 1h, day") from exc


def _note_threshold(draft: Draft, canonical: str, column: Column) -> None:
    lower = column.name.strip().lower()
    match = _SUFFIX.match(lower)
    note = THRESHOLD_NOTES.get(match["base"] if match else lower)
    if canonical != "datum_m" and note and note not in draft.notes:
        draft.notes.append(note)


def _merge_drafts(known: Draft, other: Draft, columns: Mapping[str, Column]) -> None:
    """Fold a second row of the same station into the first: same data, more quantities."""
    for canonical, value in other.values.items():
        current = known.values.get(canonical)
        if current is None:
            known.values[canonical] = value
        elif current != value and canonical != "source":
            raise ConfigError(
                f"station {other.values['id']} is listed again with {canonical} {value!r} "
                f"(line {known.line} says {current!r})",
                path=other.path,
                line=other.line,
                key=columns[canonical].name,
                hint="rows of one station (e.g. its level and its rain row) must agree; fix or remove one",
            )
    known.quantities |= other.quantities
    known.intervals |= other.intervals
    known.notes += [n for n in other.notes if n not in known.notes]
    if "level" in known.quantities and known.kind == "rain":
        known.kind = "river"


def read_readings(path: Path) -> dict[str, Record]:
    """Summarise a tidy readings CSV (plain or gzipped, read by ``config.tidy``) per station.

    Raises:
        ConfigError: unreadable file, missing column, or a bad kind, unit, time or value (with its line).
    """
    frame = tidy.read_readings(path)
    return {str(station): _record(rows) for station, rows in frame.groupby("station_id", sort=False)}


def _record(rows: pd.DataFrame) -> Record:
    record = Record(line=int(rows["line"].min()))
    record.name = _first_text(rows["station_name"])
    located = rows[(rows["lat"] != "") & (rows["lon"] != "")]
    if len(located):
        record.lat, record.lon = str(located["lat"].iloc[0]), str(located["lon"].iloc[0])
    for quantity, group in rows.groupby("kind", sort=False):
        record.quantities.add(str(quantity))
        interval = _interval_of(group)
        if interval is not None:
            record.intervals.add(interval)
        if quantity == "level":
            metres = [to_si("level", v, u) for v, u in zip(group["value"], group["unit"], strict=True)]
            times = pd.to_datetime(group["time_ms"], unit="ms", utc=True)
            record.level = pd.Series(metres, index=times.to_numpy())
            units = group["unit"].mode()
            record.level_unit = str(units.iloc[0]) if len(units) and units.iloc[0] in SHOWN_UNITS else ""
            record.resolution_m = resolution(record.level)
    return record


def resolution(level: pd.Series) -> float | None:
    """The reporting resolution of a level record (m): the smallest step between two of its values.

    Values converted from feet carry 6 decimals (0.01 ft is 0.003048 m), so the result is rounded to
    6 decimals too; at least 1 µm. None for a record with a single value.
    """
    values = np.unique(level.to_numpy(dtype=float))
    steps = np.diff(values)
    steps = steps[steps > 5e-7]
    return max(round(float(steps.min()), 6), 1e-6) if len(steps) else None


def _first_text(values: pd.Series) -> str:
    texts = values[values != ""]
    return str(texts.iloc[0]) if len(texts) else ""


def _interval_of(group: pd.DataFrame) -> int | None:
    """Rain: the interval of its unit; level: the median spacing of the timestamps (1 s .. 1 day)."""
    if group["kind"].iloc[0] == "rain":
        return int(group["interval_s"].iloc[0])
    times = group["time_ms"].drop_duplicates().sort_values()
    if len(times) < 2:
        return None
    median_s = float(times.diff().dropna().median()) / 1000
    return int(min(max(round(median_s), 1), 86400))


def _merge_readings(drafts: dict[str, Draft], records: Mapping[str, Record], path: Path) -> None:
    """Add what the readings tell: unlisted stations, quantities, intervals, missing names and places."""
    for station_id, record in records.items():
        draft = drafts.get(station_id)
        if draft is None:
            kind = "river" if "level" in record.quantities else "rain"
            draft = drafts[station_id] = Draft({"id": station_id}, kind, set(), path, record.line)
        draft.quantities |= record.quantities
        draft.intervals |= record.intervals
        if "level" in draft.quantities and draft.kind == "rain":
            draft.kind = "river"
        found = {
            "name_en": record.name,
            "lat": record.lat,
            "lon": record.lon,
            "level_unit": record.level_unit,
            "resolution_m": "" if record.resolution_m is None else repr(record.resolution_m),
        }
        for canonical, value in found.items():
            if value and not draft.values.get(canonical):
                draft.values[canonical] = value


def demo_levels(level: pd.Series) -> dict[str, str] | None:
    """Demo thresholds from a level record (metres, indexed by UTC time), or ``None`` if it barely rises.

    baseline = median, peak = max; blue = baseline + 30 % of the rise, warning = + 50 %, guaranteed =
    + 80 %, each to the centimetre; historical maximum = the peak and its time.
    """
    if level.empty:
        return None
    baseline, peak = float(level.median()), float(level.max())
    rise = peak - baseline
    if rise < DEMO_MIN_RISE_M:
        return None
    peak_time = pd.Timestamp(str(level.idxmax()))
    return {
        "blue_m": repr(round(baseline + 0.3 * rise, 2)),
        "warning_m": repr(round(baseline + 0.5 * rise, 2)),
        "guaranteed_m": repr(round(baseline + 0.8 * rise, 2)),
        "historical_max_m": repr(peak),
        "historical_max_time": peak_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _add_demo_thresholds(drafts: Mapping[str, Draft], records: Mapping[str, Record]) -> None:
    for station_id, draft in drafts.items():
        record = records.get(station_id)
        if record is None or record.level is None or "level" not in draft.quantities:
            continue
        if any(draft.values.get(c) for c in LEVEL_COLUMNS if c != "flood_limit_m"):
            continue
        levels = demo_levels(record.level)
        if levels is not None:
            draft.values.update(levels)
            draft.notes = [DEMO_NOTE]


def _finish(draft: Draft) -> Station:
    """Validate a draft as a canonical row (errors point at its first line)."""
    values = dict(draft.values)
    values["kind"] = draft.kind
    # level first, then rain, then anything unknown (which validation reports)
    values["quantities"] = " ".join(sorted(draft.quantities, key=lambda q: (q != "level", q != "rain", q)))
    if not values.get("name_en") and not values.get("name_zh"):
        values["name_en"] = values["id"]
    if draft.intervals and "interval_s" not in values:
        # the most frequent quantity decides when the station counts as stale
        values["interval_s"] = str(min(draft.intervals))
    if draft.notes and not values.get("thresholds_source"):
        values["thresholds_source"] = "; ".join(draft.notes)
    try:
        return parse_row(values, path=draft.path, line=draft.line)
    except ConfigError as exc:
        column = draft.origin.get(exc.key or "", exc.key)
        if column == exc.key:
            raise
        raise ConfigError(
            exc.message, path=exc.path, line=exc.line, key=column, hint=f"{column} is read as {exc.hint}"
        ) from exc

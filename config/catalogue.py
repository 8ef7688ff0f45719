"""The station catalogue: the canonical CSV format, its validation, and lookup by id.

One row per station; thresholds in metres above the station's datum (DESIGN.md §4). Columns are
listed in ``COLUMNS`` with their meaning and documented in the README.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.contract import STATION_ID
from config.errors import ConfigError
from config.units import AnyQuantity, Quantity

Kind = Literal["river", "rain", "reservoir"]
KIND_QUANTITIES: Final[dict[str, tuple[Quantity, ...]]] = {
    "river": ("level",),
    "reservoir": ("level",),
    "rain": ("rain",),
}

#: canonical CSV columns and their meaning (the README table is checked against this)
COLUMNS: Final[dict[str, str]] = {
    "id": "station id: letters, digits, _ . : - (at most 64); used in the MQTT topic",
    "name_zh": "name in Chinese (either name may be empty, not both)",
    "name_en": "name in English or the local language",
    "kind": "river, rain or reservoir",
    "quantities": "what it reports, space-separated: level, rain (empty = from kind; a river gauge may add rain); "
    "contract v2 adds discharge, gate_opening, pump_state, pump_flow, reservoir_inflow, reservoir_outflow, storage, "
    "asset_status",
    "lat": "latitude, WGS 84 degrees (empty if unknown: the station is then not on the map)",
    "lon": "longitude, WGS 84 degrees",
    "river": "river name",
    "basin": "basin or catchment",
    "district": "administrative district",
    "datum_m": "elevation of the gauge zero in metres, if known",
    "datum_name": "name of that datum (e.g. 黄海高程 / NGF / local gauge zero)",
    "interval_s": "reporting interval in seconds (stale after max(3 x interval, 15 min))",
    "blue_m": "blue-level override: level that counts as approaching the warning stage",
    "warning_m": "warning stage 警戒水位 (yellow)",
    "guaranteed_m": "guaranteed stage 保证水位 (orange)",
    "red_m": "red-level override (default: the historical maximum)",
    "historical_max_m": "historical maximum 历史最高水位",
    "historical_max_time": "when the historical maximum was reached (ISO 8601)",
    "flood_limit_m": "reservoirs: flood-limit level 汛限水位",
    "plaus_min": "plausibility minimum (level: m; rain: mm/h); outside is flagged suspect",
    "plaus_max": "plausibility maximum (level: m; rain: mm/h)",
    "max_rate_per_h": "plausibility: largest credible change per hour (level: m/h)",
    "level_unit": "unit levels are shown in beside metres: m, cm or ft (empty: m); levels are stored in metres",
    "resolution_m": "reporting resolution of the level in metres (0.003048 for 0.01 ft; empty: 0.001)",
    "thresholds_source": "where the thresholds come from: official, or demo/derived and how",
    "source": "data source and attribution",
}
LEVEL_COLUMNS: Final = ("blue_m", "warning_m", "guaranteed_m", "red_m", "historical_max_m", "flood_limit_m")
#: default plausibility of rain intensity, mm/h (beyond the world record for short durations)
RAIN_PLAUS_MAX_MM_H: Final = 300.0


class RowError(ValueError):
    """A cross-field rule broken by one row; names the column to fix (pydantic reports no location)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


class Station(BaseModel):
    """One station of the catalogue, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name_zh: str = ""
    name_en: str = ""
    kind: Kind
    quantities: tuple[AnyQuantity, ...] = ()
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    river: str = ""
    basin: str = ""
    district: str = ""
    datum_m: float | None = None
    datum_name: str = ""
    interval_s: int = Field(300, ge=1, le=86400)
    blue_m: float | None = None
    warning_m: float | None = None
    guaranteed_m: float | None = None
    red_m: float | None = None
    historical_max_m: float | None = None
    historical_max_time: str = ""
    flood_limit_m: float | None = None
    plaus_min: float | None = None
    plaus_max: float | None = None
    max_rate_per_h: float | None = Field(None, gt=0)
    level_unit: Literal["", "m", "cm", "ft"] = ""
    resolution_m: float | None = Field(None, gt=0, le=1)
    thresholds_source: str = ""
    source: str = ""

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not STATION_ID.match(value):
            raise ValueError("id must be 1-64 letters, digits or _ . : - and start with a letter or digit")
        return value

    @field_validator("quantities", mode="before")
    @classmethod
    def _split_quantities(cls, value: object) -> object:
        return tuple(value.split()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Station:
        if not self.name_zh and not self.name_en:
            raise RowError("name_en", "a station needs name_zh or name_en")
        if (self.lat is None) != (self.lon is None):
            raise RowError("lon" if self.lon is None else "lat", "give both lat and lon, or neither")
        if not self.quantities:
            object.__setattr__(self, "quantities", KIND_QUANTITIES[self.kind])
        if len(set(self.quantities)) != len(self.quantities):
            raise RowError("quantities", "quantities are listed twice")
        given_levels = [c for c in LEVEL_COLUMNS if getattr(self, c) is not None]
        if "level" not in self.quantities and given_levels:
            raise RowError(given_levels[0], "level thresholds given for a station that reports no level")
        ladder = [(c, getattr(self, c)) for c in ("blue_m", "warning_m", "guaranteed_m", "red_m")]
        given = [(c, v) for c, v in ladder if v is not None]
        for (low_name, low), (high_name, high) in itertools.pairwise(given):
            if low > high:
                raise RowError(low_name, f"{low_name} ({low}) is above {high_name} ({high}); levels must rise blue→red")
        if self.plaus_min is not None and self.plaus_max is not None and self.plaus_min >= self.plaus_max:
            raise RowError("plaus_min", "plaus_min must be below plaus_max")
        return self

    @property
    def name(self) -> str:
        """A display name: English if given, else Chinese."""
        return self.name_en or self.name_zh

    def display_name(self, language: str) -> str:
        """The name in ``language`` (``zh`` or ``en``), falling back to the other one."""
        return (self.name_zh or self.name_en) if language == "zh" else (self.name_en or self.name_zh)

    def stale_after_s(self) -> int:
        """No reading for this long means the station is stale: max(3 x interval, 15 min)."""
        return max(3 * self.interval_s, 900)

    def to_row(self) -> dict[str, str]:
        """The canonical CSV row (empty strings for missing values)."""
        row: dict[str, str] = {}
        for column in COLUMNS:
            value = getattr(self, column)
            if value is None:
                row[column] = ""
            elif column == "quantities":
                row[column] = " ".join(value)
            elif isinstance(value, float):
                row[column] = repr(value)
            else:
                row[column] = str(value)
        return row


@dataclass(frozen=True)
class Catalogue(Mapping[str, Station]):
    """Stations by id, in file order."""

    stations: dict[str, Station]
    path: Path | None = None

    def __getitem__(self, key: str) -> Station:
        return self.stations[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stations)

    def __len__(self) -> int:
        return len(self.stations)

    def reporting(self, quantity: str) -> list[Station]:
        """Stations that report ``quantity``."""
        return [s for s in self.stations.values() if quantity in s.quantities]


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a canonical catalogue CSV.

    Raises:
        ConfigError: naming the file, the line and the column, and the fix.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the station catalogue ({exc.strerror})",
            path=path,
            hint="set `catalogue` in the settings file to a canonical catalogue CSV",
        ) from exc
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        unknown = [c for c in header if c not in COLUMNS]
        if unknown:
            raise ConfigError(
                f"unknown column(s) {', '.join(unknown)}",
                path=path,
                line=1,
                key=unknown[0],
                hint="use the canonical columns (README, 'Station catalogue'), or convert the file with "
                "`floodwatch catalogue import`",
            )
        if "id" not in header or "kind" not in header:
            raise ConfigError(
                "the header needs at least id and kind",
                path=path,
                line=1,
                hint="first line: id,name_zh,name_en,kind,... (README, 'Station catalogue')",
            )
        stations: dict[str, Station] = {}
        for row in reader:
            line = reader.line_num
            station = parse_row(row, path=path, line=line)
            if station.id in stations:
                raise ConfigError(
                    f"station {station.id} is listed twice",
                    path=path,
                    line=line,
                    key="id",
                    hint="keep one row per station",
                )
            stations[station.id] = station
    if not stations:
        raise ConfigError("the catalogue has no stations", path=path, hint="add at least one row")
    return Catalogue(stations, path)


def parse_row(row: Mapping[str, str | None], *, path: Path | None = None, line: int | None = None) -> Station:
    """Validate one canonical row (empty cells are missing values).

    Raises:
        ConfigError: naming the column and the fix.
    """
    values = {k: v.strip() for k, v in row.items() if k is not None and v is not None and v.strip() != ""}
    try:
        return Station.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = (first.get("ctx") or {}).get("error")
        column = ".".join(str(p) for p in first["loc"]) or getattr(cause, "column", None)
        hint = COLUMNS.get(column or "", "see the README, 'Station catalogue'")
        raise ConfigError(
            first["msg"].removeprefix("Value error, "),
            path=path,
            line=line,
            key=column,
            hint=f"{column}: {hint}" if column else hint,
        ) from exc


def write_catalogue(stations: list[Station], path: Path) -> None:
    """Write stations as a canonical catalogue CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        dump_catalogue(stations, handle)


def dump_catalogue(stations: Iterable[Station], handle: TextIO) -> None:
    """Write stations as canonical catalogue CSV to an open text stream (e.g. stdout)."""
    writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for station in stations:
        writer.writerow(station.to_row())

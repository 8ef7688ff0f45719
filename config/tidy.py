"""The tidy readings format shared by the datasets, ``replay`` and ``export``.

``station_id,station_name,kind,lat,lon,time,value,unit``: one reading a row; ``kind`` is ``level``
or ``rain``; ``time`` is ISO 8601 UTC; ``unit`` is a level unit (m, cm, mm, ft) or a rain amount per
accumulation interval (``mm/15min``, ``mm/day``, ``in/30min``…).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pandas as pd

from config.errors import ConfigError
from config.units import UnitError, parse_tidy_unit

COLUMNS: Final = ("station_id", "station_name", "kind", "lat", "lon", "time", "value", "unit")
REQUIRED: Final = ("station_id", "kind", "time", "value", "unit")
FILE_NAMES: Final = ("readings.csv", "readings.csv.gz")


HINT: Final = "tidy readings: station_id,station_name,kind,lat,lon,time,value,unit (README, 'Tidy readings format')"


def find_readings(path: Path) -> Path:
    """The readings file of a dataset folder (or the file itself).

    Raises:
        ConfigError: no readings file there.
    """
    if path.is_file():
        return path
    for name in FILE_NAMES:
        if (path / name).is_file():
            return path / name
    raise ConfigError(f"no {' or '.join(FILE_NAMES)} here", path=path, hint="give a dataset folder or a readings file")


def read_readings(path: Path) -> pd.DataFrame:
    """Read and check a tidy readings file.

    Returns a frame with ``station_id``, ``station_name``, ``lat``, ``lon`` (text as given), ``kind``
    (the quantity), ``time_ms`` (int), ``time`` (text as given), ``value`` (float, in the file's unit),
    ``unit`` (the amount's unit: ``ft``, ``in``...), ``interval_s`` (rain, else 0) and ``line`` (in the
    file), sorted by time.

    Raises:
        ConfigError: naming the file, the line (header = line 1), the column and the fix.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise ConfigError(f"cannot read it as CSV: {exc}", path=path, hint=HINT) from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ConfigError(f"missing column(s) {', '.join(missing)}", path=path, line=1, key=missing[0], hint=HINT)
    if frame.empty:
        raise ConfigError("no readings", path=path, hint=HINT)
    for optional in ("station_name", "lat", "lon"):
        if optional not in frame.columns:
            frame[optional] = ""
    values = pd.to_numeric(frame["value"], errors="coerce")
    _fail_at(path, frame, values.isna() | ~values.abs().lt(float("inf")), "value", "value is not a number")
    times = pd.to_datetime(frame["time"], utc=True, errors="coerce", format="ISO8601")
    _fail_at(path, frame, times.isna(), "time", "time is not ISO 8601 (like 2022-01-11T06:15:00Z)")
    _fail_at(path, frame, frame["station_id"].str.strip() == "", "station_id", "station_id is empty")
    quantity = pd.Series("", index=frame.index)
    amount = pd.Series("", index=frame.index)
    interval = pd.Series(0, index=frame.index, dtype="int64")
    for kind, unit in frame[["kind", "unit"]].drop_duplicates().itertuples(index=False, name=None):
        rows = (frame["kind"] == kind) & (frame["unit"] == unit)
        try:
            q, a, i = parse_tidy_unit(str(kind), str(unit))
        except UnitError as exc:
            line = int(rows.to_numpy().nonzero()[0][0]) + 2
            raise ConfigError(str(exc), path=path, line=line, key="unit", hint=HINT) from exc
        quantity[rows] = q
        amount[rows] = a
        interval[rows] = i or 0
    out = pd.DataFrame(
        {
            "station_id": frame["station_id"].str.strip(),
            "station_name": frame["station_name"].str.strip(),
            "lat": frame["lat"].str.strip(),
            "lon": frame["lon"].str.strip(),
            "kind": quantity,
            "time_ms": _to_ms(times),
            "time": frame["time"],
            "value": values.astype(float),
            "unit": amount,
            "interval_s": interval,
            "line": frame.index + 2,
        }
    )
    return out.sort_values("time_ms", kind="stable").reset_index(drop=True)


def _to_ms(times: pd.Series) -> pd.Series:
    return (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def _fail_at(path: Path, frame: pd.DataFrame, bad: pd.Series, column: str, message: str) -> None:
    if bool(bad.any()):
        index = int(bad.to_numpy().nonzero()[0][0])
        row = ",".join(str(frame.iloc[index][c]) for c in frame.columns if c in COLUMNS)
        raise ConfigError(f"{message}: {row}", path=path, line=index + 2, key=column, hint=HINT)


def format_time(time_ms: int) -> str:
    """ISO 8601 UTC with ``Z``; milliseconds only when there are some."""
    moment = datetime.fromtimestamp(time_ms / 1000, UTC)
    spec = "seconds" if time_ms % 1000 == 0 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")

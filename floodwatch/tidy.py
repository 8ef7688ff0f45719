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

from config.units import UnitError, parse_tidy_unit
from floodwatch.errors import UserError

COLUMNS: Final = ("station_id", "station_name", "kind", "lat", "lon", "time", "value", "unit")
REQUIRED: Final = ("station_id", "kind", "time", "value", "unit")
FILE_NAMES: Final = ("readings.csv", "readings.csv.gz")


def find_readings(path: Path) -> Path:
    """The readings file of a dataset folder (or the file itself).

    Raises:
        UserError: no readings file there.
    """
    if path.is_file():
        return path
    for name in FILE_NAMES:
        if (path / name).is_file():
            return path / name
    raise UserError(f"{path}: no {' or '.join(FILE_NAMES)} here; give a dataset folder or a readings file")


def read_readings(path: Path) -> pd.DataFrame:
    """Read and check a tidy readings file.

    Returns a frame with ``station_id``, ``kind`` (quantity), ``time_ms`` (int), ``time`` (text as given),
    ``value`` (float), ``unit`` (the amount's unit), ``interval_s`` (rain, else 0), sorted by time.

    Raises:
        UserError: naming the file, the line (header = line 1) and the fix.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it as CSV: {exc}") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise UserError(f"{path}:1: missing column(s) {', '.join(missing)}; the header must be {','.join(COLUMNS)}")
    if frame.empty:
        raise UserError(f"{path}: no readings")
    values = pd.to_numeric(frame["value"], errors="coerce")
    _fail_at(path, frame, values.isna() | ~values.abs().lt(float("inf")), "value is not a number")
    times = pd.to_datetime(frame["time"], utc=True, errors="coerce", format="ISO8601")
    _fail_at(path, frame, times.isna(), "time is not ISO 8601 (like 2022-01-11T06:15:00Z)")
    _fail_at(path, frame, frame["station_id"].str.strip() == "", "station_id is empty")
    quantity = pd.Series("", index=frame.index)
    amount = pd.Series("", index=frame.index)
    interval = pd.Series(0, index=frame.index, dtype="int64")
    for kind, unit in frame[["kind", "unit"]].drop_duplicates().itertuples(index=False, name=None):
        rows = (frame["kind"] == kind) & (frame["unit"] == unit)
        try:
            q, a, i = parse_tidy_unit(str(kind), str(unit))
        except UnitError as exc:
            line = int(rows.to_numpy().nonzero()[0][0]) + 2
            raise UserError(f"{path}:{line}: {exc}") from exc
        quantity[rows] = q
        amount[rows] = a
        interval[rows] = i or 0
    out = pd.DataFrame(
        {
            "station_id": frame["station_id"].str.strip(),
            "kind": quantity,
            "time_ms": _to_ms(times),
            "time": frame["time"],
            "value": values.astype(float),
            "unit": amount,
            "interval_s": interval,
        }
    )
    return out.sort_values("time_ms", kind="stable").reset_index(drop=True)


def _to_ms(times: pd.Series) -> pd.Series:
    return (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def _fail_at(path: Path, frame: pd.DataFrame, bad: pd.Series, message: str) -> None:
    if bool(bad.any()):
        index = int(bad.to_numpy().nonzero()[0][0])
        row = ",".join(str(frame.iloc[index][c]) for c in frame.columns if c in COLUMNS)
        raise UserError(f"{path}:{index + 2}: {message}: {row}")


def format_time(time_ms: int) -> str:
    """ISO 8601 UTC with ``Z``; milliseconds only when there are some."""
    moment = datetime.fromtimestamp(time_ms / 1000, UTC)
    spec = "seconds" if time_ms % 1000 == 0 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_time(text: str) -> int:
    """Epoch milliseconds from an ISO 8601 time (UTC when it has no zone) or a date.

    Raises:
        UserError: not a time.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"{text!r} is not a time; use ISO 8601 like 2022-01-10 or 2022-01-10T18:00:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)

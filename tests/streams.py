"""Synthetic reading streams in the shape ``config.tidy.read_readings`` returns."""

from __future__ import annotations

import pandas as pd

from config.tidy import format_time

BASE_MS = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000  # 2023-11-14T22:00Z, a whole hour


def stream(count: int, *, stations: int = 40, step_s: int = 60, base_ms: int = BASE_MS) -> pd.DataFrame:
    """``count`` level readings (m) round-robin over stations T00.., each ``step_s`` apart per station.

    Every (station, time) is unique and the value encodes the reading's index (index / 1000 m).
    """
    rows = []
    for index in range(count):
        station = index % stations
        time_ms = base_ms + (index // stations) * step_s * 1000
        rows.append((f"T{station:02d}", "level", time_ms, format_time(time_ms), round(index / 1000, 3), "m", 0))
    return pd.DataFrame(rows, columns=["station_id", "kind", "time_ms", "time", "value", "unit", "interval_s"])


def expected_sum(frame: pd.DataFrame) -> float:
    """The sum of the values as stored (metres)."""
    return float(frame["value"].sum())

"""The hydrological day: 08:00 to 08:00 local time (DESIGN.md §3), named by the date it starts on.

A rain reading is stamped at the end of its accumulation interval, so the day D holds the readings
stamped after 08:00 on D up to and including 08:00 on D+1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

#: the hydrological day starts at this local hour
HYDRO_DAY_START_H: Final = 8


def hydro_day_start_ms(now_ms: int, zone: ZoneInfo) -> int:
    """Start of the hydrological day (08:00 local, the latest one not after ``now``), UTC ms."""
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    start = local.replace(hour=HYDRO_DAY_START_H, minute=0, second=0, microsecond=0)
    if start > local:
        start = (local - timedelta(days=1)).replace(hour=HYDRO_DAY_START_H, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


def hydro_day_of(time_ms: int, zone: ZoneInfo) -> date:
    """The hydrological day a rain reading stamped ``time_ms`` (end of its interval) belongs to."""
    local = datetime.fromtimestamp((time_ms - 1) / 1000, UTC).astimezone(zone)
    return (local - timedelta(hours=HYDRO_DAY_START_H)).date()


def hydro_day_bounds_ms(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """The hydrological day ``day`` as (start, end] in UTC ms: 08:00 local on ``day`` to 08:00 the next day."""
    start = datetime.combine(day, time(HYDRO_DAY_START_H), zone)
    end = datetime.combine(day + timedelta(days=1), time(HYDRO_DAY_START_H), zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)

"""A small catalogue and the readings and alerts the HTTP API tests read back.

- 2022-01-10 00:00Z to 2022-01-12 00:00Z, every 5 minutes: T01's level rises 1 cm a step from 1.00 m,
  R1 and T02 report 0.5 mm of rain a step, T02's level stays 2.00 m.
- The last 3 hours before ``now``, every 5 minutes: T01 at 3.00 m rising 1 cm a step (above its
  warning stage, 2.50 m), R1 0.2 mm a step.
- Alerts: a firing yellow level alert at T01 raised an hour ago and acknowledged by 王丽, a resolved
  rain alert at T02 raised two hours ago.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from store.alerts import ACTION, EVENT, STATE, line
from store.influx import InfluxClient

CATALOGUE: Final = """\
id,name_zh,name_en,kind,quantities,lat,lon,river,basin,district,interval_s,warning_m,guaranteed_m,historical_max_m,historical_max_time,plaus_min,plaus_max,thresholds_source
T01,沙市站,Shashi,river,level,30.3,112.2,长江,长江,沙市区,300,2.5,3.5,4.2,1998-08-17T09:00:00+08:00,-1,10,demo
T02,监利站,Jianli,river,level rain,29.8,112.9,长江,长江,监利市,300,3.0,4.0,,,,,
R1,雨量站一,Gauge 1,rain,,30.1,112.5,,,沙市区,300,,,,,,,
"""
STATIONS: Final = ("T01", "T02", "R1")
HISTORY_START_MS: Final = int(datetime(2022, 1, 10, tzinfo=UTC).timestamp() * 1000)
HISTORY_STEPS: Final = 2 * 288  # two days of 5-minute steps
STEP_MS: Final = 300_000
RECENT_STEPS: Final = 36
ALERT_ID: Final = "T01/level/{fired}"


def write_catalogue(folder: Path) -> Path:
    """The catalogue CSV in ``folder``."""
    path = folder / "stations.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    return path


def history_level(step: int) -> float:
    """T01's level at step ``step`` of the history."""
    return round(1.0 + step / 100, 2)


def recent_level(step: int) -> float:
    """T01's level ``step`` steps into the last 3 hours."""
    return round(3.0 + step / 100, 2)


def seed(client: InfluxClient, now_ms: int) -> int:
    """Write the readings and alerts; returns the number of readings written."""
    client.create_database()
    lines = []
    for step in range(HISTORY_STEPS + 1):
        time_ms = HISTORY_START_MS + step * STEP_MS
        lines.append(f'level,station=T01 flags="",lag_s=0,value={history_level(step)} {time_ms}')
        lines.append(f'level,station=T02 flags="",lag_s=0,value=2.0 {time_ms}')
        for gauge in ("T02", "R1"):
            lines.append(f'rain,station={gauge} flags="",interval_s=300,lag_s=0,value=0.5 {time_ms}')
    recent_start = now_ms - now_ms % STEP_MS - RECENT_STEPS * STEP_MS
    for step in range(RECENT_STEPS + 1):
        time_ms = recent_start + step * STEP_MS
        lines.append(f'level,station=T01 flags="",lag_s=0,value={recent_level(step)} {time_ms}')
        lines.append(f'rain,station=R1 flags="",interval_s=300,lag_s=0,value=0.2 {time_ms}')
    readings = len(lines)
    fired = now_ms - 3_600_000
    resolved_raise, resolved_end = now_ms - 2 * 3_600_000, now_ms - 5_400_000
    firing = ALERT_ID.format(fired=fired)
    rain = f"T02/rain_1h/{resolved_raise}"
    lines += [
        _event("raised", "level", "T01", firing, "yellow", 2.6, 2.5, fired),
        _state("level", "T01", "firing", "yellow", firing, fired, fired),
        line(
            ACTION,
            {"action": "acknowledged", "alert_id": firing},
            {"station": "T01", "by": "王丽 (wangli)", "note": "patrol sent"},
            fired + 60_000,
        ),
        _event("raised", "rain_1h", "T02", rain, "blue", 30.0, 25.0, resolved_raise),
        _event("resolved", "rain_1h", "T02", rain, "blue", 1.0, 25.0, resolved_end),
        _state("rain_1h", "T02", "ok", "", rain, resolved_raise, resolved_end),
    ]
    client.write("\n".join(lines).encode())
    return readings


def _event(  # noqa: PLR0917 - one alert event, field by field
    event: str, rule: str, station: str, ident: str, level: str, value: float, threshold: float, at: int
) -> str:
    fields = {"alert_id": ident, "level": level, "value": value, "threshold": threshold, "reason": rule}
    extra = {"muted": False, "arrival_ms": at, "superseded": False}
    return line(EVENT, {"event": event, "rule": rule, "station": station}, {**fields, **extra}, at)


def _state(  # noqa: PLR0917 - one state point, field by field
    rule: str, station: str, state: str, level: str, ident: str, fired: int, at: int
) -> str:
    fields = {"state": state, "level": level, "alert_id": ident, "fired_ms": fired, "superseded": False}
    return line(STATE, {"rule": rule, "station": station}, fields, at)


def stored(client: InfluxClient) -> int:
    """Readings stored now (counted by InfluxDB)."""
    series = client.query("SELECT count(value) FROM level, rain WHERE time > 0")
    return sum(int(s.values[0][1]) for s in series)

"""An independent, plain computation of the level alerts a series of readings implies (for the tests)."""

from __future__ import annotations

from config.catalogue import Station

LEVELS = ("blue", "yellow", "orange", "red")


def ladder(station: Station, margin: float = 0.5) -> list[tuple[str, float]]:
    blue = station.blue_m
    if blue is None and station.warning_m is not None:
        blue = station.warning_m - margin
    values = {
        "blue": blue,
        "yellow": station.warning_m,
        "orange": station.guaranteed_m,
        "red": station.red_m if station.red_m is not None else station.historical_max_m,
    }
    out: list[tuple[str, float]] = []
    for level in LEVELS:
        value = values[level]
        if value is not None and (not out or value > out[-1][1]):
            out.append((level, value))
    return out


def predicted(
    times: list[int],
    values: list[float],
    steps: list[tuple[str, float]],
    deadband: float = 0.05,
    hold_ms: int = 900_000,
) -> list[tuple[int, str, str]]:
    """Plainly: (time, event, level) of the level alerts the readings imply (pending 0, deadband, hold)."""
    rank = {level: i for i, (level, _) in enumerate(steps)}
    events: list[tuple[int, str, str]] = []
    level: str | None = None
    below: dict[str, int] = {}
    for t, v in zip(times, values, strict=True):
        reached = max((lv for lv, thr in steps if v >= thr), key=rank.__getitem__, default=None)
        if level is None:
            if reached is not None:
                events.append((t, "raised", reached))
                level, below = reached, {}
            continue
        if reached is not None and rank[reached] > rank[level]:
            events.append((t, "level_changed", reached))
            level, below = reached, {}
            continue
        for lv, thr in steps[: rank[level] + 1]:
            if v < thr - deadband:
                below.setdefault(lv, t)
            else:
                below.pop(lv, None)
        keep = [lv for lv, _ in steps[: rank[level] + 1] if not (lv in below and t - below[lv] >= hold_ms)]
        if not keep:
            events.append((t, "resolved", level))
            level, below = None, {}
        elif keep[-1] != level:
            events.append((t, "level_changed", keep[-1]))
            level = keep[-1]
    return events

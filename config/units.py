"""Units of the payload contract and the tidy CSV format, and their conversion to SI.

Water level is stored in metres, rainfall in millimetres per accumulation interval (contract v1).
Contract v2 adds the works quantities (工情): flows in m³/s, gate openings in metres, reservoir
storage in 10⁶ m³ (hm³), and two states that carry words rather than numbers (``STATE_QUANTITIES``).
"""

from __future__ import annotations

import re
from typing import Final, Literal

#: the quantities of contract v1: the stations' series the API, export and tidy format serve
Quantity = Literal["level", "rain"]
QUANTITIES: Final[tuple[Quantity, ...]] = ("level", "rain")
#: every quantity a reading may carry (v1 and the works quantities of contract v2)
AnyQuantity = Literal[
    "level",
    "rain",
    "discharge",
    "gate_opening",
    "pump_state",
    "pump_flow",
    "reservoir_inflow",
    "reservoir_outflow",
    "storage",
    "asset_status",
]
ALL_QUANTITIES: Final[tuple[AnyQuantity, ...]] = (
    "level",
    "rain",
    "discharge",
    "gate_opening",
    "pump_state",
    "pump_flow",
    "reservoir_inflow",
    "reservoir_outflow",
    "storage",
    "asset_status",
)
#: quantities whose value is a word (a state), not a number: they take no unit
STATE_QUANTITIES: Final = frozenset({"pump_state", "asset_status"})

_FLOW: Final = {"m3/s": 1.0, "L/s": 0.001, "l/s": 0.001, "ft3/s": 0.028316846592, "cfs": 0.028316846592}
#: factor to the stored unit of each numeric quantity
FACTORS: Final[dict[str, dict[str, float]]] = {
    "level": {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048},
    "rain": {"mm": 1.0, "in": 25.4},
    "discharge": _FLOW,
    "pump_flow": _FLOW,
    "reservoir_inflow": _FLOW,
    "reservoir_outflow": _FLOW,
    "gate_opening": {"m": 1.0, "cm": 0.01, "mm": 0.001},
    # 1e4m3 is the 万m³ of Chinese reservoir tables, 1e8m3 their 亿m³
    "storage": {"hm3": 1.0, "1e6m3": 1.0, "m3": 1e-6, "1e4m3": 0.01, "1e8m3": 100.0},
}
STORED_UNIT: Final[dict[str, str]] = {
    "level": "m",
    "rain": "mm",
    "discharge": "m³/s",
    "pump_flow": "m³/s",
    "reservoir_inflow": "m³/s",
    "reservoir_outflow": "m³/s",
    "gate_opening": "m",
    "storage": "10⁶ m³",
    "pump_state": "",
    "asset_status": "",
}

#: decimals kept after conversion: removes float noise (10.5 ft -> 3.2004 m exactly) and is
#: finer than any gauge (DESIGN §4: level 2 decimals, rain 0.1 mm).
STORED_DECIMALS: Final = 6

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*(s|sec|min|h|hr|hour|d|day)s?\s*$", re.IGNORECASE)
_INTERVAL_SECONDS: Final = {
    "s": 1,
    "sec": 1,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


class UnitError(ValueError):
    """A unit or interval that the contract does not know."""


def to_si(quantity: str, value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` to the stored unit of ``quantity``.

    Raises:
        UnitError: unknown quantity or a unit not allowed for it.
    """
    try:
        factor = FACTORS[quantity][unit]
    except KeyError:
        allowed = ", ".join(FACTORS.get(quantity, {})) or "none"
        raise UnitError(f"unit {unit!r} is not a {quantity} unit (allowed: {allowed})") from None
    return round(value * factor, STORED_DECIMALS)


def parse_interval(text: str | int | float) -> int:
    """Accumulation interval in seconds from ``900``, ``"15min"``, ``"1h"``, ``"h"``, ``"day"``, ``"2d"``.

    Raises:
        UnitError: not a positive duration of whole seconds.
    """
    if isinstance(text, bool):
        raise UnitError(f"interval {text!r} is not a duration")
    if isinstance(text, int | float):
        if not -1e12 < text < 1e12:  # also keeps ints too large for a float out of float()
            raise UnitError(f"interval {str(text)[:40]} is out of range")
        seconds = float(text)
    else:
        match = _INTERVAL.match(text)
        if match is None:
            raise UnitError(f"interval {text!r} is not a duration like 5min, 1h, day or 900 (seconds)")
        number, unit = match.groups()
        seconds = float(number or 1) * _INTERVAL_SECONDS[unit.lower()]
    if not seconds.is_integer() or not 0 < seconds <= 31 * 86400:
        raise UnitError(f"interval {text!r} must be a whole number of seconds between 1 s and 31 days")
    return int(seconds)


def format_interval(seconds: int) -> str:
    """The tidy-format spelling of an interval: ``15min``, ``1h``, ``day``, ``2day``, ``30s``."""
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "day" if days == 1 else f"{days}day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}min"
    return f"{seconds}s"


def parse_tidy_unit(kind: str, unit: str) -> tuple[Quantity, str, int | None]:
    """Split a tidy CSV ``kind``/``unit`` pair: ``("rain", "in/30min")`` -> ``("rain", "in", 1800)``.

    Raises:
        UnitError: unknown kind, unit or interval.
    """
    if kind not in QUANTITIES:
        raise UnitError(f"kind {kind!r} is not one of {', '.join(QUANTITIES)}")
    quantity: Quantity = "level" if kind == "level" else "rain"
    amount, _, interval = unit.partition("/")
    if amount not in FACTORS[quantity]:
        raise UnitError(f"unit {unit!r} is not a {quantity} unit (allowed: {', '.join(FACTORS[quantity])})")
    if quantity == "rain":
        if not interval:
            raise UnitError(f"rain unit {unit!r} needs its accumulation interval, like mm/15min or in/day")
        return quantity, amount, parse_interval(interval)
    if interval:
        raise UnitError(f"level unit {unit!r} takes no interval")
    return quantity, amount, None

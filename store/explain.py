"""Why an alert event happened: one structured explanation stored with the event, and its one renderer.

The alert engine builds an ``Explanation`` at every alert event (``ingest.engine``) and stores it as
JSON in the ``alert_event`` field ``explain`` (``Explanation.to_json``). Notifications, the alert desk,
the HTTP API and ``floodwatch alerts list`` all turn it into words with ``render(explanation,
language, zone)``, so each of them says the same sentence, in Chinese or English, with the values in
the station's display unit beside the SI value, the threshold and where it comes from, the rule's
parameters and, for forecasts, the fitted trend and its window. The texts are in
``config/i18n/explain/<lang>.json``. Pure: no I/O beyond reading those texts once.

What an explanation holds:

- ``rule`` (``level``, ``rain_3h``...) and ``kind``, which says how to read it: ``level`` and
  ``flood_limit`` (a level against a threshold), ``rain`` (a rolling-window total), ``rate`` (the
  trend of the level), ``forecast`` (the level the trend reaches), ``stale`` (no reading), ``suspect``
  (a quality flag). A new kind of rule adds its texts under ``explain.<kind>.*``.
- ``event`` (``raised``, ``level_changed``, ``resolved``, ``escalated``), ``level`` (for a resolution:
  the level that ended) and ``previous`` (the level before a change).
- ``value`` and ``threshold`` in SI units (``unit``: ``m``, ``mm``, ``m/h``, ``s`` or empty),
  ``display_unit`` (the station's level unit when it is not metres: ``ft``, ``cm``), ``source`` (which
  threshold: a catalogue column such as ``warning_m``, or ``blue_margin``, ``flood_limits``, ``cma``,
  ``critical_rain``, ``setting``) and ``note`` (the catalogue's ``thresholds_source``).
- ``params``: the rule's parameters (``deadband``, ``hold_s``, ``pending_s``, ``window_s``,
  ``horizon_s``, ``margin``...), and ``facts``: what was seen beyond the value (the trend, the readings
  it was fitted on, how long a level stayed unchanged, the last reading's time...).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.i18n import texts
from config.units import FACTORS

Scalar = float | int | str
#: levels in rank order (SL 758-2018: blue IV < yellow III < orange II < red I)
_RANK: Final = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
#: kinds whose value and threshold are lengths (shown in the display unit too)
_LENGTHS: Final = frozenset({"m", "m/h"})


@dataclass(frozen=True)
class Explanation:
    """Why one alert event happened, in numbers (see the module docstring)."""

    rule: str
    kind: str
    event: str
    level: str
    time_ms: int
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    display_unit: str = ""
    source: str = ""
    note: str = ""
    previous: str = ""
    params: Mapping[str, Scalar] = field(default_factory=dict)
    facts: Mapping[str, Scalar] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The explanation as plain JSON-able data (the API's ``explanation``)."""
        data = asdict(self)
        data["params"], data["facts"] = dict(self.params), dict(self.facts)
        return data

    def to_json(self) -> str:
        """Compact JSON, as stored in ``alert_event.explain``."""
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | None) -> Explanation | None:
        """The explanation stored as ``text``; None for events stored before explanations (or unreadable)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None

    def escalated(self, after_s: int, time_ms: int) -> Explanation:
        """This explanation as the reason of an escalation ``after_s`` without acknowledgement."""
        return replace(self, event="escalated", time_ms=time_ms, facts={**self.facts, "after_s": after_s})


def render(explanation: Explanation, language: str, zone: ZoneInfo) -> str:
    """The explanation as one or two sentences in ``language`` (``zh`` or ``en``), times in ``zone``."""
    words = texts(language)
    case = _case(explanation)
    fields = _Fields(_fields(explanation, words, language, zone))
    key = f"explain.{explanation.kind}.{case}"
    template = words.get(key) or words.get(f"explain.{explanation.kind}.up") or words["explain.generic"]
    text = template.format_map(fields)
    if explanation.event == "escalated":
        text = words["explain.escalated"].format_map(_Fields({**fields, "text": text}))
    return text


def _case(ex: Explanation) -> str:
    """Which sentence: ``up``, ``down``, ``resolved`` or a kind's own (a flag, a forecast's end)."""
    event = "raised" if ex.event == "escalated" else ex.event
    if ex.kind == "suspect" and event != "resolved":
        flag = str(ex.facts.get("flag") or "flag")
        return "flat.slow" if flag == "flat" and "step_s" in ex.facts else flag
    if event == "resolved":
        cause = ex.facts.get("cause")
        return f"resolved.{cause}" if cause else "resolved"
    if event == "level_changed" and _RANK.get(ex.previous, 0) > _RANK.get(ex.level, 0):
        return "down"
    return "up"


class _Fields(dict[str, str]):
    """Template fields; one that is missing shows as ``?`` rather than failing a notification."""

    def __missing__(self, key: str) -> str:
        return "?"


def _fields(ex: Explanation, words: Mapping[str, str], language: str, zone: ZoneInfo) -> dict[str, str]:
    unit, shown = ex.unit, ex.display_unit
    decimals = _decimals(ex)

    def quantity(value: Any, of: str = unit) -> str:
        return _quantity(value, of, shown, language, decimals)

    params, facts = ex.params, ex.facts
    deadband = float(params.get("deadband", 0) or 0)
    out: dict[str, str] = {
        "what": words.get(f"explain.what.{ex.kind}", ""),
        "level_name": words.get(f"explain.colour.{ex.level}", ex.level),
        "value": quantity(ex.value),
        "threshold": quantity(ex.threshold),
        "clear": quantity(None if ex.threshold is None else ex.threshold - deadband),
        "deadband": quantity(deadband),
        "hold": _duration(params.get("hold_s", 0), language),
        "pending": _duration(params.get("pending_s", 0), language),
        "window": _duration(params.get("window_s", 0), language),
        "horizon": _duration(params.get("horizon_s", 0), language),
        "margin": quantity(params.get("margin"), "m"),
        "source": words["explain.source"].format(note=ex.note) if ex.note else "",
        "season": str(params.get("season", "")),
    }
    out["name"] = _name(ex.source, ex.level, words, out)
    out["origin"] = words.get(f"explain.origin.{ex.source}", "").format_map(_Fields(out))
    if ex.previous:
        out["from_name"] = _name(str(facts.get("previous_source", "")), ex.previous, words, out)
        out["from_threshold"] = quantity(facts.get("previous_threshold"))
        previous = facts.get("previous_threshold")
        out["from_clear"] = quantity(None if previous is None else float(previous) - deadband)
    for key, value in [*params.items(), *facts.items()]:
        out.setdefault(key, _fact(key, value, ex, language=language, zone=zone, quantity=quantity))
    return out


def _name(source: str, level: str, words: Mapping[str, str], fields: Mapping[str, str]) -> str:
    """The threshold in words: ``warning stage``, ``CMA orange rainstorm signal``..."""
    template = words.get(f"explain.name.{source}") or words.get(f"explain.colour.{level}", level)
    return template.format_map(_Fields({**fields, "level_name": words.get(f"explain.colour.{level}", level)}))


def _fact(
    key: str, value: Scalar, ex: Explanation, *, language: str, zone: ZoneInfo, quantity: Callable[[Any, str], str]
) -> str:
    """One fact in words, by the suffix of its name: ``_ms`` a time, ``_s`` a duration, ``_m`` a length."""
    if isinstance(value, str):
        return value
    if key.endswith("_ms"):
        return _time(int(value), ex.time_ms, zone)
    if key.endswith("_s"):
        return _duration(value, language)
    if key.endswith("_m"):
        return quantity(value, "m")
    if key.endswith("_m_per_h"):
        return quantity(value, "m/h")
    if key.endswith("_mm"):
        return quantity(value, "mm")
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return str(int(value))


def _decimals(ex: Explanation) -> int:
    """Decimals of lengths: 2 (centimetres), more when the station's resolution is finer."""
    resolution = ex.facts.get("resolution_m") or ex.params.get("resolution_m")
    if not isinstance(resolution, int | float) or resolution <= 0:
        return 2
    factor = FACTORS["level"].get(ex.display_unit or "m", 1.0)
    step = float(resolution) / factor
    return min(max(2, math.ceil(-math.log10(step) - 1e-9)), 4)


def _number(value: float, unit: str, decimals: int) -> str:
    if unit == "mm":
        return f"{value:.1f}"
    return f"{value:.{decimals}f}"


def _quantity(value: Any, unit: str, shown: str, language: str, decimals: int) -> str:
    """``2.34 m``; in a station shown in feet ``7.68 ft (2.34 m)``; durations in words."""
    if value is None or value == "":
        return "?"
    number = float(value)
    if unit == "s":
        return _duration(number, language)
    si = f"{_number(number, unit, decimals)} {unit}".strip()
    factor = FACTORS["level"].get(shown) if shown and shown != "m" else None
    if unit not in _LENGTHS or factor is None:
        return si
    local_unit = shown + unit.removeprefix("m")
    local = f"{_number(number / factor, unit, decimals)} {local_unit}"
    return f"{local}（{si}）" if language == "zh" else f"{local} ({si})"


def _duration(seconds: Any, language: str) -> str:
    """``45 min``, ``7 h 10 min``, ``2 d 3 h`` (``45分钟``, ``7小时10分钟``, ``2天3小时``)."""
    try:
        minutes = round(abs(float(seconds)) / 60)
    except (TypeError, ValueError):
        return "?"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    units = ("天", "小时", "分钟") if language == "zh" else (" d", " h", " min")
    parts = [f"{n}{u}" for n, u in zip((days, hours, mins), units, strict=True) if n]
    if days:
        parts = parts[:2]  # days and hours are enough
    joined = "".join(parts) if language == "zh" else " ".join(parts)
    return joined or ("0分钟" if language == "zh" else "0 min")


def _time(ms: int, at_ms: int, zone: ZoneInfo) -> str:
    """A local time: ``15:40``, with the date when it is not the day of ``at_ms``."""
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    same_day = local.date() == datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone).date()
    return local.strftime("%H:%M" if same_day else "%m-%d %H:%M")

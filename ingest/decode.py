"""Payload decoding and validation: a pure function from one MQTT message to readings and rejects.

The contract (v1 and v2) is in ``config.contract`` and the README. Each reject carries a reason code from
``REASONS``; the ingester counts them by code and keeps them in the dead-letter store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from config.catalogue import RAIN_PLAUS_MAX_MM_H, Station
from config.contract import (
    CHANNEL,
    CHANNEL_FIELD,
    MAX_REASON_CHARS,
    MAX_STATE_CHARS,
    PUMP_STATES,
    SINCE,
    VERSION,
    VERSIONS,
    Reading,
    station_from_topic,
)
from config.units import STATE_QUANTITIES, UnitError, parse_interval, to_si

#: every reason a message or a reading is rejected, with its explanation
REASONS: Final[dict[str, str]] = {
    "bad_topic": "the topic is not PREFIX/STATION_ID",
    "too_large": "the payload is larger than ingest.max_payload_bytes",
    "rate_limited": "the station's topic sent more than ingest.station_burst at once, then ingest.station_rate_per_s",
    "bad_json": "the payload is not UTF-8 JSON",
    "bad_shape": "the JSON is not a reading object or a {readings: [...]} batch",
    "bad_version": "the payload's contract version is not supported",
    "station_mismatch": "the payload names another station than its topic",
    "unknown_station": "the station is not in the catalogue",
    "too_many_readings": "the batch has more than ingest.max_readings_per_message readings",
    "missing_field": "a required field (time, quantity, value, unit; a state takes no unit) is missing",
    "unknown_quantity": "the quantity is not one of the contract's (level, rain; v2: the works quantities)",
    "newer_quantity": "the quantity needs a newer contract version than the payload's v",
    "quantity_not_reported": "the catalogue says this station does not report this quantity",
    "bad_unit": "the unit is not allowed for the quantity",
    "bad_interval": "a rain reading needs a valid accumulation interval; a level reading takes none",
    "not_a_number": "the value is not a finite number",
    "bad_state": "a state is not one of the quantity's words, or a status or reason is too long",
    "bad_channel": "the gate or pump id is not 1-16 letters, digits, _ . - (a number is taken as text)",
    "negative_rain": "a rain amount below zero",
    "bad_time": "the time is not ISO 8601 with a zone, nor epoch seconds",
    "future_time": "the time is further ahead than ingest.max_future_s",
    "too_old": "the time is before ingest.oldest",
    "influx_refused": "InfluxDB refused the point (e.g. a field type conflict)",
}


@dataclass(frozen=True, slots=True)
class Limits:
    """What the decoder enforces besides the catalogue."""

    max_payload_bytes: int
    max_readings: int
    max_future_ms: int
    oldest_ms: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A rejected message or reading and why."""

    reason: str
    detail: str
    item: Any = None


@dataclass(slots=True)
class Decoded:
    """What one message gave: its accepted readings and its rejects."""

    station: str | None = None
    readings: list[Reading] = field(default_factory=list)
    rejects: list[Rejected] = field(default_factory=list)


class _RejectError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def decode(
    topic: str,
    payload: bytes,
    *,
    prefix: str,
    stations: Mapping[str, Station],
    limits: Limits,
    arrival_ms: int,
) -> Decoded:
    """Decode one message into readings (SI units, quality-flagged) and rejects, never raising."""
    station_id = station_from_topic(prefix, topic)
    result = Decoded(station=station_id)
    try:
        station, items = _envelope(topic, payload, station_id, stations, limits)
    except _RejectError as exc:
        result.rejects.append(Rejected(exc.reason, exc.detail))
        return result
    for version, item in items:
        try:
            result.readings.append(_reading(version, item, station, limits, arrival_ms))
        except _RejectError as exc:
            result.rejects.append(Rejected(exc.reason, exc.detail, item))
    return result


def _envelope(
    topic: str, payload: bytes, station_id: str | None, stations: Mapping[str, Station], limits: Limits
) -> tuple[Station, list[tuple[int, Any]]]:
    if station_id is None:
        raise _RejectError("bad_topic", f"topic {topic[:200]!r} is not PREFIX/STATION_ID")
    if len(payload) > limits.max_payload_bytes:
        raise _RejectError("too_large", f"{len(payload)} bytes > {limits.max_payload_bytes}")
    try:
        # decode first: json.loads(bytes) would also take UTF-16 and UTF-32, which the contract does not
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _RejectError("bad_json", str(exc)[:200]) from None
    if not isinstance(body, dict):
        raise _RejectError("bad_shape", f"expected a JSON object, got {type(body).__name__}")
    version = body.get("v", VERSION)
    if type(version) is not int or version not in VERSIONS:  # True and 1.0 equal 1 in Python, not in the contract
        raise _RejectError(
            "bad_version", f"contract version {str(body.get('v'))[:40]!r} is not one of {', '.join(map(str, VERSIONS))}"
        )
    named = body.get("station", station_id)
    if named != station_id:
        raise _RejectError("station_mismatch", f"payload names {str(named)[:80]!r} but the topic is {station_id!r}")
    station = stations.get(station_id)
    if station is None:
        raise _RejectError("unknown_station", f"station {station_id!r} is not in the catalogue")
    if "readings" in body:
        items = body["readings"]
        if not isinstance(items, list):
            raise _RejectError("bad_shape", "readings must be a list")
        if len(items) > limits.max_readings:
            raise _RejectError("too_many_readings", f"{len(items)} readings > {limits.max_readings}")
        return station, [(version, item) for item in items]
    return station, [(version, body)]


def _reading(version: int, item: Any, station: Station, limits: Limits, arrival_ms: int) -> Reading:
    if not isinstance(item, dict):
        raise _RejectError("bad_shape", f"a reading must be an object, got {type(item).__name__}")
    quantity = item.get("quantity")
    stated = isinstance(quantity, str) and quantity in STATE_QUANTITIES
    needed = ("time", "quantity", "value") if stated else ("time", "quantity", "value", "unit")
    missing = [k for k in needed if k not in item]
    if missing:
        raise _RejectError("missing_field", f"missing {', '.join(missing)}")
    if not isinstance(quantity, str) or quantity not in SINCE:
        raise _RejectError("unknown_quantity", f"quantity {str(quantity)[:40]!r} is not one of {', '.join(SINCE)}")
    if SINCE[quantity] > version:
        raise _RejectError(
            "newer_quantity", f'{quantity} is a contract v{SINCE[quantity]} quantity: send "v": {SINCE[quantity]}'
        )
    if quantity not in station.quantities:
        raise _RejectError(
            "quantity_not_reported", f"{station.id} reports {' '.join(station.quantities)}, not {quantity}"
        )
    channel = _channel(quantity, item)
    if quantity in STATE_QUANTITIES:
        return replace(_state(item, quantity, station, limits, arrival_ms), channel=channel)
    value = item["value"]
    number = _finite(value)
    if number is None:
        raise _RejectError("not_a_number", f"value {str(value)[:40]!r} is not a finite number")
    unit = item["unit"]
    try:
        si_value = to_si(quantity, number, unit if isinstance(unit, str) else repr(unit))
    except UnitError as exc:
        raise _RejectError("bad_unit", str(exc)) from None
    if not math.isfinite(si_value):
        raise _RejectError("not_a_number", f"value {value!r} {unit} is out of range once converted")
    time_ms = _time_ms(item["time"], limits, arrival_ms)
    interval_s = _interval(quantity, item.get("interval"))
    if quantity == "rain" and si_value < 0:
        raise _RejectError("negative_rain", f"rain {value} {unit} is below zero")
    return Reading(
        station=station.id,
        quantity=quantity,
        time_ms=time_ms,
        value=si_value,
        interval_s=interval_s,
        flags=_quality_flags(station, quantity, si_value, interval_s),
        arrival_ms=arrival_ms,
        channel=channel,
    )


def _channel(quantity: str, item: dict[str, Any]) -> str:
    """The gate or pump id of a per-gate or per-pump reading (``""`` for the whole asset)."""
    name = CHANNEL_FIELD.get(quantity)
    raw = item.get(name) if name else None
    if raw is None:
        return ""
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or not CHANNEL.match(text):
        raise _RejectError("bad_channel", f"{name} {str(raw)[:40]!r} is not 1-16 letters, digits, _ . -")
    return text


def _state(item: dict[str, Any], quantity: str, station: Station, limits: Limits, arrival_ms: int) -> Reading:
    """A pump state (``running``/``stopped``/``fault``) or a free-form asset status, with its reason."""
    word = item["value"]
    if not isinstance(word, str) or not word.strip() or len(word) > MAX_STATE_CHARS:
        raise _RejectError(
            "bad_state", f"{quantity} {str(word)[:40]!r} is not a word of 1-{MAX_STATE_CHARS} characters"
        )
    word = " ".join(word.split())
    if quantity == "pump_state" and word not in PUMP_STATES:
        raise _RejectError("bad_state", f"pump_state {word!r} is not one of {', '.join(PUMP_STATES)}")
    reason = item.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise _RejectError("bad_state", f"reason must be text of at most {MAX_REASON_CHARS} characters")
    if item.get("unit") not in (None, ""):
        raise _RejectError("bad_unit", f"{quantity} is a state and takes no unit")
    return Reading(
        station=station.id,
        quantity=quantity,  # type: ignore[arg-type]  # checked against SINCE by the caller
        time_ms=_time_ms(item["time"], limits, arrival_ms),
        value=PUMP_STATES.get(word, 0.0),
        arrival_ms=arrival_ms,
        state=word,
        reason=" ".join(reason.split()),
    )


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (booleans, strings, NaN, infinities, ints beyond a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _interval(quantity: str, raw: Any) -> int | None:
    if quantity != "rain":
        if raw is not None:
            raise _RejectError("bad_interval", f"a {quantity} reading takes no interval")
        return None
    if raw is None:
        raise _RejectError("bad_interval", 'a rain reading needs its accumulation interval, like "5min" or 300')
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise _RejectError("bad_interval", f"interval {str(raw)[:40]!r} is not a duration")
    try:
        return parse_interval(raw)
    except UnitError as exc:
        raise _RejectError("bad_interval", str(exc)) from None


def _time_ms(raw: Any, limits: Limits, arrival_ms: int) -> int:
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise _RejectError("bad_time", f"time {raw[:40]!r} is not ISO 8601") from None
        if moment.tzinfo is None:
            raise _RejectError("bad_time", f"time {raw[:40]!r} has no zone: add Z or an offset like +08:00")
        time_ms = round(moment.timestamp() * 1000)
    elif (epoch := _finite(raw)) is not None:
        if abs(epoch) > 1e11:
            raise _RejectError("bad_time", f"epoch {str(raw)[:40]} is out of range: send seconds, not milliseconds")
        time_ms = round(epoch * 1000)
    else:
        raise _RejectError("bad_time", f"time {str(raw)[:40]!r} is neither an ISO 8601 string nor epoch seconds")
    if time_ms > arrival_ms + limits.max_future_ms:
        raise _RejectError(
            "future_time", f"time {raw!r} is {(time_ms - arrival_ms) / 1000:.0f} s ahead of the ingester"
        )
    if time_ms < limits.oldest_ms:
        raise _RejectError("too_old", f"time {raw!r} is before ingest.oldest")
    return time_ms


def _quality_flags(station: Station, quantity: str, value: float, interval_s: int | None) -> str:
    """Plausibility flags (stored with the reading; the reading counts as suspect)."""
    if quantity not in ("level", "rain"):
        return ""  # the works quantities have no plausibility limits in the catalogue (yet)
    if quantity == "rain":
        intensity = value * 3600 / (interval_s or 3600)
        # a river gauge that also reports rain keeps its plausibility limits for the level
        limit = station.plaus_max if station.kind == "rain" and station.plaus_max is not None else RAIN_PLAUS_MAX_MM_H
        return "range" if intensity > limit else ""
    low, high = station.plaus_min, station.plaus_max
    if (low is not None and value < low) or (high is not None and value > high):
        return "range"
    return ""

"""The versioned MQTT topic and payload contract (v1, v2) and the reading that comes out of it.

Topic: ``{prefix}/{station_id}`` with the default prefix ``floodwatch/v1/readings`` (the topic did
not change with v2: a payload says its version in ``v``).
Payload: UTF-8 JSON, one reading or a gateway batch::

    {"time": "2022-01-11T06:15:00Z", "quantity": "level", "value": 430.6, "unit": "cm"}
    {"time": "2022-01-09T00:00:00Z", "quantity": "rain", "value": 1.2, "unit": "in", "interval": "day"}
    {"v": 1, "station": "O200004001", "readings": [{...}, {...}]}

Version 2 (``"v": 2``, required for them) adds the works quantities (工情)::

    {"v": 2, "time": "...", "quantity": "discharge", "value": 1520, "unit": "m3/s"}
    {"v": 2, "time": "...", "quantity": "gate_opening", "gate": "3", "value": 1.25, "unit": "m"}
    {"v": 2, "time": "...", "quantity": "pump_state", "pump": "2", "value": "fault", "reason": "motor trip"}
    {"v": 2, "time": "...", "quantity": "pump_flow", "pump": "2", "value": 4.5, "unit": "m3/s"}
    {"v": 2, "time": "...", "quantity": "reservoir_inflow", "value": 310, "unit": "m3/s"}
    {"v": 2, "time": "...", "quantity": "storage", "value": 2350, "unit": "1e4m3"}
    {"v": 2, "time": "...", "quantity": "asset_status", "value": "seepage", "reason": "boil at km 2.3"}

Every v1 payload is a valid v2 payload. The README documents every field; ``ingest.decode``
enforces them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from config.units import AnyQuantity

#: the version of a payload without ``v``
VERSION: Final = 1
#: the newest version, and every version the decoder takes
LATEST: Final = 2
VERSIONS: Final = (1, 2)
#: the version a quantity first appeared in (a payload of an older version may not carry it)
SINCE: Final[dict[str, int]] = {"level": 1, "rain": 1} | dict.fromkeys(
    (
        "discharge",
        "gate_opening",
        "pump_state",
        "pump_flow",
        "reservoir_inflow",
        "reservoir_outflow",
        "storage",
        "asset_status",
    ),
    2,
)
#: the payload field naming the part of an asset a reading is about (stored as the ``channel`` tag)
CHANNEL_FIELD: Final[dict[str, str]] = {"gate_opening": "gate", "pump_state": "pump", "pump_flow": "pump"}
#: a gate or pump id: safe as an InfluxDB tag value without escaping
CHANNEL: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,15}\Z")
#: a pump's states and their stored codes (the ``value`` field; the word is kept in ``state``)
PUMP_STATES: Final[dict[str, float]] = {"stopped": 0.0, "running": 1.0, "fault": 2.0}
#: asset_status words that mean "nothing wrong" (any other word is trouble)
STATUS_OK: Final = frozenset({"normal", "ok", "正常"})
#: longest free-form status word and reason, in characters
MAX_STATE_CHARS: Final = 40
MAX_REASON_CHARS: Final = 200
DEFAULT_PREFIX: Final = "floodwatch/v1/readings"
#: a station id is safe in an MQTT topic, an InfluxDB tag and an InfluxQL string literal
STATION_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}\Z")
#: measurement names in InfluxDB, one per quantity
MEASUREMENT: Final[dict[str, str]] = {q: q for q in SINCE}


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted observation in SI units, identified by (quantity, station, device time).

    Attributes:
        station: catalogue id.
        quantity: ``level`` (m), ``rain`` (mm over ``interval_s``), or a v2 quantity in its stored
            unit (``config.units.STORED_UNIT``).
        time_ms: device timestamp, UTC milliseconds since the epoch.
        value: in the stored unit; a state's code (``PUMP_STATES``; 0 for ``asset_status``).
        interval_s: accumulation interval of a rain amount, else ``None``.
        flags: data-quality flags, comma-separated (``""`` when none); ``extrapolated`` on a
            discharge computed outside its rating's validity range.
        arrival_ms: when the ingester received it, UTC milliseconds (kept for latency figures).
        channel: the gate or pump of the asset (``""``: the whole asset).
        state: the word of a state quantity (``fault``, ``seepage``).
        reason: free text sent with a state.
        rating: the rating curve version a discharge was computed with (``""``: measured).
    """

    station: str
    quantity: AnyQuantity
    time_ms: int
    value: float
    interval_s: int | None = None
    flags: str = ""
    arrival_ms: int = 0
    channel: str = ""
    state: str = ""
    reason: str = ""
    rating: str = ""


def station_topic(prefix: str, station: str) -> str:
    """The topic a station publishes its readings to."""
    return f"{prefix}/{station}"


def station_from_topic(prefix: str, topic: str) -> str | None:
    """The station id of a reading topic, or ``None`` when the topic is not one."""
    head, sep, station = topic.rpartition("/")
    if not sep or head != prefix or not STATION_ID.match(station):
        return None
    return station

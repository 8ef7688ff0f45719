"""The versioned MQTT topic and payload contract (v1) and the reading that comes out of it.

Topic: ``{prefix}/{station_id}`` with the default prefix ``floodwatch/v1/readings``.
Payload: UTF-8 JSON, one reading or a gateway batch::

    {"time": "2022-01-11T06:15:00Z", "quantity": "level", "value": 430.6, "unit": "cm"}
    {"time": "2022-01-09T00:00:00Z", "quantity": "rain", "value": 1.2, "unit": "in", "interval": "day"}
    {"v": 1, "station": "O200004001", "readings": [{...}, {...}]}

The README documents every field; ``ingest.decode`` enforces them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from config.units import Quantity

VERSION: Final = 1
DEFAULT_PREFIX: Final = "floodwatch/v1/readings"
#: a station id is safe in an MQTT topic, an InfluxDB tag and an InfluxQL string literal
STATION_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}\Z")
#: measurement names in InfluxDB, one per quantity
MEASUREMENT: Final[dict[str, str]] = {"level": "level", "rain": "rain"}


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted observation in SI units, identified by (quantity, station, device time).

    Attributes:
        station: catalogue id.
        quantity: ``level`` (m) or ``rain`` (mm over ``interval_s``).
        time_ms: device timestamp, UTC milliseconds since the epoch.
        value: metres or millimetres.
        interval_s: accumulation interval of a rain amount, else ``None``.
        flags: data-quality flags, comma-separated (``""`` when none).
        arrival_ms: when the ingester received it, UTC milliseconds (kept for latency figures).
    """

    station: str
    quantity: Quantity
    time_ms: int
    value: float
    interval_s: int | None = None
    flags: str = ""
    arrival_ms: int = 0


def station_topic(prefix: str, station: str) -> str:
    """The topic a station publishes its readings to."""
    return f"{prefix}/{station}"


def station_from_topic(prefix: str, topic: str) -> str | None:
    """The station id of a reading topic, or ``None`` when the topic is not one."""
    head, sep, station = topic.rpartition("/")
    if not sep or head != prefix or not STATION_ID.match(station):
        return None
    return station

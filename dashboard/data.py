"""The only module of the dashboard that reads InfluxDB."""

from __future__ import annotations

from dataclasses import dataclass

from config.contract import MEASUREMENT
from store.influx import InfluxClient, InfluxError


@dataclass(frozen=True)
class StoreStatus:
    """How much is stored, and the newest device time."""

    readings: int
    latest_ms: int | None


def store_status(client: InfluxClient) -> StoreStatus | None:
    """Counts of stored readings, or None when InfluxDB does not answer."""
    measurements = ", ".join(MEASUREMENT.values())
    try:
        counts = client.query(f"SELECT count(value) FROM {measurements}")
        last = client.query(f"SELECT last(value) FROM {measurements}")
    except InfluxError:
        return None
    total = sum(int(s.values[0][1]) for s in counts)
    latest = max((int(s.values[0][0]) for s in last), default=None)
    return StoreStatus(total, latest)

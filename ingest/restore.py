"""Reads what the alert engine needs after a restart from InfluxDB (the I/O side of ``Engine.restore``)."""

from __future__ import annotations

from typing import Any

from config.contract import Reading
from config.units import Quantity
from ingest.engine import Active, Engine, Event, Restored
from ingest.statemachine import RuleState
from store.alerts import ACTION, STATE, list_alerts
from store.influx import InfluxClient


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _restored(row: dict[str, Any]) -> Restored:
    state = RuleState(
        state=row.get("state") or "ok",
        level=row.get("level") or "",
        since_ms=_int(row.get("since_ms")),
        fired_ms=_int(row.get("fired_ms")),
        below=RuleState.parse_below(row.get("below")),
        value=row.get("value"),
        time_ms=int(row["time"]),
    )
    return Restored(row["station"], row["rule"], int(row["time"]), state, row.get("transition") or "")


def restore(engine: Engine, client: InfluxClient) -> int:
    """Load the kept history, the state machine and the active alerts into ``engine``.

    The window ends at the newest stored reading (event time, so a replayed past event restores
    too) and spans the engine's history (``alerts.history_h``, or the longest window a rule needs).
    Returns the number of readings loaded.
    """
    last = client.query("SELECT last(value) FROM level, rain")
    if not last:
        return 0
    newest = max(int(s.values[0][0]) for s in last)
    start = newest - engine.history_ms
    history: list[Reading] = []
    for measurement, fields in (("level", "value, flags"), ("rain", "value, flags, interval_s")):
        for row in client.rows(f"SELECT {fields} FROM {measurement} WHERE time >= {start}ms GROUP BY station"):
            quantity: Quantity = "level" if measurement == "level" else "rain"
            interval = _int(row.get("interval_s"))
            history.append(
                Reading(
                    row["station"], quantity, int(row["time"]), float(row["value"]), interval, row.get("flags") or ""
                )
            )
    base = [
        _restored(r)
        for r in client.rows(
            f"SELECT * FROM {STATE} WHERE time < {start}ms AND superseded = false "
            "GROUP BY station, rule ORDER BY time DESC LIMIT 1",
        )
    ]
    log = [
        _restored(r)
        for r in client.rows(
            f"SELECT * FROM {STATE} WHERE time >= {start}ms AND superseded = false GROUP BY station, rule"
        )
    ]
    escalated = {r["alert_id"] for r in client.rows(f"SELECT note, alert_id FROM {ACTION} WHERE action = 'escalated'")}
    active = []
    for alert in list_alerts(client, active_only=True):
        event = Event(
            alert.station,
            alert.rule,
            "raised",
            alert.id,
            alert.level,
            alert.raised_ms,
            alert.value,
            alert.threshold,
            alert.reason,
            alert.muted,
            alert.arrival_ms,
            explanation=alert.explanation,
        )
        active.append(Active(event, acknowledged=alert.acknowledged_ms is not None, escalated=alert.id in escalated))
    engine.restore(history, base, log, active)
    return len(history)

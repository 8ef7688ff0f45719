"""The alert schema in InfluxDB, shared by the engine (writes), the CLI and the dashboard (read, ack).

Three measurements, all tagged by what identifies them so that re-evaluating the same readings
writes the same points again (idempotent):

- ``alert_state``: the state machine of each (station, rule) after every transition, at the event
  time of the reading that caused it. Tags ``station``, ``rule``; fields ``state`` (ok, pending,
  firing, recovering), ``level``, ``alert_id``, ``since_ms`` (condition active since), ``fired_ms``,
  ``below`` (per level, since when the value is below its threshold - deadband), ``value``,
  ``threshold``, ``reason``. The last point per (station, rule) is the
  current state; the engine rebuilds itself from it after a restart.
- ``alert_event``: what the data made happen: ``raised``, ``level_changed``, ``resolved``, at the
  event time of the reading that caused it. Tags ``station``, ``rule``, ``event``; fields
  ``alert_id``, ``level``, ``value``, ``threshold``, ``reason`` (the explanation in English, as it read
  when the event happened), ``explain`` (the explanation itself, JSON: ``store.explain.Explanation``;
  every reader renders it in its own language), ``muted`` (inhibited: recorded, not notified),
  ``arrival_ms``.
- ``alert_action``: what happened in wall time: ``acknowledged`` (by a person, with a note),
  ``noted`` (a person's note on an alert, without acknowledging it: the ingester only reads
  ``acknowledged``, so a note never stops an escalation) and ``escalated`` (by floodwatch, when nobody
  acknowledged in time). Tags ``action``, ``alert_id``; fields ``station``, ``by``, ``note``.
  Together with ``alert_event`` it is the audit trail. ``by`` is the dashboard user's label (``name
  (login)``) taken from the server's session, never from what the browser sends.
- Shift handovers are ``alert_action`` points too, so that the audit trail stays one measurement:
  action ``handover``, a synthetic ``alert_id`` tag ``handover/<ms>`` (no alert has such an id, so
  ``list_alerts`` and the ingester's acknowledgement poll never take them for an alert's), no
  ``station``; fields ``by`` (who recorded it), ``outgoing`` and ``incoming`` (free text: who hands
  over to whom) and ``note``. ``list_handovers`` reads them.

Levels: ``blue`` < ``yellow`` < ``orange`` < ``red`` (SL 758-2018), plus the housekeeping levels
``stale`` and ``suspect``. An alert id is ``station/rule/fired_ms``: the same data give the same id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.contract import STATION_ID
from config.i18n import LANGUAGES
from store.explain import Explanation, render
from store.influx import InfluxClient, quote_literal

COLOURS: Final = ("blue", "yellow", "orange", "red")
HOUSEKEEPING: Final = ("stale", "suspect")
#: order for sorting: red first
RANK: Final[dict[str, int]] = {"red": 4, "orange": 3, "yellow": 2, "blue": 1, "stale": 0, "suspect": 0, "": -1}
#: the unit a rule's value and threshold are in (``rain_Nh`` rules: mm)
RULE_UNITS: Final[dict[str, str]] = {
    "level": "m",
    "flood_limit": "m",
    "forecast": "m",
    "rate": "m/h",
    "stale": "s",
    "suspect": "",
}
STATE: Final = "alert_state"
EVENT: Final = "alert_event"
ACTION: Final = "alert_action"
#: the action of a shift handover, and the prefix of its synthetic alert id
HANDOVER: Final = "handover"


def rule_unit(rule: str) -> str:
    """The unit of ``rule``'s value and threshold."""
    return "mm" if rule.startswith("rain_") else RULE_UNITS.get(rule, "")


def alert_id(station: str, rule: str, fired_ms: int) -> str:
    """The stable id of the alert that fired at ``fired_ms``."""
    return f"{station}/{rule}/{fired_ms}"


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _num(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def line(measurement: str, tags: dict[str, str], fields: dict[str, Any], time_ms: int) -> str:
    """One line of line protocol (floats always as floats, booleans, escaped strings; None skipped)."""
    tag_text = "".join(f",{k}={_tag(v)}" for k, v in sorted(tags.items()))
    parts = []
    for key, value in sorted(fields.items()):
        if value is None:
            continue
        if isinstance(value, bool):
            parts.append(f"{key}={'true' if value else 'false'}")
        elif isinstance(value, int | float):
            parts.append(f"{key}={_num(value)}")
        else:
            parts.append(f"{key}={_string(str(value))}")
    return f"{measurement}{tag_text} {','.join(parts)} {time_ms}"


@dataclass
class Alert:
    """One alert as a duty officer sees it, assembled from its events and actions."""

    id: str
    station: str
    rule: str
    level: str
    state: str  # firing or resolved
    raised_ms: int
    value: float | None
    threshold: float | None
    reason: str
    muted: bool = False
    arrival_ms: int = 0
    resolved_ms: int | None = None
    acknowledged_ms: int | None = None
    acknowledged_by: str = ""
    note: str = ""
    escalated_ms: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    #: why it fired (or, after a level change, why it stands at its level now); None for old events
    explanation: Explanation | None = None

    def reasons(self, zone: ZoneInfo) -> dict[str, str]:
        """Why, in each language, times in ``zone`` (the sentence of the desk, the notifications, the API)."""
        if self.explanation is None:
            return dict.fromkeys(LANGUAGES, self.reason)
        return {language: render(self.explanation, language, zone) for language in LANGUAGES}

    def as_json(self) -> dict[str, Any]:
        """The CLI's JSON form."""
        return {
            "id": self.id,
            "station": self.station,
            "rule": self.rule,
            "level": self.level,
            "state": self.state,
            "raised": self.raised_ms,
            "acknowledged": self.acknowledged_ms,
            "acknowledged_by": self.acknowledged_by or None,
            "note": self.note or None,
            "escalated": self.escalated_ms,
            "resolved": self.resolved_ms,
            "value": self.value,
            "threshold": self.threshold,
            "reason": self.reason,
            "explanation": self.explanation.as_dict() if self.explanation else None,
            "muted": self.muted,
        }


def list_alerts(
    client: InfluxClient, *, since_ms: int = 0, station: str | None = None, active_only: bool = False
) -> list[Alert]:
    """Alerts raised since ``since_ms`` (and, with ``active_only``, every one still firing), newest first.

    ``station`` must be a validated catalogue id (it is quoted, never interpolated raw).
    """
    if station is not None and not STATION_ID.match(station):
        return []  # no stored station has such an id
    where = "" if station is None else f" AND station = {quote_literal(station)}"
    # Read from since_ms, or from the oldest alert still active if that is older: bounded, yet complete.
    states = client.rows(
        f"SELECT last(state) AS state, last(fired_ms) AS fired_ms FROM {STATE} WHERE superseded = false{where} "
        "GROUP BY station, rule"
    )
    active = [int(r["fired_ms"]) for r in states if r["state"] in ("firing", "recovering") and r["fired_ms"]]
    if active_only and not active:
        return []
    start = min(active) if active_only else min([since_ms, *active])
    # an event that a late reading undid is kept, marked superseded: it did not happen
    events = client.rows(f"SELECT * FROM {EVENT} WHERE time >= {start}ms AND superseded = false{where}")
    actions = client.rows(f"SELECT * FROM {ACTION} WHERE time >= {start}ms{where}")
    alerts: dict[str, Alert] = {}
    for row in sorted(events, key=lambda r: (r["time"], r["event"] != "raised")):
        ident = row["alert_id"]
        if row["event"] == "raised":
            alerts[ident] = Alert(
                ident,
                row["station"],
                row["rule"],
                row["level"],
                "firing",
                int(row["time"]),
                row.get("value"),
                row.get("threshold"),
                row.get("reason") or "",
                bool(row.get("muted")),
                explanation=Explanation.from_json(row.get("explain")),
            )
        alert = alerts.get(ident)
        if alert is None:
            continue
        alert.history.append(
            {
                "time": int(row["time"]),
                "event": row["event"],
                "level": row.get("level"),
                "value": row.get("value"),
                "threshold": row.get("threshold"),
            }
        )
        if row["event"] == "level_changed":
            alert.level, alert.value, alert.threshold = row["level"], row.get("value"), row.get("threshold")
            alert.reason = row.get("reason") or alert.reason
            alert.explanation = Explanation.from_json(row.get("explain")) or alert.explanation
        elif row["event"] == "resolved":
            alert.state, alert.resolved_ms = "resolved", int(row["time"])
    for row in sorted(actions, key=lambda r: r["time"]):
        alert = alerts.get(row["alert_id"])
        if alert is None:
            continue
        if row["action"] == "acknowledged" and alert.acknowledged_ms is None:
            alert.acknowledged_ms, alert.acknowledged_by = int(row["time"]), row.get("by") or ""
            alert.note = row.get("note") or ""
        elif row["action"] == "escalated" and alert.escalated_ms is None:
            alert.escalated_ms = int(row["time"])
        alert.history.append(
            {"time": int(row["time"]), "event": row["action"], "by": row.get("by"), "note": row.get("note") or ""}
        )
    chosen = [
        a
        for a in alerts.values()
        if (a.state == "firing" if active_only else (a.raised_ms >= since_ms or a.state == "firing"))
    ]
    return sorted(chosen, key=lambda a: (-RANK.get(a.level, 0), -a.raised_ms))


def action_line(action: str, alert_id: str, station: str, *, by: str, note: str, time_ms: int) -> str:
    """An ``alert_action`` point (the alert id is a tag: two actions in one millisecond stay two)."""
    return line(ACTION, {"action": action, "alert_id": alert_id}, {"station": station, "by": by, "note": note}, time_ms)


def acknowledge_line(alert: Alert, by: str, note: str, now_ms: int) -> str:
    """The ``alert_action`` point recording an acknowledgement."""
    return action_line("acknowledged", alert.id, alert.station, by=by, note=note, time_ms=now_ms)


def note_line(alert: Alert, by: str, note: str, now_ms: int) -> str:
    """The ``alert_action`` point recording a note on an alert (not an acknowledgement)."""
    return action_line("noted", alert.id, alert.station, by=by, note=note, time_ms=now_ms)


@dataclass(frozen=True)
class Handover:
    """A shift handover as recorded on the alert desk."""

    time_ms: int
    by: str  # who recorded it (the logged-in user's label)
    outgoing: str  # who hands over (free text)
    incoming: str  # who takes over (free text)
    note: str


def handover_line(handover: Handover) -> str:
    """The ``alert_action`` point of a handover (synthetic alert id ``handover/<ms>``, no station)."""
    fields = {"by": handover.by, "outgoing": handover.outgoing, "incoming": handover.incoming, "note": handover.note}
    return line(ACTION, {"action": HANDOVER, "alert_id": f"{HANDOVER}/{handover.time_ms}"}, fields, handover.time_ms)


def list_handovers(client: InfluxClient, *, since_ms: int = 0) -> list[Handover]:
    """The handovers recorded since ``since_ms``, newest first."""
    rows = client.rows(f"SELECT * FROM {ACTION} WHERE action = '{HANDOVER}' AND time >= {int(since_ms)}ms")
    handovers = [
        Handover(
            int(row["time"]),
            row.get("by") or "",
            row.get("outgoing") or "",
            row.get("incoming") or "",
            row.get("note") or "",
        )
        for row in rows
    ]
    return sorted(handovers, key=lambda h: -h.time_ms)


@dataclass(frozen=True)
class StationState:
    """The current alert state of one station: its highest active level and its active rules."""

    station: str
    level: str
    rules: dict[str, str]


def current_states(client: InfluxClient) -> dict[str, StationState]:
    """Per station, the highest level among its (station, rule) states that are firing or recovering."""
    rows = client.rows(
        f"SELECT last(state) AS state, last(level) AS level FROM {STATE} "
        "WHERE superseded = false GROUP BY station, rule",
    )
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["state"] in ("firing", "recovering"):
            found.setdefault(row["station"], {})[row["rule"]] = row["level"]
    return {
        station: StationState(station, max(rules.values(), key=lambda lv: RANK.get(lv, 0)), rules)
        for station, rules in found.items()
    }

"""Pure rules of the alert desk (``/alerts``): filters, order, the audit trail, shifts, handover, CSV.

Nothing here reads InfluxDB, the clock or the session: alerts, handovers and ``now`` are arguments,
so every rule is a plain unit test (tests/test_desk.py).

- **Order**: active alerts first, then by level (red > orange > yellow > blue > stale/suspect), then
  newest first.
- **Shifts**: two 12-hour shifts a day, starting at 08:00 and 20:00 local time (08:00 is also the start
  of the hydrological day). The handover view looks back, by default, to the last handover recorded
  in the last 24 hours (so the outgoing officer's report covers the whole shift they took over, even
  when it is printed after the shift's nominal end), else to the start of the current shift.
- **CSV**: UTF-8 with a byte-order mark (Excel then reads Chinese correctly), local times with the
  zone named in the header, and cells that a spreadsheet would run as a formula quoted as text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.catalogue import Catalogue, Station
from store.alerts import RANK, Alert, Handover, rule_unit

#: local hours at which a shift starts
SHIFT_START_HOURS: Final = (8, 20)
#: the last handover counts as the start of the current shift for this long
HANDOVER_RECENT_MS: Final = 24 * 3_600_000
#: alerts raised this long before a window are still read, so that what they did in it is shown
LOOKBACK_MS: Final = 7 * 86_400_000
#: the longest window the desk reads (a bounded query)
MAX_WINDOW_MS: Final = 31 * 86_400_000
#: the alerts list's periods: key -> length
PERIODS: Final[dict[str, int]] = {
    "24h": 86_400_000,
    "72h": 3 * 86_400_000,
    "7d": 7 * 86_400_000,
    "30d": 30 * 86_400_000,
}
DEFAULT_PERIOD: Final = "24h"
#: the alert states a duty officer filters by
STATES: Final = ("open_unacked", "open_acked", "resolved")
#: the levels, most urgent first
LEVELS: Final = ("red", "orange", "yellow", "blue", "stale", "suspect")
#: events (from the data) and actions (by people or floodwatch) of the audit trail
EVENTS: Final = ("raised", "level_changed", "resolved")
ACTIONS: Final = ("acknowledged", "noted", "escalated", "handover")
#: the longest note and name kept
MAX_NOTE: Final = 500
MAX_NAME: Final = 64
#: the most alerts one acknowledgement may cover
MAX_BATCH: Final = 500
_ALERT_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}/[a-z0-9_]{1,32}/(\d{1,15})$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]+")
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def alert_state(alert: Alert) -> str:
    """``open_unacked``, ``open_acked`` or ``resolved``."""
    if alert.state != "firing":
        return "resolved"
    return "open_acked" if alert.acknowledged_ms is not None else "open_unacked"


def sort_key(alert: Alert) -> tuple[bool, int, int]:
    """Active first, then red > orange > yellow > blue > stale/suspect, then newest first."""
    return (alert.state != "firing", -RANK.get(alert.level, 0), -alert.raised_ms)


def ordered(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts in the desk's order (``sort_key``)."""
    return sorted(alerts, key=sort_key)


@dataclass(frozen=True)
class DeskFilter:
    """What the officer chose to see; an empty choice means everything."""

    levels: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    waters: frozenset[str] = frozenset()  # "river:NAME" or "basin:NAME"
    districts: frozenset[str] = frozenset()
    text: str = ""


def _chosen(values: Any) -> frozenset[str]:
    if not isinstance(values, list | tuple):
        return frozenset()  # a string is not a list of choices (iterating it would give its letters)
    return frozenset(v for v in values if isinstance(v, str))


def desk_filter(values: Mapping[str, Any]) -> DeskFilter:
    """A filter from the controls' values as the browser sent them; anything malformed is ignored.

    Args:
        values: ``levels``, ``states``, ``kinds``, ``waters``, ``districts`` (lists) and ``text``.
    """
    text = values.get("text")
    return DeskFilter(
        _chosen(values.get("levels")),
        _chosen(values.get("states")),
        _chosen(values.get("kinds")),
        _chosen(values.get("waters")),
        _chosen(values.get("districts")),
        text.strip()[:MAX_NAME] if isinstance(text, str) else "",
    )


def station_matches(station: Station | None, station_id: str, chosen: DeskFilter) -> bool:
    """Whether a station passes the kind, river/basin, district and text parts of ``chosen``."""
    if station is None:  # no longer in the catalogue: only an id to match
        return not (chosen.kinds or chosen.waters or chosen.districts) and (
            not chosen.text or chosen.text.casefold() in station_id.casefold()
        )
    if chosen.kinds and station.kind not in chosen.kinds:
        return False
    if chosen.waters and not {f"river:{station.river}", f"basin:{station.basin}"} & chosen.waters:
        return False
    if chosen.districts and station.district not in chosen.districts:
        return False
    if chosen.text:
        needle = chosen.text.casefold()
        return any(needle in part.casefold() for part in (station.id, station.name_zh, station.name_en))
    return True


def matches(alert: Alert, catalogue: Catalogue, chosen: DeskFilter) -> bool:
    """Whether ``alert`` passes every part of ``chosen``."""
    if chosen.levels and alert.level not in chosen.levels:
        return False
    if chosen.states and alert_state(alert) not in chosen.states:
        return False
    return station_matches(catalogue.get(alert.station), alert.station, chosen)


def filtered(alerts: Iterable[Alert], catalogue: Catalogue, chosen: DeskFilter) -> list[Alert]:
    """The alerts that pass ``chosen``, in the desk's order."""
    return ordered(a for a in alerts if matches(a, catalogue, chosen))


def water_options(catalogue: Catalogue) -> list[tuple[str, str, str]]:
    """The rivers and basins of the catalogue as (value, kind, name), rivers first, by name."""
    rivers = sorted({s.river for s in catalogue.values() if s.river})
    basins = sorted({s.basin for s in catalogue.values() if s.basin})
    return [(f"river:{r}", "river", r) for r in rivers] + [(f"basin:{b}", "basin", b) for b in basins]


def district_options(catalogue: Catalogue) -> list[str]:
    """The districts of the catalogue, by name."""
    return sorted({s.district for s in catalogue.values() if s.district})


def last_activity_ms(alert: Alert) -> int:
    """When anything last happened to ``alert`` (raised, changed, resolved, acted on)."""
    return max([alert.raised_ms, *(int(h["time"]) for h in alert.history)])


def relevant(alerts: Iterable[Alert], since_ms: int) -> list[Alert]:
    """The alerts still firing, or with anything recorded since ``since_ms``."""
    return [a for a in alerts if a.state == "firing" or last_activity_ms(a) >= since_ms]


def digest(alerts: Iterable[Alert]) -> str:
    """A short fingerprint of what a list of alerts shows (ids, levels, states, acknowledgements, notes)."""
    shown = [[a.as_json(), len(a.history)] for a in alerts]
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:20]


def window_start(now_ms: int, length_ms: int) -> int:
    """``now - length``, floored to the minute (so that every screen shares one cached read a minute)."""
    start = now_ms - min(length_ms, MAX_WINDOW_MS)
    return start - start % 60_000


def period_start(period: Any, now_ms: int) -> int:
    """The start of the alerts list's period (the default one for an unknown key)."""
    length = PERIODS.get(period, PERIODS[DEFAULT_PERIOD]) if isinstance(period, str) else PERIODS[DEFAULT_PERIOD]
    return window_start(now_ms, length)


# -- the audit trail ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail: an event of the data or an action of a person (or of floodwatch)."""

    time_ms: int
    what: str  # one of EVENTS or ACTIONS
    alert_id: str = ""
    station: str = ""
    rule: str = ""
    level: str = ""
    value: float | None = None
    threshold: float | None = None
    by: str = ""
    note: str = ""
    outgoing: str = ""
    incoming: str = ""


def audit_trail(
    alerts: Iterable[Alert], handovers: Iterable[Handover], since_ms: int, until_ms: int | None = None
) -> list[AuditEntry]:
    """Every event and action of ``alerts`` and every handover between ``since_ms`` and ``until_ms``, newest first.

    An action carries no level of its own: it is shown with the alert's level at that moment.
    """
    entries: list[AuditEntry] = []
    for alert in alerts:
        level = alert.level
        for item in sorted(alert.history, key=lambda h: int(h["time"])):
            if item.get("level"):
                level = str(item["level"])
            time_ms = int(item["time"])
            if time_ms < since_ms or (until_ms is not None and time_ms > until_ms):
                continue
            entries.append(
                AuditEntry(
                    time_ms,
                    str(item["event"]),
                    alert.id,
                    alert.station,
                    alert.rule,
                    level,
                    item.get("value"),
                    item.get("threshold"),
                    str(item.get("by") or ""),
                    str(item.get("note") or ""),
                )
            )
    for handover in handovers:
        if handover.time_ms >= since_ms and (until_ms is None or handover.time_ms <= until_ms):
            entries.append(
                AuditEntry(
                    handover.time_ms,
                    "handover",
                    by=handover.by,
                    note=handover.note,
                    outgoing=handover.outgoing,
                    incoming=handover.incoming,
                )
            )
    return sorted(entries, key=lambda e: (-e.time_ms, e.what, e.alert_id))


def filtered_trail(
    entries: Iterable[AuditEntry], alerts: Iterable[Alert], catalogue: Catalogue, chosen: DeskFilter
) -> list[AuditEntry]:
    """The entries of the alerts that pass ``chosen``; handovers always (they belong to no station)."""
    shown = {a.id for a in alerts if matches(a, catalogue, chosen)}
    return [e for e in entries if e.what == "handover" or e.alert_id in shown]


# -- shifts and the handover -------------------------------------------------------------------------


def shift_start_ms(now_ms: int, zone: ZoneInfo) -> int:
    """The start of the shift in progress: the latest 08:00 or 20:00 local not after ``now``, UTC ms."""
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    for day in (local, local - timedelta(days=1)):
        for hour in sorted(SHIFT_START_HOURS, reverse=True):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            if start <= local:
                return int(start.timestamp() * 1000)
    raise AssertionError("unreachable: a shift starts every day")  # pragma: no cover


@dataclass(frozen=True)
class Since:
    """The start of the handover window and why it is that one."""

    ms: int
    source: str  # "handover" (the last one recorded), "shift" (the shift's start) or "chosen"
    handover: Handover | None = None


def default_since(now_ms: int, zone: ZoneInfo, handovers: Iterable[Handover]) -> Since:
    """The last handover recorded in the last 24 h (not in the future), else the start of the current shift."""
    recent = [h for h in handovers if now_ms - HANDOVER_RECENT_MS <= h.time_ms <= now_ms]
    if recent:
        last = max(recent, key=lambda h: h.time_ms)
        return Since(last.time_ms, "handover", last)
    return Since(shift_start_ms(now_ms, zone), "shift")


def parse_since(text: Any, zone: ZoneInfo, now_ms: int) -> int | None:
    """A local time typed as ``YYYY-MM-DD HH:MM`` (or ``T`` between) in ``zone``, UTC ms.

    None when empty, unreadable, in the future or older than the longest window.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        local = datetime.strptime(text.strip().replace("T", " ")[:16], "%Y-%m-%d %H:%M")
    except ValueError:
        return None
    ms = int(local.replace(tzinfo=zone).timestamp() * 1000)
    return ms if now_ms - MAX_WINDOW_MS <= ms <= now_ms else None


@dataclass(frozen=True)
class Acknowledgement:
    """Who acknowledged which alert, when, with which note."""

    time_ms: int
    by: str
    alert: Alert
    note: str


@dataclass(frozen=True)
class HandoverSummary:
    """What a shift handover tells: what happened since ``since``, what is open, who acknowledged what."""

    since: Since
    until_ms: int
    raised: dict[str, int]  # level -> alerts raised in the window
    resolved: int
    escalated: int
    open: list[Alert]  # still firing at the end of the window, in the desk's order
    acknowledgements: list[Acknowledgement]  # in the window, newest first
    entries: list[AuditEntry]  # the audit trail of the window
    alerts: list[Alert] = field(default_factory=list)  # every alert open or active in the window

    @property
    def unacknowledged(self) -> int:
        """Open alerts nobody has acknowledged."""
        return sum(1 for a in self.open if a.acknowledged_ms is None)

    @property
    def raised_total(self) -> int:
        """Alerts raised in the window."""
        return sum(self.raised.values())


def handover_summary(
    alerts: Sequence[Alert], handovers: Iterable[Handover], since: Since, now_ms: int
) -> HandoverSummary:
    """The handover view of ``alerts`` between ``since`` and ``now``."""
    entries = audit_trail(alerts, handovers, since.ms, now_ms)
    counts = Counter(e.what for e in entries)
    raised = Counter(e.level for e in entries if e.what == "raised")
    by_id = {a.id: a for a in alerts}
    acknowledgements = [
        Acknowledgement(e.time_ms, e.by, by_id[e.alert_id], e.note)
        for e in entries
        if e.what == "acknowledged" and e.alert_id in by_id
    ]
    touched = {e.alert_id for e in entries if e.alert_id}
    return HandoverSummary(
        since=since,
        until_ms=now_ms,
        raised={level: raised[level] for level in LEVELS if raised[level]},
        resolved=counts["resolved"],
        escalated=counts["escalated"],
        open=ordered(a for a in alerts if a.state == "firing"),
        acknowledgements=acknowledgements,
        entries=entries,
        alerts=ordered(a for a in alerts if a.state == "firing" or a.id in touched),
    )


# -- actions: what the browser asks for, checked ------------------------------------------------------


def clean_text(text: Any, limit: int = MAX_NOTE) -> str:
    """Free text from the browser as it is stored: one line, no control characters, at most ``limit`` long."""
    if not isinstance(text, str):
        return ""
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def picked_ids(values: Any) -> list[str]:
    """The alert ids ticked in the table (the checklists' values), well-formed, each once, at most ``MAX_BATCH``."""
    found: list[str] = []
    for value in values if isinstance(values, list | tuple) else []:
        for ident in value if isinstance(value, list) else [value]:
            if isinstance(ident, str) and _ALERT_ID.match(ident) and ident not in found:
                found.append(ident)
    return found[:MAX_BATCH]


def fired_ms(alert_id: str) -> int:
    """The firing time encoded in a well-formed alert id (``station/rule/fired_ms``)."""
    return int(alert_id.rsplit("/", 1)[1])


@dataclass(frozen=True)
class Outcome:
    """What an acknowledgement or a note did: to which alerts, which were already acknowledged, which not found."""

    action: str
    done: list[Alert] = field(default_factory=list)
    already: list[Alert] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def plan(action: str, wanted: Sequence[str], alerts: Iterable[Alert]) -> Outcome:
    """Which of the ``wanted`` alert ids an action applies to: an acknowledgement skips acknowledged alerts."""
    by_id = {a.id: a for a in alerts}
    done = [by_id[i] for i in wanted if i in by_id]
    already = [a for a in done if action == "acknowledged" and a.acknowledged_ms is not None]
    return Outcome(
        action,
        [a for a in done if a not in already],
        already,
        [i for i in wanted if i not in by_id],
    )


# -- CSV ---------------------------------------------------------------------------------------------


def local_time(ms: int | None, zone: ZoneInfo) -> str:
    """A UTC ms time as local wall time with seconds (empty for None): ``2022-01-11 14:15:00``."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def file_stamp(ms: int, zone: ZoneInfo) -> str:
    """A local time for a file name: ``20220111-1415``."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).strftime("%Y%m%d-%H%M")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # a note typed as "=HYPERLINK(...)" must stay text in a spreadsheet (CSV injection)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a byte-order mark, every cell that a spreadsheet would evaluate quoted as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    writer.writerows([_cell(c) for c in row] for row in rows)
    return "\ufeff" + buffer.getvalue()


def measure(value: float | None, rule: str) -> str:
    """A rule's value or threshold with its unit: ``4.31 m``, ``52.0 mm``, ``0.35 m/h``, ``62 min``."""
    if value is None:
        return ""
    unit = rule_unit(rule)
    if unit == "s":
        return f"{value / 60:.0f} min"
    if unit == "mm":
        return f"{value:.1f} mm"
    return f"{value:.2f} {unit}".strip()


def names_in(names: Mapping[str, str], station: str) -> str:
    """The display name of a station (its id when unknown)."""
    return names.get(station, station) if station else ""


def notes_of(alert: Alert, since_ms: int, zone: ZoneInfo) -> str:
    """The notes written on ``alert`` since ``since_ms``: ``2022-01-11 14:20:00 王丽: text; …``."""
    notes = [h for h in alert.history if h["event"] == "noted" and int(h["time"]) >= since_ms and h.get("note")]
    return "; ".join(f"{local_time(int(h['time']), zone)} {h.get('by') or ''}: {h['note']}" for h in notes)

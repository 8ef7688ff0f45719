"""The alert engine: evaluates every rule of a station as each reading is accepted, in event time.

Pure: no I/O and no clock of its own. The pipeline hands it readings and the wall time, and writes
what it returns (line protocol for ``store.alerts``' measurements) in the same batch as the readings,
so alert state is never only in this process's memory: ``restore`` rebuilds it after a restart.

Event time. Each station's readings are evaluated in device-time order. A reading newer than the
station's last one is evaluated at once. An older one (late, out of order, a gateway's backlog
interleaved with live data) rewinds that station: its rule states go back to what they were just
before that time, and every reading of the station from then on is evaluated again. Transitions
that no longer happen are written again marked ``superseded``; the others are rewritten as they
were (idempotent points). So the stored alerts are the same as if the readings had come in order.
A reading older than the kept history (``alerts.history_h``) is stored but not evaluated.

Quality control (QARTOD-style, on levels): ``range`` (decoder: plausibility limits), ``rate``
(faster than the station's ``max_rate_per_h``), ``flat`` (unchanged for ``flat_line_s``). Readings
flagged ``range`` or ``rate`` do not drive threshold rules; every flag raises ``suspect``.

Inhibition (declared in ``INHIBITIONS``): a red alert at a station mutes the lower levels of its
other rules; a stale station mutes its rate-of-rise and forecast rules. Muted events are recorded
with ``muted=true`` and not notified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from config.catalogue import Catalogue, Station
from config.contract import Reading
from config.settings import AlertSettings
from ingest.kept import Kept, Series
from ingest.rules import Rule, rules_for
from ingest.statemachine import EVENTS, RuleState, step
from store.alerts import EVENT, STATE, action_line, alert_id, line

#: flags that make a level unusable for threshold rules
UNUSABLE: Final = frozenset({"range", "rate"})


@dataclass(frozen=True)
class Inhibition:
    """A declared inhibition between the rules of one station.

    While a ``source_rules`` rule (any rule when empty) fires at one of ``source_levels``, events of
    the station's ``target_rules`` (all other rules when empty) below level ``below`` are muted.
    """

    source_levels: frozenset[str]
    source_rules: frozenset[str] = frozenset()
    target_rules: frozenset[str] = frozenset()
    below: str = ""


INHIBITIONS: Final = (
    Inhibition(source_levels=frozenset({"red"}), below="red"),
    Inhibition(
        source_levels=frozenset({"stale"}),
        source_rules=frozenset({"stale"}),
        target_rules=frozenset({"rate", "forecast"}),
    ),
)
_RANK: Final = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}


@dataclass(frozen=True)
class Event:
    """An alert event for people (raised, level_changed, resolved, escalated)."""

    station: str
    rule: str
    event: str
    alert_id: str
    level: str
    time_ms: int
    value: float | None
    threshold: float | None
    reason: str
    muted: bool
    arrival_ms: int
    rose: bool = False  # a level_changed to a higher level


@dataclass
class Active:
    """An alert that is firing, for escalation."""

    event: Event
    acknowledged: bool = False
    escalated: bool = False


@dataclass(frozen=True)
class Restored:
    """One stored ``alert_state`` point, as ``restore`` takes it."""

    station: str
    rule: str
    time_ms: int
    state: RuleState
    transition: str


@dataclass
class Output:
    """What an evaluation produced: points to write, and events to notify and publish."""

    lines: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    stations: set[str] = field(default_factory=set)

    def extend(self, other: Output) -> None:
        """Add ``other``'s results."""
        self.lines += other.lines
        self.events += other.events
        self.stations |= other.stations


@dataclass
class Book:
    """Everything the engine keeps about one station."""

    station: Station
    rules: dict[str, Rule]
    states: dict[str, RuleState]
    base: dict[str, RuleState]  # states as of the start of the kept history
    log: list[tuple[int, str, RuleState, str]] = field(default_factory=list)  # (time, rule, state, transition)
    levels: Series = field(default_factory=Series)  # (time, m, 0, flags), by time
    rain: Series = field(default_factory=Series)  # (end time, mm, interval s, flags), by time
    last_ms: int = 0  # device time of the newest reading

    def history_from(self, time_ms: int) -> list[Reading]:
        """Kept readings at or after ``time_ms``, in time order (levels before rain at equal times)."""
        out = [Reading(self.station.id, "level", t, v, None, f) for t, v, _, f in self.levels.since(time_ms)]
        out += [Reading(self.station.id, "rain", t, v, i, f) for t, v, i, f in self.rain.since(time_ms)]
        return sorted(out, key=lambda r: (r.time_ms, r.quantity))


class Engine:
    """Alert evaluation for every station of a catalogue."""

    def __init__(
        self,
        catalogue: Catalogue,
        settings: AlertSettings,
        critical_rain: Mapping[str, Mapping[int, Mapping[str, float]]] | None = None,
        *,
        flood_limits: Mapping[str, list[tuple[str, str, float]]] | None = None,
        zone: str = "UTC",
    ) -> None:
        self.settings = settings
        self.books: dict[str, Book] = {}
        for station in catalogue.values():
            found = rules_for(
                station,
                settings,
                (critical_rain or {}).get(station.id),
                flood_limits=(flood_limits or {}).get(station.id),
                zone=zone,
            )
            rules = {r.name: r for r in found}
            self.books[station.id] = Book(
                station, rules, dict.fromkeys(rules, RuleState()), dict.fromkeys(rules, RuleState())
            )
        self.active: dict[str, Active] = {}
        self.arrival_ms = 0

    # -- restart ----------------------------------------------------------------------------------
    def restore(
        self, history: Iterable[Reading], base: Iterable[Restored], log: Iterable[Restored], active: Iterable[Active]
    ) -> None:
        """Rebuild after a restart from what InfluxDB holds (``ingest.restore`` reads it).

        Args:
            history: stored readings of the kept history window (already quality-flagged).
            base: each (station, rule)'s last state before that window.
            log: the state transitions inside the window, in time order.
            active: the alerts still firing, with their acknowledgement and escalation.
        """
        for reading in sorted(history, key=lambda r: r.time_ms):
            book = self.books.get(reading.station)
            if book is None:
                continue
            series = book.levels if reading.quantity == "level" else book.rain
            series.put((reading.time_ms, reading.value, reading.interval_s or 0, reading.flags))
            book.last_ms = max(book.last_ms, reading.time_ms)
        for row in base:
            book = self.books.get(row.station)
            if book is not None and row.rule in book.rules:
                book.base[row.rule] = book.states[row.rule] = row.state
        for row in sorted(log, key=lambda r: r.time_ms):
            book = self.books.get(row.station)
            if book is not None and row.rule in book.rules:
                if row.rule != "stale":
                    book.log.append((row.time_ms, row.rule, row.state, row.transition))
                book.states[row.rule] = row.state
        self.active = {a.event.alert_id: a for a in active}

    # -- readings ---------------------------------------------------------------------------------
    def evaluate(self, readings: Iterable[Reading], arrival_ms: int) -> tuple[list[Reading], Output]:
        """Quality-flag and evaluate ``readings``; returns them (with QC flags) and the alert output."""
        self.arrival_ms = arrival_ms
        out = Output()
        flagged: list[Reading] = []
        for reading in readings:
            book = self.books.get(reading.station)
            if book is None:
                flagged.append(reading)
                continue
            checked = self._qc(book, reading)
            flagged.append(checked)
            out.extend(self._accept(book, checked))
        return flagged, out

    def _qc(self, book: Book, reading: Reading) -> Reading:
        if reading.quantity != "level":
            return reading
        flags = set(filter(None, reading.flags.split(",")))
        levels = book.levels
        index = levels.find(reading.time_ms)
        if index and book.station.max_rate_per_h:
            t0, v0 = levels.times[index - 1], levels.values[index - 1]
            hours = (reading.time_ms - t0) / 3_600_000
            if hours > 0 and abs(reading.value - v0) / hours > book.station.max_rate_per_h:
                flags.add("rate")
        span = self.settings.flat_line_s * 1000
        if span and index:
            earliest = levels.find(reading.time_ms - span)
            window = levels.values[earliest:index]
            if (
                window
                and levels.times[earliest] <= reading.time_ms - span
                and window.count(reading.value) == len(window)
            ):
                flags.add("flat")
        return replace(reading, flags=",".join(sorted(flags)))

    def _accept(self, book: Book, reading: Reading) -> Output:
        horizon = max(book.last_ms, reading.time_ms) - self.settings.history_h * 3_600_000
        if reading.time_ms < horizon:
            return Output()  # older than the kept history: stored, not evaluated
        series = book.levels if reading.quantity == "level" else book.rain
        item: Kept = (reading.time_ms, reading.value, reading.interval_s or 0, reading.flags)
        if not series.put(item):  # a corrected value replaces the old one
            return Output()  # a duplicate: nothing changes
        if reading.time_ms > book.last_ms:
            book.last_ms = reading.time_ms
            out = self._evaluate_at(book, reading)
        else:
            out = self._rewind(book, reading.time_ms)
        self._trim(book)
        return out

    def _rewind(self, book: Book, time_ms: int) -> Output:
        kept = [entry for entry in book.log if entry[0] < time_ms]
        replaced = [entry for entry in book.log if entry[0] >= time_ms]
        book.log = kept
        for name in book.rules:
            if name != "stale":  # stale lives in wall time: late readings do not rewind it
                book.states[name] = next((s for t, r, s, _ in reversed(kept) if r == name), book.base[name])
        out = Output()
        for reading in book.history_from(time_ms):
            out.extend(self._evaluate_at(book, reading))
        fresh = {(t, r, tr) for t, r, _, tr in book.log if t >= time_ms}
        for t, rule, _, transition in replaced:
            if (t, rule, transition) not in fresh:
                out.lines += self._superseded(book.station.id, rule, transition, t)
        return out

    def _trim(self, book: Book) -> None:
        cutoff = book.last_ms - self.settings.history_h * 3_600_000
        book.levels.drop_before(cutoff)
        book.rain.drop_before(cutoff)
        while book.log and book.log[0][0] < cutoff:
            _, rule, state, _ = book.log.pop(0)
            book.base[rule] = state

    # -- measures ---------------------------------------------------------------------------------
    def _measures(self, book: Book, reading: Reading) -> dict[str, float | None]:
        flags = set(filter(None, reading.flags.split(",")))
        measures: dict[str, float | None] = {"suspect": 1.0 if flags else 0.0}
        if reading.quantity == "level":
            usable = None if flags & UNUSABLE else reading.value
            measures["level"] = measures["flood_limit"] = usable
            slope = None if usable is None else self._slope(book, reading.time_ms)
            measures["rate"] = slope
            if slope is not None and usable is not None:
                measures["forecast"] = usable + max(slope, 0.0) * self.settings.forecast_horizon_s / 3600
        else:
            for name, rule in book.rules.items():
                if name.startswith("rain_"):
                    measures[name] = self._rain_sum(book, reading.time_ms, rule.window_s)
        return measures

    def _slope(self, book: Book, time_ms: int) -> float | None:
        """Rise in m/h over the rate window (None without a usable reading near its start)."""
        window = self.settings.rate_window_s * 1000
        start = time_ms - window
        levels = book.levels
        index = levels.find(start)
        candidates = [levels[i] for i in (index - 1, index) if 0 <= i < len(levels)]
        usable = [
            (t, v)
            for t, v, _, f in candidates
            if t < time_ms and not set(f.split(",")) & UNUSABLE and abs(t - start) <= window / 2
        ]
        current = levels[levels.find(time_ms)]
        if not usable:
            return None
        t0, v0 = min(usable, key=lambda tv: abs(tv[0] - start))
        return (current[1] - v0) / ((time_ms - t0) / 3_600_000)

    @staticmethod
    def _rain_sum(book: Book, time_ms: int, window_s: int) -> float:
        """Rain in (t - window, t]: readings whose interval fits the window, pro rata at its start."""
        start = time_ms - window_s * 1000
        rain = book.rain
        first, last = rain.after(start), rain.after(time_ms)  # ending in (start, time_ms]
        uniform = rain.uniform_interval()
        if uniform is not None and 0 < uniform <= window_s:
            # every reading fits: those that began before the start count pro rata, the rest whole
            # (one subtraction of running sums)
            total, index = 0.0, first
            while index < last and rain.times[index] - uniform * 1000 < start:
                total += rain.values[index] * (rain.times[index] - start) / (uniform * 1000)
                index += 1
            return round(total + rain.total(index, last), 6)
        total = 0.0
        for index in range(first, last):
            end, mm, interval = rain.times[index], rain.values[index], rain.intervals[index]
            if interval > window_s or interval <= 0:
                continue  # a daily total says nothing about 3 hours
            begin = end - interval * 1000
            overlap = min(end, time_ms) - max(begin, start)
            if overlap > 0:
                total += mm * overlap / (interval * 1000)
        return round(total, 6)

    # -- transitions ------------------------------------------------------------------------------
    def _evaluate_at(self, book: Book, reading: Reading) -> Output:
        out = Output()
        for name, measure in self._measures(book, reading).items():
            rule = book.rules.get(name)
            if rule is None:
                continue
            rule = rule.at(reading.time_ms)
            hold = self.settings.hold_s
            pending = 0 if name == "suspect" else self.settings.pending_s
            state, transition = step(book.states[name], measure, reading.time_ms, rule, pending_s=pending, hold_s=hold)
            if transition is not None:
                out.extend(self._transition(book, rule, book.states[name], (state, transition), reading.time_ms))
        return out

    def _transition(
        self, book: Book, rule: Rule, before: RuleState, change: tuple[RuleState, str], time_ms: int
    ) -> Output:
        state, transition = change
        station = book.station.id
        book.states[rule.name] = state
        if rule.name != "stale":
            book.log.append((time_ms, rule.name, state, transition))
        fired = state.fired_ms if state.fired_ms is not None else before.fired_ms
        ident = alert_id(station, rule.name, fired) if fired is not None else ""
        level = state.level or before.level
        threshold = rule.threshold(level) if level else None
        out = Output(stations={station})
        out.lines.append(
            line(
                STATE,
                {"station": station, "rule": rule.name},
                {
                    "state": state.state,
                    "level": state.level,
                    "transition": transition,
                    "alert_id": ident,
                    "since_ms": state.since_ms,
                    "fired_ms": state.fired_ms,
                    "below": state.below_text(),
                    "value": state.value,
                    "threshold": threshold,
                    "superseded": False,
                },
                time_ms,
            )
        )
        if transition in EVENTS:
            muted = self._muted(book, rule.name, level)
            event = Event(
                station,
                rule.name,
                transition,
                ident,
                level,
                time_ms,
                state.value,
                threshold,
                _reason(rule, transition, level, state.value, threshold),
                muted,
                self.arrival_ms,
                rose=transition == "level_changed" and _RANK.get(level, 0) > _RANK.get(before.level, 0),
            )
            out.lines.append(_event_line(event))
            out.events.append(event)
            if transition == "resolved":
                self.active.pop(ident, None)
            elif transition == "raised" or ident not in self.active:
                self.active[ident] = Active(event)
            else:
                self.active[ident].event = event
        return out

    def _muted(self, book: Book, rule: str, level: str) -> bool:
        for inhibition in INHIBITIONS:
            if inhibition.target_rules and rule not in inhibition.target_rules:
                continue
            if inhibition.below and _RANK.get(level, 0) >= _RANK[inhibition.below]:
                continue
            for source, state in book.states.items():
                if source == rule or state.state not in ("firing", "recovering"):
                    continue
                if (not inhibition.source_rules or source in inhibition.source_rules) and (
                    state.level in inhibition.source_levels
                ):
                    return True
        return False

    @staticmethod
    def _superseded(station: str, rule: str, transition: str, time_ms: int) -> list[str]:
        lines = [line(STATE, {"station": station, "rule": rule}, {"superseded": True}, time_ms)]
        if transition in EVENTS:
            lines.append(
                line(EVENT, {"station": station, "rule": rule, "event": transition}, {"superseded": True}, time_ms)
            )
        return lines

    def station_state(self, station: str) -> dict[str, Any]:
        """The station's alert state as published (retained) on MQTT for other systems."""
        book = self.books[station]
        alerts = [
            {
                "rule": name,
                "state": state.state,
                "level": state.level,
                "since": state.since_ms,
                "fired": state.fired_ms,
                "value": state.value,
                "threshold": book.rules[name].threshold(state.level) if state.level else None,
            }
            for name, state in book.states.items()
            if state.state != "ok"
        ]
        firing = [str(a["level"]) for a in alerts if a["state"] in ("firing", "recovering")]
        level = max(firing, key=lambda lv: _RANK.get(lv, 0), default="")
        return {"station": station, "time": book.last_ms, "level": level, "alerts": alerts}

    # -- the clock --------------------------------------------------------------------------------
    def tick(self, now_ms: int) -> Output:
        """Stale stations at wall time ``now_ms``.

        A station is stale when its newest reading (device time) is older than max(3 x interval,
        15 min): raised at the tick that notices, resolved at the tick after current data arrived.
        Silent beyond ``stale_max_age_h`` it is offline: no new stale alert (the map shows it grey).
        Stale is about the present, so it lives in wall time and late readings do not rewind it.
        """
        out = Output()
        max_age = self.settings.stale_max_age_h * 3_600_000
        for book in self.books.values():
            rule = book.rules["stale"]
            age = now_ms - book.last_ms
            state = book.states["stale"]
            if not book.last_ms or (state.state == "ok" and age > max_age):
                continue
            new, transition = step(state, age / 1000, now_ms, rule, pending_s=0, hold_s=0)
            if transition is not None:
                out.extend(self._transition(book, rule, state, (new, transition), now_ms))
        return out

    def escalations(self, now_ms: int) -> list[Event]:
        """Firing alerts not acknowledged within ``escalate_after_s`` (each escalated once)."""
        after = self.settings.escalate_after_s * 1000
        due: list[Event] = []
        if not after:
            return due
        for active in self.active.values():
            raised = active.event
            if active.acknowledged or active.escalated or raised.muted:
                continue
            if now_ms - raised.arrival_ms >= after:
                active.escalated = True
                due.append(
                    replace(
                        raised,
                        event="escalated",
                        time_ms=now_ms,
                        reason=f"not acknowledged within {self.settings.escalate_after_s // 60} min",
                    )
                )
        return due

    def acknowledged(self, ids: Iterable[str]) -> None:
        """Mark alerts as acknowledged (they no longer escalate)."""
        for ident in ids:
            if ident in self.active:
                self.active[ident].acknowledged = True


def escalation_line(event: Event) -> str:
    """The ``alert_action`` point of an escalation."""
    return action_line(
        "escalated", event.alert_id, event.station, by="floodwatch", note=event.reason, time_ms=event.time_ms
    )


def _event_line(event: Event) -> str:
    return line(
        EVENT,
        {"station": event.station, "rule": event.rule, "event": event.event},
        {
            "alert_id": event.alert_id,
            "level": event.level,
            "value": event.value,
            "threshold": event.threshold,
            "reason": event.reason,
            "muted": event.muted,
            "arrival_ms": event.arrival_ms,
            "superseded": False,
        },
        event.time_ms,
    )


def _reason(rule: Rule, transition: str, level: str, value: float | None, threshold: float | None) -> str:
    """Why, in one English line (messages in other languages are built from the event's fields)."""
    what = {
        "level": "water level",
        "flood_limit": "reservoir level",
        "rate": "rate of rise",
        "forecast": "level forecast",
        "stale": "no reading for",
        "suspect": "suspect reading",
    }.get(rule.name, f"rain in {rule.window_s // 3600} h")
    shown = "" if value is None else f"{value:.2f} {rule.unit}".strip()
    if transition == "resolved":
        return f"{what} back below {level} threshold ({shown})"
    if rule.name == "forecast":
        return f"trend reaches the warning stage {threshold} m within {rule.window_s // 60} min ({shown} projected)"
    return f"{what} {shown} ≥ {level} threshold {threshold} {rule.unit}".strip()

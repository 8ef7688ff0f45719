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
A reading older than the kept history is stored but not evaluated. The history kept per station is
``alerts.history_h``, or longer when a rule looks further back (a 72-hour critical-rainfall window).

Rules are table-driven: each rule has a kind (``ingest.rules``), and ``MEASURES`` says how each
kind is measured on a reading, ``FACTS`` what an explanation of its events tells beyond the value.
Every alert event carries a ``store.explain.Explanation``.

Quality control (QARTOD-style, on levels; see ``ingest.levels``): ``range`` (decoder: plausibility
limits), ``rate`` (a jump from the last plausible reading faster than the station's
``max_rate_per_h``: a spike; the reading after it is compared with the one before it, so one spike
flags one reading), ``flat`` (unchanged longer than the flat-line limit). Readings flagged ``range``
or ``rate`` do not drive threshold rules or trends; every flag raises ``suspect``.

Inhibition (declared in ``INHIBITIONS``): a red alert at a station mutes the lower levels of its
other rules; a stale station mutes its rate-of-rise and forecast rules. Muted events are recorded
with ``muted=true`` and not notified. A forecast never aims at a threshold the level alert already
stands at (its rule's ``beyond``), so it is not muted by it but not raised at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final
from zoneinfo import ZoneInfo

from config.catalogue import Catalogue, Station
from config.contract import Reading
from config.settings import AlertSettings
from ingest.kept import Kept, Series
from ingest.levels import HOUR_MS, Flat, Trend, flat_run, last_usable, trend, usable
from ingest.rules import QUANTITY, Rule, rules_for
from ingest.statemachine import CLEAR, EVENTS, RuleState, step
from store.alerts import EVENT, STATE, action_line, alert_id, line
from store.explain import Explanation, Scalar, render

_RANK: Final = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}


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
    explanation: Explanation | None = None  # why, in numbers; ``store.explain.render`` says it in words


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
    keep_ms: int  # how far back from its newest reading its readings are kept
    log: list[tuple[int, str, RuleState, str]] = field(default_factory=list)  # (time, rule, state, transition)
    levels: Series = field(default_factory=Series)  # (time, m, 0, flags), by time
    rain: Series = field(default_factory=Series)  # (end time, mm, interval s, flags), by time
    last_ms: int = 0  # device time of the newest reading

    def history_from(self, time_ms: int) -> list[Reading]:
        """Kept readings at or after ``time_ms``, in time order (levels before rain at equal times)."""
        out = [Reading(self.station.id, "level", t, v, None, f) for t, v, _, f in self.levels.since(time_ms)]
        out += [Reading(self.station.id, "rain", t, v, i, f) for t, v, i, f in self.rain.since(time_ms)]
        return sorted(out, key=lambda r: (r.time_ms, r.quantity))


class Now:
    """The reading being evaluated at a station, and what the measures of its rules share (the trend)."""

    __slots__ = ("_trend", "_trend_done", "book", "reading", "settings", "value")

    def __init__(self, book: Book, reading: Reading, settings: AlertSettings) -> None:
        self.book, self.reading, self.settings = book, reading, settings
        #: the level, when it may drive thresholds and trends (None: flagged range or rate, or rain)
        self.value = reading.value if reading.quantity == "level" and usable(reading.flags) else None
        self._trend: Trend | None = None
        self._trend_done = 0  # the window of the trend computed, ms

    def trend(self, window_ms: int) -> Trend | None:
        """The level's trend over ``window_ms`` up to this reading (computed once)."""
        if self.value is None:
            return None
        if self._trend_done != window_ms:
            self._trend, self._trend_done = trend(self.book.levels, self.reading.time_ms, window_ms), window_ms
        return self._trend


#: a kind's measure of one reading: (the measure, or None when this reading says nothing; the rule in force)
Measure = Callable[[Now, Rule], tuple[float | None, Rule]]


def _level_measure(now: Now, rule: Rule) -> tuple[float | None, Rule]:
    return now.value, rule.at(now.reading.time_ms)


def _rate_measure(now: Now, rule: Rule) -> tuple[float | None, Rule]:
    found = now.trend(rule.window_s * 1000)
    return (None if found is None else found.slope), rule


def _forecast_target(now: Now, rule: Rule) -> tuple[str, float] | None:
    """The next threshold not yet reached: above the level and above the level alert in force.

    Returns the forecast's level and the target (the level alert's ladder one rung up), or None
    when there is nothing above to aim at.
    """
    assert now.value is not None  # noqa: S101 - called only with a usable level
    stands = now.book.states.get(rule.beyond)
    standing = _RANK.get(stands.level, 0) if stands is not None and stands.state in ("firing", "recovering") else 0
    for level, target in rule.thresholds:
        if target > now.value and _RANK[level] + 1 > standing:
            return level, target
    return None


def _forecast_measure(now: Now, rule: Rule) -> tuple[float | None, Rule]:
    """The projected level against the one target in force.

    ``CLEAR`` when the trend does not rise (the forecast ends at once) or there is no target left;
    the level itself, not projected, when the trend would raise it by less than the deadband within
    the horizon (a crest wobbling on a threshold is not a forecast).
    """
    found = now.trend(rule.window_s * 1000)
    if found is None or now.value is None:
        return None, rule
    target = _forecast_target(now, rule)
    if target is None or found.slope <= 0:
        return CLEAR, rule
    in_force = replace(rule, thresholds=(target,))
    rise = found.slope * rule.horizon_s / 3600
    return now.value + (rise if rise >= rule.deadband else 0.0), in_force


def _rain_measure(now: Now, rule: Rule) -> tuple[float | None, Rule]:
    return rain_sum(now.book.rain, now.reading.time_ms, rule.window_s), rule


def _suspect_measure(now: Now, rule: Rule) -> tuple[float | None, Rule]:
    return (1.0 if now.reading.flags else 0.0), rule


#: how each kind of rule is measured on a reading (``stale`` is measured by ``Engine.tick``)
MEASURES: Final[dict[str, Measure]] = {
    "level": _level_measure,
    "flood_limit": _level_measure,
    "rate": _rate_measure,
    "forecast": _forecast_measure,
    "rain": _rain_measure,
    "suspect": _suspect_measure,
}


def rain_sum(rain: Series, time_ms: int, window_s: int) -> float:
    """Rain in (t - window, t]: readings whose interval fits the window, pro rata at its start."""
    start = time_ms - window_s * 1000
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


@dataclass(frozen=True)
class Change:
    """One transition of one rule, with what explains it."""

    rule: Rule  # the station's rule (all its thresholds)
    before: RuleState
    after: RuleState
    transition: str
    time_ms: int
    now: Now | None  # the reading that caused it (None: the clock, for stale)


#: what an explanation tells beyond the value, per kind: (change) -> facts
Facts = Callable[[Change, AlertSettings], dict[str, Scalar]]


def _level_facts(change: Change, _settings: AlertSettings) -> dict[str, Scalar]:
    rule, before = change.rule, change.before
    if change.transition == "level_changed" and _RANK.get(before.level, 0) > _RANK.get(change.after.level, 0):
        in_force = rule.at(change.time_ms)
        if before.level in dict(in_force.thresholds):
            return {
                "previous_threshold": in_force.threshold(before.level),
                "previous_source": in_force.source(before.level),
            }
    return {}


def _trend_facts(change: Change, _settings: AlertSettings) -> dict[str, Scalar]:
    now = change.now
    found = None if now is None else now.trend(change.rule.window_s * 1000)
    facts: dict[str, Scalar] = {}
    if now is not None and now.value is not None:
        facts["current_m"] = now.value
    if found is not None:
        facts.update(slope_m_per_h=found.slope, readings=found.readings, span_s=found.span_ms // 1000)
    return facts


def _forecast_facts(change: Change, settings: AlertSettings) -> dict[str, Scalar]:
    facts = _trend_facts(change, settings)
    now, rule = change.now, change.rule
    level = change.after.level if change.transition != "resolved" else change.before.level
    if now is None or now.value is None or level not in dict(rule.thresholds):
        return facts
    target = rule.threshold(level)
    slope = float(facts.get("slope_m_per_h", 0.0))
    if change.transition == "resolved":
        aimed = _forecast_target(now, rule)
        if aimed is None or aimed[1] != target:
            facts["cause"] = "reached"
        elif slope <= 0:
            facts["cause"] = "turned"
        else:
            facts["cause"] = "slowed"
    elif slope > 0:
        eta_s = int((target - now.value) / slope * 3600)
        facts.update(eta_s=eta_s, eta_ms=change.time_ms + eta_s * 1000)
    return facts


def _stale_facts(change: Change, _settings: AlertSettings) -> dict[str, Scalar]:
    return {"last_ms": change.now.book.last_ms if change.now else 0}


def _suspect_facts(change: Change, settings: AlertSettings) -> dict[str, Scalar]:
    now = change.now
    if now is None:
        return {}
    reading, book = now.reading, now.book
    if reading.quantity != "level":
        return {"flag": "flag", "flags": reading.flags, "reading_m": f"{reading.value:.1f} mm"}
    facts: dict[str, Scalar] = {"reading_m": reading.value}
    flags = [f for f in ("rate", "range", "flat") if f in reading.flags.split(",")]
    if change.transition == "resolved" or not flags:
        return facts
    facts["flag"], facts["flags"] = flags[0], reading.flags
    station = book.station
    levels = book.levels
    index = levels.find(reading.time_ms)
    if flags[0] == "rate" and station.max_rate_per_h:
        previous = last_usable(levels, index)
        if previous is not None:
            t0, v0 = levels.times[previous], levels.values[previous]
            facts.update(
                previous_m=v0,
                previous_ms=t0,
                jump_m=abs(reading.value - v0),
                speed_m_per_h=abs(reading.value - v0) / max((reading.time_ms - t0) / HOUR_MS, 1e-9),
                max_rate_m_per_h=station.max_rate_per_h,
            )
    elif flags[0] == "range":
        facts.update(low_m=station.plaus_min if station.plaus_min is not None else "-∞")
        facts.update(high_m=station.plaus_max if station.plaus_max is not None else "∞")
    elif flags[0] == "flat":
        run = _flat(book, settings, index, reading.value, reading.time_ms)
        if run is not None:
            facts.update(
                since_ms=run.since_ms,
                readings=run.readings,
                duration_s=run.duration_ms // 1000,
                limit_s=run.limit_ms // 1000,
                resolution_m=run.resolution,
            )
            if run.step_ms:
                facts.update(lookback_s=run.lookback_ms // 1000, change_m=run.change, step_s=run.step_ms // 1000)
    return facts


FACTS: Final[dict[str, Facts]] = {
    "level": _level_facts,
    "flood_limit": _level_facts,
    "rain": _level_facts,
    "rate": _trend_facts,
    "forecast": _forecast_facts,
    "stale": _stale_facts,
    "suspect": _suspect_facts,
}


def _flat(book: Book, settings: AlertSettings, index: int, value: float, time_ms: int) -> Flat | None:
    return flat_run(
        book.levels,
        index,
        value,
        time_ms,
        resolution=book.station.resolution_m,
        min_ms=settings.flat_line_s * 1000,
        max_ms=settings.flat_line_max_s * 1000,
    )


def keep_ms(rules: Iterable[Rule], settings: AlertSettings) -> int:
    """How much history a station's rules need: ``history_h``, or the longest look back plus an hour."""
    longest = max([r.window_s for r in rules] + [settings.flat_line_max_s + settings.flat_line_s], default=0)
    return max(settings.history_h * HOUR_MS, longest * 1000 + HOUR_MS)


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
        self.zone = ZoneInfo(zone)
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
                station,
                rules,
                dict.fromkeys(rules, RuleState()),
                dict.fromkeys(rules, RuleState()),
                keep_ms(found, settings),
            )
        self.active: dict[str, Active] = {}
        self.arrival_ms = 0

    @property
    def history_ms(self) -> int:
        """The longest history any station keeps (what ``restore`` reads back)."""
        return max((b.keep_ms for b in self.books.values()), default=self.settings.history_h * HOUR_MS)

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
        if book.station.max_rate_per_h:
            previous = last_usable(levels, index)
            if previous is not None:
                t0, v0 = levels.times[previous], levels.values[previous]
                hours = (reading.time_ms - t0) / HOUR_MS
                if hours > 0 and abs(reading.value - v0) / hours > book.station.max_rate_per_h:
                    flags.add("rate")
        if self.settings.flat_line_s and index:
            run = _flat(book, self.settings, index, reading.value, reading.time_ms)
            if run is not None and run.suspect:
                flags.add("flat")
        joined = ",".join(sorted(flags))
        return reading if joined == reading.flags else replace(reading, flags=joined)

    def _accept(self, book: Book, reading: Reading) -> Output:
        horizon = max(book.last_ms, reading.time_ms) - book.keep_ms
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
        cutoff = book.last_ms - book.keep_ms
        book.levels.drop_before(cutoff)
        book.rain.drop_before(cutoff)
        while book.log and book.log[0][0] < cutoff:
            _, rule, state, _ = book.log.pop(0)
            book.base[rule] = state

    # -- transitions ------------------------------------------------------------------------------
    def _evaluate_at(self, book: Book, reading: Reading) -> Output:
        out = Output()
        now = Now(book, reading, self.settings)
        for name, rule in book.rules.items():
            quantity = QUANTITY[rule.kind]
            if quantity not in (reading.quantity, "any"):
                continue
            measure, in_force = MEASURES[rule.kind](now, rule)
            pending = 0 if rule.kind == "suspect" else self.settings.pending_s
            hold = self.settings.hold_s if rule.hold_s is None else rule.hold_s
            before = book.states[name]
            state, transition = step(before, measure, reading.time_ms, in_force, pending_s=pending, hold_s=hold)
            if transition is not None:
                out.extend(self._transition(book, Change(rule, before, state, transition, reading.time_ms, now)))
        return out

    def _transition(self, book: Book, change: Change) -> Output:
        rule, before, state, transition, time_ms = (
            change.rule,
            change.before,
            change.after,
            change.transition,
            change.time_ms,
        )
        station = book.station.id
        book.states[rule.name] = state
        if rule.name != "stale":
            book.log.append((time_ms, rule.name, state, transition))
        fired = state.fired_ms if state.fired_ms is not None else before.fired_ms
        ident = alert_id(station, rule.name, fired) if fired is not None else ""
        level = state.level or before.level
        in_force = rule.at(time_ms)
        threshold = _threshold(in_force, level) if level else None
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
            explanation = self._explain(book, change, in_force, level, threshold)
            event = Event(
                station,
                rule.name,
                transition,
                ident,
                level,
                time_ms,
                state.value,
                threshold,
                render(explanation, "en", self.zone),
                muted,
                self.arrival_ms,
                rose=transition == "level_changed" and _RANK.get(level, 0) > _RANK.get(before.level, 0),
                explanation=explanation,
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

    def _explain(self, book: Book, change: Change, in_force: Rule, level: str, threshold: float | None) -> Explanation:
        rule, station, settings = change.rule, book.station, self.settings
        params: dict[str, Scalar] = {
            "deadband": rule.deadband,
            "hold_s": settings.hold_s if rule.hold_s is None else rule.hold_s,
            "pending_s": 0 if rule.kind == "suspect" else settings.pending_s,
        }
        if rule.window_s:
            params["window_s"] = rule.window_s
        if rule.horizon_s:
            params["horizon_s"] = rule.horizon_s
        source = in_force.source(level) if level in dict(in_force.thresholds) else rule.source(level)
        if source == "blue_margin":
            params["margin"] = settings.blue_margin_m
        if in_force.season:
            params["season"] = in_force.season
        if rule.kind == "stale":
            params["interval_s"] = station.interval_s
        return Explanation(
            rule=rule.name,
            kind=rule.kind,
            event=change.transition,
            level=level,
            time_ms=change.time_ms,
            value=change.after.value,
            threshold=threshold,
            unit=rule.unit,
            display_unit=station.level_unit if rule.unit in ("m", "m/h") else "",
            source=source,
            note=rule.note,
            previous=change.before.level if change.transition == "level_changed" else "",
            params=params,
            facts=FACTS[rule.kind](change, settings),
        )

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
                "threshold": _threshold(book.rules[name], state.level) if state.level else None,
            }
            for name, state in book.states.items()
            if state.state != "ok"
        ]
        firing = [str(a["level"]) for a in alerts if a["state"] in ("firing", "recovering")]
        level = max(firing, key=lambda lv: _RANK.get(lv, 0), default="")
        return {"station": station, "time": book.last_ms, "level": level, "alerts": alerts}

    # -- the clock --------------------------------------------------------------------------------
    def tick(self, now_ms: int, stations: Iterable[str] | None = None) -> Output:
        """Stale stations at wall time ``now_ms`` (``stations``: only those; a backtest ticks in event time).

        A station is stale when its newest reading (device time) is older than max(3 x interval,
        15 min): raised at the tick that notices, resolved at the tick after current data arrived.
        Silent beyond ``stale_max_age_h`` it is offline: no new stale alert (the map shows it grey).
        Stale is about the present, so it lives in wall time and late readings do not rewind it.
        """
        out = Output()
        max_age = self.settings.stale_max_age_h * HOUR_MS
        books = self.books.values() if stations is None else [self.books[s] for s in stations]
        for book in books:
            rule = book.rules["stale"]
            age = now_ms - book.last_ms
            state = book.states["stale"]
            if not book.last_ms or (state.state == "ok" and age > max_age):
                continue
            new, transition = step(state, age / 1000, now_ms, rule, pending_s=0, hold_s=0)
            if transition is not None:
                now = Now(book, Reading(book.station.id, "level", book.last_ms, 0.0), self.settings)
                out.extend(self._transition(book, Change(rule, state, new, transition, now_ms, now)))
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
                explanation = (
                    None
                    if raised.explanation is None
                    else raised.explanation.escalated(self.settings.escalate_after_s, now_ms)
                )
                reason = (
                    render(explanation, "en", self.zone)
                    if explanation is not None
                    else f"not acknowledged within {self.settings.escalate_after_s // 60} min"
                )
                due.append(replace(raised, event="escalated", time_ms=now_ms, reason=reason, explanation=explanation))
        return due

    def acknowledged(self, ids: Iterable[str]) -> None:
        """Mark alerts as acknowledged (they no longer escalate)."""
        for ident in ids:
            if ident in self.active:
                self.active[ident].acknowledged = True


def _threshold(rule: Rule, level: str) -> float | None:
    """The threshold of ``level`` in ``rule`` (None when the rule in force has none at that level)."""
    return dict(rule.thresholds).get(level)


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
            "explain": event.explanation.to_json() if event.explanation is not None else None,
            "muted": event.muted,
            "arrival_ms": event.arrival_ms,
            "superseded": False,
        },
        event.time_ms,
    )

"""The alert state machine of one (station, rule): a pure step over (state, measure, time).

ok → pending (the condition must hold ``pending_s``) → firing, whose level rises at once and falls
only after the measure has stayed below the lower level's threshold minus the deadband for
``hold_s`` (recovering) → resolved (ok). Pending never notifies. Times are event times (the
readings' device timestamps), passed in: the clock is an argument (STYLE.md 12, 13).

A measure of ``CLEAR`` says the condition is gone altogether (a forecast whose trend has turned):
it ends an alert at once, without deadband or hold, and cancels a pending one. ``steady`` gives the
measures for which a step changes nothing, so that a run of readings may be passed over (the engine's
batch path) without stepping through each one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from ingest.rules import LEVELS, Rule


@dataclass(frozen=True)
class RuleState:
    """Where one (station, rule) stands. Timestamps, not flags."""

    state: str = "ok"  # ok | pending | firing | recovering
    level: str = ""
    since_ms: int | None = None  # the condition holds since
    fired_ms: int | None = None
    #: per level at or below the current one: since when the measure is below its threshold - deadband
    below: tuple[tuple[str, int], ...] = ()
    value: float | None = None
    time_ms: int = 0  # event time of the last transition

    def below_text(self) -> str:
        """``below`` as stored: ``yellow:1641881700000,blue:1641881700000``."""
        return ",".join(f"{level}:{since}" for level, since in self.below)

    @staticmethod
    def parse_below(text: str | None) -> tuple[tuple[str, int], ...]:
        """The inverse of ``below_text``."""
        pairs = [item.split(":") for item in (text or "").split(",") if item]
        return tuple((level, int(since)) for level, since in pairs)


#: transitions that are alert events for people; the others only move the state
EVENTS = ("raised", "level_changed", "resolved")
#: a measure that ends an alert at once (the condition is gone, not merely below its threshold)
CLEAR: Final = -math.inf


def _rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else (1 if level else 0)


def step(
    state: RuleState, measure: float | None, time_ms: int, rule: Rule, *, pending_s: int, hold_s: int
) -> tuple[RuleState, str | None]:
    """Advance ``state`` by one measurement at ``time_ms``; returns the new state and its transition.

    Transitions: ``pending``, ``cancelled`` (pending that did not last), ``raised``, ``level_changed``,
    ``recovering``, ``refiring`` (back above while recovering), ``holding`` (a lower level's hold timer
    started or stopped), ``resolved``, or None.
    A ``None`` measure (no usable reading) changes nothing.
    """
    if measure is None:
        return state, None
    if measure == CLEAR:
        if state.state == "pending":
            return RuleState(time_ms=time_ms), "cancelled"
        if state.state in ("firing", "recovering"):
            return RuleState(time_ms=time_ms), "resolved"
        return state, None
    if state.state in ("ok", "pending"):
        return _quiet(state, measure, time_ms, rule, pending_s)
    return _active(state, measure, time_ms, rule, hold_s)


def _quiet(state: RuleState, measure: float, time_ms: int, rule: Rule, pending_s: int) -> tuple[RuleState, str | None]:
    reached = rule.level_of(measure)
    if reached is None:
        if state.state == "pending":
            return RuleState(value=measure, time_ms=time_ms), "cancelled"
        return state, None
    since = state.since_ms if state.state == "pending" and state.since_ms is not None else time_ms
    if time_ms - since >= pending_s * 1000:
        return RuleState("firing", reached, since, time_ms, (), measure, time_ms), "raised"
    if state.state == "pending" and state.level == reached:
        return state, None
    return RuleState("pending", reached, since, None, (), measure, time_ms), "pending"


def _active(state: RuleState, measure: float, time_ms: int, rule: Rule, hold_s: int) -> tuple[RuleState, str | None]:
    reached = rule.level_of(measure)
    if reached is not None and _rank(reached) > _rank(state.level):
        return replace(state, state="firing", level=reached, below=(), value=measure, time_ms=time_ms), "level_changed"
    known = dict(state.below)
    below = tuple(
        (level, known.get(level, time_ms))
        for level, threshold in rule.thresholds
        if _rank(level) <= _rank(state.level) and measure < threshold - rule.deadband
    )
    held = {level for level, since in below if time_ms - since >= hold_s * 1000}
    keep = [level for level, _ in rule.thresholds if _rank(level) <= _rank(state.level) and level not in held]
    if not keep:
        return RuleState(value=measure, time_ms=time_ms), "resolved"
    level = keep[-1]
    recovering = any(lv == level for lv, _ in below)
    name = "recovering" if recovering else "firing"
    changed = replace(state, state=name, level=level, below=below, value=measure, time_ms=time_ms)
    if level != state.level:
        return changed, "level_changed"
    if name != state.state:
        return changed, "recovering" if recovering else "refiring"
    if below != state.below:
        return changed, "holding"  # a lower level's hold timer started or stopped: stored, not an event
    return state, None


def steady(state: RuleState, rule: Rule) -> tuple[float, float] | None:
    """The measures ``[low, high)`` at which ``step`` leaves ``state`` as it is, at any time.

    None when time alone may move it (pending, or recovering with hold timers running). ``CLEAR`` is
    never steady for an active alert.
    """
    thresholds = [value for _, value in rule.thresholds]
    if not thresholds:
        return (-math.inf, math.inf) if state.state == "ok" else None
    if state.state == "ok":
        return (CLEAR, thresholds[0])
    if state.state != "firing" or state.below:
        return None
    ranks = [_rank(level) for level, _ in rule.thresholds]
    if _rank(state.level) not in ranks:
        return None
    index = ranks.index(_rank(state.level))
    high = thresholds[index + 1] if index + 1 < len(thresholds) else math.inf
    return (thresholds[index] - rule.deadband, high)

"""The alert engine as tables of readings against event time (STYLE.md 17): no services, no clock."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.catalogue import Catalogue, parse_row
from config.contract import Reading
from config.errors import ConfigError
from config.settings import AlertSettings
from ingest.engine import Engine, Event, Restored
from ingest.rules import read_critical_rain, read_flood_limits
from ingest.statemachine import RuleState

T0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000
MIN = 60_000


def catalogue() -> Catalogue:
    rows = [
        {
            "id": "RIV",
            "name_en": "river",
            "kind": "river",
            "interval_s": "300",
            "warning_m": "2.0",
            "guaranteed_m": "3.0",
            "historical_max_m": "4.0",
            "max_rate_per_h": "30",
        },
        {"id": "GAUGE", "name_en": "gauge", "kind": "rain", "interval_s": "900"},
        {
            "id": "BOTH",
            "name_en": "both",
            "kind": "river",
            "quantities": "level rain",
            "warning_m": "2.0",
            "historical_max_m": "3.0",
        },
    ]
    return Catalogue({r["id"]: parse_row(r) for r in rows})


def engine(**overrides: object) -> Engine:
    values: dict[str, object] = {"hold_s": 900, "forecast_horizon_s": 0, "flat_line_s": 0, **overrides}
    return Engine(catalogue(), AlertSettings.model_validate(values))


def level(minutes: float, value: float, station: str = "RIV") -> Reading:
    return Reading(station, "level", T0 + int(minutes * MIN), value)


def rain(minutes: float, mm: float, interval_s: int = 900, station: str = "GAUGE") -> Reading:
    return Reading(station, "rain", T0 + int(minutes * MIN), mm, interval_s)


def feed(eng: Engine, readings: list[Reading]) -> list[Event]:
    events: list[Event] = []
    for reading in readings:
        _, out = eng.evaluate([reading], arrival_ms=reading.time_ms)
        events += out.events
    return events


def brief(events: list[Event], rule: str | None = None) -> list[tuple[int, str, str, str]]:
    """(minute, rule, event, level) of each event, optionally for one rule."""
    return [((e.time_ms - T0) // MIN, e.rule, e.event, e.level) for e in events if rule in (None, e.rule)]


def test_level_rises_through_every_colour_and_resolves_after_the_hold() -> None:
    """Blue at warning-0.5, then yellow, orange, red; down a level only after the hold below threshold-deadband."""
    readings = [
        level(m, v)
        for m, v in [
            (0, 1.0),
            (5, 1.6),
            (10, 2.1),
            (15, 3.2),
            (20, 4.1),
            (25, 3.9),
            (30, 3.5),
            (45, 3.4),
            (60, 2.0),
            (90, 1.0),
            (100, 1.0),
            (115, 1.0),
        ]
    ]
    assert brief(feed(engine(), readings), "level") == [
        (5, "level", "raised", "blue"),  # 1.6 >= 2.0 - 0.5
        (10, "level", "level_changed", "yellow"),
        (15, "level", "level_changed", "orange"),
        (20, "level", "level_changed", "red"),
        (45, "level", "level_changed", "orange"),  # below 4.0 - 0.05 since 25: held 15 min at 45
        (90, "level", "level_changed", "yellow"),  # below 2.95 since 60; below 1.95 only since 90
        (115, "level", "resolved", "yellow"),  # below every threshold - deadband since 90: held at 115
    ]


def test_noise_around_the_warning_stage_gives_one_alert() -> None:
    """Values wobbling 2.0 ± 0.03 (inside the 0.05 m deadband) raise yellow once and never flap."""
    rng = random.Random(7)
    readings = [level(5 * i, 2.0 + rng.uniform(-0.03, 0.03)) for i in range(100)]
    events = [e for e in feed(engine(blue_margin_m=0.0), readings) if e.rule == "level"]
    assert [e.event for e in events] == ["raised"]


def test_pending_condition_must_hold_before_firing() -> None:
    """With pending_s = 10 min, a 5-minute excursion raises nothing; a lasting one fires 10 min after it began."""
    eng = engine(pending_s=600, blue_margin_m=0.0)
    short = [level(0, 1.0), level(5, 2.2), level(10, 1.5)]
    lasting = [level(20, 2.2), level(25, 2.3), level(30, 2.25), level(35, 2.3)]
    assert brief(feed(eng, short + lasting), "level") == [(30, "level", "raised", "yellow")]


def test_daily_rain_total_does_not_fire_a_three_hour_rule() -> None:
    """138 mm in one day is not 50 mm in 3 h; 60 mm in three 15-min readings is."""
    eng = engine()
    assert [e for e in feed(eng, [rain(0, 138.0, 86400)]) if e.rule.startswith("rain_")] == []
    events = feed(eng, [rain(1500 + 15 * i, 20.0) for i in range(3)])
    assert ("rain_3h", "raised", "orange") in {(e.rule, e.event, e.level) for e in events}


def test_cma_defaults_raise_each_rainstorm_level() -> None:
    """5 mm per 15 min reaches 50 mm within 3 h (orange; yellow in 6 h, blue in 12 h); 10 mm per 15 min reaches red."""
    events = feed(engine(), [rain(15 * i, 5.0) for i in range(1, 21)])
    raised = {(e.rule, e.level) for e in events if e.event in ("raised", "level_changed")}
    assert {("rain_12h", "blue"), ("rain_6h", "yellow"), ("rain_3h", "orange")} <= raised
    assert ("rain_3h", "red") not in raised  # 60 mm at most in any 3 h
    events = feed(engine(), [rain(15 * i, 10.0) for i in range(1, 13)])
    assert ("rain_3h", "red") in {(e.rule, e.level) for e in events}


def test_red_mutes_the_lower_levels_of_other_rules() -> None:
    """At red, a rate-of-rise alert is recorded but muted."""
    eng = engine(blue_margin_m=0.0)
    events = feed(eng, [level(0, 4.1), level(5, 4.2), level(60, 5.0)])
    rate = [e for e in events if e.rule == "rate"]
    assert rate
    assert all(e.muted for e in rate)
    assert not any(e.muted for e in events if e.rule == "level")


def test_stale_is_raised_when_the_newest_reading_is_too_old_and_resolved_by_current_data() -> None:
    """Newest reading older than max(3 x 5 min, 15 min) at a tick: stale; a tick after current data: resolved."""
    eng = engine()
    feed(eng, [level(0, 1.0)])
    assert eng.tick(T0 + 14 * MIN).events == []
    assert brief(eng.tick(T0 + 16 * MIN).events) == [(16, "stale", "raised", "stale")]
    assert eng.tick(T0 + 17 * MIN).events == []
    feed(eng, [level(1, 1.0)])  # late data, still old: stays stale
    assert eng.tick(T0 + 18 * MIN).events == []
    feed(eng, [level(20, 1.0)])
    assert brief(eng.tick(T0 + 21 * MIN).events) == [(21, "stale", "resolved", "stale")]


def test_station_silent_for_days_is_offline_not_newly_stale() -> None:
    """A station last heard from beyond stale_max_age_h raises no new stale alert."""
    eng = engine(stale_max_age_h=1)
    feed(eng, [level(0, 1.0)])
    assert eng.tick(T0 + 120 * MIN).events == []


def test_late_reading_gives_the_same_alerts_as_in_order() -> None:
    """A reading that arrives after later ones is evaluated in its place: the result equals in-order processing."""
    readings = [level(5 * i, v) for i, v in enumerate([1.0, 1.2, 2.3, 2.4, 2.2, 1.0, 1.0, 1.0, 1.0, 1.0])]
    in_order = engine()
    expected = brief(feed(in_order, readings))
    late = engine()
    feed(late, readings[:2] + readings[3:])
    events = feed(late, [readings[2]])
    assert ("level", "raised", "yellow") in {(e.rule, e.event, e.level) for e in events}
    assert [(r, s.state, s.level) for r, s in sorted(late.books["RIV"].states.items())] == [
        (r, s.state, s.level) for r, s in sorted(in_order.books["RIV"].states.items())
    ]
    assert expected


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), window=st.integers(1, 6))
def test_shuffled_within_a_window_or_replayed_twice_ends_in_the_same_state(seed: int, window: int) -> None:
    """Shuffling readings within a window, or replaying them twice, leaves the same states and stored log."""
    rng = random.Random(seed)
    values = [1.5 + 1.5 * abs(((i % 40) - 20) / 20) + rng.uniform(-0.1, 0.1) for i in range(80)]
    readings = [level(5 * i, round(v, 3)) for i, v in enumerate(values)]
    shuffled: list[Reading] = []
    for start in range(0, len(readings), window):
        chunk = readings[start : start + window]
        rng.shuffle(chunk)
        shuffled += chunk
    reference, other = engine(), engine()
    feed(reference, readings)
    feed(other, shuffled + readings)
    assert reference.books["RIV"].states == other.books["RIV"].states
    assert [(t, r, tr) for t, r, _, tr in reference.books["RIV"].log] == [
        (t, r, tr) for t, r, _, tr in other.books["RIV"].log
    ]


def test_restart_mid_pending_fires_on_time() -> None:
    """A pending state restored after a restart fires when the condition has held pending_s since it began."""
    first = engine(pending_s=600, blue_margin_m=0.0)
    feed(first, [level(0, 2.2), level(5, 2.3)])
    log = [Restored("RIV", r, t, s, tr) for t, r, s, tr in first.books["RIV"].log]
    second = engine(pending_s=600, blue_margin_m=0.0)
    second.restore([level(0, 2.2), level(5, 2.3)], [], log, [])
    assert second.books["RIV"].states["level"] == RuleState("pending", "yellow", T0, None, (), 2.2, T0)
    assert brief(feed(second, [level(10, 2.3)]), "level") == [(10, "level", "raised", "yellow")]


def test_restart_mid_firing_does_not_raise_again() -> None:
    """A firing state restored after a restart keeps its alert: more high readings raise nothing new."""
    first = engine(blue_margin_m=0.0)
    feed(first, [level(0, 2.2)])
    log = [Restored("RIV", r, t, s, tr) for t, r, s, tr in first.books["RIV"].log]
    second = engine(blue_margin_m=0.0)
    second.restore([level(0, 2.2)], [], log, [])
    assert brief(feed(second, [level(5, 2.3), level(10, 2.4)]), "level") == []


@pytest.mark.parametrize("flags", ["range", "rate"])
def test_implausible_readings_do_not_fire_thresholds_but_are_suspect(flags: str) -> None:
    """A reading flagged range or rate raises suspect, not a level alert."""
    eng = engine()
    reading = Reading("RIV", "level", T0, 40.0, None, flags)
    events = feed(eng, [reading])
    assert {(e.rule, e.event) for e in events} == {("suspect", "raised")}


def test_jump_faster_than_the_station_allows_is_flagged_rate() -> None:
    """A level jumping faster than max_rate_per_h is flagged `rate` and ignored by the level rule."""
    eng = engine()
    flagged, out = eng.evaluate([level(0, 1.0), level(5, 4.5)], arrival_ms=T0)
    assert [r.flags for r in flagged] == ["", "rate"]
    assert not [e for e in out.events if e.rule == "level"]


def test_forecast_warns_blue_before_the_warning_stage_is_reached() -> None:
    """Rising 0.792 m/h from 0.2 m: at 1.256 m the 1-hour trend reaches the 2.0 m warning stage: forecast blue."""
    eng = engine(forecast_horizon_s=3600, blue_margin_m=0.0, rate_m_per_h=50.0)
    events = feed(eng, [level(5 * i, round(0.2 + 0.066 * i, 3)) for i in range(25)])
    forecast = [e for e in events if e.rule == "forecast"]
    assert forecast
    assert forecast[0].event == "raised"
    assert forecast[0].level == "blue"
    assert forecast[0].value is not None
    assert forecast[0].value >= 2.0
    assert (forecast[0].time_ms - T0) // MIN == 5 * 16
    assert not [e for e in events if e.rule == "level"]  # the level itself never got there


def test_critical_rainfall_table_adds_lower_station_thresholds(tmp_path: Path) -> None:
    """A station's critical rainfall (1 h, 20 mm yellow) fires where the CMA defaults alone would not."""
    table = tmp_path / "critical.csv"
    table.write_text("station,window_h,blue,yellow,orange,red\nGAUGE,1,10,20,,\n")
    critical = read_critical_rain(table)
    assert critical == {"GAUGE": {1: {"blue": 10.0, "yellow": 20.0}}}
    eng = Engine(catalogue(), AlertSettings(), critical)
    events = feed(eng, [rain(15 * i, 6.0) for i in range(1, 5)])
    assert ("rain_1h", "yellow") in {(e.rule, e.level) for e in events}
    bad = tmp_path / "bad.csv"
    bad.write_text("station,window_h,blue,yellow,orange,red\nGAUGE,1,30,20,,\n")
    with pytest.raises(ConfigError) as info:
        read_critical_rain(bad)
    assert info.value.line == 2


@settings(max_examples=60, deadline=None)
@given(noise=st.lists(st.floats(-0.04, 0.04), min_size=5, max_size=60), excursions=st.integers(1, 4))
def test_noise_inside_the_deadband_gives_one_alert_per_excursion(noise: list[float], excursions: int) -> None:
    """Excursions above the warning stage with noise smaller than the deadband raise one alert each, never more."""
    readings: list[Reading] = []
    minute = 0
    for _ in range(excursions):
        for value in [1.0] * 5 + [2.0 + 0.05 + abs(n) + n for n in noise] + [1.0] * 5:
            readings.append(level(minute, value))
            minute += 5
    events = [e for e in feed(engine(blue_margin_m=0.0, hold_s=600), readings) if e.rule == "level"]
    assert [e.event for e in events].count("raised") == excursions
    assert [e.event for e in events].count("resolved") == excursions


def test_reservoir_flood_limit_follows_its_sub_season(tmp_path: Path) -> None:
    """A reservoir above its main-flood-season limit (Beijing dates) is yellow; the same level before it is not."""
    table = tmp_path / "limits.csv"
    table.write_text("station,start,end,flood_limit_m\nRES,06-01,08-31,120.0\n")
    limits = read_flood_limits(table)
    station = parse_row({"id": "RES", "name_zh": "水库", "kind": "reservoir", "flood_limit_m": "123.0"})
    eng = Engine(Catalogue({"RES": station}), AlertSettings(hold_s=0), flood_limits=limits, zone="Asia/Shanghai")
    may_31 = int(pd.Timestamp("2024-05-31T12:00:00+08:00").timestamp() * 1000)
    june_1 = int(pd.Timestamp("2024-06-01T00:30:00+08:00").timestamp() * 1000)  # still May 31 in UTC
    _, before = eng.evaluate([Reading("RES", "level", may_31, 121.0)], arrival_ms=may_31)
    _, during = eng.evaluate([Reading("RES", "level", june_1, 121.0)], arrival_ms=june_1)
    assert [e for e in before.events if e.rule == "flood_limit"] == []
    raised = [e for e in during.events if e.rule == "flood_limit"]
    assert [(e.event, e.level, e.threshold) for e in raised] == [("raised", "yellow", 120.0)]

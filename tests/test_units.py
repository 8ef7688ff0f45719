"""Units of the contract and the tidy CSV format: conversion to SI, intervals, tidy unit strings."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.units import FACTORS, UnitError, format_interval, parse_interval, parse_tidy_unit, to_si

DAY = 86400


@pytest.mark.parametrize(
    ("quantity", "value", "unit", "expected"),
    [
        ("level", 4.306, "m", 4.306),
        ("level", 430.6, "cm", 4.306),
        ("level", 4306.0, "mm", 4.306),
        ("level", 10.5, "ft", 3.2004),
        ("level", -3.0, "ft", -0.9144),
        ("rain", 1.2, "mm", 1.2),
        ("rain", 1.2, "in", 30.48),
        ("rain", 0.0, "in", 0.0),
    ],
)
def test_to_si_converts_to_metres_and_millimetres(quantity: str, value: float, unit: str, expected: float) -> None:
    """Levels convert to metres and rain to millimetres, rounded so no float noise is stored."""
    assert to_si(quantity, value, unit) == expected


@pytest.mark.parametrize(
    ("quantity", "unit"),
    [("level", "in"), ("rain", "cm"), ("rain", "m"), ("level", "M"), ("level", ""), ("flow", "m"), ("rain", "mm/h")],
)
def test_to_si_refuses_units_not_allowed_for_the_quantity(quantity: str, unit: str) -> None:
    """A unit that is not allowed for the quantity (or an unknown quantity) is a UnitError naming the unit."""
    with pytest.raises(UnitError, match="is not a"):
        to_si(quantity, 1.0, unit)


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.sampled_from(sorted(FACTORS)),
    data=st.data(),
    value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_to_si_keeps_at_most_six_decimals(quantity: str, data: st.DataObject, value: float) -> None:
    """A converted value carries at most six decimals and is within rounding of value times the factor."""
    unit = data.draw(st.sampled_from(sorted(FACTORS[quantity])))
    converted = to_si(quantity, value, unit)
    assert converted == round(converted, 6)
    assert math.isclose(converted, value * FACTORS[quantity][unit], abs_tol=5e-7)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5min", 300),
        ("15min", 900),
        (" 15 min ", 900),
        ("15mins", 900),
        ("1.5min", 90),
        ("30s", 30),
        ("30sec", 30),
        ("1h", 3600),
        ("h", 3600),
        ("2hr", 7200),
        ("1hour", 3600),
        ("6HOURS", 21600),
        ("day", DAY),
        ("2d", 2 * DAY),
        ("31days", 31 * DAY),
        (900, 900),
        (900.0, 900),
        (1, 1),
        (31 * DAY, 31 * DAY),
    ],
)
def test_parse_interval_accepts_durations(text: str | float, seconds: int) -> None:
    """Intervals are read from numbers of seconds or from a number and a unit, in whole seconds."""
    assert parse_interval(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "0min",
        "-5min",
        "1.5s",
        "abc",
        "",
        "5 minutes later",
        "5m",
        "40day",
        True,
        False,
        0,
        -300,
        1.5,
        40 * DAY,
        31 * DAY + 1,
        math.nan,
        math.inf,
    ],
)
def test_parse_interval_refuses_what_is_not_a_whole_positive_duration(text: str | float) -> None:
    """Zero, negative, fractional-second, unparsable, boolean and over-31-day intervals are UnitErrors."""
    with pytest.raises(UnitError):
        parse_interval(text)


def test_parse_interval_refuses_an_integer_too_large_for_a_float() -> None:
    """An integer too large for a float is a UnitError like any other too-long interval, not an OverflowError."""
    with pytest.raises(UnitError):
        parse_interval(10**400)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "30s"),
        (90, "90s"),
        (300, "5min"),
        (900, "15min"),
        (3600, "1h"),
        (5400, "90min"),
        (DAY, "day"),
        (2 * DAY, "2day"),
        (DAY + 3600, "25h"),
    ],
)
def test_format_interval_spells_the_largest_whole_unit(seconds: int, text: str) -> None:
    """An interval is spelt in the largest unit that divides it, with a bare `day` for one day."""
    assert format_interval(seconds) == text


@settings(max_examples=300, deadline=None)
@given(seconds=st.integers(min_value=1, max_value=31 * DAY))
def test_format_then_parse_interval_round_trips(seconds: int) -> None:
    """Formatting any whole-second interval up to 31 days and parsing it back gives the same seconds."""
    assert parse_interval(format_interval(seconds)) == seconds


@pytest.mark.parametrize(
    ("kind", "unit", "expected"),
    [
        ("rain", "mm/15min", ("rain", "mm", 900)),
        ("rain", "in/30min", ("rain", "in", 1800)),
        ("rain", "mm/day", ("rain", "mm", DAY)),
        ("rain", "mm/h", ("rain", "mm", 3600)),
        ("rain", "in/2d", ("rain", "in", 2 * DAY)),
        ("level", "ft", ("level", "ft", None)),
        ("level", "m", ("level", "m", None)),
        ("level", "cm", ("level", "cm", None)),
    ],
)
def test_parse_tidy_unit_splits_amount_and_interval(
    kind: str, unit: str, expected: tuple[str, str, int | None]
) -> None:
    """A tidy kind/unit pair splits into quantity, amount unit and (for rain) the interval in seconds."""
    assert parse_tidy_unit(kind, unit) == expected


@pytest.mark.parametrize(
    ("kind", "unit"),
    [
        ("level", "m/h"),
        ("level", "cm/5min"),
        ("level", "in"),
        ("rain", "mm"),
        ("rain", "in"),
        ("rain", "cm/day"),
        ("rain", "mm/0min"),
        ("rain", "mm/40day"),
        ("rain", "mm/fortnight"),
        ("flow", "m3/s"),
        ("Rain", "mm/h"),
    ],
)
def test_parse_tidy_unit_refuses_bad_pairs(kind: str, unit: str) -> None:
    """A level unit with an interval, a rain unit without one, unknown units, intervals or kinds are UnitErrors."""
    with pytest.raises(UnitError):
        parse_tidy_unit(kind, unit)

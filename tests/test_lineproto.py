"""The fast line-protocol encoder: byte-identical to ``influxdb_client.Point``, floats only."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision

from config.contract import CHANNEL, MEASUREMENT, STATION_ID, Reading
from config.units import ALL_QUANTITIES
from store.lineproto import encode


def reference(reading: Reading) -> str:
    """The line ``influxdb_client.Point`` writes for ``reading`` under our schema."""
    point = (
        Point(MEASUREMENT[reading.quantity])
        .tag("station", reading.station)
        .field("value", reading.value)
        .field("flags", reading.flags)
        .field("lag_s", round((reading.arrival_ms - reading.time_ms) / 1000.0, 3))
    )
    if reading.channel:
        point = point.tag("channel", reading.channel)
    for name in ("state", "reason", "rating"):  # contract v2 text fields, written only when set
        if getattr(reading, name):
            point = point.field(name, getattr(reading, name))
    if reading.interval_s is not None:
        # the schema stores interval_s as a float: Point writes an int as `300i`, a float as `300`
        point = point.field("interval_s", float(reading.interval_s))
    return str(point.time(reading.time_ms, WritePrecision.MS).to_line_protocol())


def numeric_fields(line: str) -> dict[str, str]:
    """The numeric fields of one line (flags, the only string field, left out)."""
    _series, fields, _time = line.split(" ")
    pairs = dict(field.split("=", 1) for field in fields.split(","))
    for name in ("flags", "state", "reason", "rating"):
        assert pairs.pop(name, '"').startswith('"')
    return pairs


STATION_IDS = st.from_regex(STATION_ID.pattern, fullmatch=True).filter(lambda s: STATION_ID.fullmatch(s) is not None)
VALUES = (
    st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**6), 10**6).map(float)
    | st.sampled_from([0.0, -0.0, 5e-324, 1e-7, 1e16, 1.7976931348623157e308, -123456789012345678.0, 0.1 + 0.2])
)
TIMES = st.integers(-(2**53), 2**53)
INTERVALS = st.integers(1, 31 * 86400)


@st.composite
def readings(draw: st.DrawFn) -> Reading:
    quantity = draw(st.sampled_from(ALL_QUANTITIES))
    time_ms = draw(TIMES)
    words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(lambda t: " ".join(t.split()))
    return Reading(
        station=draw(STATION_IDS),
        quantity=quantity,
        time_ms=time_ms,
        value=draw(VALUES),
        interval_s=draw(INTERVALS) if quantity == "rain" else None,
        flags=draw(st.sampled_from(["", "range", "extrapolated"])),
        arrival_ms=time_ms + draw(st.integers(-(10**12), 10**12) | st.integers(-1000, 1000)),
        channel=draw(st.just("") | st.from_regex(CHANNEL.pattern, fullmatch=True)),
        state=draw(words),
        reason=draw(words),
        rating=draw(st.sampled_from(["", "O200004001/2022-01-01"])),
    )


@pytest.mark.parametrize(
    ("reading", "line"),
    [
        (
            Reading("O200004001", "level", 1_641_881_700_000, 4.306, None, "", 1_641_881_702_500),
            'level,station=O200004001 flags="",lag_s=2.5,value=4.306 1641881700000',
        ),
        (
            Reading("CA-12.r:1", "rain", 1_641_881_700_000, 30.0, 300, "range", 1_641_881_700_000),
            'rain,station=CA-12.r:1 flags="range",interval_s=300,lag_s=0,value=30 1641881700000',
        ),
        (
            Reading("S_1", "level", 1_641_881_700_000, -1e-07, None, "", 1_641_881_699_999),
            'level,station=S_1 flags="",lag_s=-0.001,value=-1e-07 1641881700000',
        ),
        (
            Reading("P1", "pump_state", 1_641_881_700_000, 2.0, None, "", 1_641_881_700_000, "2", "fault", 'a "trip"'),
            'pump_state,channel=2,station=P1 flags="",lag_s=0,reason="a \\"trip\\"",state="fault",'
            "value=2 1641881700000",
        ),
        (
            Reading(
                "Q1", "discharge", 1_641_881_700_000, 812.5, None, "extrapolated", 1_641_881_700_000, rating="Q1/v2"
            ),
            'discharge,station=Q1 flags="extrapolated",lag_s=0,rating="Q1/v2",value=812.5 1641881700000',
        ),
    ],
)
def test_known_readings_encode_to_known_lines(reading: Reading, line: str) -> None:
    """Typical level, rain and contract v2 readings encode to the documented schema, byte for byte."""
    assert encode(reading) == line
    assert encode(reading).encode() == reference(reading).encode()


@settings(max_examples=500, deadline=None)
@given(reading=readings())
@example(reading=Reading("S1", "rain", 0, 1e22, 31 * 86400, "", 0))
@example(reading=Reading("S1", "level", -1, -0.0, None, "range", 10**15))
def test_encode_is_byte_identical_to_point(reading: Reading) -> None:
    """For any valid station id, finite value, time, arrival and interval, encode writes exactly Point's bytes."""
    assert encode(reading).encode() == reference(reading).encode()


@settings(max_examples=300, deadline=None)
@given(reading=readings())
def test_every_numeric_field_is_a_float(reading: Reading) -> None:
    """value, lag_s and interval_s are always float literals (no integer `i` suffix) that read back finite."""
    fields = numeric_fields(encode(replace(reading, state="", reason="")))  # free text would need a real parser
    assert set(fields) == ({"value", "lag_s"} | ({"interval_s"} if reading.quantity == "rain" else set()))
    for name, text in fields.items():
        assert not text.endswith(("i", "u")), f"{name}={text} is not a float field"
        assert math.isfinite(float(text))
    assert float(fields["value"]) == reading.value
    if reading.interval_s is not None:
        assert float(fields["interval_s"]) == reading.interval_s

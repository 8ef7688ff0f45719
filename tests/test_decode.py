"""The pure decoder: every reject reason, unit and time conversion, batches, plausibility flags."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.catalogue import parse_row
from ingest.decode import REASONS, Decoded, Limits, decode

PREFIX = "floodwatch/v1/readings"
#: 2022-01-11T07:00:00Z, the ingester's clock in every test
ARRIVAL_MS = 1_641_884_400_000
#: 2022-01-11T06:15:00Z, the device time of the sample readings
TIME_MS = 1_641_881_700_000
TIME_ISO = "2022-01-11T06:15:00Z"
LIMITS = Limits(max_payload_bytes=4096, max_readings=10, max_future_ms=300_000, oldest_ms=946_684_800_000)
STATIONS = {
    "RIVER1": parse_row(
        {"id": "RIVER1", "name_en": "River gauge", "kind": "river", "plaus_min": "-1", "plaus_max": "10"}
    ),
    "RAIN1": parse_row({"id": "RAIN1", "name_en": "Rain gauge", "kind": "rain"}),
    "RAIN50": parse_row({"id": "RAIN50", "name_en": "Rain gauge, 50 mm/h", "kind": "rain", "plaus_max": "50"}),
    "WORKS1": parse_row(
        {
            "id": "WORKS1",
            "name_en": "Pumping station and sluice",
            "kind": "river",
            "quantities": "level discharge gate_opening pump_state pump_flow asset_status",
        }
    ),
    "RES1": parse_row(
        {
            "id": "RES1",
            "name_zh": "水库",
            "kind": "reservoir",
            "quantities": "level reservoir_inflow reservoir_outflow storage",
        }
    ),
    "BOTH1": parse_row(
        {
            "id": "BOTH1",
            "name_zh": "水位雨量站",
            "kind": "river",
            "quantities": "level rain",
            "plaus_min": "0",
            "plaus_max": "5",
        }
    ),
}


def level(**fields: Any) -> dict[str, Any]:
    """A valid level reading with some fields replaced."""
    return {"time": TIME_ISO, "quantity": "level", "value": 4.306, "unit": "m"} | fields


def rain(**fields: Any) -> dict[str, Any]:
    """A valid rain reading with some fields replaced."""
    return {"time": TIME_ISO, "quantity": "rain", "value": 1.2, "unit": "mm", "interval": "5min"} | fields


def works(**fields: Any) -> dict[str, Any]:
    """A valid contract v2 discharge reading with some fields replaced."""
    return {"v": 2, "time": TIME_ISO, "quantity": "discharge", "value": 1520.0, "unit": "m3/s"} | fields


def pump(**fields: Any) -> dict[str, Any]:
    """A valid contract v2 pump state with some fields replaced."""
    return {"v": 2, "time": TIME_ISO, "quantity": "pump_state", "pump": "2", "value": "fault"} | fields


def status(**fields: Any) -> dict[str, Any]:
    """A valid contract v2 free-form asset status with some fields replaced."""
    return {"v": 2, "time": TIME_ISO, "quantity": "asset_status", "value": "seepage", "reason": "boil"} | fields


def without(reading: dict[str, Any], key: str) -> dict[str, Any]:
    """``reading`` without ``key``."""
    return {k: v for k, v in reading.items() if k != key}


def payload(body: Any) -> bytes:
    """The JSON bytes of ``body`` (NaN allowed, as a sender might write it)."""
    return json.dumps(body).encode()


def run(body: Any, station: str = "RIVER1", *, topic: str | None = None) -> Decoded:
    """Decode ``body`` (bytes, or JSON-able) published by ``station``."""
    data = body if isinstance(body, bytes) else payload(body)
    return decode(
        topic if topic is not None else f"{PREFIX}/{station}",
        data,
        prefix=PREFIX,
        stations=STATIONS,
        limits=LIMITS,
        arrival_ms=ARRIVAL_MS,
    )


def only_reject(result: Decoded) -> str:
    """The reason of the one reject of a message that gave no reading."""
    assert result.readings == []
    assert len(result.rejects) == 1, result.rejects
    reject = result.rejects[0]
    assert reject.detail.strip(), f"{reject.reason} has an empty detail"
    return reject.reason


def only_reading(result: Decoded) -> Any:
    """The one reading of a message that gave no reject."""
    assert result.rejects == []
    assert len(result.readings) == 1
    return result.readings[0]


# (reason, station, body, topic or None): one row or more per reason code
REJECT_CASES = [
    pytest.param("bad_topic", "RIVER1", level(), "other/prefix/RIVER1", id="bad_topic-prefix"),
    pytest.param("bad_topic", "RIVER1", level(), f"{PREFIX}/bad id", id="bad_topic-id"),
    pytest.param("bad_topic", "RIVER1", level(), PREFIX, id="bad_topic-no-station"),
    pytest.param("too_large", "RIVER1", level(name="x" * 5000), None, id="too_large"),
    pytest.param("bad_json", "RIVER1", b'{"time": ', None, id="bad_json-truncated"),
    pytest.param("bad_json", "RIVER1", b'{"unit": "\xff\xfe"}', None, id="bad_json-not-utf8"),
    pytest.param("bad_json", "RIVER1", b"", None, id="bad_json-empty"),
    pytest.param("bad_shape", "RIVER1", [level()], None, id="bad_shape-list"),
    pytest.param("bad_shape", "RIVER1", "level", None, id="bad_shape-string"),
    pytest.param("bad_shape", "RIVER1", {"readings": level()}, None, id="bad_shape-readings-not-list"),
    pytest.param("bad_shape", "RIVER1", {"readings": [4.3]}, None, id="bad_shape-reading-not-object"),
    pytest.param("bad_version", "RIVER1", level(v=3), None, id="bad_version"),
    pytest.param("bad_version", "RIVER1", {"v": "1", "readings": [level()]}, None, id="bad_version-string"),
    pytest.param("station_mismatch", "RIVER1", level(station="RAIN1"), None, id="station_mismatch"),
    pytest.param("unknown_station", "NOPE1", level(), None, id="unknown_station"),
    pytest.param("too_many_readings", "RIVER1", {"readings": [level()] * 11}, None, id="too_many_readings"),
    pytest.param("missing_field", "RIVER1", without(level(), "unit"), None, id="missing_field-unit"),
    pytest.param("missing_field", "RIVER1", without(level(), "time"), None, id="missing_field-time"),
    pytest.param("missing_field", "RIVER1", {}, None, id="missing_field-all"),
    pytest.param("unknown_quantity", "RIVER1", level(quantity="flow"), None, id="unknown_quantity"),
    pytest.param("unknown_quantity", "RIVER1", level(quantity=["level"]), None, id="unknown_quantity-list"),
    pytest.param("newer_quantity", "WORKS1", works(v=1), None, id="newer_quantity-v1"),
    pytest.param("newer_quantity", "WORKS1", without(works(), "v"), None, id="newer_quantity-no-v"),
    pytest.param("quantity_not_reported", "RIVER1", works(), None, id="quantity_not_reported-discharge"),
    pytest.param("bad_state", "WORKS1", pump(value="on fire"), None, id="bad_state-pump-word"),
    pytest.param("bad_state", "WORKS1", pump(value=1), None, id="bad_state-pump-number"),
    pytest.param("bad_state", "WORKS1", status(value="x" * 41), None, id="bad_state-status-too-long"),
    pytest.param("bad_state", "WORKS1", status(reason=["a"]), None, id="bad_state-reason-list"),
    pytest.param("bad_channel", "WORKS1", pump(pump="gate 1"), None, id="bad_channel-space"),
    pytest.param("bad_channel", "WORKS1", works(quantity="gate_opening", gate=True), None, id="bad_channel-bool"),
    pytest.param("bad_unit", "WORKS1", pump(unit="m3/s"), None, id="bad_unit-state"),
    pytest.param("bad_unit", "RES1", works(quantity="storage", unit="m3/s"), None, id="bad_unit-storage"),
    pytest.param("bad_interval", "WORKS1", works(interval="5min"), None, id="bad_interval-discharge"),
    pytest.param("quantity_not_reported", "RIVER1", rain(), None, id="quantity_not_reported-rain"),
    pytest.param("quantity_not_reported", "RAIN1", level(), None, id="quantity_not_reported-level"),
    pytest.param("bad_unit", "RIVER1", level(unit="in"), None, id="bad_unit-level-in"),
    pytest.param("bad_unit", "RAIN1", rain(unit="cm"), None, id="bad_unit-rain-cm"),
    pytest.param("bad_unit", "RIVER1", level(unit="M"), None, id="bad_unit-case"),
    pytest.param("bad_unit", "RIVER1", level(unit=None), None, id="bad_unit-null"),
    pytest.param("bad_interval", "RIVER1", level(interval="5min"), None, id="bad_interval-level"),
    pytest.param("bad_interval", "RAIN1", without(rain(), "interval"), None, id="bad_interval-missing"),
    pytest.param("bad_interval", "RAIN1", rain(interval="0min"), None, id="bad_interval-zero"),
    pytest.param("bad_interval", "RAIN1", rain(interval=[300]), None, id="bad_interval-list"),
    pytest.param("bad_interval", "RAIN1", rain(interval=True), None, id="bad_interval-bool"),
    pytest.param("not_a_number", "RIVER1", level(value="4.3"), None, id="not_a_number-string"),
    pytest.param("not_a_number", "RIVER1", level(value=True), None, id="not_a_number-bool"),
    pytest.param("not_a_number", "RIVER1", level(value=None), None, id="not_a_number-null"),
    pytest.param("not_a_number", "RIVER1", level(value=math.nan), None, id="not_a_number-nan"),
    pytest.param("not_a_number", "RIVER1", level(value=-math.inf), None, id="not_a_number-inf"),
    pytest.param("negative_rain", "RAIN1", rain(value=-0.2), None, id="negative_rain"),
    pytest.param("bad_time", "RIVER1", level(time="2022-01-11T06:15:00"), None, id="bad_time-no-zone"),
    pytest.param("bad_time", "RIVER1", level(time="yesterday"), None, id="bad_time-text"),
    pytest.param("bad_time", "RIVER1", level(time=TIME_MS), None, id="bad_time-epoch-ms"),
    pytest.param("bad_time", "RIVER1", level(time=True), None, id="bad_time-bool"),
    pytest.param("bad_time", "RIVER1", level(time=None), None, id="bad_time-null"),
    pytest.param("future_time", "RIVER1", level(time="2022-01-11T08:00:00Z"), None, id="future_time"),
    pytest.param("too_old", "RIVER1", level(time="1999-12-31T23:59:59Z"), None, id="too_old"),
]


@pytest.mark.parametrize(("reason", "station", "body", "topic"), REJECT_CASES)
def test_each_reject_reason_is_reported_with_a_detail(reason: str, station: str, body: Any, topic: str | None) -> None:
    """Each kind of bad message or reading is rejected with its own reason code and a non-empty detail."""
    assert only_reject(run(body, station, topic=topic)) == reason


def test_reject_table_covers_every_decoder_reason() -> None:
    """The table above exercises every reason code the decoder can give (influx_refused is the sink's,
    rate_limited the pipeline's, tested in test_fuzz.py)."""
    covered = {case.values[0] for case in REJECT_CASES}
    assert covered == set(REASONS) - {"influx_refused", "rate_limited"}


def test_bad_topic_has_no_station() -> None:
    """A message on a topic that is not PREFIX/STATION_ID is attributed to no station."""
    assert run(level(), topic="elsewhere/RIVER1").station is None


def test_future_time_within_the_allowance_is_accepted() -> None:
    """A reading stamped up to ingest.max_future_s ahead of the ingester's clock is accepted."""
    ahead = (ARRIVAL_MS + LIMITS.max_future_ms) / 1000
    assert only_reading(run(level(time=ahead))).time_ms == ARRIVAL_MS + LIMITS.max_future_ms


@pytest.mark.parametrize(
    ("station", "body", "value", "interval_s"),
    [
        pytest.param("RIVER1", level(value=4.306, unit="m"), 4.306, None, id="level-m"),
        pytest.param("RIVER1", level(value=430.6, unit="cm"), 4.306, None, id="level-cm"),
        pytest.param("RIVER1", level(value=4306, unit="mm"), 4.306, None, id="level-mm"),
        pytest.param("RIVER1", level(value=10.5, unit="ft"), 3.2004, None, id="level-ft"),
        pytest.param("RIVER1", level(value=-0.25, unit="m"), -0.25, None, id="level-negative"),
        pytest.param("RAIN1", rain(value=2.5, unit="mm", interval="5min"), 2.5, 300, id="rain-mm-5min"),
        pytest.param("RAIN1", rain(value=0.1, unit="in", interval="1h"), 2.54, 3600, id="rain-in-1h"),
        pytest.param("RAIN1", rain(value=1.2, unit="in", interval="day"), 30.48, 86400, id="rain-in-day"),
        pytest.param("RAIN1", rain(value=3, unit="mm", interval=900), 3.0, 900, id="rain-mm-900"),
        pytest.param("RAIN1", rain(value=0, unit="mm", interval=900.0), 0.0, 900, id="rain-zero-900.0"),
    ],
)
def test_values_are_converted_to_si_with_their_interval(
    station: str, body: dict[str, Any], value: float, interval_s: int | None
) -> None:
    """Levels are stored in metres and rain in millimetres over its interval in seconds, without float noise."""
    reading = only_reading(run(body, station))
    assert (reading.station, reading.quantity) == (station, body["quantity"])
    assert reading.value == value
    assert reading.interval_s == interval_s
    assert reading.arrival_ms == ARRIVAL_MS


@pytest.mark.parametrize(
    "time",
    [
        "2022-01-11T06:15:00Z",
        "2022-01-11T06:15:00+00:00",
        "2022-01-11T14:15:00+08:00",
        "2022-01-11T01:15:00-05:00",
        "2022-01-11T06:15:00.000Z",
        1_641_881_700,
        1_641_881_700.0,
    ],
)
def test_iso_times_with_any_offset_and_epoch_seconds_agree(time: str | float) -> None:
    """An ISO 8601 time with Z or an offset and the same instant in epoch seconds give the same time_ms."""
    assert only_reading(run(level(time=time))).time_ms == TIME_MS


def test_fractional_seconds_are_kept_to_the_millisecond() -> None:
    """Sub-second device times keep their milliseconds, from ISO text and from epoch seconds alike."""
    assert only_reading(run(level(time="2022-01-11T14:15:00.123+08:00"))).time_ms == TIME_MS + 123
    assert only_reading(run(level(time=1_641_881_700.123))).time_ms == TIME_MS + 123


def test_gateway_batch_keeps_good_readings_in_order_and_rejects_bad_ones() -> None:
    """A gateway batch yields its good readings in order and one reject, with its item, per bad reading."""
    bad_unit = level(value=2.0, unit="yd")
    missing = without(level(value=3.0), "value")
    body = {
        "v": 1,
        "station": "BOTH1",
        "readings": [
            level(value=1.0, time="2022-01-11T06:00:00Z"),
            bad_unit,
            rain(value=0.4, time="2022-01-11T06:05:00Z"),
            missing,
            level(value=1.5, time="2022-01-11T06:10:00Z"),
        ],
    }
    result = run(body, "BOTH1")
    assert result.station == "BOTH1"
    assert [(r.quantity, r.value) for r in result.readings] == [("level", 1.0), ("rain", 0.4), ("level", 1.5)]
    assert [(r.reason, r.item) for r in result.rejects] == [
        ("bad_unit", bad_unit),
        ("missing_field", missing),
    ]
    assert all(r.detail for r in result.rejects)


def test_empty_gateway_batch_gives_nothing() -> None:
    """A gateway batch with no readings is neither a reading nor a reject."""
    result = run({"v": 1, "readings": []})
    assert (result.readings, result.rejects) == ([], [])


@pytest.mark.parametrize(
    ("station", "body", "flags"),
    [
        pytest.param("RIVER1", level(value=9.99), "", id="level-inside"),
        pytest.param("RIVER1", level(value=10.01), "range", id="level-above-plaus_max"),
        pytest.param("RIVER1", level(value=-1.5), "range", id="level-below-plaus_min"),
        pytest.param("RIVER1", level(value=1200, unit="cm"), "range", id="level-above-after-conversion"),
        pytest.param("RAIN1", rain(value=30, interval="5min"), "range", id="rain-360mm/h"),
        pytest.param("RAIN1", rain(value=20, interval="5min"), "", id="rain-240mm/h"),
        pytest.param("RAIN1", rain(value=250, interval="1h"), "", id="rain-250mm/h"),
        pytest.param("RAIN1", rain(value=400, interval="day"), "", id="rain-400mm/day"),
        pytest.param("RAIN50", rain(value=5, interval="5min"), "range", id="rain-station-own-plaus_max"),
        pytest.param("RAIN50", rain(value=40, interval="1h"), "", id="rain-station-below-own-plaus_max"),
        pytest.param("BOTH1", level(value=6), "range", id="river+rain-level-above"),
        pytest.param("BOTH1", rain(value=10, interval="1h"), "", id="river+rain-rain-ignores-level-limit"),
        pytest.param("BOTH1", rain(value=30, interval="5min"), "range", id="river+rain-rain-default-limit"),
    ],
)
def test_implausible_values_are_flagged_range(station: str, body: dict[str, Any], flags: str) -> None:
    """Levels beyond plaus_min/max and rain above 300 mm/h (a rain station: its plaus_max) are flagged "range"."""
    assert only_reading(run(body, station)).flags == flags


# ---- bugs found while writing these tests (see the report) -------------------------------------

HUGE = "1" + "0" * 400  # a valid JSON integer that does not fit a float


@pytest.mark.parametrize(
    ("reason", "station", "text"),
    [
        pytest.param(
            "not_a_number",
            "RIVER1",
            f'{{"time": 1641881700, "quantity": "level", "value": {HUGE}, "unit": "m"}}',
            id="value",
        ),
        pytest.param(
            "bad_time",
            "RIVER1",
            f'{{"time": {HUGE}, "quantity": "level", "value": 1, "unit": "m"}}',
            id="time",
        ),
        pytest.param(
            "bad_interval",
            "RAIN1",
            f'{{"time": 1641881700, "quantity": "rain", "value": 1, "unit": "mm", "interval": {HUGE}}}',
            id="interval",
        ),
    ],
)
def test_integers_too_large_for_a_float_are_rejected_not_raised(reason: str, station: str, text: str) -> None:
    """A JSON integer too large for a float in value, time or interval is a reject, not an OverflowError."""
    assert only_reject(run(text.encode(), station)) == reason


def test_rain_amount_that_overflows_in_conversion_is_not_stored_as_infinity() -> None:
    """A finite rain amount in inches whose millimetre value overflows is rejected as not_a_number."""
    assert only_reject(run(rain(value=1e308, unit="in"), "RAIN1")) == "not_a_number"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_payload_that_is_not_utf8_is_bad_json(encoding: str) -> None:
    """The contract is UTF-8 JSON: a payload in UTF-16 or UTF-32 is rejected as bad_json."""
    assert only_reject(run(json.dumps(level()).encode(encoding))) == "bad_json"


@pytest.mark.parametrize("version", [True, 1.0, 2.0])
def test_version_must_be_the_integer_1(version: Any) -> None:
    """Only the integers 1 and 2 are contract versions; true, 1.0 and 2.0 are rejected as bad_version."""
    assert only_reject(run(level(v=version))) == "bad_version"


def test_v1_payloads_are_valid_v2_payloads() -> None:
    """A level and a rain reading decode to the same readings whether they say v 1, v 2 or nothing."""
    for body, station in ((level(), "RIVER1"), (rain(), "RAIN1")):
        results = [run(body | extra, station).readings for extra in ({}, {"v": 1}, {"v": 2})]
        assert results[0] == results[1] == results[2]
        assert len(results[0]) == 1


@pytest.mark.parametrize(
    ("station", "body", "quantity", "value", "extra"),
    [
        ("WORKS1", works(value=42_000, unit="L/s"), "discharge", 42.0, {}),
        ("WORKS1", works(value=1000, unit="cfs"), "discharge", 28.316847, {}),
        (
            "WORKS1",
            works(quantity="gate_opening", gate=3, value=125, unit="cm"),
            "gate_opening",
            1.25,
            {"channel": "3"},
        ),
        ("WORKS1", works(quantity="pump_flow", pump="P-2", value=4.5), "pump_flow", 4.5, {"channel": "P-2"}),
        (
            "WORKS1",
            pump(reason="  motor\ntrip "),
            "pump_state",
            2.0,
            {"channel": "2", "state": "fault", "reason": "motor trip"},
        ),
        ("WORKS1", pump(value="running", pump=None), "pump_state", 1.0, {"channel": "", "state": "running"}),
        ("WORKS1", status(), "asset_status", 0.0, {"state": "seepage", "reason": "boil"}),
        ("RES1", works(quantity="storage", value=2350, unit="1e4m3"), "storage", 23.5, {}),
        ("RES1", works(quantity="storage", value=1.2, unit="1e8m3"), "storage", 120.0, {}),
        ("RES1", works(quantity="reservoir_inflow", value=310), "reservoir_inflow", 310.0, {}),
        ("RES1", works(quantity="reservoir_outflow", value=-2.5), "reservoir_outflow", -2.5, {}),
    ],
)
def test_v2_quantities_are_converted_to_their_stored_units(
    station: str, body: dict[str, Any], quantity: str, value: float, extra: dict[str, str]
) -> None:
    """Each works quantity is accepted with v 2 and stored in its SI unit, with its gate or pump and its state words."""
    result = run(body, station)
    assert result.rejects == []
    (reading,) = result.readings
    assert reading.quantity == quantity
    assert reading.value == pytest.approx(value)
    assert reading.time_ms == TIME_MS
    for name, expected in extra.items():
        assert getattr(reading, name) == expected


def test_a_gateway_batch_mixes_v1_and_v2_quantities() -> None:
    """A v2 batch of a pumping station stores its level, pump states and flows, and rejects only its bad reading."""
    body = {"v": 2, "readings": [level(), pump(), works(quantity="pump_flow", pump="2", value=0), pump(value="idle")]}
    result = run(body, "WORKS1")
    assert [r.quantity for r in result.readings] == ["level", "pump_state", "pump_flow"]
    assert [r.reason for r in result.rejects] == ["bad_state"]


# ---- properties ---------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
#: values that get a reading past the early checks, mixed with arbitrary JSON
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "time": st.sampled_from(
        [
            TIME_ISO,
            "2022-01-11T14:15:00+08:00",
            "2022-01-11T06:15:00",
            1_641_881_700,
            1.6e12,
            -1.0,
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+08:00",
        ]
    ),
    "quantity": st.sampled_from(["level", "rain", "flow", "", "pump_state", "asset_status", "gate_opening"]),
    "value": st.floats() | st.integers(),
    "unit": st.sampled_from(["m", "cm", "mm", "ft", "in", "yd"]),
    "interval": st.sampled_from(["5min", "1h", "day", 900, 0, -5, "1.5s", "40day", 1.5]),
    "v": st.sampled_from([1, 2, 3]),
    "pump": st.sampled_from(["1", 2, "a b", ""]),
    "gate": st.sampled_from(["1", 2, None]),
    "reason": st.sampled_from(["x", "", "y" * 300]),
    "station": st.sampled_from(["BOTH1", "RAIN1", "WORKS1"]),
}
READING_LIKE = st.fixed_dictionaries(
    {}, optional={key: strategy | JSON_VALUES for key, strategy in FIELD_VALUES.items()}
)
BODIES = (
    READING_LIKE | st.fixed_dictionaries({"readings": st.lists(READING_LIKE | JSON_VALUES, max_size=12)}) | JSON_VALUES
)


def check_never_raises(data: bytes, station: str) -> None:
    result = run(data, station)
    assert all(reject.reason in REASONS for reject in result.rejects)
    assert all(reject.detail for reject in result.rejects)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), station=st.sampled_from(["BOTH1", "NOPE1", "bad id"]))
def test_decode_never_raises_on_arbitrary_bytes(data: bytes, station: str) -> None:
    """Any payload bytes give readings and rejects whose reasons are all listed in REASONS, never an exception."""
    check_never_raises(data, station)


@settings(max_examples=400, deadline=None)
@given(body=BODIES)
def test_decode_never_raises_on_arbitrary_json(body: Any) -> None:
    """Any JSON value, reading-shaped or not, gives rejects whose reasons are all in REASONS, never an exception."""
    check_never_raises(json.dumps(body).encode(), "BOTH1")
    check_never_raises(json.dumps(body).encode(), "WORKS1")

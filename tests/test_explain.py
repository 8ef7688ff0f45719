"""Every alert explains itself: one structured explanation per event, one renderer, the same text everywhere."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from config.catalogue import Catalogue, parse_row
from config.contract import Reading
from config.settings import AlertSettings
from dashboard.api_shapes import alert_json
from dashboard.components import alerts as desk_parts
from ingest.engine import Engine, Event, _event_line
from ingest.notify import render as message
from store.alerts import Alert
from store.explain import Explanation, render

ZONE = ZoneInfo("Asia/Shanghai")
T0 = 1_641_880_800_000  # 2022-01-11 06:00 UTC, 14:00 Beijing
MIN = 60_000


def explanation(**changes: object) -> Explanation:
    values: dict[str, object] = {
        "rule": "level",
        "kind": "level",
        "event": "raised",
        "level": "yellow",
        "time_ms": T0,
        "value": 2.3378,
        "threshold": 2.1336,
        "unit": "m",
        "display_unit": "ft",
        "source": "warning_m",
        "note": "NWS flood categories",
        "params": {"deadband": 0.05, "hold_s": 900, "pending_s": 0},
        **changes,
    }
    return Explanation(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "language", "expected"),
    [
        (
            {},
            "en",
            "Water level 7.67 ft (2.34 m) is at or above the warning stage 7.00 ft (2.13 m) (thresholds: NWS flood "
            "categories). It clears after 15 min below 6.84 ft (2.08 m).",
        ),
        (
            {},
            "zh",
            "水位7.67 ft（2.34 m），达到或超过警戒水位7.00 ft（2.13 m）（阈值来源：NWS flood categories）。"
            "回落到6.84 ft（2.08 m）以下并持续15分钟后解除。",
        ),
        (
            {"display_unit": "", "event": "resolved", "value": 2.05, "note": ""},
            "en",
            "Water level 2.05 m has been below 2.08 m (warning stage 2.13 m less 0.05 m) for 15 min: back to normal.",
        ),
        (
            {
                "rule": "rain_3h",
                "kind": "rain",
                "level": "orange",
                "value": 52.04,
                "threshold": 50.0,
                "unit": "mm",
                "source": "cma",
                "params": {"deadband": 5.0, "hold_s": 900, "window_s": 10800},
            },
            "en",
            "Rain in the last 3 h: 52.0 mm, at or above the CMA orange rainstorm signal of 50.0 mm. "
            "It clears after 15 min below 45.0 mm.",
        ),
        (
            {
                "rule": "forecast",
                "kind": "forecast",
                "level": "blue",
                "value": 2.6,
                "threshold": 2.58,
                "display_unit": "",
                "note": "",
                "params": {"deadband": 0.05, "hold_s": 900, "window_s": 3600, "horizon_s": 3600},
                "facts": {
                    "slope_m_per_h": 0.21,
                    "readings": 5,
                    "current_m": 2.39,
                    "eta_s": 3240,
                    "eta_ms": T0 + 3_240_000,
                },
            },
            "en",
            "Rising 0.21 m/h (trend of 5 readings over the last 1 h), the level 2.39 m reaches the warning stage "
            "2.58 m in about 54 min (around 14:54), within the 1 h forecast horizon.",
        ),
        (
            {
                "rule": "suspect",
                "kind": "suspect",
                "level": "suspect",
                "value": 1.0,
                "threshold": 1.0,
                "unit": "",
                "source": "flags",
                "display_unit": "",
                "facts": {
                    "flag": "flat",
                    "reading_m": 2.34,
                    "since_ms": T0 - 7 * 3_600_000,
                    "readings": 85,
                    "duration_s": 7 * 3600,
                    "limit_s": 6 * 3600,
                    "resolution_m": 0.01,
                },
            },
            "en",
            "2.34 m unchanged for 7 h (85 readings since 07:00), limit 6 h; resolution 0.01 m.",
        ),
        (
            {
                "rule": "stale",
                "kind": "stale",
                "level": "stale",
                "value": 2820.0,
                "threshold": 900.0,
                "unit": "s",
                "source": "interval_s",
                "display_unit": "",
                "params": {"interval_s": 300, "hold_s": 0},
                "facts": {"last_ms": T0 - 47 * MIN},
            },
            "en",
            "No reading for 47 min (the last at 13:13): the limit is 15 min, 3 × the 5 min reporting interval and at "
            "least 15 min.",
        ),
    ],
)
def test_each_kind_reads_as_a_sentence_with_values_units_threshold_and_source(
    changes: dict[str, object], language: str, expected: str
) -> None:
    """An explanation renders as a sentence with its values (display unit and SI), threshold, source and parameters."""
    assert render(explanation(**changes), language, ZONE) == expected


def test_an_explanation_survives_its_storage_and_unknown_fields_do_not_break_rendering() -> None:
    """JSON round trip is exact; an explanation missing the facts its sentence wants shows ? rather than failing."""
    original = explanation(facts={"readings": 3})
    assert Explanation.from_json(original.to_json()) == original
    assert Explanation.from_json(None) is None
    assert Explanation.from_json("not json") is None
    bare = explanation(kind="forecast", rule="forecast", facts={})
    assert "?" in render(bare, "en", ZONE)
    assert "Not acknowledged within 15 min." in render(original.escalated(900, T0 + 900_000), "en", ZONE)


def _catalogue() -> Catalogue:
    row = {
        "id": "BXAL1",
        "name_en": "Pearl River near Bogalusa",
        "name_zh": "博加卢萨珍珠河",
        "kind": "river",
        "interval_s": "1800",
        "blue_m": "4.8768",
        "warning_m": "5.4864",
        "guaranteed_m": "6.4008",
        "red_m": "7.0104",
        "level_unit": "ft",
        "resolution_m": "0.003048",
        "thresholds_source": "NWS flood categories: action=blue, flood=warning, moderate=guaranteed, major=red",
    }
    return Catalogue({"BXAL1": parse_row(row)})


def _raised() -> Event:
    engine = Engine(_catalogue(), AlertSettings(forecast_horizon_s=0), zone="Asia/Shanghai")
    _, out = engine.evaluate([Reading("BXAL1", "level", T0, 5.6)], arrival_ms=T0)
    (event,) = [e for e in out.events if e.rule == "level"]
    return event


def _stored(event: Event) -> Alert:
    """The alert as ``store.alerts.list_alerts`` assembles it from the stored event's fields."""
    fields = _event_fields(event)
    return Alert(
        event.alert_id,
        event.station,
        event.rule,
        event.level,
        "firing",
        event.time_ms,
        event.value,
        event.threshold,
        str(fields["reason"]),
        explanation=Explanation.from_json(str(fields["explain"])),
    )


def _event_fields(event: Event) -> dict[str, object]:
    """The string fields of the event's line protocol, unescaped as InfluxDB returns them."""

    text = _event_line(event)
    fields: dict[str, object] = {}
    for key in ("reason", "explain"):
        start = text.index(f'{key}="') + len(key) + 2
        end = start
        while text[end] != '"' or text[end - 1] == "\\":
            end += 1
        fields[key] = text[start:end].replace('\\"', '"').replace("\\\\", "\\")
    json.loads(str(fields["explain"]))
    return fields


def test_notification_desk_api_and_cli_say_the_same_sentence() -> None:
    """A stored event's explanation renders identically in the notification, on the desk, in the API and the CLI."""
    event = _raised()
    assert event.explanation is not None
    alert = _stored(event)
    for language in ("zh", "en"):
        sentence = render(event.explanation, language, ZONE)
        assert "ft" in sentence
        assert "m）" in sentence or "m)" in sentence
        assert sentence in message(event, _catalogue(), language, ZONE).body
        assert sentence in desk_parts.reason(alert, ZONE, language)
        assert alert.reasons(ZONE)[language] == sentence
        assert alert_json(alert, ZONE)["reasons"][language] == sentence
    assert alert_json(alert, ZONE)["explanation"]["threshold"] == 5.4864
    assert event.reason == render(event.explanation, "en", ZONE)

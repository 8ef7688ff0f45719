"""The alert desk's rules and parts without a browser: order, filters, shifts, handover, audit, CSV, texts.

The last tests write through the data layer to the real InfluxDB of the session (``services``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.catalogue import Catalogue, load_catalogue
from config.i18n import texts
from config.settings import Settings
from config.users import User
from dashboard import desk
from dashboard.components import alerts as parts
from dashboard.data import DataLayer, TTLCache
from floodwatch.services import LocalServices
from store.alerts import Alert, Handover, handover_line, line, list_alerts, list_handovers
from store.influx import InfluxClient
from tests.conftest import REPO, write_env

ZONE = ZoneInfo("Asia/Shanghai")
CATALOGUE = """id,name_zh,name_en,kind,river,basin,district,warning_m,guaranteed_m,historical_max_m
W1,武汉关,Wuhan Guan,river,长江,长江流域,江岸区,2.0,3.0,4.0
W2,汉口,Hankou,river,汉江,长江流域,江汉区,2.0,3.0,4.0
K1,东湖水库,East Lake,reservoir,,东湖,武昌区,2.0,3.0,4.0
R1,雨量一,Rain one,rain,,,洪山区,,,
"""
#: 2022-01-11 14:00 Beijing time
NOON = int(datetime(2022, 1, 11, 14, 0, tzinfo=ZONE).timestamp() * 1000)
MIN = 60_000
OFFICER = User("wangli", "officer", "王丽", "$argon2id$not-a-real-hash")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    path = tmp_path_factory.mktemp("desk") / "stations.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    return load_catalogue(path)


def make(
    station: str = "W1",
    level: str = "yellow",
    raised: int = NOON,
    *,
    rule: str = "level",
    resolved: int | None = None,
    acked: int | None = None,
    by: str = "",
    history: list[dict[str, Any]] | None = None,
) -> Alert:
    """An alert as ``list_alerts`` builds it (its history: raised, then the given entries)."""
    alert = Alert(
        f"{station}/{rule}/{raised}",
        station,
        rule,
        level,
        "resolved" if resolved else "firing",
        raised,
        2.31,
        2.0,
        "",
        resolved_ms=resolved,
        acknowledged_ms=acked,
        acknowledged_by=by,
        note="已派人" if acked else "",
    )
    alert.history = [{"time": raised, "event": "raised", "level": level, "value": 2.31, "threshold": 2.0}]
    if acked:
        alert.history.append({"time": acked, "event": "acknowledged", "by": by, "note": "已派人"})
    if resolved:
        alert.history.append({"time": resolved, "event": "resolved", "level": level, "value": 1.5, "threshold": 2.0})
    alert.history += history or []
    return alert


def test_active_alerts_come_first_then_by_level_then_newest() -> None:
    """Firing before resolved; red > orange > yellow > blue > stale/suspect; newer before older."""
    alerts = [
        make("W1", "red", NOON - 60 * MIN, resolved=NOON),
        make("W1", "blue", NOON),
        make("W2", "stale", NOON + MIN, rule="stale"),
        make("W2", "yellow", NOON - MIN),
        make("K1", "yellow", NOON),
        make("K1", "orange", NOON - 90 * MIN),
        make("W2", "red", NOON - 120 * MIN),
    ]
    order = [(a.station, a.level) for a in desk.ordered(alerts)]
    assert order == [
        ("W2", "red"),
        ("K1", "orange"),
        ("K1", "yellow"),
        ("W2", "yellow"),
        ("W1", "blue"),
        ("W2", "stale"),
        ("W1", "red"),
    ]


def chosen(**values: Any) -> desk.DeskFilter:
    return desk.desk_filter(values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"W1", "W2", "K1", "R1", "GONE"}),
        ({"levels": ["red", "orange"]}, {"W1", "K1"}),
        ({"states": ["open_unacked"]}, {"K1", "R1", "GONE"}),
        ({"states": ["open_acked"]}, {"W2"}),
        ({"states": ["resolved"]}, {"W1"}),
        ({"kinds": ["reservoir", "rain"]}, {"K1", "R1"}),
        ({"waters": ["river:长江"]}, {"W1"}),
        ({"waters": ["basin:长江流域"]}, {"W1", "W2"}),
        ({"waters": ["river:汉江", "basin:东湖"]}, {"W2", "K1"}),
        ({"districts": ["江汉区", "洪山区"]}, {"W2", "R1"}),
        ({"text": "hank"}, {"W2"}),  # English name, any case
        ({"text": "水库"}, {"K1"}),  # Chinese name
        ({"text": "r1"}, {"R1"}),  # id
        ({"text": "gone"}, {"GONE"}),  # a station no longer in the catalogue is found by its id
        ({"kinds": ["river"], "text": "汉"}, {"W1", "W2"}),  # 武汉关 and 汉口
        ({"kinds": ["reservoir"], "text": "汉"}, set()),
    ],
)
def test_filters(catalogue: Catalogue, values: dict[str, Any], expected: set[str]) -> None:
    """Each filter keeps exactly the alerts of its level, state, kind, river/basin, district or station text."""
    alerts = [
        make("W1", "red", resolved=NOON + MIN),
        make("W2", "yellow", acked=NOON + MIN, by="王丽 (wangli)"),
        make("K1", "orange"),
        make("R1", "blue", rule="rain_3h"),
        make("GONE", "yellow"),
    ]
    assert {a.station for a in desk.filtered(alerts, catalogue, chosen(**values))} == expected


def test_what_the_browser_sends_is_checked() -> None:
    """Filter values of the wrong type are ignored; ticked ids must be well-formed alert ids, each once, bounded."""
    odd = desk.desk_filter({"levels": "red", "states": [1, "resolved"], "text": ["x"], "kinds": None})
    assert odd == desk.DeskFilter(states=frozenset({"resolved"}))
    good = "W1/level/1641880800000"
    picks = [[good], [good, "W2/rain_3h/1641880800000"], ["../etc"], ["W1/level/x"], [None], "W3/stale/1", 7]
    assert desk.picked_ids(picks) == [good, "W2/rain_3h/1641880800000", "W3/stale/1"]
    many = [[f"W1/level/{i}"] for i in range(desk.MAX_BATCH + 10)]
    assert len(desk.picked_ids(many)) == desk.MAX_BATCH
    assert desk.fired_ms(good) == 1641880800000


def test_free_text_is_one_clean_bounded_line() -> None:
    """Notes lose control characters and line breaks (one line in the audit trail) and are cut to MAX_NOTE."""
    assert desk.clean_text("  已派人\r\n巡堤\t\x00 ok ") == "已派人 巡堤 ok"
    assert desk.clean_text(None) == ""
    assert len(desk.clean_text("x" * 2000)) == desk.MAX_NOTE
    assert desk.clean_text("王丽" * 100, desk.MAX_NAME) == ("王丽" * 32)


def local(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp() * 1000)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        ("2022-01-11 14:00", "2022-01-11 08:00"),
        ("2022-01-11 08:00", "2022-01-11 08:00"),
        ("2022-01-11 07:59", "2022-01-10 20:00"),
        ("2022-01-11 20:30", "2022-01-11 20:00"),
        ("2022-01-12 00:10", "2022-01-11 20:00"),
    ],
)
def test_shifts_start_at_eight_and_twenty_local(now: str, start: str) -> None:
    """The current shift began at the latest 08:00 or 20:00 Beijing time not after now."""
    assert desk.shift_start_ms(local(now), ZONE) == local(start)


def test_handover_window_starts_at_the_last_recent_handover_else_at_the_shift_start() -> None:
    """The default 'since' is the newest handover of the last 24 h; without one, the current shift's start."""
    now = local("2022-01-11 20:15")
    morning = Handover(local("2022-01-11 08:05"), "王丽 (wangli)", "李四", "王丽", "")
    old = Handover(local("2022-01-10 08:00"), "x", "a", "b", "")
    future = Handover(now + MIN, "x", "a", "b", "")
    since = desk.default_since(now, ZONE, [old, morning, future])
    assert (since.ms, since.source, since.handover) == (morning.time_ms, "handover", morning)
    assert desk.default_since(now, ZONE, [old]) == desk.Since(local("2022-01-11 20:00"), "shift")


def test_since_typed_in_local_time() -> None:
    """A typed 'since' is local time in the zone, refused when unreadable, in the future or beyond 31 days."""
    now = local("2022-01-11 20:15")
    assert desk.parse_since("2022-01-11 08:00", ZONE, now) == local("2022-01-11 08:00")
    assert desk.parse_since("2022-01-11T08:00", ZONE, now) == local("2022-01-11 08:00")
    for bad in ("", "  ", None, "yesterday", "2022-01-11 21:00", "2021-11-01 08:00", "2022-13-01 08:00"):
        assert desk.parse_since(bad, ZONE, now) is None, bad


def test_audit_trail_merges_events_actions_and_handovers_of_the_window() -> None:
    """Events, acknowledgements, notes, escalations and handovers of the window, newest first, each with who."""
    noted = {"time": NOON + 5 * MIN, "event": "noted", "by": "张三 (zhangsan)", "note": "水位仍在上涨"}
    escalated = {"time": NOON + 15 * MIN, "event": "escalated", "by": "floodwatch", "note": "not acknowledged"}
    rise = {"time": NOON + 10 * MIN, "event": "level_changed", "level": "orange", "value": 3.1, "threshold": 3.0}
    alert = make("W1", "yellow", NOON, history=[noted, rise, escalated])
    handover = Handover(NOON + 20 * MIN, "王丽 (wangli)", "王丽", "李四", "注意武汉关")
    before = make("W2", "blue", NOON - 300 * MIN)
    entries = desk.audit_trail([alert, before], [handover], NOON + MIN)
    assert [(e.what, e.level, e.by) for e in entries] == [
        ("handover", "", "王丽 (wangli)"),
        ("escalated", "orange", "floodwatch"),
        ("level_changed", "orange", ""),
        ("noted", "yellow", "张三 (zhangsan)"),
    ]
    assert (entries[0].outgoing, entries[0].incoming) == ("王丽", "李四")
    assert parts.details(entries[0]) == "王丽 → 李四: 注意武汉关"
    assert parts.details(entries[2]) == "3.10 m / 3.00 m"
    until = desk.audit_trail([alert], [handover], NOON, NOON + 6 * MIN)
    assert [e.what for e in until] == ["noted", "raised"]


def test_audit_trail_follows_the_filters_but_keeps_every_handover(catalogue: Catalogue) -> None:
    """Filtering the trail keeps the entries of the alerts shown, and the handovers (they have no station)."""
    alerts = [make("W1", "red"), make("K1", "yellow")]
    entries = desk.audit_trail(alerts, [Handover(NOON + MIN, "a", "b", "c", "")], NOON)
    kept = desk.filtered_trail(entries, alerts, catalogue, chosen(kinds=["reservoir"]))
    assert [(e.what, e.station) for e in kept] == [("handover", ""), ("raised", "K1")]


def test_handover_summary_says_what_happened_what_is_open_and_who_acknowledged() -> None:
    """Counts of the window, the alerts still open (unacknowledged ones counted) and each acknowledgement by whom."""
    since = desk.Since(NOON, "shift")
    acked = make("W1", "orange", NOON + MIN, acked=NOON + 3 * MIN, by="王丽 (wangli)")
    open_old = make("W2", "red", NOON - 600 * MIN)  # raised in an earlier shift, still open
    resolved = make("K1", "yellow", NOON - 120 * MIN, resolved=NOON + 30 * MIN)
    quiet = make("R1", "blue", NOON - 900 * MIN, resolved=NOON - 800 * MIN, rule="rain_3h")
    summary = desk.handover_summary([acked, open_old, resolved, quiet], [], since, NOON + 60 * MIN)
    assert summary.raised == {"orange": 1}
    assert (summary.raised_total, summary.resolved, summary.escalated) == (1, 1, 0)
    assert [a.station for a in summary.open] == ["W2", "W1"]
    assert summary.unacknowledged == 1
    assert [(ack.by, ack.alert.station, ack.note) for ack in summary.acknowledgements] == [
        ("王丽 (wangli)", "W1", "已派人")
    ]
    assert {a.station for a in summary.alerts} == {"W1", "W2", "K1"}  # R1 did nothing in the window


def test_an_acknowledgement_skips_alerts_already_acknowledged() -> None:
    """Acknowledging applies to unacknowledged alerts only (others are reported); a note applies to every one."""
    fresh, done = make("W1", "red"), make("W2", "yellow", acked=NOON + MIN, by="李四 (lisi)")
    wanted = [fresh.id, done.id, "W3/level/1"]
    ack = desk.plan("acknowledged", wanted, [fresh, done])
    assert (ack.done, ack.already, ack.missing) == ([fresh], [done], ["W3/level/1"])
    note = desk.plan("noted", wanted, [fresh, done])
    assert (note.done, note.already) == ([fresh, done], [])
    text = str(parts.outcome_message(ack, "zh").children)
    assert all(part in text for part in ("已确认 1 条", "李四 (lisi)", "1 条未找到"))


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # Excel reads UTF-8 (Chinese) only with the byte-order mark
    return list(csv.reader(io.StringIO(text[1:])))


def test_alerts_csv_has_local_times_with_the_zone_in_the_header_and_no_formulas() -> None:
    """The handover CSV: one row per alert, local times with seconds, the zone in the time headers, notes as text."""
    hostile = {"time": NOON + 2 * MIN, "event": "noted", "by": "张三 (zhangsan)", "note": "=HYPERLINK(1)"}
    alert = make("W1", "orange", NOON, acked=NOON + MIN, by="王丽 (wangli)", history=[hostile])
    names = {"W1": "武汉关"}
    rows = rows_of(parts.alerts_csv([alert], names, ZONE, "zh", since_ms=NOON, now_ms=NOON))
    header, row = rows
    assert header[6] == "发布时间 (Asia/Shanghai UTC+08:00)"
    assert header[-1] == "告警编号"
    assert row[:4] == ["橙色", "生效·已确认", "武汉关", "W1"]
    assert row[6] == "2022-01-11 14:00:00"
    assert row[7] == "2022-01-11 14:01:00 王丽 (wangli)"
    assert row[-2] == "2022-01-11 14:02:00 张三 (zhangsan): =HYPERLINK(1)"  # not at a cell's start: inert
    assert row[-1] == alert.id
    alert.note = "=cmd|' /C calc'!A0"
    assert rows_of(parts.alerts_csv([alert], names, ZONE, "en", since_ms=NOON, now_ms=NOON))[1][8].startswith("'=")


def test_audit_csv_lists_every_entry_with_its_zone() -> None:
    """The audit CSV: time (zone in the header), event, level, station, rule, who, details, alert id."""
    alert = make("W1", "yellow", NOON, acked=NOON + MIN, by="王丽 (wangli)")
    entries = desk.audit_trail([alert], [Handover(NOON + 2 * MIN, "王丽 (wangli)", "王丽", "李四", "")], NOON)
    header, *rows = rows_of(parts.audit_csv(entries, {"W1": "武汉关"}, ZONE, "en", NOON))
    assert header[0] == "Time (Asia/Shanghai UTC+08:00)"
    assert [r[1] for r in rows] == ["Handover", "Acknowledged", "Raised"]
    assert rows[1][6:] == ["王丽 (wangli)", "已派人", alert.id]
    assert rows[2][6] == "system"
    assert rows[0][7] == "王丽 → 李四"


@pytest.mark.parametrize(
    ("rule", "value", "threshold", "language", "expected"),
    [
        ("level", 2.314, 2.0, "zh", "水位 2.31 m ≥ 2.00 m，2022-01-11 14:00 UTC+08:00 越限"),
        ("level", 2.314, 2.0, "en", "Water level 2.31 m ≥ 2.00 m, crossed 2022-01-11 14:00 UTC+08:00"),
        ("rain_3h", 52.04, 50.0, "zh", "3小时降雨 52.0 mm ≥ 50.0 mm，2022-01-11 14:00 UTC+08:00 越限"),
        ("rate", 0.354, 0.3, "en", "Rapid rise 0.35 m/h ≥ 0.30 m/h, crossed 2022-01-11 14:00 UTC+08:00"),
        ("stale", 3720.0, 900.0, "en", "Station silent 62 min ≥ 15 min, crossed 2022-01-11 14:00 UTC+08:00"),
        ("suspect", 1.0, 1.0, "en", "Suspect readings since 2022-01-11 14:00 UTC+08:00"),
    ],
)
def test_reason_says_rule_value_threshold_and_when_in_local_time(
    rule: str, value: float, threshold: float, language: str, expected: str
) -> None:
    """The reason of an alert: its rule in words, value and threshold with units, the crossing in local time."""
    alert = make("W1", "yellow", NOON, rule=rule)
    alert.value, alert.threshold = value, threshold
    assert parts.reason(alert, ZONE, language) == expected


def flat(component: Any) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda c: c.to_plotly_json(), ensure_ascii=False)


def test_alerts_table_has_a_tick_box_per_alert_and_keeps_the_ticks() -> None:
    """Each row has a pattern-matching tick box named by its alert id, ticked when picked; rows link their station."""
    alerts = desk.ordered([make("W1", "red"), make("W2", "yellow", acked=NOON + MIN, by="王丽 (wangli)")])
    table = parts.alerts_table(alerts, {"W1": "武汉关", "W2": "汉口"}, ZONE, "zh", picked=[alerts[1].id])
    body = table.children[1].children
    assert [row.className for row in body] == ["fw-desk-open_unacked", "fw-desk-open_acked"]
    ticks = [row.children[0].children for row in body]
    assert [tick.id for tick in ticks] == [{"type": "desk-pick", "alert": a.id} for a in alerts]
    assert [tick.value for tick in ticks] == [[], [alerts[1].id]]
    text = flat(table)
    assert all(part in text for part in ("/station/W1", "武汉关", "2022-01-11 14:01 王丽 (wangli)"))
    assert "没有符合条件" in flat(parts.alerts_table([], {}, ZONE, "zh"))
    many = [make("W1", "blue", NOON + i) for i in range(parts.MAX_ROWS + 5)]
    assert len(parts.alerts_table(many, {}, ZONE, "en").children[1].children) == parts.MAX_ROWS
    assert "first 300" in parts.count_line(many, 400, "en")


def test_handover_report_shows_counts_open_alerts_and_acknowledgements() -> None:
    """The report names its window in local time with the zone, counts, and lists open alerts and acknowledgements."""
    summary = desk.handover_summary(
        [make("W1", "orange", NOON + MIN, acked=NOON + 3 * MIN, by="王丽 (wangli)"), make("W2", "red", NOON - MIN)],
        [],
        desk.Since(NOON, "shift"),
        NOON + 60 * MIN,
    )
    text = flat(parts.handover_report(summary, {"W1": "武汉关"}, ZONE, "zh"))
    assert "2022-01-11 14:00 UTC+08:00 至 2022-01-11 15:00 UTC+08:00" in text
    assert all(part in text for part in ("其中 1 条未确认", "desk-open-table", "desk-acks-table"))
    assert "王丽 (wangli)" in text
    assert "since the start of this shift" in parts.since_text(summary.since, ZONE, "en").lower()


def test_every_desk_text_exists_in_both_languages() -> None:
    """Every desk.* key the dashboard uses (also those built from a prefix) is translated in zh and en."""
    used: set[str] = set()
    for path in (REPO / "dashboard").rglob("*.py"):
        used |= set(re.findall(r"""["'](desk\.[a-z0-9_.]+[a-z0-9_])["']""", path.read_text(encoding="utf-8")))
    used |= {f"desk.state.{s}" for s in desk.STATES} | {f"desk.event.{e}" for e in (*desk.EVENTS, *desk.ACTIONS)}
    used |= {f"desk.tab.{v}" for v in ("alerts", "handover", "audit")} | {"desk.done.acknowledged", "desk.done.noted"}
    used |= {f"desk.since.{s}" for s in ("handover", "shift", "chosen")}
    used |= {f"desk.dropdown.{k}" for k in parts.dropdown_labels("en")}
    for language in ("zh", "en"):
        assert used - set(texts(language)) == set(), language
    path = REPO / "config" / "i18n" / "zh.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.read_text(encoding="utf-8") == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_desk_page_renders_without_influxdb_in_both_languages(tmp_path: Path) -> None:
    """/alerts builds its layout (tabs, filters, actions, zone) without touching InfluxDB; the header links it."""
    from dashboard.app import create_app, route

    settings = Settings.model_validate(
        {"catalogue": str(REPO / "config/catalogues/garonne.csv"), "var_dir": str(tmp_path)}
    )
    ctx = create_app(settings)._floodwatch_ctx  # type: ignore[attr-defined]
    for language, title, nav in (("zh", "告警值守台", "告警值守"), ("en", "Alert desk", "Alert desk")):
        text = flat(route(ctx, "/alerts", language))
        parts_shown = (title, nav, "Asia/Shanghai UTC+08:00", "desk-ack", "desk-handover-record", "La Garonne")
        assert [part for part in parts_shown if part not in text] == []
        assert '"href": "/alerts"' in flat(route(ctx, "/", language))  # the header's navigation


def test_cache_clear_discards_values_computed_before_it() -> None:
    """After clear(), a value being computed from before the write is not served: the next read loads again."""
    now = [0.0]
    cache = TTLCache(10, clock=lambda: now[0])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        if len(calls) == 1:
            cache.clear()  # a write lands while the first read is running
        return len(calls)

    assert cache.get("k", compute) == 1
    assert cache.get("k", compute) == 2  # the first value predates the clear: loaded again
    assert cache.get("k", compute) == 2  # and cached from then on
    cache.clear()
    assert cache.get("k", compute) == 3


# -- the data layer on the real InfluxDB -----------------------------------------------------------------

#: fields the engine writes on every alert event
AS_ENGINE = {"muted": False, "superseded": False}


@pytest.mark.services
def test_data_layer_writes_acks_notes_and_handovers_that_the_next_read_sees(
    tmp_path: Path, services: LocalServices, catalogue: Catalogue
) -> None:
    """Acks, notes and handovers are alert_action points by the session user; the cached reads show them at once."""
    (tmp_path / "stations.csv").write_text(CATALOGUE, encoding="utf-8")
    env = write_env(tmp_path, services, tmp_path / "stations.csv")
    client = InfluxClient(env.settings.influx)
    client.create_database()
    now = [NOON / 1000 + 3600]
    data = DataLayer(client, catalogue, ZONE, now=lambda: now[0])
    first, second = f"W1/level/{NOON}", f"W2/level/{NOON}"
    points = [
        line("alert_event", {"station": s, "rule": "level", "event": "raised"}, fields, NOON)
        for s, fields in (
            ("W1", {"alert_id": first, "level": "yellow", "value": 2.3, "threshold": 2.0, **AS_ENGINE}),
            ("W2", {"alert_id": second, "level": "red", "value": 4.2, "threshold": 4.0, **AS_ENGINE}),
        )
    ]
    client.write("\n".join(points).encode())
    since = desk.window_start(int(now[0] * 1000), 86_400_000)
    assert [a.acknowledged_ms for a in data.desk_alerts(since)] == [None, None]  # cached now
    outcome = data.acknowledge([first, "W9/level/1"], OFFICER, "已派人\n巡堤")
    assert ([a.id for a in outcome.done], outcome.missing) == ([first], ["W9/level/1"])
    shown = {a.id: a for a in data.desk_alerts(since)}  # within the TTL, yet fresh
    assert (shown[first].acknowledged_by, shown[first].note) == ("王丽 (wangli)", "已派人 巡堤")
    again = data.acknowledge([first, second], OFFICER, "")
    assert ([a.id for a in again.done], [a.id for a in again.already]) == ([second], [first])
    now[0] += 60
    data.add_note([second], OFFICER, "水位回落")
    alerts = {a.id: a for a in list_alerts(client)}
    assert [(h["event"], h["by"], h["note"]) for h in alerts[second].history if h["event"] == "noted"] == [
        ("noted", "王丽 (wangli)", "水位回落")
    ]
    hostile = 'x" 1\nlevel,station=W1 value=99 1\\'  # line protocol in a note is text, one point
    data.add_note([first], OFFICER, hostile)
    notes = [h["note"] for h in {a.id: a for a in list_alerts(client)}[first].history if h["event"] == "noted"]
    assert notes == [desk.clean_text(hostile)]
    assert client.rows("SELECT * FROM level") == []
    handover = data.record_handover(OFFICER, " 王丽 ", "李四", "注意武汉关")
    assert data.handovers(since) == [handover]
    assert list_handovers(client, since_ms=since) == [
        Handover(handover.time_ms, "王丽 (wangli)", "王丽", "李四", "注意武汉关")
    ]
    # a handover is nobody's alert, and the ingester's acknowledgement poll does not see notes or handovers
    assert sorted(alerts) == sorted([first, second]) == sorted(a.id for a in list_alerts(client))
    acks = client.rows("SELECT alert_id, note FROM alert_action WHERE action = 'acknowledged'")
    assert sorted(r["alert_id"] for r in acks) == [first, second]
    assert handover_line(handover).startswith("alert_action,action=handover,alert_id=handover/")


@pytest.mark.services
def test_an_alert_that_a_late_reading_undid_is_not_listed(tmp_path: Path, services: LocalServices) -> None:
    """A raised event the engine marked superseded (a late reading undid the crossing) is no alert."""
    (tmp_path / "stations.csv").write_text(CATALOGUE, encoding="utf-8")
    env = write_env(tmp_path, services, tmp_path / "stations.csv")
    client = InfluxClient(env.settings.influx)
    client.create_database()
    fields = {"level": "yellow", "value": 2.3, "threshold": 2.0, **AS_ENGINE}
    tags = {"station": "W1", "rule": "level", "event": "raised"}
    client.write(line("alert_event", tags, {**fields, "alert_id": f"W1/level/{NOON}"}, NOON).encode())
    client.write(line("alert_event", tags, {**fields, "alert_id": f"W1/level/{NOON + 1}"}, NOON + 1).encode())
    assert len(list_alerts(client)) == 2
    # the engine rewrites the undone transition's point with superseded = true
    client.write(line("alert_event", tags, {"superseded": True}, NOON).encode())
    assert [a.id for a in list_alerts(client)] == [f"W1/level/{NOON + 1}"]

"""The alert desk on the real services: alerts raised by the real ingester from published readings.

In Debian's headless Chromium, an officer logs in through the login form, sees a new alert arrive
without a reload, acknowledges one with a note, finds it in the audit trail with their name and
records the handover; the page says when it lost the server. Without a browser, a viewer and an
anonymous client POST the very callbacks the browser sends to ``/_dash-update-component`` and nothing
is written (the same requests by an officer are the proof that they are the right ones).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By

from config.settings import MqttSettings
from config.users import User, hash_password, save_users
from floodwatch.replay import replay
from floodwatch.services import LocalServices
from store.alerts import Alert, list_alerts
from tests.conftest import Env, eventually, write_env
from tests.test_alerts_e2e import frame_of
from tests.test_dashboard_browser import AppServer, drain_logs, load, text_of
from tests.test_dashboard_browser import browser as browser  # noqa: PLC0414 - the module-scoped Chromium fixture

pytestmark = pytest.mark.services

CATALOGUE = """id,name_zh,name_en,kind,river,district,interval_s,warning_m,guaranteed_m,historical_max_m
W1,一号站,Station one,river,长江,江岸区,300,2.0,3.0,4.0
W2,二号站,Station two,river,长江,江汉区,300,2.0,3.0,4.0
W3,三号站,Station three,river,汉江,江汉区,300,2.0,3.0,4.0
"""
PASSWORD = "desk-pass-123"
OFFICER = User("wangli", "officer", "王丽", hash_password(PASSWORD))
VIEWER = User("screen", "viewer", "", hash_password(PASSWORD))


@pytest.fixture(scope="module")
def desk_env(tmp_path_factory: pytest.TempPathFactory, services: LocalServices) -> Iterator[Env]:
    """Three river stations, an officer and a viewer, and the ingester evaluating alerts."""
    folder = tmp_path_factory.mktemp("desk")
    (folder / "stations.csv").write_text(CATALOGUE, encoding="utf-8")
    env = write_env(folder, services, folder / "stations.csv", alerts={"forecast_horizon_s": 0, "tick_s": 0.5})
    save_users(env.settings.users_file, {u.login: u for u in (OFFICER, VIEWER)})
    env.start_ingester()
    yield env
    env.stop_processes()


@pytest.fixture(scope="module")
def app(desk_env: Env) -> Iterator[AppServer]:
    """The dashboard on loopback, refreshing every second."""
    server = AppServer(desk_env)
    yield server
    server.stop()


def raise_alert(env: Env, station: str, values: list[float]) -> Alert:
    """Publish 5-minute levels of ``station`` ending now; the ingester's level alert of the station."""
    start = int(time.time() * 1000) - (len(values) - 1) * 300_000
    mqtt = MqttSettings(port=env.settings.mqtt.port, topic_prefix=env.settings.mqtt.topic_prefix)
    replay(frame_of(station, start, values), mqtt, speed=None, progress=False)

    def level_alert() -> Alert | None:
        found = [a for a in list_alerts(env.client) if a.station == station and a.rule == "level"]
        return found[0] if found else None

    alert: Alert = eventually(level_alert, 30, 0.2, f"the ingester raised {station}'s level alert")
    return alert


def actions(env: Env) -> list[dict[str, Any]]:
    """Every alert_action point, escalations aside (the ingester may write those at any time)."""
    rows = env.client.rows("SELECT * FROM alert_action")
    return [r for r in rows if r["action"] != "escalated"]


def log_in(driver: webdriver.Chrome, app: AppServer, user: User) -> None:
    """Log in through the login form and land on the alert desk."""
    load(driver, f"{app.url}/login?next=/alerts", lambda d: d.find_elements(By.ID, "login-user"), "login form")
    driver.find_element(By.ID, "login-user").send_keys(user.login)
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    eventually(lambda: driver.current_url.endswith("/alerts"), 20, 0.1, "back on /alerts")
    eventually(lambda: (user.name or user.login) in text_of(driver, "#user-name"), 20, 0.1, "the user bar names them")


def click_tab(driver: webdriver.Chrome, label: str) -> None:
    """Open one of the desk's tabs by its label."""
    driver.find_element(By.XPATH, f"//*[@id='desk-view']//*[normalize-space()='{label}']").click()


def test_officer_acknowledges_with_a_note_and_finds_it_in_the_audit_trail(
    desk_env: Env, app: AppServer, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    """Logged in as an officer: a new alert appears without a reload; ticking it, writing a note and acknowledging
    marks it acknowledged by the officer, in the table, the audit trail, the handover CSV and InfluxDB; the
    handover is recorded."""
    first = raise_alert(desk_env, "W1", [1.0, 2.3])
    log_in(browser, app, OFFICER)
    eventually(lambda: "一号站" in text_of(browser, "#desk-table"), 20, 0.1, "W1's alert listed")
    assert browser.find_element(By.ID, "desk-ack").is_enabled()
    second = raise_alert(desk_env, "W2", [1.0, 3.2])
    eventually(lambda: "二号站" in text_of(browser, "#desk-table"), 20, 0.1, "W2's alert, without a reload")
    assert text_of(browser, "#desk-table").index("二号站") < text_of(browser, "#desk-table").index("一号站")  # orange

    browser.find_element(By.CSS_SELECTOR, f"#desk-table input[value='{first.id}']").click()
    browser.find_element(By.ID, "desk-note").send_keys("已派巡堤人员")
    browser.find_element(By.ID, "desk-ack").click()
    eventually(lambda: "已确认 1 条" in text_of(browser, "#desk-message"), 20, 0.1, "acknowledged")
    row = f"#desk-table tr:has(input[value='{first.id}'])"
    eventually(lambda: "王丽 (wangli)" in text_of(browser, row), 20, 0.1, "the row shows who acknowledged")
    assert "已派巡堤人员" in text_of(browser, row)
    assert "生效·已确认" in text_of(browser, row)
    assert [(a["action"], a["alert_id"], a["by"], a["note"]) for a in actions(desk_env)] == [
        ("acknowledged", first.id, "王丽 (wangli)", "已派巡堤人员")
    ]

    click_tab(browser, "审计记录")
    audit = "#desk-audit-table"
    eventually(lambda: "已派巡堤人员" in text_of(browser, audit), 20, 0.1, "the acknowledgement in the audit trail")
    assert "王丽 (wangli)" in text_of(browser, audit)
    assert text_of(browser, audit).count("发布") >= 2  # both alerts' raised events

    click_tab(browser, "交接班")
    eventually(lambda: "交接班报告" in text_of(browser, "#desk-handover-title"), 20, 0.1, "handover report")
    assert int(text_of(browser, "#desk-open-count")) >= 2
    assert second.id not in text_of(browser, "#desk-acks-table")
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.find_element(By.ID, "desk-export").click()
    exported = eventually(lambda: list(tmp_path.glob("floodwatch-handover-*.csv")), 20, 0.1, "the CSV downloaded")
    header, *rows = csv.reader(io.StringIO(exported[0].read_text(encoding="utf-8-sig")))
    assert "发布时间 (Asia/Shanghai UTC+08:00)" in header
    assert {row[-1]: row[7].endswith("王丽 (wangli)") for row in rows} == {first.id: True, second.id: False}
    browser.find_element(By.ID, "desk-outgoing").send_keys("王丽")
    browser.find_element(By.ID, "desk-incoming").send_keys("李四")
    browser.find_element(By.ID, "desk-handover-note").send_keys("二号站仍超保证")
    browser.find_element(By.ID, "desk-handover-record").click()
    eventually(lambda: "交接班已记录" in text_of(browser, "#desk-handover-message"), 20, 0.1, "handover recorded")
    eventually(lambda: "王丽 → 李四" in text_of(browser, "#desk-since-hint"), 20, 0.1, "the new shift starts there")
    handover = [a for a in actions(desk_env) if a["action"] == "handover"]
    assert [(h["by"], h["outgoing"], h["incoming"], h["note"]) for h in handover] == [
        ("王丽 (wangli)", "王丽", "李四", "二号站仍超保证")
    ]
    errors, hosts = drain_logs(browser)
    assert errors == []
    assert hosts == {f"127.0.0.1:{app.port}"}


def test_a_viewer_reads_the_desk_and_it_says_when_it_lost_the_server(desk_env: Env, browser: webdriver.Chrome) -> None:
    """A viewer sees the alerts with the action buttons disabled and why; when the server stops answering, a
    banner says the alerts are not live (3 refreshes + 5 s)."""
    raise_alert(desk_env, "W1", [1.0, 2.3])  # the same alert as the first test's, when run alone
    server = AppServer(desk_env)
    try:
        log_in(browser, server, VIEWER)
        eventually(lambda: "一号站" in text_of(browser, "#desk-table"), 20, 0.1, "W1's alert listed")
        eventually(lambda: "值班员身份" in text_of(browser, "#desk-role-hint"), 20, 0.1, "why the buttons are off")
        assert not browser.find_element(By.ID, "desk-ack").is_enabled()
        assert not browser.find_element(By.ID, "desk-handover-record").is_enabled()
        assert not browser.find_elements(By.CSS_SELECTOR, "#desk-banner.fw-show")
    finally:
        server.stop()
    eventually(lambda: browser.find_elements(By.CSS_SELECTOR, "#desk-banner.fw-show"), 30, 0.2, "banner")
    assert "失去联系" in text_of(browser, "#desk-banner")


# -- the callbacks POSTed directly -------------------------------------------------------------------


def dependencies(app: AppServer) -> list[dict[str, Any]]:
    """The callbacks as the browser learns them."""
    return list(requests.get(f"{app.url}/_dash-dependencies", timeout=10).json())


def payload(spec: dict[str, Any], values: dict[str, Any], changed: str, picks: list[str]) -> dict[str, Any]:
    """The body the renderer POSTs for ``spec`` with ``values`` ("id.property" -> value), ``picks`` ticked."""

    def concrete(ident: str, prop: str, value: bool) -> Any:
        if not ident.startswith("{"):
            item = {"id": ident, "property": prop}
            return {**item, "value": values.get(f"{ident}.{prop}")} if value else item
        pattern = json.loads(ident)
        return [
            {"id": {**pattern, "alert": pick}, "property": prop, **({"value": [pick]} if value else {})}
            for pick in picks
        ]

    outputs = [concrete(*part.rsplit(".", 1), False) for part in spec["output"].strip(".").split("...")]
    return {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [concrete(i["id"], i["property"], True) for i in spec["inputs"]],
        "state": [concrete(s["id"], s["property"], True) for s in spec["state"]],
        "changedPropIds": [changed],
    }


def session_of(app: AppServer, user: User | None) -> requests.Session:
    """A client with the session cookie the login form gives ``user`` (none: anonymous)."""
    client = requests.Session()
    if user is None:
        return client
    form = client.get(f"{app.url}/login", timeout=10).text
    match = re.search(r'name="csrf" value="([^"]+)"', form)
    assert match
    answer = client.post(
        f"{app.url}/login",
        data={"csrf": match.group(1), "login": user.login, "password": PASSWORD, "next": "/alerts"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return client


def test_viewers_and_anonymous_clients_cannot_write_even_by_posting_the_callbacks(
    desk_env: Env, app: AppServer
) -> None:
    """Acknowledge, note and handover POSTed to /_dash-update-component by a viewer or nobody write nothing and
    say why; the same requests by an officer write (so they are what the browser sends)."""
    alert = raise_alert(desk_env, "W3", [1.0, 2.4])
    specs = {s["output"].split(".")[2]: s for s in dependencies(app) if s["output"].startswith("..desk-")}
    act, handover = specs["desk-message"], specs["desk-handover-message"]
    base = {"desk-version.data": 0, "lang.data": "zh", "desk-ack.n_clicks": 0, "desk-add-note.n_clicks": 0}
    requests_to_send = {
        "acknowledged": payload(
            act, {**base, "desk-ack.n_clicks": 1, "desk-note.value": "x"}, "desk-ack.n_clicks", [alert.id]
        ),
        "noted": payload(
            act, {**base, "desk-add-note.n_clicks": 1, "desk-note.value": "x"}, "desk-add-note.n_clicks", [alert.id]
        ),
        "handover": payload(
            handover,
            {
                **base,
                "desk-handover-record.n_clicks": 1,
                "desk-outgoing.value": "a",
                "desk-incoming.value": "b",
                "desk-handover-note.value": "x",
            },
            "desk-handover-record.n_clicks",
            [],
        ),
    }
    before = actions(desk_env)
    for who in (VIEWER, None):
        client = session_of(app, who)
        for action, body in requests_to_send.items():
            answer = client.post(f"{app.url}/_dash-update-component", json=body, timeout=10)
            assert answer.status_code == 200, (who, action, answer.text)
            said = json.dumps(answer.json(), ensure_ascii=False)
            assert "无权操作：需要值班员权限" in said, (who, action, said)
    assert actions(desk_env) == before
    officer = session_of(app, OFFICER)
    for action, body in requests_to_send.items():
        answer = officer.post(f"{app.url}/_dash-update-component", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        assert "无权操作" not in json.dumps(answer.json(), ensure_ascii=False)
        eventually(lambda a=action: any(r["action"] == a for r in actions(desk_env)[len(before) :]), 10, 0.1, action)
    written = [(r["action"], r["by"]) for r in actions(desk_env) if r not in before]
    assert sorted(written) == [
        ("acknowledged", "王丽 (wangli)"),
        ("handover", "王丽 (wangli)"),
        ("noted", "王丽 (wangli)"),
    ]

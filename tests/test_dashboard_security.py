"""The dashboard's login, sessions, roles and HTTP API attacked over HTTP, on the real services.

The app runs with ``dashboard.login_required`` on loopback behind one trusted proxy (so that each test
is its own client address for the login throttle, through ``X-Forwarded-For``); forged cookies are
made with itsdangerous as Flask makes them, with the app's key or another. Every hostile API
parameter must be answered 400/404 without echoing it, and the database must stay as it was.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from config.users import User, hash_password, load_users, save_users
from dashboard.auth import fingerprint
from floodwatch.services import LocalServices
from tests.api_seed import seed, stored, write_catalogue
from tests.conftest import Env, write_env
from tests.served import AppServer
from tests.test_injection import HOSTILE

pytestmark = pytest.mark.services

COOKIE = "floodwatch_session"
PASSWORDS = {"ann": "ann-viewer-pw-1", "bob": "bob-officer-pw-1"}
_addresses = itertools.count(2)


@dataclass
class Site:
    """The secured app, its settings and users file, and the readings stored at the start."""

    server: AppServer
    env: Env
    users_file: Path
    readings: int
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def set_users(self, **roles: str) -> dict[str, User]:
        """Make the users file hold ann, bob and ``roles`` (login -> role; password ``<login>-pw-123456``)."""
        users = {
            "ann": User("ann", "viewer", "Ann", self.hashes["ann"]),
            "bob": User("bob", "officer", "Bob", self.hashes["bob"]),
        }
        for login, role in roles.items():
            if login not in self.hashes:
                self.hashes[login] = hash_password(f"{login}-pw-123456")
            users[login] = User(login, role, login.title(), self.hashes[login])  # type: ignore[arg-type]
        save_users(self.users_file, users)
        return users

    def sign(self, data: dict[str, Any], key: str | None = None) -> str:
        """A session cookie of ``data`` signed as Flask signs it, with the app's key or ``key``."""
        app = self.server.app.server
        if key is not None:
            app = Flask("forger")
            app.secret_key = key
        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        assert serializer is not None
        return str(serializer.dumps(data))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, services: LocalServices) -> Iterator[Site]:
    """The seeded database and the dashboard with login_required, one trusted proxy, ann (viewer) and bob (officer)."""
    folder = tmp_path_factory.mktemp("secured")
    env = write_env(folder, services, write_catalogue(folder), dashboard={"login_required": True, "trusted_proxies": 1})
    readings = seed(env.client, int(time.time() * 1000))
    hashes = {login: hash_password(password) for login, password in PASSWORDS.items()}
    site = Site(None, env, env.settings.users_file, readings, hashes)  # type: ignore[arg-type]
    site.set_users()
    site.server = AppServer(env)
    yield site
    site.server.stop()


class Visitor:
    """A browser or client of its own address (behind the trusted proxy) with its own cookies."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = f"127.0.1.{next(_addresses)}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.site.url + path, allow_redirects=False, timeout=30, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        """The login form's CSRF token (its session cookie is kept)."""
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        assert match is not None
        return match.group(1)

    def login(self, login: str, password: str, next_path: str | None = None) -> requests.Response:
        """Post the login form as a browser does: the token of the form just fetched."""
        data = {"csrf": self.csrf(), "login": login, "password": password}
        if next_path is not None:
            data["next"] = next_path
        return self.http.post(f"{self.site.url}/login?lang=en", data=data, allow_redirects=False, timeout=30)

    def with_cookie(self, value: str) -> Visitor:
        """This visitor with its session cookie replaced by ``value``."""
        self.http.cookies.clear()
        self.http.cookies.set(COOKIE, value)
        return self

    def api_status(self) -> int:
        return self.get("/api/v1/stations").status_code

    def user_bar(self) -> str:
        """The header's user bar as the server renders it for this visitor (the Dash callback)."""
        body = {
            "output": "user-bar.children",
            "outputs": {"id": "user-bar", "property": "children"},
            "inputs": [
                {"id": "url", "property": "pathname", "value": "/"},
                {"id": "lang", "property": "data", "value": "en"},
            ],
            "changedPropIds": ["url.pathname"],
            "state": [],
        }
        response = self.http.post(f"{self.site.url}/_dash-update-component", json=body, timeout=30)
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        return json.dumps(response.json(), ensure_ascii=False)


def error_text(response: requests.Response) -> str:
    match = re.search(r'id="login-error">([^<]*)<', response.text)
    return match.group(1) if match else ""


# -- logging in --------------------------------------------------------------------------------------


def test_the_right_password_logs_in_and_the_session_reads_the_api(site: Site) -> None:
    """A good login redirects home with an HttpOnly, SameSite=Lax session cookie that opens the API."""
    visitor = Visitor(site)
    assert visitor.api_status() == 401
    response = visitor.login("ann", PASSWORDS["ann"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert visitor.api_status() == 200
    assert "Ann · viewer" in visitor.user_bar()


def test_a_wrong_password_is_refused_and_logs_nobody_in(site: Site) -> None:
    """A wrong password answers 401 with the form and its message, and the session stays anonymous."""
    site.set_users(wendy="viewer")
    visitor = Visitor(site)
    response = visitor.login("wendy", "not-her-password")
    assert response.status_code == 401
    assert error_text(response) == "Wrong user name or password."
    assert visitor.api_status() == 401
    assert visitor.user_bar() == "HTTP 401"  # even Dash callbacks need a login here


def test_five_failures_throttle_even_the_right_password(site: Site) -> None:
    """After 5 failures for a name, the 6th try answers 429 even with the right password, from any address."""
    site.set_users(tom="viewer")
    for _ in range(5):
        assert Visitor(site).login("tom", "guess-guess-1").status_code == 401
    response = Visitor(site).login("tom", "tom-pw-123456")
    assert response.status_code == 429
    assert "Too many failed logins" in error_text(response)
    assert Visitor(site).get("/api/v1/stations", auth=("tom", "tom-pw-123456")).status_code == 429


def test_five_failures_from_one_address_throttle_every_name_from_it(site: Site) -> None:
    """Guessing five names from one address blocks that address (429 with Retry-After), not others."""
    attacker = Visitor(site)
    for n in range(5):
        assert attacker.login(f"guess{n}", "guess-guess-1").status_code == 401
    assert attacker.login("ann", PASSWORDS["ann"]).status_code == 429
    refused = attacker.get("/api/v1/stations", auth=("ann", PASSWORDS["ann"]))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert Visitor(site).login("ann", PASSWORDS["ann"]).status_code == 302


def test_a_forged_forwarded_for_does_not_dodge_the_throttle_without_a_trusted_proxy(tmp_path: Path, site: Site) -> None:
    """With trusted_proxies = 0 the address is the socket's: X-Forwarded-For changes nothing."""
    settings = site.env.settings.model_copy(
        update={"dashboard": site.env.settings.dashboard.model_copy(update={"trusted_proxies": 0})}
    )
    server = AppServer(site.env, settings=settings)
    try:
        direct = Site(server, site.env, site.users_file, site.readings, site.hashes)
        for n in range(5):
            assert Visitor(direct).login(f"guess{n}", "guess-guess-1").status_code == 401
        assert Visitor(direct).login("ann", PASSWORDS["ann"]).status_code == 429
    finally:
        server.stop()


def test_an_unknown_user_answers_like_a_wrong_password_and_costs_as_much(site: Site) -> None:
    """An unknown name gets the same status and message as a wrong password, in a similar time."""
    site.set_users(uma="viewer")
    Visitor(site).login("warm-up-nobody", "x" * 12)  # the first unknown name makes the dummy hash once

    def attempt(login: str) -> tuple[float, int, str]:
        start = time.perf_counter()
        response = Visitor(site).login(login, "wrong-password-1")
        return time.perf_counter() - start, response.status_code, error_text(response)

    # interleaved, so that a busy moment of the machine falls on both kinds alike
    pairs = [(attempt("uma"), attempt(f"nobody{n}")) for n in range(4)]
    known, unknown = [k for k, _ in pairs], [u for _, u in pairs]
    assert {(code, text) for _, code, text in known} == {(code, text) for _, code, text in unknown}
    assert {code for _, code, _ in known} == {401}
    ratio = statistics.median(t for t, _, _ in unknown) / statistics.median(t for t, _, _ in known)
    assert 0.4 < ratio < 2.5, ratio  # a skipped verification was 0.02


def test_login_without_its_csrf_token_is_refused(site: Site) -> None:
    """A login post without the form's token, or with another session's, answers 400 and logs nobody in."""
    visitor = Visitor(site)
    visitor.csrf()
    data = {"login": "ann", "password": PASSWORDS["ann"]}
    missing = visitor.http.post(f"{site.url}/login", data=data, allow_redirects=False, timeout=30)
    assert missing.status_code == 400
    other = Visitor(site).csrf()
    stolen = visitor.http.post(f"{site.url}/login", data={**data, "csrf": other}, allow_redirects=False, timeout=30)
    assert stolen.status_code == 400
    cookieless = requests.post(f"{site.url}/login", data={**data, "csrf": other}, allow_redirects=False, timeout=30)
    assert cookieless.status_code == 400
    assert visitor.api_status() == 401


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/login?next=//evil.example",
    ],
)
def test_next_never_leads_to_another_site(site: Site, target: str) -> None:
    """After a login, next= of another site (or any trick a browser reads as one) goes home instead."""
    visitor = Visitor(site)
    form = visitor.get("/login", params={"next": target})
    assert form.status_code == 200
    response = visitor.login("ann", PASSWORDS["ann"], next_path=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")  # as a browser reads it
    assert cleaned.startswith("/")
    assert not cleaned.startswith("//")
    assert urlsplit(cleaned).netloc == ""
    assert location == "/"


def test_next_keeps_a_local_page(site: Site) -> None:
    """A local next= (a station page with its query) is where the login leads."""
    response = Visitor(site).login("ann", PASSWORDS["ann"], next_path="/station/T01?range=7d")
    assert response.headers["Location"] == "/station/T01?range=7d"


def test_a_page_without_a_session_redirects_to_the_login_and_the_api_answers_401(site: Site) -> None:
    """Without a session a page redirects to /login?next=it; the API answers 401 with a Basic challenge."""
    visitor = Visitor(site)
    page = visitor.get("/wall")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/wall"
    api = visitor.get("/api/v1/latest")
    assert api.status_code == 401
    assert api.headers["WWW-Authenticate"].startswith('Basic realm="floodwatch"')
    assert api.json()["error"] == "login required"
    callback = visitor.http.post(f"{site.url}/_dash-update-component", json={}, timeout=30)
    assert callback.status_code == 401
    assert "WWW-Authenticate" not in callback.headers  # a browser's XHR must not pop a password dialog
    assert visitor.get("/health").status_code == 200


# -- session cookies -----------------------------------------------------------------------------------


def test_a_cookie_made_with_the_apps_key_is_accepted(site: Site) -> None:
    """The forger below is faithful: a well-formed, fresh session of ann signed with the app's key is ann."""
    ann = load_users(site.users_file)["ann"]
    cookie = site.sign({"user": "ann", "fp": fingerprint(ann), "at": int(time.time())})
    assert Visitor(site).with_cookie(cookie).api_status() == 200


def tampered(cookie: str, **changes: Any) -> str:
    """``cookie`` with its payload edited and its signature kept."""
    payload, rest = cookie.split(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{edited}.{rest}"


def test_forged_and_tampered_cookies_are_refused(site: Site) -> None:
    """Garbage, an edited payload, another key's signature, a stale login time and a wrong fingerprint: 401."""
    users = load_users(site.users_file)
    now = int(time.time())
    good = {"user": "ann", "fp": fingerprint(users["ann"]), "at": now}
    cookie = site.sign(good)
    session_s = site.env.settings.dashboard.session_hours * 3600
    forged = {
        "garbage": "not-a-cookie",
        "edited to bob": tampered(cookie, user="bob", fp=fingerprint(users["bob"])),
        "edited role": tampered(cookie, role="admin"),
        "another key": site.sign({**good, "user": "bob", "fp": fingerprint(users["bob"])}, key="guessed-key"),
        "expired": site.sign({**good, "at": now - session_s - 60}),
        "no login time": site.sign({"user": "ann", "fp": good["fp"]}),
        "wrong fingerprint": site.sign({**good, "fp": "0" * 16}),
        "no fingerprint": site.sign({"user": "ann", "at": now}),
        "unknown user": site.sign({"user": "mallory", "fp": good["fp"], "at": now}),
        "user not a string": site.sign({**good, "user": ["ann"]}),
    }
    refused = {name: Visitor(site).with_cookie(value).api_status() for name, value in forged.items()}
    assert refused == dict.fromkeys(forged, 401)


def test_the_role_comes_from_the_users_file_never_the_cookie(site: Site) -> None:
    """A validly signed session claiming admin is still ann the viewer; a lowered role applies at once."""
    users = site.set_users(olga="officer")
    claim = site.sign({"user": "ann", "fp": fingerprint(users["ann"]), "at": int(time.time()), "role": "admin"})
    assert "Ann · viewer" in Visitor(site).with_cookie(claim).user_bar()
    olga = Visitor(site)
    assert olga.login("olga", "olga-pw-123456").status_code == 302
    assert "Olga · duty officer" in olga.user_bar()
    site.set_users(olga="viewer")
    assert "Olga · viewer" in olga.user_bar()
    assert olga.api_status() == 200


def test_sessions_end_when_the_user_is_removed_or_the_password_changes(site: Site) -> None:
    """A live session stops working at the next request after its user is removed or their password changed."""
    site.set_users(rita="viewer", paul="viewer")
    rita, paul = Visitor(site), Visitor(site)
    assert rita.login("rita", "rita-pw-123456").status_code == 302
    assert paul.login("paul", "paul-pw-123456").status_code == 302
    assert (rita.api_status(), paul.api_status()) == (200, 200)
    site.set_users(paul="viewer")  # rita removed
    assert rita.api_status() == 401
    assert paul.api_status() == 200
    site.hashes["paul"] = hash_password("paul-new-pw-123")
    site.set_users(paul="viewer")
    assert paul.api_status() == 401
    assert Visitor(site).login("paul", "paul-pw-123456").status_code == 401
    assert Visitor(site).login("paul", "paul-new-pw-123").status_code == 302


def test_logout_ends_the_session(site: Site) -> None:
    """POST /logout clears the session: the API answers 401 again."""
    visitor = Visitor(site)
    visitor.login("ann", PASSWORDS["ann"])
    assert visitor.api_status() == 200
    visitor.http.post(f"{site.url}/logout", allow_redirects=False, timeout=30)
    assert visitor.api_status() == 401


# -- HTTP Basic for machine clients ----------------------------------------------------------------------


def test_basic_credentials_read_the_api_and_are_verified_once(site: Site) -> None:
    """Good Basic credentials read the API; the verification is cached under a key that is not the password."""
    site.set_users(machine="viewer")
    visitor = Visitor(site)
    auth = ("machine", "machine-pw-123456")
    assert visitor.get("/api/v1/latest", auth=auth).status_code == 200
    verified = site.server.app._floodwatch_ctx.auth.verified
    entries = len(verified._entries)
    assert visitor.get("/api/v1/stations", auth=auth).status_code == 200
    assert len(verified._entries) == entries
    assert all(b"machine-pw" not in key for key in verified._entries)


def test_basic_credentials_are_refused_when_wrong_unknown_or_outside_the_api(site: Site) -> None:
    """Wrong and unknown Basic credentials answer 401 with the challenge; on a page they log nobody in."""
    site.set_users(vera="viewer")
    for auth in (("vera", "wrong-password-1"), ("nobody-here", "wrong-password-1"), ("", "")):
        response = Visitor(site).get("/api/v1/stations", auth=auth)
        assert response.status_code == 401, auth
        assert "WWW-Authenticate" in response.headers
        assert "wrong-password" not in response.text
    assert Visitor(site).get("/wall", auth=("vera", "vera-pw-123456")).status_code == 302
    garbled = Visitor(site).get("/api/v1/stations", headers={"Authorization": "Basic !!!not-base64"})
    assert garbled.status_code == 401


def test_the_basic_cache_ends_with_a_changed_password_or_a_removed_user(site: Site) -> None:
    """A cached Basic login stops working as soon as the users file changes its password or drops the user."""
    site.set_users(cron="viewer", feed="viewer")
    visitor = Visitor(site)
    assert visitor.get("/api/v1/stations", auth=("cron", "cron-pw-123456")).status_code == 200
    assert visitor.get("/api/v1/stations", auth=("feed", "feed-pw-123456")).status_code == 200
    site.hashes["cron"] = hash_password("cron-new-pw-123")
    site.set_users(cron="viewer", feed="viewer")
    assert visitor.get("/api/v1/stations", auth=("cron", "cron-pw-123456")).status_code == 401
    assert visitor.get("/api/v1/stations", auth=("cron", "cron-new-pw-123")).status_code == 200
    site.set_users(cron="viewer")
    assert visitor.get("/api/v1/stations", auth=("feed", "feed-pw-123456")).status_code == 401


# -- injection through every API parameter ------------------------------------------------------------

INJECTIONS = [
    *HOSTILE,
    "2022-01-01T00:00:00Z' OR 1=1 --",
    "2022-01-01T00:00:00Z; DROP DATABASE x",
    "2022-01-01T00:00:00Z\nDROP MEASUREMENT level",
    "now() - 1d",
    "1641000000000",
    "0",
    "99999999999999999999",
    "raw) fill(none); DROP DATABASE x; --",
    "1h), station fill(none) tz('x')",
    "true' OR '1'='1",
    "TRUE",
    "level, rain; DROP MEASUREMENT level",
    "level--",
    "auto ",
    "T01\x00",
    "T01" * 40,
]
PARAMETERS = [
    ("/api/v1/latest", "station"),
    *[("/api/v1/readings", name) for name in ("station", "start", "end", "aggregation", "quantity")],
    *[("/api/v1/alerts", name) for name in ("station", "since", "active")],
]


def database_intact(site: Site) -> bool:
    """The test's database, its readings and its alerts are all still there."""
    client = site.env.client
    databases = {row[0] for s in client.query("SHOW DATABASES") for row in s.values}
    events = client.query("SELECT count(alert_id) FROM alert_event WHERE time > 0")
    return (
        site.env.settings.influx.database in databases
        and stored(client) == site.readings
        and int(events[0].values[0][1]) == 3
    )


@pytest.mark.parametrize(("path", "name"), PARAMETERS)
def test_hostile_parameters_are_refused_before_any_query(site: Site, path: str, name: str) -> None:
    """Every hostile value of every API parameter answers 400 as JSON that does not repeat it; nothing is dropped."""
    site.set_users(probe="viewer")
    visitor = Visitor(site)
    auth = ("probe", "probe-pw-123456")
    for value in INJECTIONS:
        response = visitor.get(path, params={name: value}, auth=auth)
        assert response.status_code == 400, (name, value, response.text)
        body = response.json()
        assert set(body) == {"error", "hint"}
        if len(value) > 3:
            assert value not in response.text, (name, value)
        for leak in ("SELECT", "InfluxQL", "Traceback", "influxdb", "127.0.0.1"):
            assert leak not in response.text, (name, value, leak)
    assert database_intact(site)


def test_hostile_parameter_names_and_station_paths_are_refused(site: Site) -> None:
    """An unknown parameter name is refused without echoing it; hostile station paths are 404."""
    site.set_users(probe="viewer")
    visitor = Visitor(site)
    auth = ("probe", "probe-pw-123456")
    odd = visitor.get("/api/v1/readings", params={"station' OR 1=1 --": "T01"}, auth=auth)
    assert odd.status_code == 400
    assert "OR 1=1" not in odd.text
    for value in HOSTILE:
        response = visitor.get("/api/v1/stations/" + quote(value, safe=""), auth=auth)
        assert response.status_code == 404, value
    assert database_intact(site)

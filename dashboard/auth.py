"""Login, sessions and roles on the dashboard's Flask server.

- **Users** come from the users file (``config.users``), re-read when it changes: a removed user, a
  changed password or a lowered role takes effect at that user's next request.
- **Sessions** are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure with
  ``dashboard.secure_cookies``), holding the login, a fingerprint of the password hash and when the
  login happened; they last ``dashboard.session_hours``. The signing key is
  ``FLOODWATCH_DASHBOARD_SECRET_KEY`` or a key made once in ``<var_dir>/dashboard_secret_key``
  (0600), so every worker on the machine accepts every worker's cookies.
- **Roles**: viewer < officer < admin. Whatever changes state calls ``require("officer")`` on the
  server, in the callback itself; hiding a button is only a courtesy.
- **Read-only pages** need a login only with ``dashboard.login_required``; then every request but the
  login page, ``/health`` and Dash's static scripts is refused (401 for callbacks and the API, a
  redirect to the login page for pages).
- **Machine clients** of the HTTP API (``/api/``) may send **HTTP Basic** credentials of a user
  instead of a session cookie; without either the API answers 401 with ``WWW-Authenticate: Basic``.
  Verifying argon2 costs ~50 ms, so a good pair is believed for ``BASIC_CACHE_S`` (keyed by an HMAC
  of the pair under a key made per process, never the pair itself) until the users file changes.
- **Login attempts** (the form and Basic credentials alike) are throttled per login name and per
  address (``MAX_FAILURES`` in ``FAILURE_WINDOW_S``), in each worker's memory: an attacker gets at
  most that many guesses per worker and window.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlsplit

from flask import Flask, Request, redirect, request, session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from config.errors import ConfigError
from config.i18n import LANGUAGES, t
from config.settings import Settings
from config.users import User, load_users, verify_password
from dashboard import theme
from dashboard.api_errors import error_response

log = logging.getLogger(__name__)
LOGIN_PATH: Final = "/login"
LOGOUT_PATH: Final = "/logout"
MAX_FAILURES: Final = 5
FAILURE_WINDOW_S: Final = 900.0
#: reachable without a login even when read-only pages need one
OPEN_PATHS: Final = (LOGIN_PATH, "/health", "/_favicon.ico")
OPEN_PREFIXES: Final = ("/_dash-component-suites/",)
#: requests answered with 401 rather than a redirect to the login page
API_PREFIXES: Final = ("/_dash-", "/api/", "/export/")
#: requests that may carry HTTP Basic credentials (machine clients; a browser's XHR must not get a Basic prompt)
BASIC_PREFIXES: Final = ("/api/",)
BASIC_CHALLENGE: Final = 'Basic realm="floodwatch", charset="UTF-8"'
#: how long a verified Basic login is believed without verifying its password again, and how many are kept
BASIC_CACHE_S: Final = 60.0
BASIC_CACHE_SIZE: Final = 256
#: what identifies a version of the users file: inode, modification and change times, size (a new
#: password hash has the old one's length, and ``save_users`` replaces the file: the inode changes)
Stamp = tuple[int, int, int, int]


class ThrottledError(Exception):
    """Too many failed logins for this name or address: try again in ``wait_s`` seconds."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"too many failed logins: try again in {wait_s:.0f} s")
        self.wait_s = wait_s


class NotAllowedError(Exception):
    """The request's user (or nobody) may not do this; carries the role it needs."""

    def __init__(self, role: str, user: User | None) -> None:
        super().__init__(f"needs the {role} role" + (f" ({user.login} is {user.role})" if user else " (not logged in)"))
        self.role = role
        self.user = user


def secret_key(settings: Settings) -> bytes:
    """The cookie-signing key: the configured secret, else the machine's key file (made on first use)."""
    if settings.dashboard.secret_key is not None:
        return settings.dashboard.secret_key.get_secret_value().encode()
    path = settings.var_dir / "dashboard_secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as handle:  # two workers starting at once: O_EXCL lets one write it
        handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()


class UserStore:
    """The users file, re-read when it changes (another inode, modification time or size)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: Stamp | None = None
        self._users: dict[str, User] = {}

    def current(self, *, strict: bool = False) -> tuple[Stamp, dict[str, User]]:
        """The file's stamp and its users, as the file says now.

        A file made wrong while the dashboard runs logs nobody in (fail closed) and is logged once, until
        it is fixed; with ``strict`` (at start-up) it raises instead.

        Raises:
            ConfigError: with ``strict``, the file is wrong (naming its line).
        """
        try:
            stat = self.path.stat()
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0, 0, 0)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._users = load_users(self.path)
                except ConfigError as exc:
                    if strict:
                        raise
                    log.error("%s; nobody can log in until it is fixed", exc)
                    self._users = {}
                self._stamp = stamp
            return stamp, self._users

    def get(self, login: str) -> User | None:
        """The user ``login``, as the file says now."""
        return self.current()[1].get(login)


def fingerprint(user: User) -> str:
    """A short digest of the password hash: a changed password ends the sessions made with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class Throttle:
    """Failed logins per key in a sliding window."""

    def __init__(self, limit: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked_for(self, keys: list[str], now: float) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        with self._lock:
            wait = 0.0
            for key in keys:
                times = self._prune(key, now)
                if len(times) >= self.limit:
                    wait = max(wait, times[0] + self.window_s - now)
            return wait

    def fail(self, keys: list[str], now: float) -> None:
        """Count a failure for each of ``keys``."""
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)
            if len(self._failures) > 10_000:  # bounded: forget keys whose window has passed
                for key in [k for k, v in self._failures.items() if not v or v[-1] < now - self.window_s]:
                    del self._failures[key]

    def clear(self, key: str) -> None:
        """Forget the failures of ``key`` (after a good login)."""
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window_s:
            times.popleft()
        return times


class VerifiedLogins:
    """Basic credentials verified lately: an HMAC of the pair -> (login, users-file stamp, when verified).

    The HMAC key is made per process and never leaves memory, so the keys say nothing of the passwords.
    An entry is believed for ``ttl_s`` and only while the users file has the stamp it was verified with.
    """

    def __init__(self, ttl_s: float = BASIC_CACHE_S, max_items: int = BASIC_CACHE_SIZE) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[str, Stamp, float]] = {}
        self._lock = threading.Lock()

    def key(self, login: str, password: str) -> bytes:
        """The cache key of a pair (the login's length first: no two pairs share a message)."""
        return hmac.new(self._key, f"{len(login)}:{login}:{password}".encode(), hashlib.sha256).digest()

    def get(self, key: bytes, stamp: Stamp, now: float) -> str | None:
        """The login verified with ``key``, if that was less than ``ttl_s`` ago with the file at ``stamp``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            login, verified_stamp, at = entry
            if verified_stamp != stamp or not 0 <= now - at < self.ttl_s:
                del self._entries[key]
                return None
            return login

    def put(self, key: bytes, login: str, stamp: Stamp, now: float) -> None:
        """Remember that ``key`` verified as ``login`` with the file at ``stamp``."""
        with self._lock:
            if len(self._entries) >= self.max_items:
                for old in [k for k, (_, _, at) in self._entries.items() if now - at >= self.ttl_s]:
                    del self._entries[old]
                if len(self._entries) >= self.max_items:
                    self._entries.clear()
            self._entries[key] = (login, stamp, now)


class Auth:
    """The dashboard's login, sessions and role checks, bound to one Flask server."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.users = UserStore(settings.users_file)
        self.login_required = settings.dashboard.login_required
        self.session_s = settings.dashboard.session_hours * 3600
        self.throttle = Throttle()
        self.verified = VerifiedLogins()
        self.clock = clock
        self.users.current(strict=True)  # a wrong users file stops the start, naming its line

    def install(self, server: Flask) -> None:
        """Configure the session cookie and add the login routes and the login gate to ``server``."""
        server.secret_key = secret_key(self.settings)
        server.config.update(
            SESSION_COOKIE_NAME="floodwatch_session",
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=self.settings.dashboard.secure_cookies,
            PERMANENT_SESSION_LIFETIME=timedelta(seconds=self.session_s),
            SESSION_REFRESH_EACH_REQUEST=False,  # a login lasts session_hours from the login, not from the last click
        )
        hops = self.settings.dashboard.trusted_proxies
        if hops:
            server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
        server.before_request(self._gate)
        server.add_url_rule(LOGIN_PATH, "login", self._login, methods=["GET", "POST"])
        server.add_url_rule(LOGOUT_PATH, "logout", self._logout, methods=["POST"])

    # -- who is asking -------------------------------------------------------------------------

    def current_user(self) -> User | None:
        """The user of the current request: its session if still good, else (API only) its Basic credentials.

        Raises:
            ThrottledError: Basic credentials of a name or from an address with too many failures.
        """
        user = self._session_user()
        credentials = request.authorization
        if (
            user is None
            and credentials is not None
            and credentials.type == "basic"
            and request.path.startswith(BASIC_PREFIXES)
        ):
            user = self._basic_user(credentials.username or "", credentials.password or "")
        return user

    def _session_user(self) -> User | None:
        login = session.get("user")
        if not isinstance(login, str):
            return None
        user = self.users.get(login)
        issued = session.get("at")
        if (
            user is None
            or not hmac.compare_digest(str(session.get("fp", "")), fingerprint(user))
            or not isinstance(issued, int | float)
            or self.clock() - issued > self.session_s
        ):
            return None
        return user

    def _basic_user(self, login: str, password: str) -> User | None:
        """The user of Basic credentials, from the cache of verified pairs or by verifying the password."""
        login = login.strip().lower()
        stamp, users = self.users.current()
        key = self.verified.key(login, password)
        now = self.clock()
        cached = self.verified.get(key, stamp, now)
        if cached is not None:
            return users.get(cached)
        user = self.check_password(login, password, now)
        if user is not None:
            self.verified.put(key, user.login, stamp, now)
        return user

    def check_password(self, login: str, password: str, now: float) -> User | None:
        """The user if ``password`` is theirs; a failure counts against the name and the address.

        As slow for an unknown name as for a wrong password (``verify_password``).

        Raises:
            ThrottledError: the name or the address failed ``MAX_FAILURES`` times within the window.
        """
        keys = [f"user:{login}", f"addr:{request.remote_addr}"]
        wait = self.throttle.blocked_for(keys, now)
        if wait > 0:
            raise ThrottledError(wait)
        user = self.users.get(login)
        verified = verify_password(user, password)  # first: as slow for an unknown name as for a known one
        if user is None or not verified:
            self.throttle.fail(keys, now)
            return None
        self.throttle.clear(f"user:{login}")
        return user

    def require(self, role: str) -> User:
        """The current user if they have ``role`` (or a higher one).

        Raises:
            NotAllowedError: nobody is logged in, or the user's role is lower.
        """
        user = self.current_user()
        if user is None or not user.may(role):
            raise NotAllowedError(role, user)
        return user

    def may_read(self) -> bool:
        """Whether the current request may see read-only pages and data."""
        return not self.login_required or self.current_user() is not None

    # -- Flask views ---------------------------------------------------------------------------

    def _gate(self) -> BaseResponse | None:
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        try:
            if self.may_read():
                return None
        except ThrottledError as exc:
            return error_response(
                429,
                "too many failed logins",
                f"try again in {max(1, round(exc.wait_s / 60))} min",
                {"Retry-After": str(max(1, round(exc.wait_s)))},
            )
        if path.startswith(BASIC_PREFIXES):
            return error_response(
                401,
                "login required",
                "send HTTP Basic credentials of a dashboard user (floodwatch users add), "
                f"or the session cookie of a login at {LOGIN_PATH}",
                {"WWW-Authenticate": BASIC_CHALLENGE},
            )
        if path.startswith(API_PREFIXES):
            return error_response(401, "login required", f"log in at {LOGIN_PATH}")
        return redirect(f"{LOGIN_PATH}?next={quote(_safe_next(request.full_path))}")

    def _login(self) -> BaseResponse | str | tuple[str, int]:
        language = _language(request, self.settings.language)
        target = _safe_next(request.values.get("next", "/"))
        if request.method == "GET":
            return self._form(language, target, "")
        if not hmac.compare_digest(str(session.get("csrf", "")), request.form.get("csrf", "")):
            return self._form(language, target, t(language, "login.expired")), 400
        now = self.clock()
        try:
            user = self.check_password(
                request.form.get("login", "").strip().lower(), request.form.get("password", ""), now
            )
        except ThrottledError as exc:
            message = t(language, "login.throttled").format(minutes=max(1, round(exc.wait_s / 60)))
            return self._form(language, target, message), 429
        if user is None:
            return self._form(language, target, t(language, "login.failed")), 401
        session.clear()
        session.permanent = True
        session.update({"user": user.login, "fp": fingerprint(user), "at": int(now)})
        return redirect(target)

    def _logout(self) -> BaseResponse:
        session.clear()
        return redirect(LOGIN_PATH)

    def _form(self, language: str, target: str, message: str) -> str:
        token = session.get("csrf")
        if not isinstance(token, str):
            token = session["csrf"] = secrets.token_urlsafe(24)
        return login_page(language, target, message, token)


def login_page(language: str, target: str, message: str, csrf: str) -> str:
    """The login form's HTML (plain, inlined CSS, the texts of ``language``)."""
    other = "en" if language == "zh" else "zh"
    escape = html.escape
    error = f'<p class="fw-error" id="login-error">{escape(message)}</p>' if message else ""
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{escape(t(language, 'login.title'))} · floodwatch</title><style>{theme.CSS}</style></head>"
        f'<body><div class="fw-login"><h1>{escape(t(language, "app.title"))}</h1>'
        f"<h2>{escape(t(language, 'login.title'))}</h2>{error}"
        f'<form method="post" action="{LOGIN_PATH}?lang={language}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(target)}">'
        f'<label>{escape(t(language, "login.user"))}<input name="login" id="login-user" autocomplete="username" '
        "autofocus required></label>"
        f'<label>{escape(t(language, "login.password"))}<input name="password" id="login-password" '
        'type="password" autocomplete="current-password" required></label>'
        f'<button type="submit" id="login-submit">{escape(t(language, "login.submit"))}</button></form>'
        f'<p><a href="{LOGIN_PATH}?lang={other}&amp;next={escape(quote(target))}">{t(other, "lang.name")}</a></p>'
        "</div></body></html>"
    )


def _language(req: Request, default: str) -> str:
    chosen = req.args.get("lang", "")
    return chosen if chosen in LANGUAGES else default


def _safe_next(target: str) -> str:
    r"""A local path to go to after the login (never another site: ``//host``, ``/\host``, a scheme).

    Browsers drop tabs and newlines from a URL (``/<TAB>/evil`` is ``//evil`` to them) and read ``\``
    as ``/``: a target with a control character or a backslash is refused whole.
    """
    target = target.rstrip("?")
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target)
        or urlsplit(target).netloc
        or target.startswith(LOGIN_PATH)
    ):
        return "/"
    return target

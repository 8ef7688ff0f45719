"""``floodwatch doctor``: checks the configuration, the connections and the permissions, and says what to fix."""

from __future__ import annotations

import argparse
import os
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from config.catalogue import load_catalogue
from config.errors import ConfigError
from config.settings import SECRETS_FILE_ENV, Settings
from config.users import load_users
from floodwatch.args import settings_from
from ingest.rules import read_critical_rain, read_flood_limits
from store.influx import InfluxClient, InfluxError


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, whether it is fine, and the fix when it is not."""

    what: str
    ok: bool
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        """One line for the terminal (two with the fix)."""
        mark = "ok " if self.ok else "FAIL"
        text = f"[{mark}] {self.what}" + (f": {self.detail}" if self.detail else "")
        return text + (f"\n       Fix: {self.fix}" if self.fix and not self.ok else "")


def check_config(settings: Settings) -> Iterator[Check]:
    """The catalogue and the alert tables load and validate."""
    try:
        catalogue = load_catalogue(settings.catalogue)
    except ConfigError as exc:
        yield Check("station catalogue", False, exc.message, exc.hint or "")
        return
    located = sum(1 for s in catalogue.values() if s.lat is not None)
    yield Check("station catalogue", True, f"{settings.catalogue}: {len(catalogue)} stations, {located} on the map")
    for name, path, reader in (
        ("critical rainfall table", settings.alerts.critical_rain, read_critical_rain),
        ("flood-limit sub-seasons", settings.alerts.flood_limits, read_flood_limits),
    ):
        if path is None:
            continue
        try:
            table: dict[str, Any] = reader(path)
        except ConfigError as exc:
            yield Check(name, False, str(exc).splitlines()[0], exc.hint or "")
            continue
        unknown = sorted(set(table) - set(catalogue))
        yield Check(
            name,
            not unknown,
            f"{path}: {len(table)} stations" + (f"; not in the catalogue: {', '.join(unknown[:5])}" if unknown else ""),
            "use catalogue ids in the first column",
        )


def check_permissions(settings: Settings, env: dict[str, str]) -> Iterator[Check]:
    """The state folder is writable; the secrets file is private."""
    for folder in (settings.var_dir, settings.spool_dir, settings.deadletter_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder):
                pass
        except OSError as exc:
            yield Check(
                f"write access to {folder}",
                False,
                exc.strerror or str(exc),
                "create it and give the user running floodwatch write access (chown, or set var_dir)",
            )
        else:
            yield Check(f"write access to {folder}", True)
    secrets = env.get(SECRETS_FILE_ENV)
    if secrets:
        mode = Path(secrets).stat().st_mode if Path(secrets).exists() else None
        private = mode is not None and not mode & 0o077
        yield Check(
            f"secrets file {secrets}",
            private,
            "" if private else "missing or readable by others",
            f"chmod 600 {secrets}",
        )


def check_dashboard(settings: Settings) -> Iterator[Check]:
    """The users file loads and is private, someone may act on alerts, and the cookie key is private."""
    path = settings.users_file
    try:
        users = load_users(path)
    except ConfigError as exc:
        yield Check(f"dashboard users {path}", False, str(exc).splitlines()[0], exc.hint or "")
        return
    officers = sorted(u.login for u in users.values() if u.may("officer"))
    if not users:
        yield Check(
            f"dashboard users {path}",
            not settings.dashboard.login_required,
            "none: nobody can acknowledge alerts"
            + ("; login_required is on, so nobody can log in" if settings.dashboard.login_required else ""),
            "add one: floodwatch users add NAME --role officer",
        )
    else:
        private = not path.stat().st_mode & 0o077
        yield Check(
            f"dashboard users {path}",
            private and bool(officers),
            f"{len(users)} users, officers: {', '.join(officers) or 'none'}"
            + ("" if private else "; readable by group or others"),
            f"chmod 600 {path}" if not private else "add an officer: floodwatch users add NAME --role officer",
        )
    key = settings.var_dir / "dashboard_secret_key"
    if settings.dashboard.secret_key is None and key.exists():
        private = not key.stat().st_mode & 0o077
        yield Check(f"session cookie key {key}", private, "" if private else "readable by others", f"chmod 600 {key}")


def check_influx(settings: Settings) -> Iterator[Check]:
    """InfluxDB answers, accepts the credentials, and has the database."""
    client = InfluxClient(settings.influx)
    where = settings.influx.url
    if not client.ping():
        yield Check(
            f"InfluxDB at {where}",
            False,
            "no answer to /ping",
            "start it (`floodwatch services start` for the local one) or fix influx.url",
        )
        return
    yield Check(f"InfluxDB at {where}", True, "answers /ping")
    try:
        client.check_access()
        names = [s.values for s in client.query("SHOW MEASUREMENTS LIMIT 10")]
    except InfluxError as exc:
        fix = "check FLOODWATCH_INFLUX_USERNAME/PASSWORD or FLOODWATCH_INFLUX_TOKEN" if exc.status in (401, 403) else ""
        yield Check(f"InfluxDB database {settings.influx.database}", False, str(exc), fix)
        return
    detail = "has readings" if names else "empty or not created yet (the ingester creates it)"
    yield Check(f"InfluxDB database {settings.influx.database}", True, detail)


def check_mqtt(settings: Settings, timeout_s: float = 10.0) -> Iterator[Check]:
    """The broker accepts the ingester's credentials and lets it subscribe to the readings."""
    cfg = settings.mqtt
    where = f"MQTT broker {cfg.host}:{cfg.port}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{cfg.client_id}-doctor", protocol=mqtt.MQTTv5)
    if cfg.username:
        client.username_pw_set(cfg.username, cfg.password.get_secret_value() if cfg.password else None)
    if cfg.tls:
        client.tls_set(ca_certs=str(cfg.ca_file) if cfg.ca_file else None, cert_reqs=ssl.CERT_REQUIRED)
    answers: dict[str, Any] = {}
    done = threading.Event()

    def on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        answers["connect"] = reason
        if reason.is_failure:
            done.set()
        else:
            c.subscribe(f"{cfg.topic_prefix}/#", options=SubscribeOptions(qos=1))

    def on_subscribe(_c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        answers["subscribe"] = reasons[0]
        done.set()

    client.on_connect, client.on_subscribe = on_connect, on_subscribe
    try:
        client.connect(cfg.host, cfg.port, keepalive=10)
    except OSError as exc:  # ssl errors are OSErrors too
        yield Check(
            where,
            False,
            str(exc),
            "start the broker (`floodwatch services start`), or fix mqtt.host, mqtt.port, mqtt.tls and mqtt.ca_file",
        )
        return
    client.loop_start()
    done.wait(timeout_s)
    client.disconnect()
    client.loop_stop()
    connect = answers.get("connect")
    if connect is None or connect.is_failure:
        yield Check(
            where,
            False,
            f"refused: {connect}" if connect else "no answer",
            "check FLOODWATCH_MQTT_USERNAME and FLOODWATCH_MQTT_PASSWORD",
        )
        return
    yield Check(
        where, True, f"connected{' with TLS' if cfg.tls else ''}" + (f" as {cfg.username}" if cfg.username else "")
    )
    granted = answers.get("subscribe")
    ok = granted is not None and not granted.is_failure
    yield Check(
        f"subscribe to {cfg.topic_prefix}/#",
        ok,
        str(granted) if granted else "no answer",
        "the broker's ACL must let the ingester's user read the readings topics",
    )


def diagnose(settings: Settings, env: dict[str, str]) -> list[Check]:
    """Every check, in order."""
    return [
        *check_config(settings),
        *check_permissions(settings, env),
        *check_dashboard(settings),
        *check_influx(settings),
        *check_mqtt(settings),
    ]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch doctor``."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the configuration, connections and permissions, and say what to fix",
        description="Loads the settings and the catalogue, checks that the state folder is writable and the "
        "secrets file private, that the dashboard's users file is private and has an officer, that InfluxDB "
        "answers and accepts the credentials, and that the broker accepts the ingester's user and lets it subscribe. "
        "Exit status 0 when all is well, 1 otherwise.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print every finding; non-zero when something must be fixed."""
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        print(Check("settings", False, exc.message, exc.hint or "").line())
        return 1
    print(Check("settings", True, getattr(args, "config", None) or "built-in defaults").line())
    results = diagnose(settings, dict(os.environ))
    for result in results:
        print(result.line())
    failed = [r for r in results if not r.ok]
    print(f"\n{len(failed)} problem(s) to fix" if failed else "\nall good")
    return 1 if failed else 0

"""Secured transports for real: Mosquitto with TLS, a password file and an ACL; InfluxDB with authentication."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from config.errors import ConfigError
from config.settings import InfluxSettings, Settings, load_settings
from floodwatch.services import LocalServices, free_port
from store.influx import InfluxClient
from tests.conftest import Env, eventually, write_env

pytestmark = pytest.mark.services

INGEST_PASSWORD = "ingest-s3cret-Ω"
STATION_PASSWORD = "station-pw-9"
INFLUX_PASSWORD = "influx-adm1n-pw"


def run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """A CA and a server certificate for 127.0.0.1, made by the test with openssl."""
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=floodwatch test CA",
        cwd=folder,
    )
    run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
        cwd=folder,
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        cwd=folder,
    )


@dataclass
class Secure:
    services: LocalServices
    folder: Path
    prefix: str

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "FLOODWATCH_MQTT_USERNAME": "ingester",
            "FLOODWATCH_MQTT_PASSWORD": INGEST_PASSWORD,
            "FLOODWATCH_INFLUX_USERNAME": "admin",
            "FLOODWATCH_INFLUX_PASSWORD": INFLUX_PASSWORD,
            **overrides,
        }


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    folder = tmp_path_factory.mktemp("secure")
    make_certificates(folder)
    prefix = "secure/v1/readings"
    passwords = folder / "passwords"
    run("mosquitto_passwd", "-c", "-b", str(passwords), "ingester", INGEST_PASSWORD, cwd=folder)
    for station in ("T01", "T02"):
        run("mosquitto_passwd", "-b", str(passwords), station, STATION_PASSWORD, cwd=folder)
    (folder / "acl").write_text(
        f"user ingester\ntopic read {prefix}/#\ntopic write floodwatch/v1/alerts/#\n\n"
        f"# a station publishes its own readings only\npattern write {prefix}/%u\n"
    )
    settings = Settings.model_validate(
        {
            "var_dir": str(folder / "var"),
            "mqtt": {"port": free_port()},
            "influx": {"url": f"http://127.0.0.1:{free_port()}", "username": "admin", "password": INFLUX_PASSWORD},
            "services": {
                "influx_rpc_port": free_port(),
                "mqtt_password_file": str(passwords),
                "mqtt_acl_file": str(folder / "acl"),
                "mqtt_certfile": str(folder / "server.crt"),
                "mqtt_keyfile": str(folder / "server.key"),
                "influx_auth": True,
            },
        }
    )
    services = LocalServices(settings)
    services.start()
    yield Secure(services, folder, prefix)
    services.stop()


def secure_env(tmp_path: Path, secure: Secure, stream_catalogue: Path, **ingest: object) -> Env:
    return write_env(
        tmp_path,
        secure.services,
        stream_catalogue,
        mqtt={"tls": True, "ca_file": str(secure.folder / "ca.crt"), "topic_prefix": secure.prefix},
        ingest={"on_startup_error": "fail", **ingest},
    )


def station_client(secure: Secure, user: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, STATION_PASSWORD)
    client.tls_set(ca_certs=str(secure.folder / "ca.crt"), cert_reqs=ssl.CERT_REQUIRED)
    client.connect("127.0.0.1", secure.services.mosquitto.port)
    client.loop_start()
    return client


def authed(env: Env) -> InfluxClient:
    return InfluxClient(
        InfluxSettings(
            url=env.settings.influx.url,
            database=env.settings.influx.database,
            username="admin",
            password=INFLUX_PASSWORD,
        )
    )  # type: ignore[arg-type]


def test_tls_passwords_and_acl_let_a_station_publish_its_own_readings_only(
    tmp_path: Path, secure: Secure, stream_catalogue: Path
) -> None:
    """Over TLS with passwords, T01's reading is stored; T01 publishing as T02 is refused by the ACL."""
    env = secure_env(tmp_path, secure, stream_catalogue)
    try:
        env.start_ingester(secure.env())
        client = station_client(secure, "T01")
        acks: dict[int, ReasonCode] = {}
        client.on_publish = lambda _c, _u, mid, reason, _p: acks.__setitem__(mid, reason)
        own = client.publish(
            f"{secure.prefix}/T01",
            json.dumps({"time": "2023-01-01T00:00:00Z", "quantity": "level", "value": 1.5, "unit": "m"}),
            qos=1,
        )
        other = client.publish(
            f"{secure.prefix}/T02",
            json.dumps({"time": "2023-01-01T00:00:00Z", "quantity": "level", "value": 9.9, "unit": "m"}),
            qos=1,
        )
        eventually(lambda: len(acks) == 2, message="both PUBACKs")
        assert acks[own.mid].is_failure is False
        assert acks[other.mid].is_failure is True  # "Not authorized"
        client.loop_stop()
        eventually(lambda: authed(env).rows("SELECT value, station FROM level"), message="T01 stored")
        assert [(r["station"], r["value"]) for r in authed(env).rows("SELECT value, station FROM level")] == [
            ("T01", 1.5)
        ]
        health = env.health()
        assert health["mqtt_connected"] is True
        leaked = [
            s for s in (INGEST_PASSWORD, INFLUX_PASSWORD) if s in env.ingest_log() + env.metrics() + json.dumps(health)
        ]
        assert leaked == []
    finally:
        env.stop_processes()


def start_failing(env: Env, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(env.path), "ingest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **variables},
    )


def test_wrong_mqtt_password_stops_start_up_with_one_clear_message(
    tmp_path: Path, secure: Secure, stream_catalogue: Path
) -> None:
    """A refused MQTT password names the broker, the user and the variables to set, and never shows the secret."""
    env = secure_env(tmp_path, secure, stream_catalogue)
    result = start_failing(env, secure.env(FLOODWATCH_MQTT_PASSWORD="wrong-password-123"))
    assert result.returncode == 2
    assert "floodwatch: ingester cannot start: MQTT broker 127.0.0.1:" in result.stderr
    assert "user 'ingester'" in result.stderr
    assert "FLOODWATCH_MQTT_PASSWORD" in result.stderr
    assert "wrong-password-123" not in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_influx_password_stops_start_up_with_one_clear_message(
    tmp_path: Path, secure: Secure, stream_catalogue: Path
) -> None:
    """A refused InfluxDB password names the server and the user, not the secret."""
    env = secure_env(tmp_path, secure, stream_catalogue)
    result = start_failing(env, secure.env(FLOODWATCH_INFLUX_PASSWORD="nope-456"))
    assert result.returncode == 2
    assert "refused user 'admin'" in result.stderr
    assert "nope-456" not in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_credentials_at_run_time_are_retried_with_backoff_not_a_crash(
    tmp_path: Path, secure: Secure, stream_catalogue: Path
) -> None:
    """With the retry policy a refused MQTT password keeps the ingester alive, logging the refusal once."""
    env = secure_env(tmp_path, secure, stream_catalogue, on_startup_error="retry")
    with (tmp_path / "ingest.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "floodwatch.cli", "--config", str(env.path), "ingest"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **secure.env(FLOODWATCH_MQTT_PASSWORD="bad")},
        )
    try:
        eventually(lambda: env.health().get("mqtt_connected") is False, message="health answering")
        time.sleep(4)  # noqa: deliberate: several reconnect attempts happen meanwhile
        assert process.poll() is None
        assert env.ingest_log().count("refused the connection") == 1
    finally:
        process.terminate()
        process.wait(30)


def test_secrets_file_must_be_private(tmp_path: Path) -> None:
    """A secrets file readable by others is refused with the chmod fix; a private one provides the secrets."""
    secrets = tmp_path / "secrets"
    secrets.write_text("# floodwatch\nFLOODWATCH_INFLUX_TOKEN=tok-123\n")
    secrets.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"FLOODWATCH_SECRETS_FILE": str(secrets)})
    assert f"chmod 600 {secrets}" in str(info.value)
    secrets.chmod(0o600)
    settings = load_settings(None, {"FLOODWATCH_SECRETS_FILE": str(secrets)})
    assert settings.influx.token is not None
    assert settings.influx.token.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(settings)


def test_token_and_password_travel_in_headers_not_urls() -> None:
    """2.x/3.x tokens go in `Authorization: Token`, 1.x passwords as Basic auth; neither in query parameters."""
    token = InfluxClient(InfluxSettings(token="t0k"))  # type: ignore[arg-type]
    assert token.session.headers["Authorization"] == "Token t0k"
    assert "u" not in token.params
    assert "p" not in token.params
    basic = InfluxClient(InfluxSettings(username="u1", password="p1"))  # type: ignore[arg-type]
    assert basic.session.auth == ("u1", "p1")
    assert set(basic.params) == {"db"}

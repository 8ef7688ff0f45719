"""`floodwatch services` and `floodwatch up`, as a user runs them (real processes, free loopback ports)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.settings import load_settings
from config.users import load_users, verify_password
from floodwatch.services import LocalServices, free_port, pid_alive
from store.influx import InfluxClient
from tests.conftest import eventually

pytestmark = pytest.mark.services


def settings_file(tmp_path: Path, **ports: int) -> Path:
    path = tmp_path / "floodwatch.toml"
    path.write_text(
        f'var_dir = "{tmp_path / "var"}"\n'
        f"[mqtt]\nport = {ports.get('mqtt', free_port())}\n"
        f'[influx]\nurl = "http://127.0.0.1:{ports.get("influx", free_port())}"\n'
        f"[services]\ninflux_rpc_port = {free_port()}\n"
        f"[ingest]\nmetrics_port = {free_port()}\n"
        f"[dashboard]\nport = {free_port()}\n"
    )
    return path


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_services_start_status_stop_by_pid(tmp_path: Path) -> None:
    """Start brings both up and says where; status reports them answering; stop ends exactly those PIDs."""
    config = settings_file(tmp_path)
    started = cli(config, "services", "start")
    assert started.returncode == 0, started.stderr
    local = LocalServices(load_settings(config))
    pids = [s.pid() for s in local.all]
    try:
        assert all(pid is not None and pid_alive(pid) for pid in pids)
        status = cli(config, "services", "status")
        assert status.returncode == 0
        assert status.stdout.count("answering") == 2
        again = cli(config, "services", "start")  # idempotent: already running
        assert again.returncode == 0
        assert [s.pid() for s in local.all] == pids
    finally:
        stopped = cli(config, "services", "stop")
    assert stopped.returncode == 0
    assert not any(pid_alive(pid) for pid in pids if pid)
    assert cli(config, "services", "status").returncode == 3


def test_services_refuse_a_port_held_by_another_process(tmp_path: Path) -> None:
    """When another process listens on the MQTT port, start says so, names the setting, and starts nothing."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        config = settings_file(tmp_path, mqtt=squatter.getsockname()[1])
        result = cli(config, "services", "start")
    assert result.returncode == 2
    assert "already taken by another process" in result.stderr
    assert "mqtt.port" in result.stderr
    assert "Traceback" not in result.stderr
    assert all(s.pid() is None for s in LocalServices(load_settings(config)).all)


def test_up_brings_everything_up_replays_garonne_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """`floodwatch up` prints the URL and a demo officer login, stores the Garonne event at its real dates, then
    replays it live, and Ctrl-C stops every process."""
    config = settings_file(tmp_path)
    settings = load_settings(config)
    process = subprocess.Popen(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(config), "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        seen = ""
        while "demo duty officer" not in seen and time.monotonic() < deadline and process.poll() is None:
            seen += process.stdout.readline()
        assert f"http://127.0.0.1:{settings.dashboard.port}/" in seen, seen
        client = InfluxClient(settings.influx)

        def stored() -> int:
            try:
                return sum(int(s.values[0][1]) for s in client.query("SELECT count(value) FROM level, rain"))
            except Exception:  # noqa: BLE001 - the database may not exist yet
                return 0

        eventually(lambda: stored() > 10_000, 120, message="the Garonne archive flowing in")
        january_2022 = "time >= '2022-01-01T00:00:00Z' AND time < '2022-02-01T00:00:00Z'"
        archived = client.query(f"SELECT count(value) FROM level WHERE {january_2022}")
        assert archived, "the event at its real dates, for the history explorer"
        # then live: the event aligned so that it happens now (its backlog of the days before)
        recent = f"time > {int(time.time() * 1000) - 15 * 86_400_000}ms"
        eventually(
            lambda: bool(client.query(f"SELECT count(value) FROM level WHERE {recent}")),
            180,
            message="the live replay started after the archive",
        )
        assert (settings.var_dir / "demo-archive").exists()
        login = re.search(r"demo duty officer: user (\S+), password (\S+) ", seen)
        assert login, seen
        assert load_users(settings.users_file)[login.group(1)].role == "officer"
        assert verify_password(load_users(settings.users_file)[login.group(1)], login.group(2))
        local = LocalServices(settings)
        pids = [s.pid() for s in local.all]
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert not any(pid_alive(pid) for pid in pids if pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        LocalServices(settings).stop()

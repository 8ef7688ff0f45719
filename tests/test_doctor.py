"""`floodwatch doctor` on real services: all good, and each kind of mistake named with its fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.users import User, hash_password, save_users
from floodwatch.services import LocalServices, free_port
from tests.conftest import write_env

pytestmark = pytest.mark.services


def doctor(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(config), "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**env, "PATH": "/usr/bin:/bin"},
    )


def test_doctor_says_all_good_on_a_working_setup(
    tmp_path: Path, services: LocalServices, stream_catalogue: Path
) -> None:
    """With the services up and the settings right, every check passes and the exit status is 0."""
    env = write_env(tmp_path, services, stream_catalogue)
    result = doctor(env.path)
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout
    assert "50 stations" in result.stdout
    assert "subscribe to" in result.stdout
    assert result.stdout.rstrip().endswith("all good")


def test_doctor_names_each_problem_and_its_fix(tmp_path: Path, services: LocalServices) -> None:
    """A missing catalogue, an unwritable state folder, a dead broker port and a wrong InfluxDB URL are all named."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = write_env(
        tmp_path,
        services,
        tmp_path / "missing.csv",
        mqtt={"port": free_port()},
        influx={"url": f"http://127.0.0.1:{free_port()}"},
    )
    env.path.write_text(
        env.path.read_text().replace(f'var_dir = "{tmp_path / "var"}"', f'var_dir = "{blocker / "var"}"')
    )
    result = doctor(env.path)
    assert result.returncode == 1
    out = result.stdout
    assert "[FAIL] station catalogue" in out
    assert "Fix: set `catalogue`" in out
    assert f"[FAIL] write access to {blocker / 'var'}" in out
    assert "[FAIL] InfluxDB at" in out
    assert "[FAIL] MQTT broker 127.0.0.1:" in out
    assert "problem(s) to fix" in out


def test_doctor_checks_the_dashboards_users_and_cookie_key(
    tmp_path: Path, services: LocalServices, stream_catalogue: Path
) -> None:
    """A users file readable by others or without an officer, and a readable cookie key, are named with their fix."""
    env = write_env(tmp_path, services, stream_catalogue)
    users = env.settings.users_file
    save_users(users, {"screen": User("screen", "viewer", "", hash_password("a-long-password"))})
    users.chmod(0o644)
    key = env.settings.var_dir / "dashboard_secret_key"
    key.write_text("0" * 64)
    key.chmod(0o644)
    out = doctor(env.path).stdout
    assert f"[FAIL] dashboard users {users}: 1 users, officers: none; readable by group or others" in out
    assert f"Fix: chmod 600 {users}" in out
    assert f"[FAIL] session cookie key {key}" in out
    users.chmod(0o600)
    key.chmod(0o600)
    out = doctor(env.path).stdout
    assert "Fix: add an officer: floodwatch users add NAME --role officer" in out
    assert f"[ok ] session cookie key {key}" in out

"""Backup and restore of InfluxDB and the configuration, on a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Env

pytestmark = pytest.mark.services


def cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "--config", str(env.path), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_backup_then_restore_gives_back_every_point_and_the_configuration(env: Env, tmp_path: Path) -> None:
    """A backup restored under a new name holds the same points; the settings and catalogue are in the backup."""
    env.client.create_database()
    lines = [
        f'level,station=T{i % 40:02d} flags="",lag_s=0,value={i / 10} {1_700_000_000_000 + i * 60_000}'
        for i in range(5000)
    ]
    env.client.write("\n".join(lines).encode())
    rpc = env.services.influxdb.config_text.split('bind-address = "127.0.0.1:')[1].split('"')[0]
    host = f"127.0.0.1:{rpc}"
    made = cli(env, "backup", str(tmp_path / "backup"), "--host", host)
    assert made.returncode == 0, made.stderr
    assert {p.name for p in (tmp_path / "backup" / "config").iterdir()} == {"floodwatch.toml", "stations.csv"}
    again = cli(env, "backup", str(tmp_path / "backup"), "--host", host)
    assert again.returncode == 2
    assert "not empty" in again.stderr
    restored = cli(env, "restore", str(tmp_path / "backup"), "--host", host, "--as", f"{env.settings.influx.database}r")
    assert restored.returncode == 0, restored.stderr
    copy = env.client.query(f'SELECT count(value), sum(value) FROM "{env.settings.influx.database}r"."autogen".level')
    assert copy[0].values[0][1:] == [5000, pytest.approx(sum(i / 10 for i in range(5000)))]

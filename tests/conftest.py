"""Fixtures: real Mosquitto and InfluxDB on free loopback ports, data in temporary folders.

``services`` is one pair for the session; fault tests that kill a service take ``own_services``.
Each test gets its own database, topic prefix and settings file (``env``). Waits are "eventually"
loops, never fixed sleeps.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config.catalogue import load_catalogue
from config.settings import Settings, load_settings
from floodwatch.services import LocalServices, free_port
from store.influx import InfluxClient

REPO = Path(__file__).resolve().parent.parent
_ids = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Soaks first: with ``-n 2`` (scripts/test) one worker runs the soak while the other takes the rest."""
    items.sort(key=lambda item: item.get_closest_marker("soak") is None)


def eventually(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1, message: str = "") -> Any:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"not within {timeout} s: {message} (last: {last!r})")


def start_services(root: Path) -> tuple[LocalServices, int, int]:
    """Start a Mosquitto and an InfluxDB on free ports with state in ``root``."""
    mqtt_port, influx_port, rpc_port = free_port(), free_port(), free_port()
    settings = Settings.model_validate(
        {
            "var_dir": str(root),
            "mqtt": {"port": mqtt_port},
            "influx": {"url": f"http://127.0.0.1:{influx_port}"},
            "services": {"influx_rpc_port": rpc_port, "mqtt_max_queued": 1_000_000},
        }
    )
    services = LocalServices(settings)
    services.start()
    for service in services.all:
        assert service.process is not None, f"{service.name} is not ours"
        assert service.process.poll() is None, f"{service.name} exited"
    return services, mqtt_port, influx_port


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServices]:
    """One Mosquitto and one InfluxDB for the whole session."""
    local, _, _ = start_services(tmp_path_factory.mktemp("services"))
    yield local
    local.stop()


@pytest.fixture
def own_services(tmp_path: Path) -> Iterator[LocalServices]:
    """A Mosquitto and an InfluxDB for this test alone (it may kill them)."""
    local, _, _ = start_services(tmp_path / "services")
    yield local
    local.stop()


@dataclass
class Env:
    """One test's settings, written to a TOML file for the ingester process."""

    path: Path
    settings: Settings
    services: LocalServices
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def client(self) -> InfluxClient:
        """A client of the test's database."""
        return InfluxClient(self.settings.influx)

    def reload(self) -> None:
        """Read the settings file again."""
        self.settings = load_settings(self.path)

    def start_ingester(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Run ``floodwatch ingest`` as a child process (``env`` added to ours), waiting until it is connected."""
        with (self.path.parent / "ingest.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "floodwatch.cli", "--config", str(self.path), "ingest"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        self.processes.append(process)
        eventually(
            lambda: process.poll() is not None or self.health().get("mqtt_connected"),
            30,
            message="ingester connected",
        )
        assert process.poll() is None, self.ingest_log()
        return process

    def health(self) -> dict[str, Any]:
        """The ingester's /health document ({} when it does not answer)."""
        url = f"http://127.0.0.1:{self.settings.ingest.metrics_port}/health"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            return dict(json.loads(exc.read()))
        except OSError:
            return {}

    def metrics(self) -> str:
        """The ingester's /metrics text."""
        url = f"http://127.0.0.1:{self.settings.ingest.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())

    def ingest_log(self) -> str:
        """What the ingester processes logged."""
        path = self.path.parent / "ingest.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_processes(self) -> None:
        """Stop the ingesters (SIGTERM, then SIGKILL)."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def count(self, measurement: str = "level, rain", where: str = "") -> int:
        """Points stored (counted by InfluxDB)."""
        series = self.client.query(f"SELECT count(value) FROM {measurement} WHERE time > 0{where}")
        return sum(int(s.values[0][1]) for s in series)


def toml_value(value: Any) -> str:
    """A TOML value: inline tables for dicts, arrays for lists, JSON spelling for scalars."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def write_env(tmp_path: Path, services: LocalServices, catalogue: Path, **sections: dict[str, Any]) -> Env:
    """Settings for one test: its own database, topic prefix, client id, var_dir and metrics port."""
    n = next(_ids)
    ingest = {
        "metrics_port": free_port(),
        "flush_interval_s": 0.1,
        "retry_min_s": 0.2,
        "retry_max_s": 2.0,
        **sections.pop("ingest", {}),
    }
    mqtt = {
        "port": services.mosquitto.port,
        "topic_prefix": f"test{n}-{os.getpid()}/v1/readings",
        "client_id": f"fw-test-{n}-{os.getpid()}",
        **sections.pop("mqtt", {}),
    }
    influx = {
        "url": f"http://127.0.0.1:{services.influxdb.port}",
        "database": f"test{n}",
        **sections.pop("influx", {}),
    }
    lines = [f'catalogue = "{catalogue}"', f'var_dir = "{tmp_path / "var"}"']
    for name, values in {"mqtt": mqtt, "influx": influx, "ingest": ingest, **sections}.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in values.items())
    path = tmp_path / "floodwatch.toml"
    path.write_text("\n".join(lines) + "\n")
    return Env(path, load_settings(path), services)


STREAM_CATALOGUE = """id,name_en,kind,quantities,plaus_min,plaus_max
{rows}
"""


@pytest.fixture(scope="session")
def stream_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalogue of 40 river gauges T00..T39 (also reporting rain) and 10 rain gauges R0..R9."""
    rows = [f"T{i:02d},Test river {i},river,level rain,-5,50" for i in range(40)]
    rows += [f"R{i},Test rain {i},rain,,," for i in range(10)]
    path = tmp_path_factory.mktemp("catalogue") / "stations.csv"
    path.write_text(STREAM_CATALOGUE.format(rows="\n".join(rows)))
    load_catalogue(path)
    return path


@pytest.fixture
def env(tmp_path: Path, services: LocalServices, stream_catalogue: Path) -> Iterator[Env]:
    """Settings for a test on the shared services with the stream catalogue."""
    environment = write_env(tmp_path, services, stream_catalogue)
    yield environment
    environment.stop_processes()

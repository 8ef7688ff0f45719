"""What every benchmark needs: services on free ports, settings files, processes by PID, statistics.

A ``Harness`` owns one temporary folder, one Mosquitto and one InfluxDB (system binaries on free
loopback ports, ``floodwatch.services.LocalServices``) and every process a benchmark starts; it
stops them all, by PID, when it closes. Each measured run gets its own settings file with its own
database, topic prefix, client id, metrics port and ``var_dir``, so runs never see each other's
readings or persistent sessions.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import Settings, load_settings
from floodwatch.services import LocalServices, free_port, pid_alive
from store.influx import InfluxClient, quote_ident

REPO = Path(__file__).resolve().parent.parent
#: level stations of generated catalogues: warning, guaranteed and historical maximum (m)
WARNING_M, GUARANTEED_M, HISTORICAL_MAX_M = 3.0, 4.0, 5.0


class BenchError(Exception):
    """A benchmark could not be carried out (a process died, a count never arrived)."""


@dataclass(frozen=True)
class ProcStats:
    """CPU time and memory of one process, from ``/proc``."""

    cpu_s: float
    rss_bytes: int
    peak_rss_bytes: int


def proc_stats(pid: int) -> ProcStats:
    """User + system CPU seconds, current RSS and peak RSS (VmHWM) of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    kib = {key: int(status[key].split()[0]) for key in ("VmRSS", "VmHWM")}
    return ProcStats(cpu, kib["VmRSS"] * 1024, kib["VmHWM"] * 1024)


def settle(pid: int, timeout_s: float, busy: float = 0.1) -> float:
    """Wait until process ``pid`` uses less than ``busy`` of a core over a second.

    For InfluxDB done with compacting after a bulk write. Returns the seconds waited (``timeout_s``
    at most).
    """
    started = time.monotonic()
    before = proc_stats(pid).cpu_s
    while time.monotonic() - started < timeout_s:
        time.sleep(1.0)
        now = proc_stats(pid).cpu_s
        if now - before < busy:
            break
        before = now
    return time.monotonic() - started


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class Spread:
    """Median of repeated measurements with their minimum and maximum."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        """Summarize the measurements (at least one)."""
        data = list(values)
        if not data:
            raise BenchError("no measurement to summarize")
        return cls(statistics.median(data), min(data), max(data), len(data))


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.02) -> Any:
    """Call ``check`` until it returns something truthy; BenchError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval_s)
    raise BenchError(f"not within {timeout_s:.0f} s: {what}")


def toml_value(value: Any) -> str:
    """A TOML value for scalars, lists and inline tables."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value) if isinstance(value, Path) else value)


def write_catalogue(path: Path, levels: int, rains: int = 0, *, interval_s: int = 300) -> Path:
    """A generated catalogue: ``levels`` river gauges L00000.. and ``rains`` rain gauges R00000..

    Stations lie on a grid over a province-sized area (about 4 x 4 degrees) so the map spreads them.
    """
    total = levels + rains
    side = max(1, math.ceil(math.sqrt(total)))
    rows = ["id,name_en,kind,lat,lon,interval_s,warning_m,guaranteed_m,historical_max_m,plaus_min,plaus_max"]
    for n in range(total):
        lat, lon = 29.0 + 4.0 * (n // side) / side, 112.0 + 4.0 * (n % side) / side
        if n < levels:
            rows.append(
                f"L{n:05d},Bench river {n},river,{lat:.4f},{lon:.4f},{interval_s},"
                f"{WARNING_M},{GUARANTEED_M},{HISTORICAL_MAX_M},-5,50"
            )
        else:
            rows.append(f"R{n - levels:05d},Bench rain {n - levels},rain,{lat:.4f},{lon:.4f},{interval_s},,,,,")
    path.write_text("\n".join(rows) + "\n")
    return path


@dataclass
class Run:
    """One measured run's settings (its own database, prefix, client id, metrics port, var_dir)."""

    path: Path
    settings: Settings

    @property
    def prefix(self) -> str:
        """The run's topic prefix."""
        return self.settings.mqtt.topic_prefix

    def client(self) -> InfluxClient:
        """A client of the run's database."""
        return InfluxClient(self.settings.influx)


@dataclass
class Harness:
    """Services, settings files and child processes of one benchmark session, in a temporary folder."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fw-bench-")))
    services: LocalServices | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)  # what one section builds for the next (the store)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # -- services ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start Mosquitto and InfluxDB on free loopback ports with state under ``root``."""
        settings = Settings.model_validate(
            {
                "var_dir": str(self.root / "services"),
                "mqtt": {"port": free_port()},
                "influx": {"url": f"http://127.0.0.1:{free_port()}"},
                "services": {"influx_rpc_port": free_port()},
            }
        )
        self.services = LocalServices(settings)
        self.services.start()
        for service in self.services.all:
            if service.process is None or service.process.poll() is not None:
                raise BenchError(f"{service.name} on port {service.port} is not a process of this benchmark")

    @property
    def mqtt_port(self) -> int:
        """The broker's port."""
        return self._services().mosquitto.port

    @property
    def influx_port(self) -> int:
        """InfluxDB's HTTP port."""
        return self._services().influxdb.port

    def service_pid(self, name: str) -> int:
        """PID of ``mosquitto`` or ``influxdb``."""
        service = self._services().mosquitto if name == "mosquitto" else self._services().influxdb
        pid = service.pid()
        if pid is None:
            raise BenchError(f"{name} is not running")
        return pid

    def _services(self) -> LocalServices:
        if self.services is None:
            raise BenchError("the services are not started")
        return self.services

    def close(self) -> None:
        """Stop every process this harness started (by PID), the services, and remove the folder."""
        for process in self.processes:
            stop_process(process)
        self.processes.clear()
        if self.services is not None:
            self.services.stop()
            self.services = None
        shutil.rmtree(self.root, ignore_errors=True)

    # -- settings -----------------------------------------------------------------------------------
    def run_settings(self, catalogue: Path, *, database: str | None = None, **sections: dict[str, Any]) -> Run:
        """A settings file for one run; ``sections`` override or add TOML sections."""
        n = next(self._ids)
        folder = self.root / f"run{n}"
        folder.mkdir(parents=True, exist_ok=True)
        base: dict[str, dict[str, Any]] = {
            "mqtt": {
                "port": self.mqtt_port,
                "topic_prefix": f"bench{n}/v1/readings",
                "client_id": f"fw-bench-{os.getpid()}-{n}",
            },
            "influx": {"url": f"http://127.0.0.1:{self.influx_port}", "database": database or f"bench{n}"},
            "ingest": {"metrics_port": free_port(), "log_interval_s": 3600},
        }
        for name, values in sections.items():
            base[name] = {**base.get(name, {}), **values}
        lines = [f"catalogue = {toml_value(str(catalogue))}", f"var_dir = {toml_value(str(folder / 'var'))}"]
        for name, values in base.items():
            lines.append(f"[{name}]")
            lines.extend(f"{key} = {toml_value(value)}" for key, value in values.items())
        path = folder / "floodwatch.toml"
        path.write_text("\n".join(lines) + "\n")
        return Run(path, load_settings(path))

    def drop(self, run: Run) -> None:
        """Drop the run's database (frees InfluxDB's memory and disk for the next run)."""
        run.client().query(f"DROP DATABASE {quote_ident(run.settings.influx.database)}", method="POST")

    # -- processes ------------------------------------------------------------------------------
    def spawn(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        """Start a child process in its own session, output to ``log``; stopped by ``close``."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        return process

    def floodwatch(self, run: Run, command: str) -> subprocess.Popen[bytes]:
        """``floodwatch --config RUN COMMAND`` as a child process."""
        argv = [sys.executable, "-m", "floodwatch.cli", "--config", str(run.path), command]
        return self.spawn(argv, run.path.parent / f"{command}.log")

    def start_ingester(self, run: Run, timeout_s: float = 60.0) -> subprocess.Popen[bytes]:
        """Run ``floodwatch ingest`` for ``run`` and wait until it is connected to the broker."""
        process = self.floodwatch(run, "ingest")

        def connected() -> bool:
            if process.poll() is not None:
                log = self.log_tail(run, "ingest")
                raise BenchError(f"the ingester exited with status {process.returncode}:\n{log}")
            return bool(health(run).get("mqtt_connected"))

        wait_for(connected, timeout_s, "the ingester connected", 0.05)
        return process

    def log_tail(self, run: Run, command: str, chars: int = 3000) -> str:
        """The end of what ``floodwatch COMMAND`` of ``run`` logged."""
        try:
            return (run.path.parent / f"{command}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """Stop one of our processes by PID."""
        stop_process(process)
        if process in self.processes:
            self.processes.remove(process)


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """SIGTERM, wait, then SIGKILL: one process started by us, by its PID."""
    if process.poll() is None and pid_alive(process.pid):
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback endpoint
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        return bytes(exc.read())


def health(run: Run) -> dict[str, Any]:
    """The ingester's ``/health`` document ({} when it does not answer)."""
    try:
        return dict(json.loads(_get(f"http://127.0.0.1:{run.settings.ingest.metrics_port}/health")))
    except (OSError, ValueError):
        return {}


def metrics(run: Run) -> dict[str, float]:
    """The ingester's ``/metrics`` counters by name (labelled series summed under the bare name)."""
    out: dict[str, float] = {}
    try:
        text = _get(f"http://127.0.0.1:{run.settings.ingest.metrics_port}/metrics").decode()
    except OSError:
        return out  # not answering (yet)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            key = name.split("{", 1)[0]
            out[key] = out.get(key, 0.0) + float(value)
    return out


def acked(runs: Iterable[Run], counter: str = "acked") -> int:
    """MQTT messages acknowledged (stored) by the ingesters of ``runs``, added up (or ``received``)."""
    return int(sum(metrics(run).get(f"floodwatch_ingest_messages_{counter}_total", 0.0) for run in runs))


def last_ack_s(run: Run) -> float:
    """When the ingester of ``run`` last acknowledged messages (its own wall clock, epoch seconds)."""
    return metrics(run)["floodwatch_ingest_last_ack_timestamp_seconds"]


def span_s(runs: Iterable[Run]) -> float:
    """Seconds from the first message the ingesters of ``runs`` received to their last acknowledgement."""
    found = [metrics(run) for run in runs]
    first = min(m["floodwatch_ingest_first_received_timestamp_seconds"] for m in found)
    last = max(m["floodwatch_ingest_last_ack_timestamp_seconds"] for m in found)
    return last - first


def count_points(client: InfluxClient, measurement: str = "level, rain") -> int:
    """Points stored, counted by InfluxDB."""
    series = client.query(f"SELECT count(value) FROM {measurement} WHERE time > 0")
    return sum(int(s.values[0][1]) for s in series)


def machine() -> dict[str, Any]:
    """What this machine is: cores, CPU model, memory, Python."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    memory = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory / 2**20, 1),
        "python": sys.version.split()[0],
    }

"""Local Mosquitto and InfluxDB from the system binaries, all state under one folder.

``floodwatch services start|stop|status``. Each service runs on a loopback port from the settings,
with its data, log and PID file under ``var_dir``; start refuses when the port is taken by another
process and waits until the service answers; stop signals the recorded PID only. The test fixtures
use the same classes on free ports in a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from config.settings import PACKAGE_DIR, Settings
from floodwatch.args import settings_from
from floodwatch.errors import UserError

TEMPLATES = PACKAGE_DIR / "templates"
#: a minimal MQTT 3.1.1 CONNECT (clean session, keep-alive 5 s, client id "fw-probe"); any CONNACK,
#: even "not authorized" from a broker that wants a password, means the broker is up
_MQTT_PROBE = bytes([0x10, 20, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 5, 0, 8]) + b"fw-probe"


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port`` (we can bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port that is free now (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class LocalService:
    """One local server process: its config, PID file, log, and readiness probe."""

    name: str
    port: int
    binary: str
    state_dir: Path
    config_text: str
    argv_tail: tuple[str, ...]
    start_timeout_s: float
    tls: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        """Where the PID of the running process is recorded."""
        return self.state_dir.parent / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        """The service's own log."""
        return self.state_dir.parent / "log" / f"{self.name}.log"

    @property
    def config_file(self) -> Path:
        """The generated configuration file."""
        return self.state_dir / f"{self.name}.conf"

    def recorded_pid(self) -> int | None:
        """The PID from the PID file if that process still runs and is this service's binary."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            return None
        if not pid_alive(pid) or Path(cmdline).name != Path(self.binary).name:
            return None
        return pid

    def start(self) -> int:
        """Start the service and wait until it answers; returns its PID.

        Raises:
            UserError: the binary is missing, the port is taken, or the service did not come up.
        """
        running = self.recorded_pid()
        if running is not None:
            if self.answers():
                return running
            raise UserError(
                f"{self.name} (pid {running}) is running but does not answer on port {self.port}; "
                f"see {self.log_file}, or run `floodwatch services stop`"
            )
        if not port_free(self.port):
            raise UserError(
                f"port {self.port} on 127.0.0.1 is already taken by another process, so {self.name} cannot start. "
                f"Stop that process, or choose another port in the settings file "
                f"({'mqtt.port' if self.name == 'mosquitto' else 'influx.url'})."
            )
        for folder in (self.state_dir, self.pid_file.parent, self.log_file.parent):
            folder.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.config_text)
        argv = [self.binary, *self.argv_tail, str(self.config_file)]
        try:
            with self.log_file.open("ab") as log:
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except FileNotFoundError as exc:
            raise UserError(
                f"{self.binary} is not installed; run the README's set-up command "
                f"(it installs the Debian packages mosquitto and influxdb)"
            ) from exc
        self.pid_file.write_text(f"{self.process.pid}\n")
        self._wait_ready()
        return self.process.pid

    def _wait_ready(self) -> None:
        assert self.process is not None  # noqa: S101 - start() sets it just before
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UserError(
                    f"{self.name} exited at start (status {self.process.returncode}):\n"
                    f"{self._log_tail()}\nsee {self.log_file}"
                )
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise UserError(
            f"{self.name} did not answer on port {self.port} within {self.start_timeout_s:.0f} s; see {self.log_file}"
        )

    def _log_tail(self, lines: int = 8) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def answers(self) -> bool:
        """Whether the service answers its protocol on its port."""
        if self.name == "influxdb":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=1) as response:
                    return bool(response.status == 204)
            except (urllib.error.URLError, OSError):
                return False
        try:
            with contextlib.ExitStack() as stack:
                sock = stack.enter_context(socket.create_connection(("127.0.0.1", self.port), timeout=1))
                if self.tls:
                    context = ssl.create_default_context()
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE  # a liveness probe of our own loopback broker
                    sock = stack.enter_context(context.wrap_socket(sock))
                sock.sendall(_MQTT_PROBE)
                return sock.recv(4)[:3] == b"\x20\x02\x00"
        except OSError:
            return False

    def pid(self) -> int | None:
        """The running process's PID, if any."""
        if self.process is not None and self.process.poll() is None:
            return self.process.pid
        return self.recorded_pid()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the service's recorded PID (no-op when it is not running)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, sig)

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Stop the recorded PID: SIGTERM, wait, then SIGKILL. Returns whether it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout_s):
            os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 5.0)
        self.pid_file.unlink(missing_ok=True)
        self.process = None
        return True

    def kill(self) -> None:
        """SIGKILL the service and reap it (fault injection)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 5.0)
        self.process = None

    def _wait_gone(self, pid: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.pid == pid:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.05)
                    return True
            elif not pid_alive(pid):
                return True
            else:
                time.sleep(0.05)
        return False


def _mosquitto_security(settings: Settings) -> str:
    """The listener's access and TLS lines: anonymous unless a password file is set."""
    cfg = settings.services
    lines = [f"allow_anonymous {'false' if cfg.mqtt_password_file else 'true'}"]
    if cfg.mqtt_password_file:
        lines.append(f"password_file {cfg.mqtt_password_file}")
    if cfg.mqtt_acl_file:
        lines.append(f"acl_file {cfg.mqtt_acl_file}")
    if cfg.mqtt_certfile:
        if not cfg.mqtt_keyfile:
            raise UserError("services.mqtt_certfile needs services.mqtt_keyfile (the certificate's private key)")
        lines += [f"certfile {cfg.mqtt_certfile}", f"keyfile {cfg.mqtt_keyfile}"]
    return "\n".join(lines)


class LocalServices:
    """The local Mosquitto and InfluxDB described by the settings."""

    def __init__(self, settings: Settings) -> None:
        influx_url = urlsplit(settings.influx.url)
        if settings.mqtt.host not in ("127.0.0.1", "localhost") or influx_url.hostname not in (
            "127.0.0.1",
            "localhost",
        ):
            raise UserError(
                "local services run on loopback only, but the settings point at "
                f"{settings.mqtt.host} and {influx_url.hostname}; use those servers directly, "
                "or set mqtt.host and influx.url to 127.0.0.1"
            )
        root = settings.var_dir.resolve()
        cfg = settings.services
        self.settings = settings
        self.mosquitto = LocalService(
            name="mosquitto",
            port=settings.mqtt.port,
            binary=cfg.mosquitto_bin,
            state_dir=root / "mosquitto",
            config_text=(TEMPLATES / "mosquitto.conf")
            .read_text()
            .format(
                port=settings.mqtt.port,
                user=getpass.getuser(),
                state=root / "mosquitto",
                log=root / "log" / "mosquitto-broker.log",
                max_queued=cfg.mqtt_max_queued,
                security=_mosquitto_security(settings),
            ),
            argv_tail=("-c",),
            start_timeout_s=cfg.start_timeout_s,
            tls=cfg.mqtt_certfile is not None,
        )
        self.influxdb = LocalService(
            name="influxdb",
            port=influx_url.port or 8086,
            binary=cfg.influxd_bin,
            state_dir=root / "influxdb",
            config_text=(TEMPLATES / "influxdb.conf")
            .read_text()
            .format(
                port=influx_url.port or 8086,
                rpc_port=cfg.influx_rpc_port,
                state=root / "influxdb",
                auth="true" if cfg.influx_auth else "false",
            ),
            argv_tail=("run", "-config"),
            start_timeout_s=cfg.start_timeout_s,
        )

    @property
    def all(self) -> tuple[LocalService, LocalService]:
        """Both services, in start order."""
        return (self.mosquitto, self.influxdb)

    def start(self) -> None:
        """Start both (stopping the first again if the second fails)."""
        started: list[LocalService] = []
        try:
            for service in self.all:
                service.start()
                started.append(service)
            if self.settings.services.influx_auth:
                self._create_influx_admin()
        except UserError:
            for service in started:
                service.stop()
            raise

    def _create_influx_admin(self) -> None:
        """With authentication on, the first start creates the admin user (InfluxDB allows it while it has none)."""
        influx = self.settings.influx
        if not influx.username or influx.password is None:
            raise UserError(
                "services.influx_auth is on: set FLOODWATCH_INFLUX_USERNAME and FLOODWATCH_INFLUX_PASSWORD "
                "(the first start creates that admin user)"
            )
        user = influx.username.replace('"', "")
        secret = influx.password.get_secret_value().replace("\\", "\\\\").replace("'", "\\'")
        body = urllib.parse.urlencode({"q": f"CREATE USER \"{user}\" WITH PASSWORD '{secret}' WITH ALL PRIVILEGES"})
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.influxdb.port}/query", data=body.encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our own loopback server
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 401:  # 401: users exist already, the admin was created at an earlier start
                raise UserError(f"could not create the InfluxDB admin user: HTTP {exc.code}") from exc

    def stop(self) -> None:
        """Stop both."""
        for service in reversed(self.all):
            service.stop()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch services``."""
    parser = subparsers.add_parser(
        "services",
        help="start, stop or check the local Mosquitto and InfluxDB",
        description="Run Mosquitto and InfluxDB from the system packages on the loopback ports of the "
        "settings (mqtt.port, influx.url), with all state under var_dir (default ./var). "
        "For an existing broker or database, skip this and point the settings at them.",
    )
    parser.add_argument("action", choices=("start", "stop", "status"), help="what to do")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch services ACTION``."""
    services = LocalServices(settings_from(args))
    if args.action == "start":
        services.start()
        for service in services.all:
            print(f"{service.name}: running, pid {service.pid()}, 127.0.0.1:{service.port}, log {service.log_file}")
        return 0
    if args.action == "stop":
        for service in reversed(services.all):
            print(f"{service.name}: {'stopped' if service.stop() else 'was not running'}")
        return 0
    status = 0
    for service in services.all:
        pid = service.pid()
        if pid is None:
            print(f"{service.name}: not running (port {service.port})")
            status = 3
        else:
            state = "answering" if service.answers() else "NOT answering"
            print(f"{service.name}: pid {pid}, 127.0.0.1:{service.port}, {state}")
            status = status if service.answers() else 3
    return status

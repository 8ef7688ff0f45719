"""``floodwatch up``: the whole system locally, for a demo or a first look.

Starts the local services, the ingester, the dashboard, and the Garonne flood of January 2022 twice:

- at the first run, the event **at its real dates** (replayed at full speed: the archive a
  hydrologist explores in ``/history`` over January 2022), pinned done in ``var/demo-archive``;
- then **as if it were happening now**: the days before the moment ``--align`` names are sent at
  once (a gateway's backlog), the rest arrives live at its own pace. The alignment is pinned at the
  first run (``var/demo-epoch``), so running ``up`` again re-sends the same points at the same times
  (idempotent) instead of a second copy of the flood.

With no dashboard users yet, it makes a demo duty officer (``duty``, a random password kept in
``var/demo-credentials``, 0600) so that alerts can be acknowledged at once. Ctrl-C stops everything
it started.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from config.settings import Settings
from config.tidy import format_time
from config.users import User, hash_password, load_users, save_users
from floodwatch.args import parse_time, settings_from
from floodwatch.errors import UserError
from floodwatch.services import LocalServices

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "data" / "garonne-jan2022"
#: the upper Garonne has just peaked and Toulouse peaks about 12 h later
DEMO_ALIGN = "2022-01-10T18:00:00Z"


def demo_align(var_dir: Path, align: str, now_ms: int) -> str:
    """The dataset time that is "now", keeping the shift of the first run (pinned in var_dir)."""
    pin = var_dir / "demo-epoch"
    if pin.exists():
        first_run_ms = int(pin.read_text().split()[0])
    else:
        var_dir.mkdir(parents=True, exist_ok=True)
        pin.write_text(f"{now_ms} first run of floodwatch up: the demo event is aligned to it\n")
        first_run_ms = now_ms
    return format_time(parse_time(align) + (now_ms - first_run_ms))


def demo_login(settings: Settings) -> str:
    """The demo officer's login to print: made (``duty``, random password) when there are no users yet."""
    credentials = settings.var_dir / "demo-credentials"
    users = load_users(settings.users_file)
    if not users:
        password = secrets.token_urlsafe(12)
        save_users(
            settings.users_file, {"duty": User("duty", "officer", "值班员 Duty officer", hash_password(password))}
        )
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"duty {password}\n")
        users = load_users(settings.users_file)
    if "duty" in users and credentials.exists():
        login, _, password = credentials.read_text().strip().partition(" ")
        return f"demo duty officer: user {login}, password {password} (kept in {credentials})"
    return f"users: {', '.join(sorted(users))} (floodwatch users list)"


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"the dashboard exited at start (status {process.returncode}); see the log above")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback URL
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise UserError(f"the dashboard did not answer at {url} within {timeout_s:.0f} s")


class Stack:
    """The child processes of ``up``, stopped in reverse order by PID."""

    def __init__(self, settings: Settings, config: str | None) -> None:
        self.settings = settings
        self.base = [sys.executable, "-m", "floodwatch.cli"] + (["--config", config] if config else [])
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start ``floodwatch ARGS`` as a child."""
        process = subprocess.Popen([*self.base, *args], start_new_session=True)
        self.children[name] = process
        return process

    def stop(self) -> None:
        """Terminate children (SIGTERM, then SIGKILL after 15 s)."""
        for process in reversed(self.children.values()):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.children.values()):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch up``."""
    parser = subparsers.add_parser(
        "up",
        help="run everything locally: services, ingester, dashboard and the Garonne 2022 replay",
        description="Start Mosquitto and InfluxDB (state in var_dir), the ingester and the dashboard, then "
        "replay the Garonne flood of January 2022 as if it were happening now. Prints the URL. Ctrl-C stops "
        "all of it.",
    )
    parser.add_argument("--dataset", type=Path, default=DEMO, help=f"dataset to replay (default {DEMO})")
    parser.add_argument(
        "--align",
        default=DEMO_ALIGN,
        metavar="T",
        help=f"dataset time that is 'now' at the first run (default {DEMO_ALIGN})",
    )
    parser.add_argument("--no-replay", action="store_true", help="start the system without replaying data")
    parser.add_argument(
        "--no-archive",
        action="store_true",
        help="skip the first run's import of the dataset at its real dates (the archive for /history)",
    )
    parser.set_defaults(func=run)


def start_live(stack: Stack, settings: Settings, args: argparse.Namespace) -> None:
    """The replay of the dataset as if it were happening now."""
    align = demo_align(settings.var_dir, args.align, int(time.time() * 1000))
    stack.spawn("replay", "replay", str(args.dataset), "--align", align)


def run(args: argparse.Namespace) -> int:
    """Bring the system up and keep it up until Ctrl-C."""
    settings = settings_from(args)
    services = LocalServices(settings)
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    services.start()
    stack = Stack(settings, args.config)
    try:
        ingester = stack.spawn("ingest", "ingest")
        dashboard = stack.spawn("dashboard", "dashboard")
        url = f"http://{settings.dashboard.host}:{settings.dashboard.port}/"
        _wait_http(url, dashboard, 60)
        archive_pin = settings.var_dir / "demo-archive"
        archive = None
        if not args.no_replay and not args.no_archive and not archive_pin.exists():
            print(f"importing {args.dataset.name} at its real dates (the archive for /history), then live", flush=True)
            archive = stack.spawn("archive", "replay", str(args.dataset), "--speed", "max")
        elif not args.no_replay:
            start_live(stack, settings, args)
        print(f"\nfloodwatch is up: open {url}  (Ctrl-C stops everything)\n{demo_login(settings)}\n", flush=True)
        while not stopping:
            for name, process in (("ingester", ingester), ("dashboard", dashboard)):
                if process.poll() is not None:
                    raise UserError(f"the {name} exited (status {process.returncode}); stopping everything")
            if archive is not None and archive.poll() is not None:
                if archive.returncode != 0:
                    raise UserError(f"the archive import exited (status {archive.returncode}); stopping everything")
                archive_pin.write_text(f"{args.dataset} imported at its real dates\n")
                archive = None
                start_live(stack, settings, args)
            time.sleep(0.5)
    finally:
        print("stopping: replay, dashboard, ingester, services...", file=sys.stderr, flush=True)
        stack.stop()
        services.stop()
    return 0

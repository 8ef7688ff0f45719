"""``floodwatch up``: the whole system locally, for a demo or a first look.

Starts the local services, the ingester, the dashboard, and a replay of the Garonne flood of
January 2022 aligned so that it happens now: the days before the moment ``--align`` names are sent
at once (a gateway's backlog), the rest arrives live at its own pace. The alignment is pinned at
the first run (``var/demo-epoch``), so running ``up`` again re-sends the same points at the same
times (idempotent) instead of a second copy of the flood. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
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
    parser.set_defaults(func=run)


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
        if not args.no_replay:
            align = demo_align(settings.var_dir, args.align, int(time.time() * 1000))
            stack.spawn("replay", "replay", str(args.dataset), "--align", align)
        print(f"\nfloodwatch is up: open {url}  (Ctrl-C stops everything)\n", flush=True)
        while not stopping:
            for name, process in (("ingester", ingester), ("dashboard", dashboard)):
                if process.poll() is not None:
                    raise UserError(f"the {name} exited (status {process.returncode}); stopping everything")
            time.sleep(0.5)
    finally:
        print("stopping: replay, dashboard, ingester, services...", file=sys.stderr, flush=True)
        stack.stop()
        services.stop()
    return 0

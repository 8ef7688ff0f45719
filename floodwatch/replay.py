"""``floodwatch replay``: publish a tidy dataset over MQTT as its stations would.

Each reading goes to its station's topic in the contract's JSON, in the file's own units (the
ingester converts), at N x real time or as fast as the broker takes it. ``--align`` replays an event
as if it were happening now: the data are shifted so that the given moment is the present, the past
goes out at once (like a gateway's backlog) and the rest at its own time.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from tqdm import tqdm

from config.contract import station_topic
from config.settings import MqttSettings
from config.tidy import find_readings, format_time, read_readings
from config.units import format_interval
from floodwatch.args import parse_time, settings_from
from floodwatch.errors import UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayReport:
    """What a replay published."""

    readings: int
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        """Readings per second."""
        return self.readings / self.seconds if self.seconds > 0 else float("inf")


class Publisher:
    """A QoS 1 publisher with a bounded number of messages awaiting the broker's PUBACK.

    Its MQTT 5 session survives broker restarts (session expiry), and paho sends again whatever the
    broker had not acknowledged, so a restart of the broker during a replay loses nothing.
    """

    def __init__(self, settings: MqttSettings, *, client_id: str = "", max_in_flight: int = 1000) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(max_in_flight)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 5)
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            self.client.username_pw_set(settings.username, password)
        if settings.tls:
            self.client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None)
        self.slots = threading.Semaphore(max_in_flight)
        self.client.on_publish = self._on_publish
        self.settings = settings

    def _on_publish(self, _client: Any, _userdata: Any, _mid: int, _reason: Any, _props: Any) -> None:
        self.slots.release()

    def connect(self) -> None:
        """Connect (raising UserError when the broker does not answer) and start the network loop."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho's Properties is untyped
        properties.SessionExpiryInterval = 600
        try:
            self.client.connect(self.settings.host, self.settings.port, keepalive=30, properties=properties)
        except OSError as exc:
            raise UserError(
                f"cannot reach the MQTT broker at {self.settings.host}:{self.settings.port} ({exc}); "
                "start it with `floodwatch services start` or fix mqtt.host/port"
            ) from exc
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1, waiting while too many await their PUBACK."""
        self.slots.acquire()
        self.client.publish(topic, payload, qos=1)

    def drain(self, max_in_flight: int, timeout_s: float = 600.0) -> bool:
        """Wait until the broker acknowledged everything; False on time-out."""
        deadline = time.monotonic() + timeout_s
        taken = 0
        while taken < max_in_flight:
            if not self.slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return False
            taken += 1
        for _ in range(taken):
            self.slots.release()
        return True

    def close(self) -> None:
        """Disconnect and stop the network loop."""
        self.client.disconnect()
        self.client.loop_stop()


def payloads(frame: pd.DataFrame, *, batch: int, shift_ms: int) -> Iterator[tuple[str, int, int, bytes]]:
    """``(station, device time ms, readings in it, JSON payload)`` in time order.

    With ``batch`` > 1, consecutive readings of one station are grouped into one gateway message.
    """
    pending: dict[str, list[dict[str, Any]]] = {}
    columns = ("station_id", "time_ms", "time", "kind", "value", "unit", "interval_s")
    for station, time_ms, text, kind, value, unit, interval_s in zip(
        *(frame[c].tolist() for c in columns), strict=True
    ):
        stamp = int(time_ms) + shift_ms
        reading: dict[str, Any] = {
            "time": text if shift_ms == 0 else format_time(stamp),
            "quantity": kind,
            "value": float(value),
            "unit": unit,
        }
        if interval_s:
            reading["interval"] = format_interval(int(interval_s))
        if batch <= 1:
            yield str(station), stamp, 1, json.dumps(reading).encode()
            continue
        group = pending.setdefault(str(station), [])
        group.append(reading)
        if len(group) >= batch:
            yield str(station), stamp, len(group), json.dumps({"v": 1, "readings": group}).encode()
            del pending[str(station)]
    for station, group in pending.items():
        yield station, 0, len(group), json.dumps({"v": 1, "readings": group}).encode()


def replay(
    frame: pd.DataFrame,
    settings: MqttSettings,
    *,
    speed: float | None,
    batch: int = 1,
    shift_ms: int = 0,
    live: bool = False,
    progress: bool = True,
    max_in_flight: int = 1000,
) -> ReplayReport:
    """Publish ``frame`` (from ``read_readings``); ``speed`` None = as fast as the broker takes it.

    With ``live``, readings stamped (after the shift) in the past go out at once and later ones
    when their time comes.
    """
    publisher = Publisher(settings, max_in_flight=max_in_flight)
    publisher.connect()
    started = time.monotonic()
    first_ms = int(frame["time_ms"].iloc[0]) + shift_ms
    messages = 0
    bar = tqdm(total=len(frame), unit="reading", disable=not progress, desc="replay", smoothing=0.05)
    try:
        for station, time_ms, count, payload in payloads(frame, batch=batch, shift_ms=shift_ms):
            if live:
                _sleep(time_ms / 1000 - time.time())
            elif speed is not None and time_ms:
                _sleep(started + (time_ms - first_ms) / 1000 / speed - time.monotonic())
            publisher.publish(station_topic(settings.topic_prefix, station), payload)
            messages += 1
            bar.update(count)
        if not publisher.drain(max_in_flight):
            raise UserError("the broker did not acknowledge every message within 10 minutes")
    finally:
        bar.close()
        publisher.close()
    return ReplayReport(len(frame), messages, time.monotonic() - started)


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def select(frame: pd.DataFrame, start: str | None, end: str | None, stations: list[str] | None) -> pd.DataFrame:
    """The readings in ``[start, end)`` of the given stations (all when None)."""
    if start:
        frame = frame[frame["time_ms"] >= parse_time(start)]
    if end:
        frame = frame[frame["time_ms"] < parse_time(end)]
    if stations:
        frame = frame[frame["station_id"].isin(stations)]
    if frame.empty:
        raise UserError("no readings in the selected range and stations")
    return frame.reset_index(drop=True)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch replay``."""
    parser = subparsers.add_parser(
        "replay",
        help="publish a tidy dataset over MQTT as its stations would",
        description="Publish DIR/readings.csv[.gz] (columns station_id,station_name,kind,lat,lon,time,value,"
        "unit) to PREFIX/STATION_ID, one reading per message in the file's own units (m, cm, mm, ft; "
        "rain as mm/15min, in/day...), the ingester converting them. Examples:\n"
        "  floodwatch replay data/garonne-jan2022 --speed max\n"
        "  floodwatch replay data/garonne-jan2022 --speed 3600 --from 2022-01-09 --to 2022-01-12\n"
        "  floodwatch replay data/garonne-jan2022 --align 2022-01-10T18:00Z   (the flood, happening now)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dataset", type=Path, metavar="DIR", help="dataset folder or readings file")
    parser.add_argument(
        "--speed",
        default="max",
        metavar="N|max",
        help="N x real time by the device clock, or max: as fast as the broker takes it (default max)",
    )
    parser.add_argument("--from", dest="start", metavar="T", help="first device time to send (ISO 8601, UTC)")
    parser.add_argument("--to", dest="end", metavar="T", help="send readings before this time")
    parser.add_argument("--station", action="append", metavar="ID", help="only this station (repeatable)")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        metavar="N",
        help="readings per message, like a gateway sending its buffer (default 1)",
    )
    parser.add_argument(
        "--align",
        metavar="T",
        help="shift the data so that dataset time T is now; earlier readings are sent at "
        "once, later ones when their time comes",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch replay``."""
    settings = settings_from(args)
    speed = _speed(args.speed)
    if args.batch < 1:
        raise UserError("--batch must be 1 or more")
    frame = select(read_readings(find_readings(args.dataset)), args.start, args.end, args.station)
    shift_ms = 0
    if args.align:
        shift_ms = int(time.time() * 1000) - parse_time(args.align)
    report = replay(
        frame,
        settings.mqtt,
        speed=speed,
        batch=args.batch,
        shift_ms=shift_ms,
        live=bool(args.align),
        progress=not args.no_progress,
    )
    print(
        f"replayed {report.readings} readings in {report.messages} messages in {report.seconds:.1f} s "
        f"({report.rate:,.0f} readings/s) to {settings.mqtt.host}:{settings.mqtt.port}"
    )
    return 0


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if speed <= 0:
        raise UserError(f"--speed {text!r}: give a positive number (times real time) or max")
    return speed

"""The ingester's pipeline: transport -> decode -> batch -> sink or spool -> dead letters -> ack.

One worker thread decodes and batches; a batch is flushed when it holds ``batch_size`` points or
``flush_interval_s`` after its first message. A flush stores the points (or, when InfluxDB is
unavailable, keeps them in the disk spool), makes the dead letters durable, and only then
acknowledges the batch's messages, in the order they came. A drainer thread writes the spool back
when InfluxDB returns. When the spool is full the worker stops acknowledging and retries, so the
broker holds the backlog: readings are delayed, never dropped.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from config.catalogue import Catalogue
from config.errors import ConfigError
from config.settings import Settings
from ingest.deadletter import DeadLetter, DeadLetterStore
from ingest.decode import Limits, decode
from ingest.engine import Engine, Event, escalation_line
from ingest.limits import RateLimiter
from ingest.metrics import Metrics, serve
from ingest.notify import Notifier
from ingest.restore import restore
from ingest.rules import read_critical_rain, read_flood_limits
from ingest.sink import Sink
from ingest.spool import Spool, SpoolFullError
from ingest.transport import Message, MqttTransport, StartupError
from store.influx import InfluxClient, InfluxError
from store.lineproto import encode

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Messages whose readings are being gathered into one write."""

    messages: list[Message] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    stations: set[str] = field(default_factory=set)
    deadline: float = 0.0

    def empty(self) -> bool:
        """Nothing to write and nothing to acknowledge."""
        return not self.messages and not self.lines


def owned(catalogue: Catalogue, partition: str) -> Catalogue:
    """The stations of partition ``K/N`` (a stable hash of the id), or all of them when ``partition`` is empty."""
    if not partition:
        return catalogue
    index, count = (int(part) for part in partition.split("/"))
    if not 0 <= index < count:
        raise ConfigError(f"partition {partition}: K must be 0..N-1", key="alerts.partition", hint="e.g. 0/2 and 1/2")
    mine = {sid: s for sid, s in catalogue.items() if zlib.crc32(sid.encode()) % count == index}
    return Catalogue(mine, catalogue.path)


class Ingester:
    """Runs the write path until ``stop`` is set."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue
        cfg = settings.ingest
        self.metrics = Metrics()
        self.limits = Limits(
            max_payload_bytes=cfg.max_payload_bytes,
            max_readings=cfg.max_readings_per_message,
            max_future_ms=int(cfg.max_future_s * 1000),
            oldest_ms=int(cfg.oldest.timestamp() * 1000),
        )
        self.queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.role = cfg.role
        #: the stations whose alerts this process evaluates (an alerts partition owns a share of them)
        self.owned = owned(catalogue, settings.alerts.partition) if self.role == "alerts" else catalogue
        self.transport = MqttTransport(
            settings.mqtt, self._deliver, self._mqtt_state, stations=list(self.owned) if self.role == "alerts" else None
        )
        self.sink = Sink(InfluxClient(settings.influx), create_database=settings.influx.create_database)
        self.drain_sink = Sink(InfluxClient(settings.influx), create_database=settings.influx.create_database)
        self.spool = Spool(settings.spool_dir, cfg.spool_max_mb * 1024 * 1024)
        self.deadletters = DeadLetterStore(settings.deadletter_dir)
        self.stop = threading.Event()
        self._spooled = threading.Event()
        self._lock = threading.Lock()
        alerts = settings.alerts
        self.engine: Engine | None = None
        self.notifier: Notifier | None = None
        if alerts.enabled and self.role != "write":
            critical = read_critical_rain(alerts.critical_rain) if alerts.critical_rain else None
            limits = read_flood_limits(alerts.flood_limits) if alerts.flood_limits else None
            self.engine = Engine(self.owned, alerts, critical, flood_limits=limits, zone=settings.timezone)
            if alerts.channels:
                self.notifier = Notifier(settings, catalogue)
        self._acks_since_ms = 0
        self.limiter = RateLimiter(settings.ingest.station_rate_per_s, settings.ingest.station_burst)

    # -- paho's network thread: convert and enqueue only -------------------------------------
    def _deliver(self, message: Message) -> None:
        self.metrics.received += 1
        if not self.metrics.first_received_ms:
            self.metrics.first_received_ms = message.arrival_ms
        self.queue.put(message)

    def _mqtt_state(self, connected: bool) -> None:
        self.metrics.mqtt_connected = connected

    # -- start and stop ---------------------------------------------------------------------
    def run(self) -> None:
        """Connect, process until ``stop`` is set, then flush what is pending and disconnect.

        Raises:
            StartupError: a service is unreachable and ``ingest.on_startup_error`` is ``fail``.
        """
        fail_fast = self.settings.ingest.on_startup_error == "fail"
        self._check_influx(fail_fast=fail_fast)
        if self.engine is not None and not self._restore(fail_fast=fail_fast):
            return
        if self.notifier is not None:
            self.notifier.start()
        server = None
        if self.settings.ingest.metrics_port:
            server = serve(self.metrics, self.settings.ingest.metrics_host, self.settings.ingest.metrics_port)
        self.transport.start(fail_fast=fail_fast)
        drainer = threading.Thread(target=self._drain_loop, name="spool-drainer", daemon=True)
        drainer.start()
        if self.spool.segments():
            log.info("spool holds %d batches from an earlier run: writing them back", len(self.spool.segments()))
            self._spooled.set()
        log.info(
            "ingesting %s (%d stations) into %s db=%s",
            self.transport.topic_filter,
            len(self.catalogue),
            self.settings.influx.url,
            self.settings.influx.database,
        )
        try:
            self._work()
        finally:
            self.transport.stop()
            if self.notifier is not None:
                self.notifier.stop()
            self._spooled.set()
            drainer.join(timeout=10)
            if server is not None:
                server.shutdown()
            log.info("ingester stopped: %s", self.metrics.summary())

    def _check_influx(self, *, fail_fast: bool) -> None:
        client = self.sink.client
        if client.ping():
            try:
                client.check_access()
            except InfluxError as exc:
                if fail_fast or not exc.retryable:
                    raise StartupError(str(exc)) from exc
            if self.settings.influx.create_database:
                try:
                    client.create_database()
                except InfluxError as exc:
                    log.warning("could not create database %s: %s", self.settings.influx.database, exc)
            return
        message = f"InfluxDB at {self.settings.influx.url} does not answer /ping"
        if fail_fast:
            raise StartupError(message + ' (ingest.on_startup_error = "fail")')
        log.warning("%s: readings will be spooled to %s until it does", message, self.spool.folder)

    def _restore(self, *, fail_fast: bool) -> bool:
        """Rebuild the alert state from InfluxDB before taking readings (False: stopped meanwhile)."""
        assert self.engine is not None  # noqa: S101 - only called with an engine
        delay = self.settings.ingest.retry_min_s
        while not self.stop.is_set():
            # The spool may hold alert transitions from before a crash: InfluxDB must have them first.
            if self.spool.segments() and not self._drain_once():
                if fail_fast:
                    raise StartupError("cannot write the spool back to InfluxDB before restoring the alert state")
                log.warning("waiting for InfluxDB to take the spool before restoring the alert state")
                self.stop.wait(delay)
                delay = min(delay * 2, self.settings.ingest.retry_max_s)
                continue
            try:
                loaded = restore(self.engine, self.sink.client)
            except InfluxError as exc:
                if fail_fast:
                    raise StartupError(f"cannot restore the alert state from InfluxDB: {exc}") from exc
                log.warning("waiting for InfluxDB to restore the alert state (%s); readings wait in the broker", exc)
                self.stop.wait(delay)
                delay = min(delay * 2, self.settings.ingest.retry_max_s)
                continue
            log.info("alert state restored: %d readings of history, %d active alerts", loaded, len(self.engine.active))
            self._acks_since_ms = int(time.time() * 1000)
            return True
        return False

    # -- the worker ----------------------------------------------------------------------------
    def _work(self) -> None:
        cfg = self.settings.ingest
        batch = Batch()
        next_log = time.monotonic() + cfg.log_interval_s
        next_tick = time.monotonic() + self.settings.alerts.tick_s
        while True:
            timeout = cfg.flush_interval_s if not batch.messages else max(0.0, batch.deadline - time.monotonic())
            try:
                message: Message | None = self.queue.get(timeout=min(timeout, 0.5))
            except queue.Empty:
                message = None
            if message is not None:
                self._add(batch, message)
            now = time.monotonic()
            if self.engine is not None and now >= next_tick:
                self._tick(batch)
                next_tick = now + self.settings.alerts.tick_s
            if not batch.empty() and (
                len(batch.lines) >= cfg.batch_size or now >= batch.deadline or self.stop.is_set()
            ):
                if not self._flush(batch):
                    return  # stopping while InfluxDB and the spool are unavailable: leave it unacked
                batch = Batch()
            if now >= next_log:
                log.info("ingest: %s", self.metrics.summary())
                next_log = now + cfg.log_interval_s
            if self.stop.is_set() and batch.empty() and self.queue.empty():
                return

    def _tick(self, batch: Batch) -> None:
        """Stale stations, acknowledgements made elsewhere, and escalations, at wall time."""
        assert self.engine is not None  # noqa: S101 - only called with an engine
        now_ms = int(time.time() * 1000)
        since = self._acks_since_ms - 60_000  # overlap: an acknowledgement written just before the last poll
        rows: list[dict[str, Any]] | None
        try:
            rows = self.sink.client.rows(
                f"SELECT note, alert_id FROM alert_action WHERE action = 'acknowledged' AND time > {since}ms"
            )
        except InfluxError:
            rows = None  # InfluxDB down: escalation waits for it rather than escalate acknowledged alerts
        else:
            self._acks_since_ms = now_ms
            self.engine.acknowledged(row["alert_id"] for row in rows)
        out = self.engine.tick(now_ms)
        escalated = self.engine.escalations(now_ms) if rows is not None else []
        if batch.empty():
            batch.deadline = time.monotonic() + self.settings.ingest.flush_interval_s
        batch.lines += out.lines + [escalation_line(event) for event in escalated]
        batch.events += out.events + escalated
        batch.stations |= out.stations

    def _add(self, batch: Batch, message: Message) -> None:
        if batch.empty():
            batch.deadline = time.monotonic() + self.settings.ingest.flush_interval_s
        if not batch.messages:
            self.metrics.oldest_unacked_ms = message.arrival_ms
        batch.messages.append(message)
        if not self.limiter.allow(message.topic, message.arrival_ms / 1000):
            self._reject(
                batch,
                message,
                "rate_limited",
                f"more than {self.settings.ingest.station_burst} messages "
                f"at once, then {self.settings.ingest.station_rate_per_s:g}/s, on this topic",
            )
            return
        decoded = decode(
            message.topic,
            message.payload,
            prefix=self.settings.mqtt.topic_prefix,
            stations=self.catalogue,
            limits=self.limits,
            arrival_ms=message.arrival_ms,
        )
        readings = decoded.readings
        if self.engine is not None and readings:
            checked, out = self.engine.evaluate(readings, message.arrival_ms)
            batch.lines += out.lines
            batch.events += out.events
            batch.stations |= out.stations
            if self.role == "alerts":  # the writers store the readings; only new QC flags are written here
                readings = [new for old, new in zip(readings, checked, strict=True) if new.flags != old.flags]
            else:
                readings = checked
        batch.lines.extend(encode(reading) for reading in readings)
        self.metrics.readings_accepted += len(readings)
        if self.role == "alerts":
            return  # the writers keep the rejects
        for reject in decoded.rejects:
            self._reject(batch, message, reject.reason, reject.detail, reject.item)

    def _reject(self, batch: Batch, message: Message, reason: str, detail: str, item: object = None) -> None:
        """Keep a rejected message (or one reading of it) with its reason, and count it."""
        log.debug("rejected (%s): %s", reason, detail, extra={"topic": message.topic})
        payload = message.payload if item is None else None
        batch.letters.append(DeadLetter(message.arrival_ms, message.topic, reason, detail, payload=payload, item=item))
        with self._lock:
            self.metrics.rejected[reason] += 1

    def _flush(self, batch: Batch) -> bool:
        """Store or spool the points, keep the dead letters, then ack. False if it must give up."""
        if batch.lines and not self._store(batch):
            return False
        if batch.letters:
            self.deadletters.append(batch.letters)
        for message in batch.messages:
            self.transport.ack(message.mid, message.qos)
        self.metrics.acked += len(batch.messages)
        self.metrics.last_acked_ms = int(time.time() * 1000)
        self.metrics.queue_depth = self.queue.qsize()
        self._announce(batch)
        return True

    def _announce(self, batch: Batch) -> None:
        """Once stored: the stations' alert state as retained MQTT messages, and the notifications."""
        if self.engine is None:
            return
        prefix = self.settings.alerts.state_topic
        for station in sorted(batch.stations):
            state = json.dumps(self.engine.station_state(station), ensure_ascii=False).encode()
            self.transport.publish(f"{prefix}/{station}", state, retain=True)
        if self.notifier is not None and batch.events:
            self.notifier.submit(batch.events)

    def _store(self, batch: Batch) -> bool:
        backoff = self.settings.ingest.retry_min_s
        while True:
            # While the spool is being written back, new batches join it rather than wait on a
            # server that was just failing; the drainer is the one probing it.
            if self.metrics.influx_ok or not self.spool.segments():
                try:
                    refused = self.sink.write(batch.lines)
                except InfluxError as exc:
                    self._influx_failed(exc)
                else:
                    self._refused(refused, batch.messages[0].arrival_ms if batch.messages else int(time.time() * 1000))
                    with self._lock:
                        self.metrics.written += len(batch.lines) - len(refused)
                    self.metrics.influx_ok = True
                    return True
            try:
                self.spool.append(batch.lines)
            except SpoolFullError as exc:
                self.metrics.spool_full = True
                log.error("%s: not acknowledging; the broker holds the backlog until InfluxDB returns", exc)
                if self.stop.wait(backoff):
                    return False
                backoff = min(backoff * 2, self.settings.ingest.retry_max_s)
                continue
            self.metrics.spool_full = False
            self.metrics.spooled += len(batch.lines)
            self.metrics.spool_bytes = self.spool.bytes
            self._spooled.set()
            return True

    def _influx_failed(self, exc: InfluxError) -> None:
        if self.metrics.influx_ok:
            log.error("InfluxDB write failed, keeping readings in the spool: %s", exc)
        self.metrics.influx_ok = False
        with self._lock:
            self.metrics.retried += 1

    def _refused(self, refused: list[tuple[str, str]], arrival_ms: int) -> None:
        if not refused:
            return
        station = refused[0][0].split(",station=", 1)[-1].split(" ", 1)[0]
        log.warning(
            "InfluxDB refused %d point(s), dead-lettered: %s", len(refused), refused[0][1], extra={"station": station}
        )
        self.deadletters.append(
            [DeadLetter(arrival_ms, "", "influx_refused", reason, line=line) for line, reason in refused]
        )
        with self._lock:
            self.metrics.rejected["influx_refused"] += len(refused)

    # -- the drainer ---------------------------------------------------------------------------
    def _drain_loop(self) -> None:
        backoff = self.settings.ingest.retry_min_s
        while not self.stop.is_set():
            if not self.spool.segments():
                self._spooled.wait(1.0)
                self._spooled.clear()
                continue
            if self._drain_once():
                backoff = self.settings.ingest.retry_min_s
            else:
                self.stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.ingest.retry_max_s)

    def _drain_once(self) -> bool:
        """Write the spool back, oldest first; True when it is empty, False when InfluxDB failed."""
        for segment in self.spool.segments():
            lines = self.spool.read(segment)
            try:
                refused = self.drain_sink.write(lines)
            except InfluxError as exc:
                self._influx_failed(exc)
                return False
            self._refused(refused, int(time.time() * 1000))
            self.spool.remove(segment)
            with self._lock:
                self.metrics.written += len(lines) - len(refused)
            self.metrics.spool_bytes = self.spool.bytes
            if self.stop.is_set():
                return False
        if not self.metrics.influx_ok:
            log.info("InfluxDB is back: spool written")
        self.metrics.influx_ok = True
        return True

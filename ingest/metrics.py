"""Counters of the ingester, as Prometheus text on ``/metrics`` and a ``/health`` summary."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Metrics:
    """What the ingester has done since it started. Updated by its threads, read by the endpoint."""

    received: int = 0  # MQTT messages
    acked: int = 0  # MQTT messages acknowledged
    readings_accepted: int = 0  # decoded readings
    written: int = 0  # points InfluxDB took (first write or from the spool)
    spooled: int = 0  # points put in the disk spool
    retried: int = 0  # failed write attempts that will be retried
    rejected: Counter[str] = field(default_factory=Counter)  # readings or messages, by reason
    queue_depth: int = 0
    spool_bytes: int = 0
    oldest_unacked_ms: int = 0  # arrival time of the oldest message not yet acknowledged
    first_received_ms: int = 0  # arrival time of the first message since the start
    last_acked_ms: int = 0  # wall time of the last acknowledgement (stored or dead-lettered)
    mqtt_connected: bool = False
    influx_ok: bool = True
    spool_full: bool = False
    started: float = field(default_factory=time.time)

    @property
    def in_flight(self) -> int:
        """Messages received but not yet acknowledged."""
        return self.received - self.acked

    def lag_s(self) -> float:
        """Age of the oldest unacknowledged message, in seconds (0 when none)."""
        if not self.oldest_unacked_ms or not self.in_flight:
            return 0.0
        return max(0.0, time.time() - self.oldest_unacked_ms / 1000)

    def healthy(self) -> bool:
        """Connected to the broker, and InfluxDB writable or the spool still taking the readings."""
        return self.mqtt_connected and not self.spool_full

    def prometheus(self) -> str:
        """The counters in the Prometheus text format."""
        out = [
            _metric(
                "floodwatch_ingest_messages_received_total",
                "counter",
                "MQTT messages received",
                self.received,
            ),
            _metric("floodwatch_ingest_messages_acked_total", "counter", "MQTT messages acknowledged", self.acked),
            _metric(
                "floodwatch_ingest_readings_accepted_total",
                "counter",
                "readings that passed validation",
                self.readings_accepted,
            ),
            _metric("floodwatch_ingest_points_written_total", "counter", "points stored in InfluxDB", self.written),
            _metric(
                "floodwatch_ingest_points_spooled_total",
                "counter",
                "points kept on disk while InfluxDB was down",
                self.spooled,
            ),
            _metric(
                "floodwatch_ingest_write_retries_total",
                "counter",
                "failed writes that are retried",
                self.retried,
            ),
            "# HELP floodwatch_ingest_rejected_total messages or readings rejected, by reason",
            "# TYPE floodwatch_ingest_rejected_total counter",
            *(f'floodwatch_ingest_rejected_total{{reason="{r}"}} {n}' for r, n in sorted(self.rejected.items())),
            _metric(
                "floodwatch_ingest_in_flight",
                "gauge",
                "messages received, not yet acknowledged",
                self.in_flight,
            ),
            _metric("floodwatch_ingest_queue_depth", "gauge", "messages waiting to be decoded", self.queue_depth),
            _metric("floodwatch_ingest_spool_bytes", "gauge", "bytes in the disk spool", self.spool_bytes),
            _metric(
                "floodwatch_ingest_lag_seconds",
                "gauge",
                "age of the oldest unacknowledged message",
                self.lag_s(),
            ),
            _metric(
                "floodwatch_ingest_mqtt_connected",
                "gauge",
                "1 when connected to the broker",
                int(self.mqtt_connected),
            ),
            _metric("floodwatch_ingest_influx_ok", "gauge", "1 when the last write succeeded", int(self.influx_ok)),
            _metric(
                "floodwatch_ingest_first_received_timestamp_seconds",
                "gauge",
                "when the first message since the start arrived (0: none yet)",
                self.first_received_ms / 1000,
            ),
            _metric(
                "floodwatch_ingest_last_ack_timestamp_seconds",
                "gauge",
                "when messages were last acknowledged: stored, spooled or dead-lettered (0: none yet)",
                self.last_acked_ms / 1000,
            ),
        ]
        return "\n".join(out) + "\n"

    def summary(self) -> dict[str, Any]:
        """A short dict for logs and ``/health``."""
        return {
            "received": self.received,
            "written": self.written,
            "rejected": sum(self.rejected.values()),
            "spooled": self.spooled,
            "retried": self.retried,
            "in_flight": self.in_flight,
            "spool_bytes": self.spool_bytes,
            "lag_s": round(self.lag_s(), 3),
            "mqtt_connected": self.mqtt_connected,
            "influx_ok": self.influx_ok,
        }


def _metric(name: str, kind: str, help_text: str, value: float) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n{name} {value}"


def serve(metrics: Metrics, host: str, port: int) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/health`` in a daemon thread; returns the server (``.shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, status, kind = metrics.prometheus().encode(), 200, "text/plain; version=0.0.4"
            elif self.path == "/health":
                body = json.dumps(metrics.summary()).encode()
                status, kind = (200 if metrics.healthy() else 503), "application/json"
            else:
                body, status, kind = b"not found: try /metrics or /health\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes are not worth a log line."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server

"""Notifications of alert events through pluggable channels (webhook, e-mail), each delivered once.

Duty channels get raised, level_changed and resolved events; escalation channels get escalations
and rises in level (duty channels get those too when no escalation channel exists). Muted events
and events older than ``alerts.notify_max_age_h`` (replays, backfill) are recorded, not sent.
Messages come from ``config/i18n/notify_<lang>.json``; the reason in them is the event's explanation
rendered by ``store.explain.render`` (the same sentence as on the desk, in the API and in ``floodwatch
alerts list``), and the JSON payload carries the explanation itself. Each delivery's outcome is written to the
``notification`` measurement (tags ``channel``, ``outcome``, ``alert_id``, ``event``, ``level``;
fields ``attempts``, ``detail``), and a delivery already recorded is not repeated.
"""

from __future__ import annotations

import json
import logging
import queue
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

import requests

from config.catalogue import Catalogue
from config.settings import Channel, Settings
from ingest.engine import Event
from store.alerts import line, rule_unit
from store.explain import Explanation
from store.explain import render as explain
from store.influx import InfluxClient, InfluxError

log = logging.getLogger(__name__)
TEXTS: Final = Path(__file__).resolve().parent.parent / "config" / "i18n"
MEASUREMENT: Final = "notification"


def texts(language: str) -> dict[str, str]:
    """The message texts of ``language``."""
    return dict(json.loads((TEXTS / f"notify_{language}.json").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Message:
    """A rendered notification."""

    subject: str
    body: str
    payload: dict[str, Any]


def render(event: Event, catalogue: Catalogue, language: str, zone: ZoneInfo) -> Message:
    """The message for ``event`` in ``language``, times in ``zone``."""
    words = texts(language)
    station = catalogue.get(event.station)
    rule = event.rule
    if rule.startswith("rain_"):
        rule_name = words["rule.rain"].format(hours=rule.removeprefix("rain_").removesuffix("h"))
    else:
        rule_name = words.get(f"rule.{rule}", rule)
    unit = rule_unit(rule)
    fields = {
        "station": event.station,
        "station_name": station.display_name(language) if station else event.station,
        "level": words.get(f"level.{event.level}", event.level),
        "rule_name": rule_name,
        "value": "" if event.value is None else f"{event.value:.2f}",
        "threshold": "" if event.threshold is None else f"{event.threshold:g}",
        "unit": unit,
        "time": datetime.fromtimestamp(event.time_ms / 1000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "reason": explain(event.explanation, language, zone) if event.explanation else event.reason,
    }
    subject = words[f"subject.{event.event}"].format(**fields)
    body = words[f"body.{event.event}"].format(**fields)
    payload = {
        "event": event.event,
        "alert_id": event.alert_id,
        "station": event.station,
        "station_name": fields["station_name"],
        "rule": rule,
        "level": event.level,
        "value": event.value,
        "threshold": event.threshold,
        "unit": unit,
        "time": event.time_ms,
        "reason": fields["reason"],
        "explanation": event.explanation.as_dict() if event.explanation else None,
        "subject": subject,
        "message": body,
        "language": language,
    }
    return Message(subject, body, payload)


class Sender(Protocol):
    """Delivers one message; raises on failure."""

    def __call__(self, channel: Channel, message: Message) -> None:
        """Deliver ``message`` on ``channel``."""


def send_webhook(channel: Channel, message: Message) -> None:
    """POST the JSON payload; any non-2xx answer is a failure."""
    response = requests.post(channel.url, json=message.payload, timeout=10)
    response.raise_for_status()


def send_email(channel: Channel, message: Message) -> None:
    """Send by SMTP."""
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = message.subject, channel.sender, ", ".join(channel.to)
    mail.set_content(message.body)
    with smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)


SENDERS: Final[dict[str, Sender]] = {"webhook": send_webhook, "email": send_email}


def _event(row: dict[str, Any]) -> Event:
    """An ``alert_event`` point as the engine's Event."""
    return Event(
        row["station"],
        row["rule"],
        row["event"],
        row["alert_id"],
        row.get("level") or "",
        int(row["time"]),
        row.get("value"),
        row.get("threshold"),
        row.get("reason") or "",
        bool(row.get("muted")),
        int(row.get("arrival_ms") or 0),
        explanation=Explanation.from_json(row.get("explain")),
    )


def _key(event: Event, channel: str) -> tuple[str, str, str, str]:
    return (event.alert_id, event.event, event.level, channel)


def channel_name(channel: Channel) -> str:
    """A channel's name in records: its kind and address."""
    return f"{channel.kind}:{channel.url or ','.join(channel.to)}"


class Notifier:
    """Sends notifications from its own thread so that the ingester never waits on a receiver."""

    def __init__(self, settings: Settings, catalogue: Catalogue, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.zone = ZoneInfo(settings.timezone)
        self.client = InfluxClient(settings.influx)
        self.clock = clock
        self.sent: set[tuple[str, str, str, str]] = set()
        self.queue: queue.Queue[tuple[Event, Channel] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="notifier", daemon=True)

    def start(self) -> None:
        """Load what was already delivered, start sending, and send what a crash left unsent.

        An event stored just before the ingester stopped may not have been delivered: every recent
        event (within ``notify_max_age_h``) without a recorded delivery is submitted again.
        """
        since = int(self.clock() * 1000 - self.settings.alerts.notify_max_age_h * 3_600_000)
        try:
            for row in self.client.rows("SELECT attempts, alert_id, event, level, channel FROM notification"):
                self.sent.add((row["alert_id"], row["event"], row["level"], row["channel"]))
            stored = self.client.rows(f"SELECT * FROM alert_event WHERE time >= {since}ms AND superseded = false")
        except InfluxError as exc:
            log.warning("could not read past notifications (%s): some may be sent twice or not at all", exc)
            stored = []
        self.thread.start()
        self.submit([_event(row) for row in sorted(stored, key=lambda r: r["time"])])

    def stop(self) -> None:
        """Finish what is queued and stop."""
        self.queue.put(None)
        self.thread.join(timeout=30)

    def submit(self, events: list[Event]) -> None:
        """Queue the notifications that ``events`` call for."""
        max_age_ms = self.settings.alerts.notify_max_age_h * 3_600_000
        now_ms = int(self.clock() * 1000)
        channels = self.settings.alerts.channels
        has_escalation = any(c.group == "escalation" for c in channels)
        for event in events:
            if event.muted or (now_ms - event.time_ms > max_age_ms and event.event != "escalated"):
                continue
            for channel in channels:
                if channel.group == "escalation":
                    wanted = event.event == "escalated" or event.rose
                else:
                    wanted = event.event != "escalated" or not has_escalation
                key = _key(event, channel_name(channel))
                if wanted and key not in self.sent:
                    self.sent.add(key)
                    self.queue.put((event, channel))

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            event, channel = item
            self._deliver(event, channel)

    def _deliver(self, event: Event, channel: Channel) -> None:
        message = render(event, self.catalogue, channel.language, self.zone)
        attempts, detail, outcome = 0, "", "failed"
        delay = 0.5
        retries = self.settings.alerts.webhook_retries if channel.kind == "webhook" else 1
        while attempts <= retries:
            attempts += 1
            try:
                SENDERS[channel.kind](channel, message)
            except (requests.RequestException, OSError, smtplib.SMTPException) as exc:
                detail = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("notification to %s failed (attempt %d): %s", channel_name(channel), attempts, detail)
                time.sleep(delay)
                delay = min(delay * 2, 30)
            else:
                outcome, detail = "delivered", ""
                break
        tags = {
            "channel": channel_name(channel),
            "outcome": outcome,
            "alert_id": event.alert_id,
            "event": event.event,
            "level": event.level,
        }
        record = line(MEASUREMENT, tags, {"attempts": float(attempts), "detail": detail}, int(self.clock() * 1000))
        try:
            self.client.write(record.encode())
        except InfluxError as exc:
            log.error("could not record a notification outcome (%s): %s", exc, record)

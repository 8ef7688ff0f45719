"""The dead-letter store: every rejected message or reading, kept on disk with its reason.

One JSON line per reject in ``var/deadletter/YYYY-MM-DD.jsonl`` (UTC day of arrival), made durable
(fsync) before the message is acknowledged. Inspect with any JSON tool, e.g.
``jq -r .reason var/deadletter/*.jsonl | sort | uniq -c``.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: payloads are kept whole up to this size; larger ones keep their head and their size
KEEP_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message or reading."""

    arrival_ms: int
    topic: str
    reason: str
    detail: str
    payload: bytes | None = None
    item: Any = None
    line: str | None = None


class DeadLetterStore:
    """Appends dead letters to daily JSONL files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, letters: list[DeadLetter]) -> None:
        """Append and fsync ``letters`` (grouped by day)."""
        by_day: dict[str, list[str]] = {}
        for letter in letters:
            day = datetime.fromtimestamp(letter.arrival_ms / 1000, UTC).strftime("%Y-%m-%d")
            by_day.setdefault(day, []).append(json.dumps(_record(letter), ensure_ascii=False, allow_nan=False))
        with self._lock:
            for day, lines in by_day.items():
                self._append_day(day, lines)

    def _append_day(self, day: str, lines: list[str]) -> None:
        # backslashreplace: a lone surrogate (JSON "\\ud800" in a payload) becomes the JSON escape it came from
        with (self.folder / f"{day}.jsonl").open("a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read_all(self) -> list[dict[str, Any]]:
        """Every record kept, oldest file first (for tests and inspection)."""
        records: list[dict[str, Any]] = []
        for path in sorted(self.folder.glob("*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                records.extend(json.loads(line) for line in handle if line.strip())
        return records


def _record(letter: DeadLetter) -> dict[str, Any]:
    record: dict[str, Any] = {
        "arrival": datetime.fromtimestamp(letter.arrival_ms / 1000, UTC).isoformat(timespec="milliseconds"),
        "topic": letter.topic,
        "reason": letter.reason,
        "detail": letter.detail,
    }
    if letter.item is not None:
        record["reading"] = _jsonable(letter.item)
    if letter.line is not None:
        record["line"] = letter.line
    if letter.payload is not None:
        head = letter.payload[:KEEP_BYTES]
        try:
            # a cut inside a multi-byte character must not turn the whole text into base64
            record["payload"] = head.decode("utf-8") if len(head) == len(letter.payload) else _utf8_head(head)
        except UnicodeDecodeError:
            record["payload_base64"] = base64.b64encode(head).decode("ascii")
        if len(letter.payload) > KEEP_BYTES:
            record["payload_bytes"] = len(letter.payload)
    return record


def _utf8_head(head: bytes) -> str:
    """Decode a UTF-8 prefix cut at an arbitrary byte, dropping at most one partial character."""
    for trim in range(4):
        try:
            return head[: len(head) - trim].decode("utf-8")
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", head, 0, len(head), "not UTF-8")


def _jsonable(item: Any) -> Any:
    try:
        json.dumps(item, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return repr(item)[:KEEP_BYTES]
    return item

"""Log lines: readable text by default, one JSON object a line with ``log_format = "json"``.

Records may carry ``station`` and ``topic`` (``log.warning(..., extra={"station": s, "topic": t})``);
both formats show them, so a log search by station works.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Final

CONTEXT: Final = ("station", "topic")


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [station=… topic=…]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The line, with the record's station and topic when it has them."""
        extra = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT if hasattr(record, key))
        return super().format(record) + (f" [{extra}]" if extra else "")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, station, topic, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in CONTEXT if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Set the root logger's level and the format of its handlers."""
    root = logging.getLogger()
    root.setLevel(level)
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    for handler in root.handlers:
        handler.setFormatter(formatter)

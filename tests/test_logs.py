"""Log lines: JSON or text, both carrying the station and the topic when a record has them."""

from __future__ import annotations

import json
import logging

from floodwatch.logs import JsonFormatter, TextFormatter


def record(**extra: str) -> logging.LogRecord:
    item = logging.LogRecord("ingest.pipeline", logging.WARNING, __file__, 1, "refused %d point(s)", (2,), None)
    for key, value in extra.items():
        setattr(item, key, value)
    return item


def test_json_lines_carry_station_and_topic() -> None:
    """A JSON log line is one object with time, level, logger, message, station and topic."""
    line = json.loads(JsonFormatter().format(record(station="O200004001", topic="floodwatch/v1/readings/O200004001")))
    assert line["level"] == "WARNING"
    assert line["message"] == "refused 2 point(s)"
    assert (line["station"], line["topic"]) == ("O200004001", "floodwatch/v1/readings/O200004001")
    assert line["time"].endswith("+00:00")


def test_text_lines_show_station_only_when_known() -> None:
    """Text lines append [station=… topic=…] when the record has them, nothing otherwise."""
    assert TextFormatter().format(record(station="S1")).endswith("refused 2 point(s) [station=S1]")
    assert TextFormatter().format(record()).endswith("refused 2 point(s)")

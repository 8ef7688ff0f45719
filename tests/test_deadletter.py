"""The dead-letter store: one JSON line per reject, in daily UTC files, payloads kept faithfully."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from ingest.deadletter import KEEP_BYTES, DeadLetter, DeadLetterStore

#: 2022-01-11T06:15:00.123Z
ARRIVAL_MS = 1_641_881_700_123
TOPIC = "floodwatch/v1/readings/S1"


def strict_json(line: str) -> dict[str, Any]:
    """Parse one line as standard JSON (no NaN or Infinity, which jq and most tools refuse)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    record: dict[str, Any] = json.loads(line, parse_constant=refuse)
    return record


def lines_of(folder: Path) -> dict[str, list[str]]:
    """Each file's name and its lines."""
    return {p.name: p.read_text(encoding="utf-8").splitlines() for p in sorted(folder.glob("*.jsonl"))}


def test_one_json_line_per_letter(tmp_path: Path) -> None:
    """Each dead letter is one JSON line with arrival, topic, reason and detail, in append order."""
    store = DeadLetterStore(tmp_path / "dl")
    store.append(
        [
            DeadLetter(ARRIVAL_MS, TOPIC, "bad_json", "Expecting value", payload=b"{oops"),
            DeadLetter(ARRIVAL_MS + 1, TOPIC, "bad_unit", "unit 'yd'", item={"unit": "yd", "value": 1}),
        ]
    )
    store.append([DeadLetter(ARRIVAL_MS + 2, "", "influx_refused", "field type conflict", line="level x=1i 1")])
    files = lines_of(tmp_path / "dl")
    assert list(files) == ["2022-01-11.jsonl"]
    records = [strict_json(line) for line in files["2022-01-11.jsonl"]]
    assert records == [
        {
            "arrival": "2022-01-11T06:15:00.123+00:00",
            "topic": TOPIC,
            "reason": "bad_json",
            "detail": "Expecting value",
            "payload": "{oops",
        },
        {
            "arrival": "2022-01-11T06:15:00.124+00:00",
            "topic": TOPIC,
            "reason": "bad_unit",
            "detail": "unit 'yd'",
            "reading": {"unit": "yd", "value": 1},
        },
        {
            "arrival": "2022-01-11T06:15:00.125+00:00",
            "topic": "",
            "reason": "influx_refused",
            "detail": "field type conflict",
            "line": "level x=1i 1",
        },
    ]
    assert store.read_all() == records


def test_utf8_payload_is_kept_as_readable_text(tmp_path: Path) -> None:
    """A UTF-8 payload, Chinese included, is kept as text, unescaped in the file."""
    store = DeadLetterStore(tmp_path)
    payload = '{"station": "长江站", "value": "高"}'.encode()
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "bad_shape", "x", payload=payload)])
    [record] = store.read_all()
    assert record["payload"] == payload.decode()
    assert "payload_base64" not in record
    assert "长江站" in (tmp_path / "2022-01-11.jsonl").read_text(encoding="utf-8")


def test_non_utf8_payload_is_kept_as_base64(tmp_path: Path) -> None:
    """A payload that is not UTF-8 is kept byte for byte as base64."""
    store = DeadLetterStore(tmp_path)
    payload = b"\xff\xfe{\x00\x80binary\x00"
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "bad_json", "not UTF-8", payload=payload)])
    [record] = store.read_all()
    assert "payload" not in record
    assert base64.b64decode(record["payload_base64"]) == payload
    assert "payload_bytes" not in record


def test_huge_payload_is_truncated_with_its_size(tmp_path: Path) -> None:
    """A payload over KEEP_BYTES keeps its first KEEP_BYTES and records its full size."""
    store = DeadLetterStore(tmp_path)
    payload = b"a" * (KEEP_BYTES * 3 + 7)
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "too_large", "big", payload=payload)])
    [record] = store.read_all()
    assert record["payload"] == "a" * KEEP_BYTES
    assert record["payload_bytes"] == len(payload)


def test_payload_of_exactly_keep_bytes_is_whole(tmp_path: Path) -> None:
    """A payload of exactly KEEP_BYTES is kept whole without a size note."""
    store = DeadLetterStore(tmp_path)
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "bad_json", "x", payload=b"b" * KEEP_BYTES)])
    [record] = store.read_all()
    assert len(record["payload"]) == KEEP_BYTES
    assert "payload_bytes" not in record


def test_items_that_are_not_json_are_kept_as_repr(tmp_path: Path) -> None:
    """A rejected item that JSON cannot hold is kept as its repr, and JSON items are kept as they are."""
    store = DeadLetterStore(tmp_path)
    odd: list[Any] = [{1, 2}, b"\x00raw", {"value": object}, ("t", 1)]
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "bad_shape", "x", item=item) for item in odd])
    records = store.read_all()
    assert [r["reading"] for r in records] == [repr({1, 2}), repr(b"\x00raw"), repr({"value": object}), ["t", 1]]


def test_records_of_different_utc_days_go_to_different_files(tmp_path: Path) -> None:
    """Each letter goes to the file of its UTC arrival day, even within one append."""
    store = DeadLetterStore(tmp_path)
    before_midnight = 1_641_945_599_999  # 2022-01-11T23:59:59.999Z
    store.append(
        [
            DeadLetter(before_midnight, TOPIC, "bad_json", "a"),
            DeadLetter(before_midnight + 1, TOPIC, "bad_json", "b"),
            DeadLetter(1_641_902_400_000, TOPIC, "bad_json", "c"),  # 2022-01-11T12:00Z, already the 12th in Shanghai
        ]
    )
    files = lines_of(tmp_path)
    assert list(files) == ["2022-01-11.jsonl", "2022-01-12.jsonl"]
    assert [strict_json(line)["detail"] for line in files["2022-01-11.jsonl"]] == ["a", "c"]
    assert [strict_json(line)["detail"] for line in files["2022-01-12.jsonl"]] == ["b"]
    assert [r["detail"] for r in store.read_all()] == ["a", "c", "b"]


def test_appends_accumulate_across_store_instances(tmp_path: Path) -> None:
    """A new store on the same folder (a restart) appends to the day's file rather than replacing it."""
    DeadLetterStore(tmp_path).append([DeadLetter(ARRIVAL_MS, TOPIC, "bad_json", "first")])
    DeadLetterStore(tmp_path).append([DeadLetter(ARRIVAL_MS, TOPIC, "bad_json", "second")])
    assert [r["detail"] for r in DeadLetterStore(tmp_path).read_all()] == ["first", "second"]


# ---- bugs found while writing these tests (see the report) -------------------------------------


def test_item_with_a_lone_surrogate_is_kept(tmp_path: Path) -> None:
    """A reading whose JSON holds a lone surrogate escape (valid JSON, unencodable UTF-8) is kept, not an error."""
    item = json.loads('{"time": "2022-01-11T06:15:00Z", "quantity": "\\ud800", "value": 1, "unit": "m"}')
    store = DeadLetterStore(tmp_path)
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "unknown_quantity", "quantity '\\ud800'", item=item)])
    [line] = lines_of(tmp_path)["2022-01-11.jsonl"]
    assert strict_json(line)["reason"] == "unknown_quantity"


def test_item_with_nan_is_written_as_standard_json(tmp_path: Path) -> None:
    """A rejected reading holding NaN (the decoder accepts NaN literals) is still written as standard JSON."""
    item = json.loads('{"time": "2022-01-11T06:15:00Z", "quantity": "level", "value": NaN, "unit": "m"}')
    store = DeadLetterStore(tmp_path)
    store.append([DeadLetter(ARRIVAL_MS, TOPIC, "not_a_number", "value nan", item=item)])
    [line] = lines_of(tmp_path)["2022-01-11.jsonl"]
    assert strict_json(line)["reason"] == "not_a_number"

"""Hostile MQTT payloads: each makes exactly one reject, in every way a sensor or an attacker can be wrong."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

BASE = 1_700_000_000  # 2023-11-14, a plausible device time (seconds)


def _reading(rng: random.Random) -> dict[str, object]:
    return {"time": BASE + rng.randrange(10**6), "quantity": "level", "value": round(rng.uniform(0, 5), 3), "unit": "m"}


def hostile(rng: random.Random, prefix: str) -> tuple[str, bytes]:  # noqa: PLR0912 - a table
    """One (topic, payload) that the ingester must reject exactly once, with a reason (on a random station)."""
    good = _reading(rng)
    kind = rng.randrange(22)
    topic = f"{prefix}/T{rng.randrange(40):02d}"
    body: object
    if kind == 0:
        return topic, rng.randbytes(rng.randrange(1, 200))  # binary noise (not UTF-8 JSON, almost surely)
    if kind == 1:
        return topic, json.dumps(good).encode()[: rng.randrange(1, 20)]  # truncated JSON
    if kind == 2:
        return topic, b"[" * rng.randrange(1000, 100_000)  # deep nesting
    if kind == 3:
        return f"{prefix}/{''.join(rng.choice('站水位雨量ÄΩ☃ ') for _ in range(8))}", json.dumps(good).encode()
    if kind == 4:
        return f"{prefix}/UNKNOWN{rng.randrange(10**6)}", json.dumps(good).encode()  # floods of unknown stations
    if kind == 5:
        body = {**good, "value": rng.choice(["NaN", "1e999", None, "high", [], {}, True])}
    elif kind == 6:
        return topic, json.dumps(good).replace(
            str(good["value"]), rng.choice(["NaN", "Infinity", "-Infinity"])
        ).encode()
    elif kind == 7:
        body = {**good, "time": rng.choice([0, 1, "1970-01-01T00:00:00Z", "1970-01-02T00:00:00Z"])}
    elif kind == 8:
        body = {**good, "time": rng.choice(["2080-01-01T00:00:00Z", 3_471_292_800, "2099-12-31T23:59:59+08:00"])}
    elif kind == 9:
        body = {**good, "time": rng.choice(["yesterday", "2023-13-45T99:00:00Z", "2023-01-01T00:00:00", [], 10**20])}
    elif kind == 10:
        body = {**good, "quantity": "rain", "unit": "mm", "interval": "5min", "value": -rng.uniform(0.1, 50)}
    elif kind == 11:
        body = {**good, "unit": rng.choice(["furlong", "", "M", None, 5, "ft/s"])}
    elif kind == 12:
        body = {**good, "quantity": rng.choice(["flow", "", None, "LEVEL", 1])}
    elif kind == 13:
        missing = rng.choice(["time", "quantity", "value", "unit"])
        body = {k: v for k, v in good.items() if k != missing}
    elif kind == 14:
        body = rng.choice([[], 1, "reading", None, True, [good]])
    elif kind == 15:
        body = {"v": rng.choice([0, 3, "1", 1.0, True]), **good}
    elif kind == 16:
        body = {"station": "T99", **good}
    elif kind == 17:
        body = {"readings": rng.choice([None, "all", 5, {"a": 1}])}
    elif kind == 18:
        body = {**good, "quantity": "rain", "unit": "mm", "interval": rng.choice([None, "fortnight", -5, 0, "0min"])}
    elif kind == 19:
        body = {**good, "interval": "1h"}  # a level takes no interval
    elif kind == 20:
        body = {**good, "value": 10**400}  # an integer beyond any float
    else:
        return f"{topic}/{rng.choice(['extra', 'x/y', ''])}", json.dumps(good).encode()
    return topic, json.dumps(body).encode()


def mixed(count: int, prefix: str, seed: int = 1, good_every: int = 10) -> Iterator[tuple[str, bytes, bool]]:
    """``count`` messages: every ``good_every``-th a good, unique reading of T00..T39, the others hostile."""
    rng = random.Random(seed)
    good = 0
    for index in range(count):
        if index % good_every == 0:
            station = f"T{good % 40:02d}"
            reading = {
                "time": BASE + (good // 40) * 60,
                "quantity": "level",
                "value": round(good / 1000, 3),
                "unit": "m",
            }
            good += 1
            yield f"{prefix}/{station}", json.dumps(reading).encode(), True
        else:
            topic, payload = hostile(rng, prefix)
            yield topic, payload, False

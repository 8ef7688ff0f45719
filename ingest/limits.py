"""Per-station message rate limit: a token bucket per topic, with bounded memory.

A station (or anything publishing under its topic) may send ``burst`` messages at once and
``rate_per_s`` a second after that. The burst is sized for a gateway's backlog after an outage
(hours of buffered readings), so only floods are cut. Buckets are kept for at most ``max_keys``
topics (least recently used forgotten first), so a flood of made-up station ids cannot grow memory.
"""

from __future__ import annotations

from collections import OrderedDict


class RateLimiter:
    """Token buckets by key; the clock is an argument (seconds)."""

    def __init__(self, rate_per_s: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_keys = max_keys
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def allow(self, key: str, now: float) -> bool:
        """Take one token for ``key`` at ``now``; False when its bucket is empty."""
        tokens, at = self.buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        self.buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return allowed

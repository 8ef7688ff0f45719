"""The InfluxDB sink: writes a batch and sorts its points into stored and refused.

InfluxDB 1.x answers HTTP 400 for a batch with bad points and still stores the good ones
(``partial write … dropped=N``) without saying which were dropped (Telegraf spec tsd-008). The sink
halves a refused batch until it has isolated each refused point: the good halves are simply
written again, which is harmless because writes are idempotent. Refused points are returned with
InfluxDB's reason, to be dead-lettered and never retried. Any other failure (unreachable, 5xx,
auth, missing database) raises ``InfluxError`` and the batch is kept.
"""

from __future__ import annotations

import logging

from store.influx import InfluxClient, InfluxError, RefusedError

log = logging.getLogger(__name__)


class Sink:
    """Writes line protocol to InfluxDB, isolating refused points."""

    def __init__(self, client: InfluxClient, *, create_database: bool) -> None:
        self.client = client
        self.create_database = create_database

    def write(self, lines: list[str]) -> list[tuple[str, str]]:
        """Write ``lines``; returns the refused ones with InfluxDB's reason.

        Raises:
            InfluxError: InfluxDB is unavailable; nothing can be said about the batch (keep it).
        """
        if not lines:
            return []
        try:
            self._write_creating(lines)
        except RefusedError as exc:
            if len(lines) == 1:
                return [(lines[0], str(exc))]
            middle = len(lines) // 2
            return self.write(lines[:middle]) + self.write(lines[middle:])
        return []

    def _write_creating(self, lines: list[str]) -> None:
        body = ("\n".join(lines)).encode()
        try:
            self.client.write(body)
        except InfluxError as exc:
            if exc.status != 404 or not self.create_database:
                raise
            log.warning("database %s missing: creating it", self.client.settings.database)
            self.client.create_database()
            self.client.write(body)

"""The disk spool: batches that InfluxDB could not take yet, kept until it can.

Each batch is one segment file of line protocol, written to a temporary name, fsynced and renamed,
so a crash leaves whole segments only. Segments are written back oldest first and deleted once
InfluxDB has them. Writes are idempotent, so a segment written twice (a crash between the write
and the delete) doubles nothing.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class SpoolFullError(Exception):
    """The spool reached its size limit."""


class Spool:
    """Segments of line protocol in a folder, bounded in bytes."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.tmp"):
            stale.unlink()
        self._lock = threading.Lock()
        segments = self.segments()
        self._next = int(segments[-1].stem) + 1 if segments else 0
        self._bytes = sum(p.stat().st_size for p in segments)

    @property
    def bytes(self) -> int:
        """Bytes held."""
        return self._bytes

    def segments(self) -> list[Path]:
        """Segment files, oldest first."""
        return sorted(self.folder.glob("*.lp"))

    def append(self, lines: list[str]) -> None:
        """Keep ``lines`` durably as one segment.

        Raises:
            SpoolFullError: keeping them would pass ``max_bytes``.
        """
        data = ("\n".join(lines) + "\n").encode()
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                raise SpoolFullError(f"spool holds {self._bytes} bytes, limit {self.max_bytes}")
            path = self.folder / f"{self._next:012d}.lp"
            self._next += 1
            temp = path.with_suffix(".tmp")
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.rename(path)
            _fsync_dir(self.folder)
            self._bytes += len(data)

    def read(self, segment: Path) -> list[str]:
        """The lines of one segment."""
        return segment.read_text(encoding="utf-8").splitlines()

    def remove(self, segment: Path) -> None:
        """Forget a segment that InfluxDB now holds."""
        with self._lock:
            size = segment.stat().st_size
            segment.unlink()
            self._bytes -= size


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

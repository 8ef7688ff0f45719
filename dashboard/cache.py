"""The dashboard's caches: a per-process TTL cache, and the snapshot shared by every worker.

``TTLCache`` serves a computed value to every caller for ``ttl_s`` seconds (one lock per key: ten
screens asking at once cost one computation).

``SharedValue`` holds the one value every screen refreshes from (the snapshot of all stations) so
that it costs one set of InfluxDB queries per period **whatever the number of screens and
workers**, and so that no screen waits for InfluxDB in the steady state:

- younger than ``ttl_s``: served as it is;
- older, but younger than ``max_stale_s`` and the last refresh did not fail: served at once while one
  thread (of one worker on the machine) loads the next one (stale-while-revalidate);
- older still, or the last refresh failed: the caller waits for a fresh load and gets its error
  (the screens then say that the data are unavailable instead of showing old data as live).

With a folder, the value is also kept in a file there: workers of one machine (gunicorn) read each
other's loads, and an ``flock`` on a lock file elects the worker that loads the next one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class TTLCache:
    """A small thread-safe cache: each key is computed once per ``ttl_s`` whoever asks for it."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic, max_items: int = 512) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_items = max_items
        self._values: dict[Hashable, tuple[float, int, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self._generation = 0  # bumped by clear(): a value computed before it is never served after it
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value of ``key``, computed by ``compute`` when missing or older than the TTL.

        An exception from ``compute`` is not cached: the next caller tries again.
        """
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._values.get(key)
            if hit is not None and hit[1] == self._generation and self.clock() - hit[0] < self.ttl_s:
                return hit[2]
            generation = self._generation
            value = compute()
            self.misses += 1
            with self._guard:
                self._evict()  # expired values go at once: a cache of figures must not grow to max_items
                self._values[key] = (self.clock(), generation, value)
            return value

    def clear(self) -> None:
        """Forget every value (after a write): the next read of each key loads it again."""
        with self._guard:
            self._generation += 1
            self._values.clear()

    def _evict(self) -> None:
        now = self.clock()
        for key in [k for k, (at, _, _) in self._values.items() if now - at >= self.ttl_s]:
            del self._values[key]
            self._locks.pop(key, None)
        while len(self._values) >= self.max_items:
            oldest = min(self._values, key=lambda k: self._values[k][0])
            del self._values[oldest]
            self._locks.pop(oldest, None)


class SharedValue(Generic[T]):
    """One value loaded by ``load(previous)``, served stale-while-revalidate, shared through ``folder``.

    Args:
        load: makes the next value from the previous one (None at first); raises on failure.
        ttl_s: a value younger than this is served as it is.
        max_stale_s: a value older than this is never served.
        folder: where workers share the value (None: this process only).
        clock: wall-clock seconds (the file's times are compared across processes).
    """

    def __init__(
        self,
        load: Callable[[T | None], T],
        *,
        ttl_s: float,
        max_stale_s: float,
        folder: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.load = load
        self.ttl_s = ttl_s
        self.max_stale_s = max(max_stale_s, ttl_s)
        self.clock = clock
        self.file = folder / "snapshot.pickle" if folder else None
        self.lock_file = folder / "snapshot.lock" if folder else None
        if folder:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._value: T | None = None
        self._loaded_at = 0.0
        self._failed = False
        self._mutex = threading.Lock()  # one load at a time in this process
        self.loads = 0  # loads made by this process (tests, benchmarks)

    def get(self) -> T:
        """The value for a screen now (see the module's rules); waits for a load only when it must.

        Raises:
            Exception: whatever ``load`` raised, when a fresh value was needed and could not be made.
        """
        value, age = self._newest()
        if value is not None and age < self.ttl_s:
            return value
        if value is not None and age < self.max_stale_s and not self._failed:
            if self._mutex.acquire(blocking=False):
                threading.Thread(target=self._refresh_in_background, name="snapshot-refresh", daemon=True).start()
            return value
        with self._mutex:
            value, age = self._newest()  # another thread or worker may have loaded it meanwhile
            if value is not None and age < self.ttl_s:
                return value
            return self._load_now(value)

    def _refresh_in_background(self) -> None:
        try:
            value, age = self._newest()
            if value is None or age >= self.ttl_s:
                self._load_now(value, elect=True)
        except Exception:  # a background load's error is logged here and met again by the next caller
            log.warning("background refresh failed; the next request loads again", exc_info=True)
        finally:
            self._mutex.release()

    def _load_now(self, previous: T | None, *, elect: bool = False) -> T:
        """Load (as the elected worker: others wait on the lock, then read its result)."""
        with self._locked(wait=not elect) as held:
            if not held:
                return previous  # type: ignore[return-value]  # another worker is loading; served stale meanwhile
            value, age = self._newest()
            if value is not None and age < self.ttl_s:
                return value
            try:
                fresh = self.load(value)
            except Exception:
                self._failed = True
                raise
            self._failed = False
            self.loads += 1
            self._store(fresh)
            return fresh

    def _newest(self) -> tuple[T | None, float]:
        """This process's value, or the folder's if a worker stored a newer one; and its age."""
        if self.file is not None:
            try:
                stamp = self.file.stat().st_mtime
            except FileNotFoundError:
                stamp = 0.0
            if stamp > self._loaded_at:
                try:
                    with self.file.open("rb") as handle:
                        value = pickle.load(handle)  # noqa: S301 - our own file, 0600 in a 0700 folder
                except (OSError, EOFError, pickle.UnpicklingError):
                    value = None  # half-written by a crashed worker: load anew
                if value is not None:
                    self._value, self._loaded_at = value, stamp
        return self._value, self.clock() - self._loaded_at

    def _store(self, value: T) -> None:
        now = self.clock()
        self._value, self._loaded_at = value, now
        if self.file is None:
            return
        temporary = self.file.with_name(f"{self.file.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.utime(temporary, (now, now))
        temporary.replace(self.file)

    def _locked(self, *, wait: bool) -> _FileLock:
        return _FileLock(self.lock_file, wait=wait)


class _FileLock:
    """An exclusive ``flock`` on a file (no file: always held); ``with`` gives whether it is held."""

    def __init__(self, path: Path | None, *, wait: bool) -> None:
        self.path = path
        self.wait = wait
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> bool:
        if self.path is None:
            return True
        self.handle = self.path.open("ab")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

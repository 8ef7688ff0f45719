"""The shared snapshot: served stale-while-revalidate, never older than its limit, one load for every
screen and worker of a machine, and the incremental read of the latest values on the real InfluxDB."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.catalogue import load_catalogue
from dashboard.cache import SharedValue
from dashboard.data import FULL_LATEST_EVERY_MS, LATEST_OVERLAP_MS, DataLayer
from tests.conftest import Env, eventually


class Loader:
    """Counts its loads; ``fail`` makes the next loads raise; ``gate`` holds a load until set."""

    def __init__(self) -> None:
        self.count = 0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, _previous: int | None) -> int:
        self.gate.wait(10)
        if self.fail:
            raise ConnectionError("InfluxDB down")
        self.count += 1
        return self.count


def test_a_fresh_value_is_served_and_a_stale_one_is_served_while_the_next_loads() -> None:
    """Within the TTL no load; after it, the old value is served at once and one background load replaces it."""
    clock = [1000.0]
    loader = Loader()
    shared: SharedValue[int] = SharedValue(loader, ttl_s=4, max_stale_s=30, clock=lambda: clock[0])
    assert shared.get() == 1
    clock[0] += 3
    assert shared.get() == 1
    assert loader.count == 1
    clock[0] += 2
    loader.gate.clear()
    assert [shared.get() for _ in range(5)] == [1] * 5  # nobody waits for the load in progress
    loader.gate.set()
    eventually(lambda: shared.get() == 2, timeout=5, message="the background load is served")
    assert loader.count == 2


def test_a_failed_background_load_makes_the_next_caller_wait_and_see_the_error() -> None:
    """Once a refresh failed, the old value is no longer served as if live: the caller gets the failure."""
    clock = [1000.0]
    loader = Loader()
    shared: SharedValue[int] = SharedValue(loader, ttl_s=4, max_stale_s=30, clock=lambda: clock[0])
    shared.get()
    clock[0] += 5
    loader.fail = True
    assert shared.get() == 1  # served while the background load runs (and fails)
    eventually(lambda: shared._failed, timeout=5, message="the background load failed")
    with pytest.raises(ConnectionError):
        shared.get()
    loader.fail = False
    assert shared.get() == 2


def test_a_value_older_than_the_stale_limit_is_never_served() -> None:
    """Past ``max_stale_s`` the caller waits for a fresh load."""
    clock = [1000.0]
    loader = Loader()
    shared: SharedValue[int] = SharedValue(loader, ttl_s=4, max_stale_s=30, clock=lambda: clock[0])
    shared.get()
    clock[0] += 31
    assert shared.get() == 2


def test_concurrent_callers_of_a_cold_value_cause_one_load() -> None:
    """Ten screens asking at once before anything is loaded cost one load."""
    loader = Loader()
    shared: SharedValue[int] = SharedValue(loader, ttl_s=4, max_stale_s=30)
    start = threading.Barrier(10)
    got: list[int] = []

    def screen() -> None:
        start.wait()
        got.append(shared.get())

    threads = [threading.Thread(target=screen) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [1] * 10
    assert loader.count == 1


def test_workers_sharing_a_folder_load_once_per_period(tmp_path: Path) -> None:
    """Two workers (two instances on one folder) serve each other's load instead of loading again."""
    clock = [1000.0]
    first, second = Loader(), Loader()
    worker_a: SharedValue[int] = SharedValue(first, ttl_s=4, max_stale_s=30, folder=tmp_path, clock=lambda: clock[0])
    worker_b: SharedValue[int] = SharedValue(
        lambda previous: 100 + second(previous), ttl_s=4, max_stale_s=30, folder=tmp_path, clock=lambda: clock[0]
    )
    assert worker_a.get() == 1
    assert worker_b.get() == 1  # read from the folder, not loaded
    assert second.count == 0
    clock[0] += 40  # both stale beyond the limit: B loads, A then reads B's
    assert worker_b.get() == 101
    assert worker_a.get() == 101
    assert first.count == 1
    assert (tmp_path / "snapshot.pickle").stat().st_mode & 0o077 == 0


@pytest.mark.services
def test_the_latest_values_are_read_incrementally_and_late_readings_within_a_full_period(env: Env) -> None:
    """New readings appear at the next load; a late one, older than the incremental read, at the next full read."""
    env.client.create_database()
    base = int(time.time() * 1000) - 3_600_000
    clock = [base / 1000]
    layer = DataLayer(
        env.client, load_catalogue(env.settings.catalogue), ZoneInfo("UTC"), ttl_s=0, now=lambda: clock[0]
    )

    def latest(station: str) -> float:
        row = layer.load_snapshot(snapshot).table.set_index("id").loc[station]
        return float(row["value"])

    env.client.write(f'level,station=T01 flags="",lag_s=0,value=1.0 {base - 60_000}'.encode())
    env.client.write(f'level,station=T02 flags="",lag_s=0,value=5.0 {base - 600_000}'.encode())
    snapshot = layer.load_snapshot()
    assert snapshot.full_ms == base
    # a newer reading of T01: read by the incremental query
    clock[0] += 10
    env.client.write(f'level,station=T01 flags="",lag_s=0,value=2.0 {base + 5_000}'.encode())
    assert latest("T01") == 2.0
    snapshot = layer.load_snapshot(snapshot)
    assert snapshot.full_ms == base
    # a late reading of T02, stamped before the incremental window: seen at the next full read
    late = base + 10_000 - LATEST_OVERLAP_MS - 60_000
    env.client.write(f'level,station=T02 flags="",lag_s=0,value=6.0 {late}'.encode())
    assert latest("T02") == 5.0
    clock[0] += FULL_LATEST_EVERY_MS / 1000
    assert latest("T02") == 6.0
    assert latest("T01") == 2.0

"""The 10-minute soak (tests/soak.py): storm load with every fault on a schedule, then everything counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.soak import soak

pytestmark = [pytest.mark.services, pytest.mark.fault, pytest.mark.soak]


@pytest.mark.timeout(1500)  # ten minutes of load, then the report waits for the last writes
def test_ten_minute_soak_with_faults_loses_nothing_doubles_nothing_and_stays_flat(tmp_path: Path) -> None:
    """Broker restart, InfluxDB SIGKILL, ingester SIGKILL, a gateway backlog and garbage: every reading stored once,
    every implied level alert raised once, all garbage rejected, memory flat."""
    report = soak(10, tmp_path)
    print("\n[soak] " + json.dumps({k: v for k, v in report.items() if k != "faults"}))
    assert report["readings_published"] >= 250 * 9  # 250 level stations a minute for ten minutes
    assert report["stored_exactly_once"], report
    assert report["alerts_match"], report["alert_differences"]
    assert report["alerts_raised"] > 0
    assert report["garbage_all_rejected"], report
    assert report["memory_flat"], report
    assert any("backlog" in line for line in report["faults"])

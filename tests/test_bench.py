"""``floodwatch bench`` at toy scale: the harness runs end to end on its own services and reports
every figure beside its reference, as a ratio. Nothing here judges a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import Spread, percentile
from bench.report import Figure, Report
from tests.conftest import REPO

pytestmark = pytest.mark.services

INGEST_FIGURES = {
    "ceiling A: InfluxDB raw write, batches of 5,000",
    "ceiling B: paho subscriber that only counts",
    "baseline: naive ingester (1 HTTP write per message)",
    "floodwatch, 1 process, alerts on ÷ min(A, B)",
    "floodwatch, 1 process, alerts on ÷ naive",
    "floodwatch, 2 processes, shared subscription, alerts off",
    "floodwatch CPU per 1,000 readings (1 process, alerts on)",
    "floodwatch peak RSS (1 process, alerts on)",
    "backlog: all stored and alerts evaluated",
    "broker held at most (published, not yet stored)",
}


def test_bench_ingest_reports_every_figure_with_its_ratio(tmp_path: Path) -> None:
    """The toy-scale ingest section writes JSON in which every figure has runs, a reference and a ratio."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", "bench", "ingest", "--toy", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(out.read_text())
    figures = document["figures"]
    assert {f["name"] for f in figures} >= INGEST_FIGURES
    for figure in figures:
        assert figure["runs"] >= 1, figure
        assert figure["median"] is not None, figure
        assert figure["min"] <= figure["median"] <= figure["max"], figure
        assert figure["reference"]["value"], figure
        assert figure["ratio"] == pytest.approx(figure["median"] / figure["reference"]["value"]), figure
    assert document["machine"]["cores"] >= 1
    assert "| section | figure |" in result.stdout


def test_spread_percentile_and_unmeasured_figures() -> None:
    """Medians, spreads and nearest-rank percentiles are computed plainly; an unmeasured figure says why."""
    assert Spread.of([3.0, 1.0, 2.0]) == Spread(2.0, 1.0, 3.0, 3)
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0
    assert percentile([5.0], 0.5) == 5.0
    report = Report(quick=True)
    report.add(Figure("dashboard", "page load", "ms", None, "", None, note="not measured: no browser"))
    assert report.as_json()["figures"][0]["ratio"] is None
    assert "not measured" in report.table()

"""Replay and export on the real services: the Garonne event, round trips, and an event in feet and inches."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from config.catalogue import load_catalogue
from config.tidy import read_readings
from floodwatch.export import export
from floodwatch.replay import replay, select
from floodwatch.services import LocalServices
from tests.conftest import REPO, Env, eventually, write_env

pytestmark = pytest.mark.services

GARONNE = REPO / "data" / "garonne-jan2022"
GARONNE_CATALOGUE = REPO / "config" / "catalogues" / "garonne.csv"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floodwatch.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def garonne_env(tmp_path: Path, services: LocalServices) -> Iterator[Env]:
    env = write_env(tmp_path, services, GARONNE_CATALOGUE)
    yield env
    env.stop_processes()


def tidy_key(frame: pd.DataFrame) -> list[tuple[str, str, str, float, str]]:
    return sorted(
        zip(
            frame["station_id"],
            frame["kind"],
            frame["time"],
            frame["value"].astype(float),
            frame["unit"],
            strict=True,
        )
    )


def test_garonne_slice_replays_and_exports_back_identical(garonne_env: Env) -> None:
    """Two days of the Garonne flood replayed, then exported, give back exactly the input rows."""
    garonne_env.start_ingester()
    frame = select(read_readings(GARONNE / "readings.csv.gz"), "2022-01-10", "2022-01-12", None)
    replay(frame, garonne_env.settings.mqtt, speed=None, progress=False)
    eventually(lambda: garonne_env.count() == len(frame), 120, message=f"{len(frame)} stored")
    out = io.StringIO()
    count = export(garonne_env.client, load_catalogue(GARONNE_CATALOGUE), out)
    exported = pd.read_csv(io.StringIO(out.getvalue()), dtype={"station_id": str, "time": str, "unit": str})
    original = pd.read_csv(GARONNE / "readings.csv.gz", dtype={"station_id": str})
    original = original[(original.time >= "2022-01-10") & (original.time < "2022-01-12")]
    assert count == len(original) == len(exported)
    assert tidy_key(exported) == tidy_key(original)
    toulouse = exported[exported.station_id == "O200004001"]
    peak = toulouse.loc[toulouse.value.idxmax()]
    assert (peak.time, peak.value) == ("2022-01-11T06:15:00Z", 4.306)


def test_whole_garonne_event_is_stored(garonne_env: Env) -> None:
    """Replaying the whole Garonne event stores all 119,412 readings, with no reject."""
    garonne_env.start_ingester()
    result = cli("--config", str(garonne_env.path), "replay", str(GARONNE), "--speed", "max", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "replayed 119412 readings" in result.stdout
    eventually(lambda: garonne_env.count() == 119_412, 300, message="119,412 stored")
    assert garonne_env.count("level") == 118_164
    assert garonne_env.count("rain") == 1_248
    health = eventually(lambda: (h := garonne_env.health()) and h["in_flight"] == 0 and h)
    assert health["rejected"] == 0


NWPS_STATIONS = """\
station_id,name,kind,lat,lon,state,unit,action_stage,flood_stage,moderate_flood_stage,major_flood_stage
BXAL1,Pearl River near Bogalusa,level,30.7933,-89.8211,LA,ft,16,18,21,23
BXAL1,Pearl River near Bogalusa,rain,30.7933,-89.8211,LA,in,,,,
AAIT2,Williamson Creek at Manchaca Rd,level,30.2199,-97.7939,TX,ft,,13,14,18
"""


def feet_and_inches(folder: Path) -> pd.DataFrame:
    """A small event in the tidy format with levels in feet and rain in inches per 30 min."""
    folder.mkdir()
    (folder / "stations.csv").write_text(NWPS_STATIONS)
    rows = []
    for step in range(48):
        time = pd.Timestamp("2024-05-01T00:00:00Z") + pd.Timedelta(minutes=30 * step)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(("BXAL1", "Pearl River near Bogalusa", "level", stamp, round(12.5 + step * 0.25, 2), "ft"))
        rows.append(("BXAL1", "Pearl River near Bogalusa", "rain", stamp, round((step % 7) * 0.03, 2), "in/30min"))
        rows.append(("AAIT2", "Williamson Creek at Manchaca Rd", "level", stamp, round(3.1 + step * 0.2, 2), "ft"))
    frame = pd.DataFrame(rows, columns=["station_id", "station_name", "kind", "time", "value", "unit"])
    frame.insert(3, "lat", "")
    frame.insert(4, "lon", "")
    frame.to_csv(folder / "readings.csv", index=False)
    return frame


def test_event_in_feet_and_inches_is_imported_replayed_and_exported_in_si(
    tmp_path: Path, services: LocalServices
) -> None:
    """A US-style event (ft, in/30min, level and rain under one id) goes through the CLI complete and converted."""
    frame = feet_and_inches(tmp_path / "event")
    catalogue = tmp_path / "catalogue.csv"
    result = cli(
        "catalogue",
        "import",
        str(tmp_path / "event" / "stations.csv"),
        "--readings",
        str(tmp_path / "event" / "readings.csv"),
        "--out",
        str(catalogue),
    )
    assert result.returncode == 0, result.stderr
    bogalusa = load_catalogue(catalogue)["BXAL1"]
    assert bogalusa.quantities == ("level", "rain")
    assert bogalusa.warning_m == pytest.approx(18 * 0.3048)
    env = write_env(tmp_path, services, catalogue)
    try:
        env.start_ingester()
        result = cli("--config", str(env.path), "replay", str(tmp_path / "event"), "--no-progress")
        assert result.returncode == 0, result.stderr
        eventually(lambda: env.count() == len(frame), message="all stored")
        out = tmp_path / "export.csv"
        result = cli("--config", str(env.path), "export", "--out", str(out))
        assert result.returncode == 0, result.stderr
    finally:
        env.stop_processes()
    exported = pd.read_csv(out, dtype={"time": str})
    expected = frame.copy()
    expected["value"] = [
        round(v * (0.3048 if u == "ft" else 25.4), 6) for v, u in zip(frame.value, frame.unit, strict=True)
    ]
    expected["unit"] = ["m" if u == "ft" else "mm/30min" for u in frame.unit]
    assert tidy_key(exported) == tidy_key(expected)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("station_id,kind,time,value\nA,level,2022-01-01T00:00:00Z,1\n", ":1: unit: missing column(s) unit"),
        (
            "station_id,kind,time,value,unit\nA,level,2022-01-01T00:00:00Z,1,m\nA,level,2022-01-01T00:15:00Z,1,yd\n",
            ":3: unit: unit 'yd' is not a level unit",
        ),
        (
            "station_id,kind,time,value,unit\nA,level,2022-01-01T00:00:00Z,1,m\nA,level,soon,1,m\n",
            ":3: time: time is not ISO 8601",
        ),
        (
            "station_id,kind,time,value,unit\nA,rain,2022-01-01T00:00:00Z,1,mm\n",
            "needs its accumulation interval",
        ),
        (
            "station_id,kind,time,value,unit\nA,level,2022-01-01T00:00:00Z,high,m\n",
            ":2: value: value is not a number",
        ),
    ],
)
def test_replay_of_a_bad_file_says_where_and_exits_non_zero(tmp_path: Path, content: str, message: str) -> None:
    """A broken readings file is refused before anything is published, naming the line and the problem."""
    (tmp_path / "readings.csv").write_text(content)
    result = cli("replay", str(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr

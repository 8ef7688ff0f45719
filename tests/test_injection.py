"""InfluxQL injection: hostile station ids and parameters on every path that reaches a query."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.catalogue import load_catalogue
from dashboard.data import DataLayer
from floodwatch.errors import UserError
from floodwatch.export import export
from store.alerts import list_alerts
from store.influx import InfluxClient, quote_literal
from tests.conftest import Env

pytestmark = pytest.mark.services

HOSTILE = [
    "T01' OR station =~ /.*/ OR station = '",
    "'; DROP DATABASE test; SELECT '",
    "T01\\'; DROP SERIES FROM level; --",
    'T01" OR 1=1',
    "T01\nDROP DATABASE x",
    "/.*/",
    "T01' --",
    "站点'；",
    "",
]


@pytest.fixture
def seeded(env: Env) -> Env:
    """Two stations' readings and one alert event in the test's database."""
    env.client.create_database()
    env.client.write(
        b'level,station=T01 flags="",lag_s=0,value=1.5 1700000000000\n'
        b'level,station=T02 flags="",lag_s=0,value=2.5 1700000000000\n'
        b'alert_event,event=raised,rule=level,station=T01 alert_id="T01/level/1",level="yellow",value=2.1,'
        b'threshold=2.0,reason="x",muted=false,arrival_ms=1,superseded=false 1700000000000'
    )
    return env


def database_intact(env: Env) -> bool:
    return env.count("level") == 2


@pytest.mark.parametrize("hostile", HOSTILE)
def test_alert_listing_treats_a_hostile_station_as_a_plain_string(seeded: Env, hostile: str) -> None:
    """list_alerts(station=...) quotes the id: nothing matches, nothing is dropped."""
    assert list_alerts(seeded.client, station=hostile) == []
    assert [a.station for a in list_alerts(seeded.client)] == ["T01"]
    assert database_intact(seeded)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_export_refuses_a_hostile_station_id(seeded: Env, hostile: str) -> None:
    """Export validates station ids before any query."""
    with pytest.raises(UserError):
        export(seeded.client, load_catalogue(seeded.settings.catalogue), io.StringIO(), stations=[hostile])
    assert database_intact(seeded)


@pytest.mark.parametrize("hostile", HOSTILE[:4])
def test_alerts_cli_refuses_hostile_ids_and_times(seeded: Env, hostile: str) -> None:
    """`alerts list --station`, `alerts ack ID` and `--since` with hostile text exit with a message, query nothing."""
    base = [sys.executable, "-m", "floodwatch.cli", "--config", str(seeded.path), "alerts"]
    for args in (
        ["list", "--station", hostile],
        ["ack", f"{hostile}/level/1", "--by", "x"],
        ["list", "--since", hostile],
    ):
        result = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert database_intact(seeded)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_dashboard_reads_only_catalogue_stations_and_known_ranges(seeded: Env, hostile: str) -> None:
    """The dashboard's data layer refuses an id not in the catalogue, and a range it does not know."""
    layer = DataLayer(seeded.client, load_catalogue(seeded.settings.catalogue), ZoneInfo("UTC"))
    with pytest.raises(KeyError):
        layer.station_series(hostile, "24h")
    with pytest.raises(KeyError):
        layer.station_series("T01", hostile)
    assert database_intact(seeded)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_quoted_literal_matches_only_itself(seeded: Env, text: str) -> None:
    """Any text quoted as a literal is one literal to InfluxDB: no error, no other rows, nothing dropped."""
    client: InfluxClient = seeded.client
    if "\r" in text or "\x00" in text:
        with pytest.raises(ValueError, match="carriage return or a NUL"):
            quote_literal(text)
        return
    rows = client.rows(f"SELECT value, station FROM level WHERE station = {quote_literal(text)}")
    assert all(row["station"] == text for row in rows)
    assert database_intact(seeded)


def test_settings_names_reach_queries_only_validated(tmp_path: Path) -> None:
    """Database and retention-policy names are validated at start-up, so they cannot carry InfluxQL."""
    from config.errors import ConfigError
    from config.settings import load_settings

    path = tmp_path / "s.toml"
    path.write_text('[influx]\ndatabase = "x\\"; DROP DATABASE y"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert info.value.key == "influx.database"

"""Importing station lists into canonical stations: aliases, units, thresholds, readings, errors."""

from __future__ import annotations

import csv
import gzip
import statistics
from pathlib import Path

import pytest

from config.catalogue import Station, write_catalogue
from config.errors import ConfigError
from config.importers import DEMO_NOTE, EA_ATTRIBUTION, apply_overrides, import_stations

ROOT = Path(__file__).resolve().parents[1]
GARONNE = ROOT / "data" / "garonne-jan2022"
CALDER = ROOT / "data" / "calder-valley-aug-sep2025"
TOULOUSE = "O200004001"

NWPS_HEADER = (
    "station_id,name,kind,lat,lon,river,basin,state,usgs_id,unit,action_stage,flood_stage,"
    "moderate_flood_stage,major_flood_stage,in_service,source\n"
)
EA_HEADER = (
    "station_id,name,kind,lat,lon,river,basin,town,unit,typicalRangeLow_m,typicalRangeHigh_m,"
    "maxOnRecord_m,maxOnRecord_time,source\n"
)
READINGS_HEADER = "station_id,station_name,kind,lat,lon,time,value,unit\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def by_id(stations: list[Station]) -> dict[str, Station]:
    return {s.id: s for s in stations}


@pytest.fixture(scope="module")
def garonne() -> dict[str, Station]:
    return by_id(import_stations(GARONNE / "stations.csv", readings=GARONNE / "readings.csv.gz", demo_thresholds=True))


def test_garonne_import_has_every_station(garonne: dict[str, Station]) -> None:
    """The Garonne import keeps all 67 stations (22 level, 45 rain), including the unnamed O137251002."""
    kinds = [s.kind for s in garonne.values()]
    assert (len(garonne), kinds.count("river"), kinds.count("rain")) == (67, 22, 45)
    unnamed = garonne["O137251002"]
    assert (unnamed.name_en, unnamed.lat, unnamed.quantities) == ("O137251002", None, ("level",))


def test_toulouse_demo_thresholds_come_from_its_peak(garonne: dict[str, Station]) -> None:
    """Toulouse Pont-Neuf's demo thresholds are median + 50 %/80 % of the rise to its 4.306 m peak."""
    with gzip.open(GARONNE / "readings.csv.gz", "rt", encoding="utf-8") as handle:
        levels = [float(r["value"]) for r in csv.DictReader(handle) if r["station_id"] == TOULOUSE]
    baseline = statistics.median(levels)
    toulouse = garonne[TOULOUSE]
    assert toulouse.historical_max_m == 4.306
    assert toulouse.historical_max_time == "2022-01-11T06:15:00Z"
    assert toulouse.warning_m == round(baseline + 0.5 * (4.306 - baseline), 2)
    assert toulouse.guaranteed_m == round(baseline + 0.8 * (4.306 - baseline), 2)
    assert toulouse.thresholds_source == DEMO_NOTE
    assert toulouse.red_m is None


def test_garonne_intervals_come_from_readings_and_units(garonne: dict[str, Station]) -> None:
    """Level intervals are the median spacing of the readings; daily rain (mm/day) reports every 86400 s."""
    assert garonne[TOULOUSE].interval_s == 900
    assert garonne["O000001001"].interval_s == 300
    assert garonne["31085400"].interval_s == 86400
    assert garonne["09285400"].interval_s == 86400  # listed with mm/day, but no readings


def test_garonne_gauge_datum_is_read_as_metres(garonne: dict[str, Station]) -> None:
    """The Garonne file's mislabelled gauge_datum_cm column is taken as the metres it holds."""
    assert garonne[TOULOUSE].datum_m == 131.905


def test_garonne_source_carries_the_attribution(garonne: dict[str, Station]) -> None:
    """Every Garonne station credits Hub'Eau/Vigicrues and Météo-France under the Licence Ouverte."""
    assert all("Licence Ouverte Etalab 2.0" in s.source for s in garonne.values())


def test_calder_ids_keep_leading_zeros_and_ea_thresholds() -> None:
    """Calder ids such as 077336 keep their zeros and EA typical-range-high becomes the warning stage."""
    stations = by_id(import_stations(CALDER / "stations.csv", readings=CALDER / "readings.csv.gz"))
    assert len(stations) == 9
    assert stations["077336"].kind == "rain"
    assert stations["077336"].interval_s == 900
    hebden = stations["L1206"]
    assert (hebden.warning_m, hebden.historical_max_m) == (1.6, 3.628)
    assert hebden.historical_max_time == "2015-12-26T13:00:00"
    assert hebden.thresholds_source.startswith("EA typical range high used as warning stage")


def test_nwps_feet_thresholds_convert_to_metres(tmp_path: Path) -> None:
    """NWS action/flood/moderate/major stages in feet become blue/warning/guaranteed/red in metres."""
    source = write(
        tmp_path,
        "nwps.csv",
        NWPS_HEADER + "BXAL1,Pearl River near Bogalusa,level,30.79305556,-89.82083333,Pearl River,"
        "LMRFC,LA,2489500,ft,16.0,18.0,21.0,23.0,TRUE,NOAA NWPS all-gauges report\n",
    )
    (station,) = import_stations(source)
    assert (station.blue_m, station.warning_m, station.guaranteed_m, station.red_m) == (
        4.8768,
        5.4864,
        6.4008,
        7.0104,
    )
    assert station.district == "LA"
    assert "NWS flood categories" in station.thresholds_source
    assert station.source.startswith("NOAA NWPS all-gauges report; NOAA/NWS")


def test_missing_value_markers_are_empty(tmp_path: Path) -> None:
    """-9999 and empty cells are missing values, not thresholds."""
    source = write(
        tmp_path,
        "nwps.csv",
        NWPS_HEADER + "AAIT2,Williamson Creek,level,30.22,-97.79,,,TX,,ft,-9999,13.0,14.0,,TRUE,\n",
    )
    (station,) = import_stations(source)
    assert (station.blue_m, station.warning_m, station.red_m) == (None, 3.9624, None)


def test_unit_suffix_beats_row_unit(tmp_path: Path) -> None:
    """A column ending _cm is centimetres whatever the row's unit says; unsuffixed ones use the row unit."""
    source = write(tmp_path, "s.csv", "id,name,kind,unit,warning_cm,guaranteed\nA1,Alpha,level,ft,150,10\n")
    (station,) = import_stations(source)
    assert (station.warning_m, station.guaranteed_m) == (1.5, 3.048)


def test_level_and_rain_rows_merge_into_one_station(tmp_path: Path) -> None:
    """A station listed once as level and once as rain becomes one river station reporting both."""
    source = write(
        tmp_path,
        "s.csv",
        "station_id,name,kind,lat,lon,unit\nS1,Both,level,50.1,1.2,m\nS1,Both,rain,50.1,1.2,mm/15min\n",
    )
    (station,) = import_stations(source)
    assert (station.kind, station.quantities, station.interval_s) == ("river", ("level", "rain"), 900)


@pytest.mark.parametrize("kind", ["level+rain", "level;rain", "rain, level"])
def test_combined_kind_reports_both(tmp_path: Path, kind: str) -> None:
    """A kind such as level+rain gives a river station with quantities level and rain."""
    source = write(tmp_path, "s.csv", f'id,name,kind\nS1,Both,"{kind}"\n')
    (station,) = import_stations(source)
    assert (station.kind, station.quantities) == ("river", ("level", "rain"))


def test_canonical_catalogue_round_trips(tmp_path: Path) -> None:
    """A canonical catalogue imports to the same stations."""
    original = import_stations(CALDER / "stations.csv", readings=CALDER / "readings.csv.gz")
    path = tmp_path / "canonical.csv"
    write_catalogue(original, path)
    assert import_stations(path) == original


def test_mapping_overrides_aliases(tmp_path: Path) -> None:
    """A user mapping reads canonical columns from source columns the aliases do not know."""
    source = write(tmp_path, "s.csv", "CODE,LIBELLE,TYPE2,name\nX9,Proper name,rain,wrong\n")
    (station,) = import_stations(source, mapping={"id": "code", "name_en": "LIBELLE", "kind": "TYPE2"})
    assert (station.id, station.name_en, station.kind) == ("X9", "Proper name", "rain")


def test_attribution_overrides_the_known_source(tmp_path: Path) -> None:
    """An explicit attribution replaces the dataset's own credit line; EA files get EA's by default."""
    source = write(tmp_path, "ea.csv", EA_HEADER + "L1,Hebden,level,53.7,-2.0,Calder,Aire,Hebden,m,0,1.6,3.6,,EA\n")
    assert import_stations(source)[0].source == f"EA; {EA_ATTRIBUTION}"
    assert import_stations(source, attribution="mine")[0].source == "mine"


def test_ea_datum_unit_names_the_datum(tmp_path: Path) -> None:
    """An EA level unit mAOD counts as metres and names Ordnance Datum as the station's datum."""
    source = write(tmp_path, "ea.csv", "station_id,name,kind,unit,typicalRangeHigh\nL2,Leeds,level,mAOD,24.385\n")
    (station,) = import_stations(source)
    assert (station.warning_m, station.datum_name) == (24.385, "AOD (Ordnance Datum Newlyn)")


def test_readings_add_unlisted_stations_and_quantities(tmp_path: Path) -> None:
    """Readings add a station the list lacks (named by id), and a level station that also reports rain."""
    source = write(tmp_path, "s.csv", "station_id,name,kind,unit\nA,Alpha,level,m\n")
    readings = write(
        tmp_path,
        "readings.csv",
        READINGS_HEADER
        + "A,Alpha,level,,,2022-01-01T00:00:00Z,1.0,m\n"
        + "A,Alpha,level,,,2022-01-01T00:05:00Z,1.1,m\n"
        + "A,Alpha,level,,,2022-01-01T00:10:00Z,1.0,m\n"
        + "A,Alpha,rain,,,2022-01-01T00:00:00Z,0.2,mm/15min\n"
        + "B,,level,45.0,1.0,2022-01-01T00:00:00Z,120,cm\n"
        + "B,,level,45.0,1.0,2022-01-01T01:00:00Z,130,cm\n",
    )
    stations = by_id(import_stations(source, readings=readings))
    assert (stations["A"].quantities, stations["A"].interval_s) == (("level", "rain"), 300)
    assert (stations["B"].name_en, stations["B"].lat, stations["B"].interval_s) == ("B", 45.0, 3600)


def test_demo_thresholds_skip_flat_records(tmp_path: Path) -> None:
    """A level record rising less than 5 cm gets no demo thresholds."""
    source = write(tmp_path, "s.csv", "station_id,name,kind\nA,Alpha,level\n")
    readings = write(
        tmp_path,
        "readings.csv",
        READINGS_HEADER + "A,Alpha,level,,,2022-01-01T00:00:00Z,1.00,m\nA,Alpha,level,,,2022-01-01T00:05:00Z,1.04,m\n",
    )
    (station,) = import_stations(source, readings=readings, demo_thresholds=True)
    assert (station.warning_m, station.thresholds_source) == (None, "")


def test_demo_thresholds_need_readings(tmp_path: Path) -> None:
    """Asking for demo thresholds without readings is a configuration error."""
    source = write(tmp_path, "s.csv", "station_id,name,kind\nA,Alpha,level\n")
    with pytest.raises(ConfigError, match="readings"):
        import_stations(source, demo_thresholds=True)


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("station_id,name,kind\nA,Alpha,level\nB,Beta,snow\n", 3, "kind", "unknown kind 'snow'"),
        ("station_id,name,kind,latitude,lon\nA,Alpha,rain,north,1.0\n", 2, "latitude", "not a number"),
        ("code,name,kind\nA,Alpha,level\n", 1, "id", "no id column"),
        (
            "id,name,kind,lat,lon\nA,Alpha,level,1,2\nB,Beta,rain,1,2\nA,Alpha,rain,1.5,2\n",
            4,
            "lat",
            "listed again",
        ),
        ("id,name,kind,lat,lon\nA,Alpha,level,1,\n", 2, "lon", "both lat and lon"),
        (
            "id,name,kind,unit,flood_stage,moderate_flood_stage\n\nA,Alpha,level,ft,20,18\n",
            3,
            "flood_stage",
            "above",
        ),
        ("id,name,kind,unit,flood_stage\nA,Alpha,level,,20\n", 2, "flood_stage", "no unit"),
        ('id,name,kind\nA,"two\nlines",level\nB,Beta,weird\n', 4, "kind", "unknown kind"),
        ("id,name,kind\nA,Alpha\n", 2, None, "2 cells"),
    ],
)
def test_bad_source_names_line_and_column(tmp_path: Path, text: str, line: int, key: str | None, message: str) -> None:
    """A bad station list raises ConfigError naming the file, the 1-based line and the column."""
    source = write(tmp_path, "bad.csv", text)
    with pytest.raises(ConfigError, match=message) as caught:
        import_stations(source)
    assert (caught.value.path, caught.value.line, caught.value.key) == (source, line, key)
    assert caught.value.hint


def test_bad_reading_names_its_line(tmp_path: Path) -> None:
    """A readings file with an unparsable time reports that row's line and the time column."""
    source = write(tmp_path, "s.csv", "station_id,name,kind\nA,Alpha,level\n")
    readings = write(
        tmp_path,
        "readings.csv",
        READINGS_HEADER + "A,Alpha,level,,,2022-01-01T00:00:00Z,1.0,m\nA,Alpha,level,,,yesterday,1.0,m\n",
    )
    with pytest.raises(ConfigError) as caught:
        import_stations(source, readings=readings)
    assert (caught.value.path, caught.value.line, caught.value.key) == (readings, 3, "time")


def test_mapping_to_a_missing_column_is_an_error(tmp_path: Path) -> None:
    """A mapping that names a column the file lacks points at the header line."""
    source = write(tmp_path, "s.csv", "id,name,kind\nA,Alpha,level\n")
    with pytest.raises(ConfigError) as caught:
        import_stations(source, mapping={"lat": "Y"})
    assert (caught.value.line, caught.value.key) == (1, "Y")


def test_missing_source_file_is_a_config_error(tmp_path: Path) -> None:
    """A source that cannot be read is a ConfigError naming the file."""
    with pytest.raises(ConfigError) as caught:
        import_stations(tmp_path / "nope.csv")
    assert caught.value.path == tmp_path / "nope.csv"


def test_overrides_add_chinese_names(tmp_path: Path) -> None:
    """An overrides file sets name_zh on listed stations and rejects unknown station ids."""
    source = write(tmp_path, "s.csv", "id,name,kind\nA,Alpha,level\n")
    stations = apply_overrides(import_stations(source), write(tmp_path, "zh.csv", "id,name_zh\nA,甲站\n"))
    assert (stations[0].name_zh, stations[0].name_en) == ("甲站", "Alpha")
    with pytest.raises(ConfigError) as caught:
        apply_overrides(stations, write(tmp_path, "zh2.csv", "id,name_zh\nA,甲站\nZ,乙站\n"))
    assert (caught.value.line, caught.value.key) == (3, "id")


def test_explicit_interval_beats_readings(tmp_path: Path) -> None:
    """An interval_s given in the source wins over the spacing of the readings."""
    source = write(tmp_path, "s.csv", "id,name,kind,interval_s\nA,Alpha,level,15min\n")
    readings = write(
        tmp_path,
        "readings.csv",
        READINGS_HEADER + "A,Alpha,level,,,2022-01-01T00:00:00Z,1.0,m\nA,Alpha,level,,,2022-01-01T00:05:00Z,1.0,m\n",
    )
    (station,) = import_stations(source, readings=readings)
    assert station.interval_s == 900


def test_unknown_quantity_is_reported(tmp_path: Path) -> None:
    """A canonical quantities cell naming an unknown quantity is an error on that row, not dropped."""
    source = write(tmp_path, "s.csv", "id,name_en,kind,quantities\nA,Alpha,river,level flow\n")
    with pytest.raises(ConfigError) as caught:
        import_stations(source)
    assert (caught.value.line, caught.value.key) == (2, "quantities.1")

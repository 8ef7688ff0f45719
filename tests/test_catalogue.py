"""The canonical catalogue: shipped files, row validation errors, and ``floodwatch catalogue``."""

from __future__ import annotations

import argparse
import gzip
from collections import Counter
from pathlib import Path

import pytest

from config.catalogue import COLUMNS, load_catalogue
from config.errors import ConfigError
from floodwatch import catalogue_cmd
from floodwatch.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "config" / "catalogues"
HEADER = ",".join(COLUMNS)
GOOD = "S1,,Alpha,river,,45.0,1.0,,,,,,300,,2.0,3.0,,,,,,,,,,,"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.csv"
    path.write_text(text, encoding="utf-8")
    return path


def row(**values: str) -> str:
    """A canonical row: GOOD with some columns replaced."""
    cells = dict(zip(COLUMNS, GOOD.split(","), strict=True)) | values
    return ",".join(cells.values())


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="floodwatch")
    catalogue_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.mark.parametrize(
    ("name", "river", "rain"),
    [("garonne.csv", 22, 45), ("onemap_uk_525.csv", 250, 275), ("calder.csv", 5, 4)],
)
def test_shipped_catalogue_loads_with_expected_counts(name: str, river: int, rain: int) -> None:
    """Each shipped catalogue validates and has its documented numbers of level and rain stations."""
    catalogue = load_catalogue(CATALOGUES / name)
    assert Counter(s.kind for s in catalogue.values()) == {"river": river, "rain": rain}
    assert all(s.source for s in catalogue.values())


def test_shipped_catalogues_are_documented() -> None:
    """The catalogues README names every shipped catalogue and every canonical column."""
    readme = (CATALOGUES / "README.md").read_text(encoding="utf-8")
    for path in CATALOGUES.glob("*.csv"):
        assert f"`{path.name}`" in readme
    for column in COLUMNS:
        assert f"| `{column}` |" in readme


def test_garonne_catalogue_has_readings_only_station_and_chinese_names() -> None:
    """The Garonne catalogue includes O137251002 and names Toulouse Pont-Neuf in Chinese."""
    catalogue = load_catalogue(CATALOGUES / "garonne.csv")
    assert catalogue["O137251002"].quantities == ("level",)
    assert catalogue["O200004001"].name_zh == "加龙河·图卢兹新桥"
    assert catalogue["O200004001"].historical_max_m == 4.306


def test_shipped_readings_are_tidy_gzip() -> None:
    """The shipped readings are gzipped tidy CSVs with the tidy header."""
    for folder in ("garonne-jan2022", "calder-valley-aug-sep2025"):
        with gzip.open(ROOT / "data" / folder / "readings.csv.gz", "rt", encoding="utf-8") as handle:
            assert handle.readline() == "station_id,station_name,kind,lat,lon,time,value,unit\n"
        assert (ROOT / "data" / folder / "LICENCE.md").is_file()


@pytest.mark.parametrize(
    ("lines", "line", "key", "message"),
    [
        ([row(warning_m="4.0", guaranteed_m="3.0")], 2, "warning_m", "is above guaranteed_m"),
        ([row(), row(id="S2"), row()], 4, "id", "listed twice"),
        ([row(lon="")], 2, "lon", "both lat and lon"),
        ([row(lat="north")], 2, "lat", "valid number"),
        ([row(kind="lake")], 2, "kind", "river"),
        ([row(kind="rain", quantities="", warning_m="1.0", guaranteed_m="")], 2, "warning_m", "no level"),
    ],
)
def test_bad_catalogue_row_names_line_and_key(
    tmp_path: Path, lines: list[str], line: int, key: str, message: str
) -> None:
    """A catalogue row breaking a rule raises ConfigError with the file, its line and the column."""
    path = write(tmp_path, "\n".join([HEADER, *lines]) + "\n")
    with pytest.raises(ConfigError, match=message) as caught:
        load_catalogue(path)
    assert (caught.value.path, caught.value.line, caught.value.key) == (path, line, key)


def test_unknown_catalogue_column_names_it(tmp_path: Path) -> None:
    """An unknown header column is reported on line 1 under its own name."""
    path = write(tmp_path, f"{HEADER},colour\n{GOOD},red\n")
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path)
    assert (caught.value.line, caught.value.key) == (1, "colour")


def test_check_prints_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """`catalogue check` prints stations by kind, how many have thresholds and lack coordinates."""
    assert run_cli("catalogue", "check", str(CATALOGUES / "garonne.csv")) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "67 stations (river 22, rain 45); 22 with level thresholds; 1 without coordinates" in out


def test_import_writes_a_loadable_catalogue(tmp_path: Path) -> None:
    """`catalogue import --map ... --out FILE` writes a canonical catalogue that loads."""
    source = tmp_path / "list.csv"
    source.write_text("CODE,name,kind,lat,lon\n007,Seven,rain,45.1,1.2\n", encoding="utf-8")
    out = tmp_path / "out" / "mine.csv"
    assert (
        run_cli("catalogue", "import", str(source), "--map", "id=CODE", "--attribution", "me", "--out", str(out)) == 0
    )
    station = load_catalogue(out)["007"]
    assert (station.name_en, station.source) == ("Seven", "me")


def test_import_prints_to_stdout_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --out, `catalogue import` prints the canonical CSV."""
    source = tmp_path / "list.csv"
    source.write_text("id,name,kind\nA,Alpha,level\n", encoding="utf-8")
    assert run_cli("catalogue", "import", str(source)) == 0
    assert capsys.readouterr().out.splitlines()[0] == HEADER


def test_bad_mapping_is_a_user_error() -> None:
    """A --map value without '=' is a UserError that shows the expected form."""
    with pytest.raises(UserError, match="CANONICAL=SOURCE"):
        catalogue_cmd.parse_mapping(["id"])

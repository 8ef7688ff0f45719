"""``floodwatch catalogue import|check``: build a canonical station catalogue and check one.

``import`` converts a station list (tidy dataset, EA or NWPS-like list, or a canonical catalogue) with
``config.importers.import_stations``; ``check`` validates a catalogue and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from config.catalogue import LEVEL_COLUMNS, Catalogue, dump_catalogue, load_catalogue, write_catalogue
from config.importers import import_stations
from floodwatch.errors import UserError

CANONICAL = """\
The canonical catalogue is a UTF-8 CSV, one row per station, with the columns
  id, name_zh, name_en, kind (river|rain|reservoir), quantities, lat, lon, river, basin, district,
  datum_m, datum_name, interval_s, blue_m, warning_m, guaranteed_m, red_m, historical_max_m,
  historical_max_time, flood_limit_m, plaus_min, plaus_max, max_rate_per_h, thresholds_source, source
Levels are metres above the station's datum; empty cells are missing values.
"""

IMPORT_EPILOG = f"""\
{CANONICAL}
Source columns are found by name, case-insensitively (id: station_id, id, stationReference;
name_en: name, station_name; lat: lat, latitude; lon: lon, long, longitude; district: district,
town, county, state; kind: level, rain, reservoir or level+rain). Thresholds: EA typicalRangeHigh
-> warning_m, maxOnRecord -> historical_max_m; NWS action/flood/moderate/major stages -> blue_m,
warning_m, guaranteed_m, red_m. A column ending _m, _cm, _mm or _ft gives its unit, else the row's
unit column does (m, cm, mm, ft).

Examples:
  floodwatch catalogue import data/garonne-jan2022/stations.csv \\
      --readings data/garonne-jan2022/readings.csv.gz --demo-thresholds --out garonne.csv
  floodwatch catalogue import gauges.csv --map id=CODE --map name_en=LIBELLE --out mine.csv
"""

CHECK_EPILOG = f"""\
{CANONICAL}
Example:
  floodwatch catalogue check config/catalogues/garonne.csv
  -> config/catalogues/garonne.csv: 67 stations (river 22, rain 45); 22 with level thresholds; ...
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch catalogue import`` and ``floodwatch catalogue check``."""
    parser = subparsers.add_parser(
        "catalogue",
        help="import a station list into the canonical catalogue, or check a catalogue",
        description="Build and check the station catalogue (config/catalogues/*.csv).",
    )
    commands = parser.add_subparsers(dest="catalogue_command", metavar="ACTION", required=True)
    add_import_parser(commands)
    add_check_parser(commands)


def add_import_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``catalogue import``."""
    parser = commands.add_parser(
        "import",
        help="convert a station list into a canonical catalogue CSV",
        description="Convert a station list (CSV) into the canonical catalogue, validating every row.",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", type=Path, metavar="SOURCE", help="the station list (CSV)")
    parser.add_argument(
        "--readings",
        type=Path,
        metavar="FILE",
        help="tidy readings (station_id,station_name,kind,lat,lon,time,value,unit; .csv or .csv.gz): "
        "adds stations that only report, their quantities and reporting intervals",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CANONICAL=SOURCE",
        help="read canonical column CANONICAL from source column SOURCE (repeatable), e.g. --map id=CODE",
    )
    parser.add_argument(
        "--demo-thresholds",
        action="store_true",
        help="level stations without thresholds get demo ones from their readings' record "
        "(median + 50%%/80%% of the rise, record = peak), marked NOT official; needs --readings",
    )
    parser.add_argument(
        "--attribution",
        metavar="TEXT",
        help="the source/attribution of every station (default: the dataset's own credit line, if known)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the catalogue here (default: stdout)")
    parser.set_defaults(func=run_import)


def add_check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``catalogue check``."""
    parser = commands.add_parser(
        "check",
        help="validate a canonical catalogue and summarise it",
        description="Load a canonical catalogue as the ingester and dashboard do; print one summary line.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="a canonical catalogue CSV")
    parser.set_defaults(func=run_check)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["id=CODE", "lat=Y"]`` -> ``{"id": "CODE", "lat": "Y"}``.

    Raises:
        UserError: a pair without ``=`` or with an empty side.
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        canonical, sep, source = (part.strip() for part in pair.partition("="))
        if not sep or not canonical or not source:
            raise UserError(f"--map {pair!r}: write CANONICAL=SOURCE, e.g. --map id=station_code")
        mapping[canonical] = source
    return mapping


def run_import(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch catalogue import``."""
    stations = import_stations(
        args.source,
        readings=args.readings,
        mapping=parse_mapping(args.map),
        demo_thresholds=args.demo_thresholds,
        attribution=args.attribution,
    )
    if args.out is None:
        dump_catalogue(stations, sys.stdout)
    else:
        write_catalogue(stations, args.out)
        print(f"{args.out}: {len(stations)} stations written", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Carry out ``floodwatch catalogue check``."""
    print(summary(load_catalogue(args.file)))
    return 0


def summary(catalogue: Catalogue) -> str:
    """One line: stations by kind, how many have level thresholds, how many lack coordinates."""
    stations = list(catalogue.values())
    kinds = Counter(s.kind for s in stations)
    by_kind = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
    with_thresholds = sum(any(getattr(s, c) is not None for c in LEVEL_COLUMNS) for s in stations)
    unplaced = sum(s.lat is None for s in stations)
    where = f"{catalogue.path}: " if catalogue.path else ""
    return (
        f"{where}{len(stations)} stations ({by_kind}); {with_thresholds} with level thresholds; "
        f"{unplaced} without coordinates"
    )

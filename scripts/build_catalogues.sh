#!/usr/bin/env bash
# Regenerate the shipped station catalogues (config/catalogues/*.csv) from the data under data/.
#
#   scripts/build_catalogues.sh            # uses .venv/bin/python; PYTHON=... to choose another
#
# garonne.csv        data/garonne-jan2022: stations.csv + readings (adds the station only in the
#                    readings), demo thresholds from the January 2022 record, Chinese names (names_zh.csv)
# calder.csv         data/calder-valley-aug-sep2025: stations.csv + readings (EA thresholds)
# onemap_uk_525.csv  data/station-catalogues/uk_map_subset_calder_250level_275rain.csv (EA thresholds)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

"$PYTHON" - <<'PY'
from collections import Counter
from pathlib import Path

from config.catalogue import load_catalogue, write_catalogue
from config.importers import apply_overrides, import_stations

data, out = Path("data"), Path("config/catalogues")

garonne = import_stations(
    data / "garonne-jan2022/stations.csv",
    readings=data / "garonne-jan2022/readings.csv.gz",
    demo_thresholds=True,
)
garonne = apply_overrides(garonne, data / "garonne-jan2022/names_zh.csv")
write_catalogue(garonne, out / "garonne.csv")

calder = import_stations(
    data / "calder-valley-aug-sep2025/stations.csv",
    readings=data / "calder-valley-aug-sep2025/readings.csv.gz",
)
write_catalogue(calder, out / "calder.csv")

onemap = import_stations(data / "station-catalogues/uk_map_subset_calder_250level_275rain.csv")
write_catalogue(onemap, out / "onemap_uk_525.csv")

for name in ("garonne.csv", "calder.csv", "onemap_uk_525.csv"):
    catalogue = load_catalogue(out / name)
    kinds = Counter(s.kind for s in catalogue.values())
    print(f"{out / name}: {len(catalogue)} stations {dict(kinds)}")
PY

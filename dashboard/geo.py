"""The offline basemap and the switchable layers: GeoJSON from ``config/geo/``, clipped to the catalogue's area.

Every ``*.geojson`` file in the folder is a layer; its name says how it is drawn (see
``config/geo/README.md``): the map's background is water; ``countries*`` and ``land*`` are land
areas with grey outlines, ``lakes*`` and ``water*`` are filled with water, ``rivers*`` are blue lines,
``districts*`` and ``boundaries*`` are grey outlines, anything else (``levees``…) is orange lines. Clipping
keeps the page small: the world file is 3 MB, the part around one city a few kB.

Switchable layers (engineering assets, cameras, district boundaries, rivers) are GeoJSON files in
``config/geo/layers/`` and in the ``dashboard.layers`` setting, whose features say what they are in
their properties: ``kind`` (one of ``LAYER_KINDS``, anything else is ``other``), ``name_zh``,
``name_en`` and, for cameras, ``url`` (http or https only: it opens when the camera is clicked).
See ``config/geo/layers/README.md``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from config.errors import ConfigError

Point = list[float]
BBox = tuple[float, float, float, float]  # west, south, east, north

GEO_DIR: Final = Path(__file__).resolve().parent.parent / "config" / "geo"
LAYERS_DIR: Final = GEO_DIR / "layers"
#: the kinds of features a switchable layer may hold, drawn in this order (bottom first)
LAYER_KINDS: Final = (
    "district",
    "river",
    "levee",
    "dangerous_section",
    "reservoir",
    "sluice",
    "pumping_station",
    "camera",
    "other",
)
#: drawing order, bottom first
ORDER: Final = ("countries", "land", "water", "lakes", "rivers", "districts", "boundaries")


@dataclass(frozen=True)
class Layer:
    """One basemap layer: its name, how it is drawn, and its clipped features."""

    name: str
    kind: str  # area, water, river, boundary, other
    geojson: dict[str, Any]
    outline: dict[str, Any] | None = None  # area layers: their boundaries as lines


def layer_kind(name: str) -> str:
    """How a layer file is drawn, from its name."""
    if name.startswith(("countries", "land")):
        return "area"
    if name.startswith(("districts", "boundaries")):
        return "boundary"
    if name.startswith(("lakes", "water")):
        return "water"
    if name.startswith("rivers"):
        return "river"
    return "other"


def _inside(p: Point, edge: int, value: float) -> bool:
    # edges: 0 west (x >= v), 1 east (x <= v), 2 south (y >= v), 3 north (y <= v)
    axis = 0 if edge < 2 else 1
    return p[axis] >= value if edge in (0, 2) else p[axis] <= value


def _cross(a: Point, b: Point, edge: int, value: float) -> Point:
    axis = 0 if edge < 2 else 1
    other = 1 - axis
    ratio = (value - a[axis]) / (b[axis] - a[axis])
    point = [0.0, 0.0]
    point[axis] = value
    point[other] = round(a[other] + ratio * (b[other] - a[other]), 4)
    return point


def clip_ring(ring: list[Point], bbox: BBox) -> list[Point]:
    """Sutherland–Hodgman: the part of a polygon ring inside ``bbox`` (closed; empty if none)."""
    west, south, east, north = bbox
    points = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else list(ring)
    for edge, value in enumerate((west, east, south, north)):
        if not points:
            break
        out: list[Point] = []
        previous = points[-1]
        for current in points:
            if _inside(current, edge, value):
                if not _inside(previous, edge, value):
                    out.append(_cross(previous, current, edge, value))
                out.append(current)
            elif _inside(previous, edge, value):
                out.append(_cross(previous, current, edge, value))
            previous = current
        points = out
    if len(points) < 3:
        return []
    return [*points, points[0]]


def _clip_segment(a: Point, b: Point, bbox: BBox) -> tuple[Point, Point] | None:
    """Liang–Barsky: the part of segment a-b inside ``bbox``."""
    west, south, east, north = bbox
    dx, dy = b[0] - a[0], b[1] - a[1]
    low, high = 0.0, 1.0
    for p, q in ((-dx, a[0] - west), (dx, east - a[0]), (-dy, a[1] - south), (dy, north - a[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            low = max(low, r)
        else:
            high = min(high, r)
        if low > high:
            return None
    start = a if low == 0 else [round(a[0] + low * dx, 4), round(a[1] + low * dy, 4)]
    end = b if high == 1 else [round(a[0] + high * dx, 4), round(a[1] + high * dy, 4)]
    return start, end


def clip_line(line: list[Point], bbox: BBox) -> list[list[Point]]:
    """The parts of a line inside ``bbox``, as separate lines."""
    parts: list[list[Point]] = []
    current: list[Point] = []
    for a, b in itertools.pairwise(line):
        segment = _clip_segment(a, b, bbox)
        if segment is None:
            if len(current) > 1:
                parts.append(current)
            current = []
            continue
        start, end = segment
        if current and current[-1] == start:
            current.append(end)
        else:
            if len(current) > 1:
                parts.append(current)
            current = [start, end]
        if end != b:  # left the box
            parts.append(current)
            current = []
    if len(current) > 1:
        parts.append(current)
    return parts


def clip_geometry(geometry: dict[str, Any], bbox: BBox) -> dict[str, Any] | None:
    """A GeoJSON geometry clipped to ``bbox`` (None when nothing is left)."""
    kind: str | None = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    if kind == "LineString":
        lines = clip_line(coords, bbox)
    elif kind == "MultiLineString":
        lines = [part for line in coords for part in clip_line(line, bbox)]
    elif kind in ("Polygon", "MultiPolygon"):
        polygons = [coords] if kind == "Polygon" else coords
        kept = []
        for polygon in polygons:
            if not polygon:
                continue
            outer = clip_ring(polygon[0], bbox)
            if outer:
                holes = [r for r in (clip_ring(h, bbox) for h in polygon[1:]) if r]
                kept.append([outer, *holes])
        return {"type": "MultiPolygon", "coordinates": kept} if kept else None
    elif kind == "Point":
        west, south, east, north = bbox
        return geometry if west <= coords[0] <= east and south <= coords[1] <= north else None
    else:
        return None
    return {"type": "MultiLineString", "coordinates": lines} if lines else None


def outlines(geometry: dict[str, Any]) -> dict[str, Any]:
    """A polygon's rings as lines (so that clipping does not draw the clip box's edges)."""
    if geometry.get("type") == "Polygon":
        return {"type": "MultiLineString", "coordinates": list(geometry["coordinates"])}
    if geometry.get("type") == "MultiPolygon":
        return {"type": "MultiLineString", "coordinates": [r for poly in geometry["coordinates"] for r in poly]}
    return geometry


def clip_collection(collection: dict[str, Any], bbox: BBox, *, as_lines: bool = False) -> dict[str, Any]:
    """A FeatureCollection with every feature clipped to ``bbox`` (empty ones left out)."""
    features = []
    for feature in collection.get("features", []):
        geometry = feature.get("geometry") or {}
        geometry = clip_geometry(outlines(geometry) if as_lines else geometry, bbox)
        if geometry is not None:
            features.append({"type": "Feature", "properties": feature.get("properties") or {}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def padded(bbox: BBox, fraction: float = 1.5, minimum: float = 6.0) -> BBox:
    """``bbox`` grown on every side by ``fraction`` of its size.

    At least ``minimum`` degrees of longitude and half that of latitude: a 16:9 screen at the
    initial zoom must not see the clip's edges.
    """
    west, south, east, north = bbox
    dx = max((east - west) * fraction, minimum)
    dy = max((north - south) * fraction, minimum / 2)
    return (max(west - dx, -180.0), max(south - dy, -85.0), min(east + dx, 180.0), min(north + dy, 85.0))


def load_layers(bbox: BBox, folder: Path = GEO_DIR) -> list[Layer]:
    """The basemap layers of ``folder`` clipped to ``bbox``, bottom layer first (reads the disk)."""
    files = sorted(folder.glob("*.geojson"))

    def rank(path: Path) -> tuple[int, str]:
        stem = path.stem
        order = next((i for i, prefix in enumerate(ORDER) if stem.startswith(prefix)), len(ORDER))
        return order, stem

    layers = []
    for path in sorted(files, key=rank):
        collection = json.loads(path.read_text(encoding="utf-8"))
        kind = layer_kind(path.stem)
        clipped = clip_collection(collection, bbox, as_lines=kind in ("boundary", "other"))
        outline = clip_collection(collection, bbox, as_lines=True) if kind == "area" else None
        layers.append(Layer(path.stem, kind, clipped, outline))
    return layers


@dataclass(frozen=True)
class Feature:
    """One feature of a switchable layer, clipped: a point, or lines (polygons become their outlines)."""

    kind: str  # a value of LAYER_KINDS
    name_zh: str
    name_en: str
    url: str  # cameras: the video link (http/https), else ""
    geometry: dict[str, Any]  # Point or MultiLineString

    def name(self, language: str) -> str:
        """The name in ``language``, else the other one."""
        first, second = (self.name_zh, self.name_en) if language == "zh" else (self.name_en, self.name_zh)
        return first or second


def _text(properties: dict[str, Any], key: str) -> str:
    value = properties.get(key)
    return value.strip() if isinstance(value, str) else ""


def layer_features(collection: Any, bbox: BBox) -> list[Feature]:
    """The features of one layer file's FeatureCollection, clipped to ``bbox`` (pure).

    Raises:
        ValueError: not a GeoJSON FeatureCollection.
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ValueError("not a GeoJSON FeatureCollection")
    out: list[Feature] = []
    for feature in collection.get("features") or []:
        if not isinstance(feature, dict):
            continue
        properties = feature.get("properties") or {}
        kind = _text(properties, "kind")
        kind = kind if kind in LAYER_KINDS else "other"
        url = _text(properties, "url")
        url = url if url.startswith(("http://", "https://")) else ""  # never javascript: or file:
        geometry = feature.get("geometry") or {}
        parts = (
            [{"type": "Point", "coordinates": point} for point in geometry.get("coordinates") or []]
            if geometry.get("type") == "MultiPoint"
            else [outlines(geometry)]
        )
        for part in parts:
            clipped = clip_geometry(part, bbox)
            if clipped is not None:
                names = (_text(properties, "name_zh"), _text(properties, "name_en") or _text(properties, "name"))
                out.append(Feature(kind, names[0], names[1], url, clipped))
    return out


def layer_files(extra: list[Path], folder: Path = LAYERS_DIR) -> list[Path]:
    """The switchable layer files: ``folder/*.geojson`` then the ones named in the settings."""
    return [*sorted(folder.glob("*.geojson")), *extra]


def load_features(files: list[Path], bbox: BBox) -> list[Feature]:
    """Every feature of the layer files, clipped to ``bbox`` (reads the disk).

    Raises:
        ConfigError: a file is missing or is not a GeoJSON FeatureCollection, naming it.
    """
    features: list[Feature] = []
    for path in files:
        try:
            features += layer_features(json.loads(path.read_text(encoding="utf-8")), bbox)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot use this map layer: {exc}",
                path=path,
                key="dashboard.layers",
                hint="give a GeoJSON FeatureCollection in WGS 84 (see config/geo/layers/README.md)",
            ) from exc
    return features

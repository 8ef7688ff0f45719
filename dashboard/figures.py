"""Pure DataFrame-to-figure functions: the one map, the hydrograph, the rain chart.

The map is a plotly ``Scattermap`` (MapLibre) on a blank style whose only layers are the offline
GeoJSON basemap: no tiles, no glyphs, no sprites, so MapLibre requests nothing. Stations are drawn as
circles (other symbols need a sprite), one trace per (kind, state), so 3,000 stations are a dozen
traces; a click reads the station id from ``customdata``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from config.catalogue import Station
from config.i18n import t
from dashboard import status
from dashboard.geo import LAYER_KINDS, Feature, Layer
from dashboard.theme import (
    DARK,
    KIND_SIZES,
    LAYER_STYLES,
    LIGHT,
    RAIN_CLASS_COLOURS,
    RAIN_CLASS_SIZES,
    STATE_COLOURS,
)

#: uirevision of every map: refreshes never reset the user's zoom, pan or legend choices
MAP_REVISION: Final = "stations"
#: threshold lines of the hydrograph: i18n key -> colour
THRESHOLD_COLOURS: Final[dict[str, str]] = {
    "threshold.blue": "#1e88e5",
    "threshold.warning": "#f9a825",
    "threshold.guaranteed": "#ef6c00",
    "threshold.red": "#c62828",
}


def blank_style(palette: Mapping[str, str], tile_url: str = "") -> dict[str, Any]:
    """A MapLibre style with a water-coloured background: no glyph or sprite URL, tiles only if configured."""
    style: dict[str, Any] = {
        "version": 8,
        "name": "floodwatch-blank",
        # an empty ``sources`` object gets dropped on a figure update, then MapLibre refuses the
        # style ("missing required property sources"): keep one empty inline source
        "sources": {"blank": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": palette["water"]}}],
    }
    if tile_url:
        style["sources"]["tiles"] = {"type": "raster", "tiles": [tile_url], "tileSize": 256}
        style["layers"].append({"id": "tiles", "type": "raster", "source": "tiles"})
    return style


#: basemap layer kind (``geo.layer_kind``) -> the layer switch that shows or hides it (land always shows)
BASEMAP_SWITCHES: Final[dict[str, str]] = {"boundary": "district", "river": "river", "water": "water", "other": "other"}
#: the station groups of the layer switch: value -> station kinds
STATION_SWITCHES: Final[dict[str, tuple[str, ...]]] = {"st:rain": ("rain",), "st:level": ("river", "reservoir")}


def basemap_layers(
    layers: Iterable[Layer], palette: Mapping[str, str], shown: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Plotly map layers drawing the offline GeoJSON basemap below the stations.

    ``shown``: the layer switches that are on (None: all); a basemap layer whose switch is off is
    kept, invisible, so that every layer keeps its index for the refresh's patch.
    """
    out: list[dict[str, Any]] = []
    for layer in layers:
        if not layer.geojson["features"]:
            continue
        switch = BASEMAP_SWITCHES.get(layer.kind)
        visible = shown is None or switch is None or switch in shown
        common = {
            "sourcetype": "geojson",
            "below": "traces",
            "name": layer.name,
            "source": layer.geojson,
            "visible": visible,
        }
        if layer.kind == "area":
            out.append({**common, "type": "fill", "color": palette["land"], "opacity": 1})
            if layer.outline and layer.outline["features"]:
                outline = {**common, "source": layer.outline}
                out.append({**outline, "type": "line", "color": palette["boundary"], "line": {"width": 1}})
        elif layer.kind == "water":
            out.append({**common, "type": "fill", "color": palette["water"], "opacity": 1})
        elif layer.kind == "river":
            out.append({**common, "type": "line", "color": palette["river"], "line": {"width": 2}})
        elif layer.kind == "boundary":
            out.append({**common, "type": "line", "color": palette["boundary"], "line": {"width": 1}})
        else:
            out.append({**common, "type": "line", "color": palette["other"], "line": {"width": 2}})
    return out


def layer_switches(layers: Iterable[Layer], features: Iterable[Feature]) -> list[str]:
    """The map's layer switches, in drawing order: station groups, then the kinds present in the basemap or layers."""
    present = {BASEMAP_SWITCHES[layer.kind] for layer in layers if layer.kind in BASEMAP_SWITCHES}
    present |= {feature.kind for feature in features}
    kinds = [kind for kind in ("district", "river", "water", *LAYER_KINDS) if kind in present]
    return [*STATION_SWITCHES, *dict.fromkeys(kinds)]


def shown_stations(table: pd.DataFrame, shown: Collection[str]) -> pd.DataFrame:
    """The rows of the station groups that are switched on."""
    kinds = [kind for switch, group in STATION_SWITCHES.items() if switch in shown for kind in group]
    return table[table["kind"].isin(kinds)]


def layer_traces(features: Iterable[Feature], language: str, shown: Collection[str]) -> list[dict[str, Any]]:
    """The switched-on layers' features as ``Scattermap`` traces: per kind one of lines, one of points.

    A point's ``customdata`` is its link (cameras) or ""; lines are one trace with breaks between
    features. Traces come below the stations (plotly draws later traces on top).
    """
    by_kind: dict[str, list[Feature]] = {}
    for feature in features:
        if feature.kind in shown:
            by_kind.setdefault(feature.kind, []).append(feature)
    traces: list[dict[str, Any]] = []
    for kind in LAYER_KINDS:
        group = by_kind.get(kind, [])
        colour, size = LAYER_STYLES[kind]
        name = t(language, "layer." + kind)
        common = {"hoverinfo": "text", "legendgroup": "layers", "name": name}
        lats: list[float | None] = []
        lons: list[float | None] = []
        texts: list[str] = []
        for feature in group:
            if feature.geometry["type"] != "MultiLineString":
                continue
            for line in feature.geometry["coordinates"]:
                lons += [point[0] for point in line] + [None]
                lats += [point[1] for point in line] + [None]
                texts += [f"{name}: {feature.name(language)}"] * len(line) + [""]
        if lats:
            trace = go.Scattermap(
                lat=lats,
                lon=lons,
                mode="lines",
                line={"color": colour, "width": size},
                hovertext=texts,
                uid=f"layer-{kind}-lines",
                **common,
            )
            traces.append(trace.to_plotly_json())
        points = [feature for feature in group if feature.geometry["type"] == "Point"]
        if points:
            hint = f"<br><i>{t(language, 'layer.open_camera')}</i>"
            trace = go.Scattermap(
                lat=[feature.geometry["coordinates"][1] for feature in points],
                lon=[feature.geometry["coordinates"][0] for feature in points],
                mode="markers",
                marker={"color": colour, "size": size, "opacity": 0.9},
                customdata=[feature.url for feature in points],
                hovertext=[
                    f"<b>{feature.name(language)}</b><br>{name}" + (hint if feature.url else "") for feature in points
                ],
                uid=f"layer-{kind}-points",
                showlegend=not lats,  # one legend entry per kind
                **common,
            )
            traces.append(trace.to_plotly_json())
    return traces


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def hover_texts(
    table: pd.DataFrame, names: Mapping[str, str], zone: ZoneInfo, language: str, rain_column: str = ""
) -> list[str]:
    """The hover text of each row: name, state, latest value with its local time, trend, 24 h rain.

    With ``rain_column`` (``rain_h1``, ``rain_h3``) a gauge's total over that window too.
    """
    texts = []
    for row in status.records(table):
        kind, state, quantity = row["kind"], row["state"], row["quantity"]
        lines = [
            f"<b>{names.get(row['id'], row['id'])}</b> ({row['id']})",
            f"{t(language, 'kind.' + kind)} · {t(language, 'state.' + state)}",
            f"{t(language, 'hover.value')}: {status.format_value(_number(row['value']), quantity)}",
        ]
        time_ms = _number(row["time_ms"])
        if time_ms is not None:
            lines.append(f"{t(language, 'hover.time')}: {status.format_time(int(time_ms), zone)}")
        if quantity == "level":
            lines.append(f"{t(language, 'hover.trend')}: {status.format_trend(_number(row['trend']))}")
        if rain_column and rain_column != "rain_h24" and quantity == "rain":
            total = status.format_value(_number(row[rain_column]) or 0.0, "rain")
            lines.append(f"{t(language, 'hover.' + rain_column)}: {total}")
        h24 = _number(row["rain_h24"])
        if quantity == "rain" or h24 is not None:
            lines.append(f"{t(language, 'hover.rain24')}: {status.format_value(h24 or 0.0, 'rain')}")
        texts.append("<br>".join(lines))
    return texts


def _marker_trace(  # noqa: PLR0917 - the parts of one legend entry
    group: pd.DataFrame,
    hover: list[str],
    colour: str,
    size: int,
    name: str,
    kind_title: str,
    kind: str,
    uid: str,
) -> dict[str, Any]:
    # a plain dict, as go.Scattermap(...).to_plotly_json() gives, without validating 3,000 points each refresh
    return {
        "type": "scattermap",
        "lat": group["lat"].round(5).tolist(),
        "lon": group["lon"].round(5).tolist(),
        "mode": "markers",
        "marker": {"size": size, "color": colour, "opacity": 0.95},
        "customdata": group["id"].tolist(),
        "hovertext": hover,
        "hoverinfo": "text",
        "name": f"{name} ({len(group)})",
        "legendgroup": kind,
        "legendgrouptitle": {"text": kind_title},
        "uid": uid,
    }


#: states a rain gauge keeps in the accumulation view: its total is unknown or not to be trusted
RAIN_VIEW_KEEPS_STATE: Final = ("stale", "nodata", "suspect")


def station_traces(  # noqa: PLR0917 - what the stations are drawn from
    table: pd.DataFrame,
    names: Mapping[str, str],
    zone: ZoneInfo,
    language: str,
    rain_column: str = "",
    scale: float = 1.0,
) -> list[dict[str, Any]]:
    """One ``Scattermap`` trace per (kind, state) present, most urgent drawn on top, as plain dicts.

    ``scale`` multiplies the marker sizes (a 4K wall: 2, so that they look as on 1080p).

    With ``rain_column`` (a key of ``status.RAIN_CLASSES``), rain gauges are coloured by their total
    over that window in graduated classes instead (one trace per class, wettest on top); a silent,
    stale or suspect gauge keeps its grey or purple: its total is not known.
    """
    placed = table[table["lat"].notna() & table["lon"].notna()]
    traces: list[dict[str, Any]] = []
    # plotly draws later traces on top: normal first, red last
    for kind in status.KINDS:
        kind_title = t(language, "kind." + kind)
        states = placed[placed["kind"] == kind]
        if kind == "rain" and rain_column in status.RAIN_CLASSES:
            kind_title = f"{kind_title} · {t(language, 'map.rain.' + rain_column)}"
            classes = states[~states["state"].isin(RAIN_VIEW_KEEPS_STATE)]
            states = states[states["state"].isin(RAIN_VIEW_KEEPS_STATE)]
            index = classes[rain_column].map(lambda v: status.rain_class(_number(v), rain_column))
            for number in range(len(status.RAIN_CLASSES[rain_column]) + 1):
                group = classes[index == number]
                if group.empty:
                    continue
                traces.append(
                    _marker_trace(
                        group,
                        hover_texts(group, names, zone, language, rain_column),
                        RAIN_CLASS_COLOURS[number],
                        round(RAIN_CLASS_SIZES[number] * scale),
                        status.rain_class_label(number, rain_column),
                        kind_title,
                        kind,
                        f"rain-{rain_column}-{number}",
                    )
                )
        for state in reversed(status.STATES):
            group = states[states["state"] == state]
            if group.empty:
                continue
            traces.append(
                _marker_trace(
                    group,
                    hover_texts(group, names, zone, language),
                    STATE_COLOURS[state],
                    round(KIND_SIZES.get(kind, 10) * scale),
                    t(language, "state." + state),
                    kind_title,
                    kind,
                    f"{kind}-{state}",
                )
            )
    return traces


#: the wall's map type size on a 1080p screen
WALL_FONT: Final = 16


def wall_scaled(zoom: float, scale: float) -> dict[tuple[str, ...], float]:
    """The wall map's layout values for a screen ``scale`` times as wide as 1080p, by layout path.

    One zoom level more per doubling shows the same area; the type grows with the screen.
    """
    size = round(WALL_FONT * scale)
    return {
        ("map", "zoom"): zoom + math.log2(scale),
        ("font", "size"): size,
        ("hoverlabel", "font", "size"): size,
    }


def base_map(
    layers: Iterable[Layer],
    center: Mapping[str, float],
    zoom: float,
    *,
    dark: bool = False,
    attribution: str = "",
    tile_url: str = "",
) -> go.Figure:
    """The map without stations: blank style (with the tiles of ``tile_url`` if any), the GeoJSON basemap, the view."""
    palette = DARK if dark else LIGHT
    figure = go.Figure()
    figure.update_layout(
        map={
            "style": blank_style(palette, tile_url),
            "center": dict(center),
            "zoom": zoom,
            "layers": basemap_layers(layers, palette),
            "uirevision": MAP_REVISION,
        },
        uirevision=MAP_REVISION,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor=palette["paper"],
        font={"color": palette["text"], "size": WALL_FONT if dark else 13},
        legend={
            "x": 0.005,
            "y": 0.995,
            "xanchor": "left",
            "yanchor": "top",
            "bgcolor": "rgba(13,17,23,.75)" if dark else "rgba(255,255,255,.85)",
            "groupclick": "toggleitem",
            "uirevision": MAP_REVISION,
        },
        hoverlabel={"font": {"size": WALL_FONT if dark else 13}},
        annotations=[
            {
                "text": attribution,
                "x": 1,
                "y": 0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 10, "color": palette["text"]},
            }
        ]
        if attribution
        else [],
    )
    return figure


def map_figure(  # noqa: PLR0917 - what a map is drawn from
    table: pd.DataFrame,
    names: Mapping[str, str],
    layers: Iterable[Layer],
    center: Mapping[str, float],
    zoom: float,
    zone: ZoneInfo,
    language: str,
    *,
    dark: bool = False,
) -> go.Figure:
    """The one map: basemap plus the stations coloured by state, grouped by kind."""
    figure = base_map(layers, center, zoom, dark=dark, attribution=t(language, "map.attribution"))
    figure.add_traces(station_traces(table, names, zone, language))
    return figure


def local_times(times_ms: pd.Series, zone: ZoneInfo) -> pd.Series:
    """UTC ms as naive local wall times (plotly.js shows what it is given, so give it local time)."""
    return pd.to_datetime(times_ms, unit="ms", utc=True).dt.tz_convert(zone).dt.tz_localize(None)


def hydrograph(
    level: pd.DataFrame,
    station: Station,
    zone: ZoneInfo,
    language: str,
    *,
    blue_margin_m: float = 0.5,
    x_range: tuple[int, int] | None = None,
) -> go.Figure:
    """Water level over time with the station's thresholds as coloured lines and bands."""
    figure = go.Figure()
    frame = level.sort_values("time_ms")
    figure.add_trace(
        go.Scatter(
            x=local_times(frame["time_ms"], zone),
            y=frame["value"],
            mode="lines",
            name=t(language, "fig.level"),
            line={"color": "#0d47a1", "width": 2.5},
            hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{y:.2f} m<extra></extra>",
        )
    )
    lines = status.thresholds(station, blue_margin_m)
    for index, (key, value) in enumerate(lines):
        colour = THRESHOLD_COLOURS[key]
        upper = lines[index + 1][1] if index + 1 < len(lines) else None
        if upper is not None:
            figure.add_hrect(y0=value, y1=upper, fillcolor=colour, opacity=0.08, line_width=0, layer="below")
        figure.add_hline(
            y=value,
            line={"color": colour, "width": 1.5, "dash": "dash"},
            annotation_text=f"{t(language, key)} {value:.2f} m",
            annotation_position="top left",
            annotation_font={"color": colour},
        )
    values = [v for _, v in lines] + frame["value"].dropna().tolist()
    x_axis: dict[str, Any] = {"title": t(language, "fig.time").format(zone=zone.key), "gridcolor": LIGHT["grid"]}
    if x_range is not None:
        x_axis["range"] = list(local_times(pd.Series(list(x_range)), zone))
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        yaxis={
            "title": t(language, "fig.level"),
            "range": [min(values) - 0.3, max(values) + 0.3] if values else None,
            "gridcolor": LIGHT["grid"],
        },
        xaxis=x_axis,
        showlegend=False,
        plot_bgcolor="#ffffff",
        uirevision=station.id,
    )
    return figure


def rain_chart(
    rain: Mapping[str, pd.DataFrame],
    names: Mapping[str, str],
    zone: ZoneInfo,
    language: str,
    *,
    x_range: tuple[int, int] | None = None,
) -> go.Figure:
    """Rain per interval as bars and the cumulative total as a line (secondary axis), per gauge."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    palette = ["#1565c0", "#00897b", "#6a1b9a", "#ef6c00"]
    for index, (gauge, frame) in enumerate(rain.items()):
        if frame.empty:
            continue
        ordered = frame.sort_values("time_ms")
        colour = palette[index % len(palette)]
        x = local_times(ordered["time_ms"], zone)
        name = names.get(gauge, gauge)
        figure.add_trace(
            go.Bar(
                x=x,
                y=ordered["value"],
                name=name,
                marker_color=colour,
                opacity=0.75,
                hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{y:.1f} mm<extra>" + name + "</extra>",
            ),
            secondary_y=False,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=ordered["value"].cumsum(),
                name=f"{name} — {t(language, 'fig.cumulative')}",
                mode="lines",
                line={"color": colour, "width": 2},
                hovertemplate="%{x|%Y-%m-%d %H:%M}<br>Σ %{y:.1f} mm<extra>" + name + "</extra>",
            ),
            secondary_y=True,
        )
    x_axis: dict[str, Any] = {"title": t(language, "fig.time").format(zone=zone.key), "gridcolor": LIGHT["grid"]}
    if x_range is not None:
        x_axis["range"] = list(local_times(pd.Series(list(x_range)), zone))
    figure.update_layout(
        margin={"l": 60, "r": 60, "t": 20, "b": 50},
        barmode="group",
        xaxis=x_axis,
        legend={"orientation": "h", "y": 1.12},
        plot_bgcolor="#ffffff",
        uirevision="rain",
    )
    figure.update_yaxes(title_text=t(language, "fig.rain"), secondary_y=False, rangemode="tozero")
    figure.update_yaxes(title_text=t(language, "fig.cumulative"), secondary_y=True, rangemode="tozero", showgrid=False)
    return figure

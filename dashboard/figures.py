"""Pure DataFrame-to-figure functions: the one map, the hydrograph, the rain chart.

The map is a plotly ``Scattermap`` (MapLibre) on a blank style whose only layers are the offline
GeoJSON basemap: no tiles, no glyphs, no sprites, so MapLibre requests nothing. Stations are drawn as
circles (other symbols need a sprite), one trace per (kind, state), so 3,000 stations are a dozen
traces; a click reads the station id from ``customdata``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from config.catalogue import Station
from config.i18n import t
from dashboard import status
from dashboard.geo import Layer
from dashboard.theme import DARK, KIND_SIZES, LIGHT, RAIN_CLASS_COLOURS, RAIN_CLASS_SIZES, STATE_COLOURS

#: uirevision of every map: refreshes never reset the user's zoom, pan or legend choices
MAP_REVISION: Final = "stations"
#: threshold lines of the hydrograph: i18n key -> colour
THRESHOLD_COLOURS: Final[dict[str, str]] = {
    "threshold.blue": "#1e88e5",
    "threshold.warning": "#f9a825",
    "threshold.guaranteed": "#ef6c00",
    "threshold.red": "#c62828",
}


def blank_style(palette: Mapping[str, str]) -> dict[str, Any]:
    """A MapLibre style with only a water-coloured background: no source, glyph or sprite URL."""
    return {
        "version": 8,
        "name": "floodwatch-blank",
        # an empty ``sources`` object gets dropped on a figure update, then MapLibre refuses the
        # style ("missing required property sources"): keep one empty inline source
        "sources": {"blank": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": palette["water"]}}],
    }


def basemap_layers(layers: Iterable[Layer], palette: Mapping[str, str]) -> list[dict[str, Any]]:
    """Plotly map layers drawing the offline GeoJSON basemap below the stations."""
    out: list[dict[str, Any]] = []
    for layer in layers:
        if not layer.geojson["features"]:
            continue
        common = {"sourcetype": "geojson", "below": "traces", "name": layer.name, "source": layer.geojson}
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
    trace = go.Scattermap(
        lat=group["lat"].round(5).tolist(),
        lon=group["lon"].round(5).tolist(),
        mode="markers",
        marker={"size": size, "color": colour, "opacity": 0.95},
        customdata=group["id"].tolist(),
        hovertext=hover,
        hoverinfo="text",
        name=f"{name} ({len(group)})",
        legendgroup=kind,
        legendgrouptitle={"text": kind_title},
        uid=uid,
    )
    return trace.to_plotly_json()


#: states a rain gauge keeps in the accumulation view: its total is unknown or not to be trusted
RAIN_VIEW_KEEPS_STATE: Final = ("stale", "nodata", "suspect")


def station_traces(
    table: pd.DataFrame, names: Mapping[str, str], zone: ZoneInfo, language: str, rain_column: str = ""
) -> list[dict[str, Any]]:
    """One ``Scattermap`` trace per (kind, state) present, most urgent drawn on top, as plain dicts.

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
                        RAIN_CLASS_SIZES[number],
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
                    KIND_SIZES.get(kind, 10),
                    t(language, "state." + state),
                    kind_title,
                    kind,
                    f"{kind}-{state}",
                )
            )
    return traces


def base_map(
    layers: Iterable[Layer],
    center: Mapping[str, float],
    zoom: float,
    *,
    dark: bool = False,
    attribution: str = "",
) -> go.Figure:
    """The map without stations: blank style, the GeoJSON basemap, the view, the legend."""
    palette = DARK if dark else LIGHT
    figure = go.Figure()
    figure.update_layout(
        map={
            "style": blank_style(palette),
            "center": dict(center),
            "zoom": zoom,
            "layers": basemap_layers(layers, palette),
            "uirevision": MAP_REVISION,
        },
        uirevision=MAP_REVISION,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor=palette["paper"],
        font={"color": palette["text"], "size": 16 if dark else 13},
        legend={
            "x": 0.005,
            "y": 0.995,
            "xanchor": "left",
            "yanchor": "top",
            "bgcolor": "rgba(13,17,23,.75)" if dark else "rgba(255,255,255,.85)",
            "groupclick": "toggleitem",
            "uirevision": MAP_REVISION,
        },
        hoverlabel={"font": {"size": 16 if dark else 13}},
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

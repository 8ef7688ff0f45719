"""Pure figure functions of the history explorer: levels over rain on shared time axes, and two events compared.

Times are drawn as local wall time (plotly.js shows what it is given): milliseconds of the local wall
clock as floats on ``date`` axes, which plotly sends as compact binary arrays rather than a date
string per point. Levels are ``Scattergl`` lines, thinned to at most ``MAX_DRAWN`` points a station
by keeping the lowest and highest value of each time bin (a peak is never thinned away); the page
reads a finer aggregation when the user zooms in.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from config.catalogue import Station
from config.i18n import t
from dashboard.figures import THRESHOLD_COLOURS, local_times
from dashboard.stats import peak
from dashboard.theme import LIGHT

#: at most this many points of a level line are drawn (min and max of each bin): a year of hourly maxima is whole
MAX_DRAWN: Final = 10_000
#: a station's colour (none of the alert colours: a line is never read as a warning)
STATION_COLOURS: Final = (
    "#0d47a1",
    "#00897b",
    "#6a1b9a",
    "#5d4037",
    "#00838f",
    "#ad1457",
    "#283593",
    "#558b2f",
    "#4e342e",
    "#37474f",
)
#: threshold lines of a level station: (i18n key, Station attribute, dash)
THRESHOLD_LINES: Final = (
    ("threshold.warning", "warning_m", "dash"),
    ("threshold.guaranteed", "guaranteed_m", "dashdot"),
    ("threshold.red", "historical_max_m", "dot"),  # "Historical maximum"
)
#: the two events of a comparison: key and line dash
EVENTS: Final = (("a", "solid"), ("b", "dash"))
HOUR_MS: Final = 3_600_000
#: date ticks in numbers, the same in Chinese and English (plotly.js names months in English only)
DATE_TICKS: Final = [
    {"dtickrange": [None, 86_400_000], "value": "%m-%d %H:%M"},
    {"dtickrange": [86_400_000, "M1"], "value": "%m-%d"},
    {"dtickrange": ["M1", "M12"], "value": "%Y-%m"},
    {"dtickrange": ["M12", None], "value": "%Y"},
]


def station_colours(stations: Sequence[str]) -> dict[str, str]:
    """Each station's colour, by its place in the selection."""
    return {station: STATION_COLOURS[index % len(STATION_COLOURS)] for index, station in enumerate(stations)}


def wall_ms(times_ms: pd.Series, zone: ZoneInfo) -> np.ndarray:
    """UTC ms as milliseconds of the local wall clock (floats, for a plotly ``date`` axis)."""
    if times_ms.empty:
        return np.array([], dtype=float)
    return local_times(times_ms, zone).to_numpy(dtype="datetime64[ms]").astype("int64").astype(float)


def thin(frame: pd.DataFrame, max_points: int = MAX_DRAWN) -> pd.DataFrame:
    """At most ``max_points`` rows of a time series: per equal time bin its lowest and highest value, in time order."""
    if len(frame) <= max_points:
        return frame
    ordered = frame.sort_values("time_ms", kind="stable").reset_index(drop=True)
    times = ordered["time_ms"].to_numpy(dtype="int64")
    bins = max(1, max_points // 2)
    edges = np.linspace(times[0], times[-1] + 1, bins + 1)
    which = np.searchsorted(edges, times, side="right") - 1
    grouped = ordered.assign(bin=which).groupby("bin")["value"]
    keep = np.unique(np.concatenate([grouped.idxmin().to_numpy(), grouped.idxmax().to_numpy()]))
    return ordered.loc[keep, ["time_ms", "value"]]


def merge_window(
    coarse: pd.DataFrame, fine: pd.DataFrame, window: tuple[int, int], covers: tuple[int, int]
) -> pd.DataFrame:
    """The fine series inside ``window`` and the coarse one where its buckets lie wholly outside, in time order.

    Args:
        coarse: the whole range at the coarser aggregation.
        fine: the window at the finer one.
        window: ``[start_ms, end_ms)``.
        covers: how far a coarse row's bucket reaches before and after its time: levels ``(0, bucket)``
            (stamped at the start), rain ``(bucket, 0)`` (stamped at the end).
    """
    start_ms, end_ms = window
    times = coarse["time_ms"]
    outside = coarse[(times + covers[1] <= start_ms) | (times - covers[0] >= end_ms)]
    parts = [part for part in (outside, fine) if not part.empty]
    if not parts:
        return coarse.iloc[0:0]
    return pd.concat(parts, ignore_index=True).sort_values("time_ms", kind="stable").reset_index(drop=True)


def merge_all(
    coarse: Mapping[str, pd.DataFrame],
    fine: Mapping[str, pd.DataFrame],
    window: tuple[int, int],
    covers: tuple[int, int],
) -> dict[str, pd.DataFrame]:
    """``merge_window`` of every station."""
    return {
        station: merge_window(frame, fine.get(station, frame.iloc[0:0]), window, covers)
        for station, frame in coarse.items()
    }


@dataclass(frozen=True)
class Drawn:
    """A figure and how many level points it draws of how many read."""

    figure: go.Figure
    drawn: int
    read: int


def _axis_title(zone: ZoneInfo, language: str) -> str:
    return t(language, "fig.time").format(zone=zone.key)


def _threshold_traces(station: Station, name: str, colour: str, x: list[float], language: str) -> list[go.Scatter]:
    traces = []
    for key, attribute, dash in THRESHOLD_LINES:
        value = getattr(station, attribute)
        if value is None:
            continue
        label = f"{name} · {t(language, key)} {value:.2f} m"
        traces.append(
            go.Scatter(
                x=x,
                y=[value, value],
                mode="lines",
                line={"color": colour, "width": 1.2, "dash": dash},
                name=label,
                legendgroup=station.id,
                showlegend=False,
                hovertemplate=label + "<extra></extra>",
                uid=f"threshold-{station.id}-{attribute}",
            )
        )
    return traces


def _bands(figure: go.Figure, station: Station) -> None:
    """Bands in the threshold colours from each threshold to the next (warning to guaranteed to historical maximum)."""
    given = [(key, getattr(station, attribute)) for key, attribute, _ in THRESHOLD_LINES]
    given = [(key, value) for key, value in given if value is not None]
    for (key, low), (_, high) in itertools.pairwise(given):
        figure.add_hrect(
            y0=low, y1=high, fillcolor=THRESHOLD_COLOURS[key], opacity=0.1, line_width=0, layer="below", row=1, col=1
        )


def history_figure(  # noqa: PLR0917 - what the drawing is made of
    level: Mapping[str, pd.DataFrame],
    rain: Mapping[str, pd.DataFrame],
    stations: Mapping[str, Station],
    span: tuple[int, int],
    zone: ZoneInfo,
    language: str,
    *,
    revision: str,
    window: tuple[int, int] | None = None,
) -> Drawn:
    """Levels (lines, thresholds dashed in the station's colour) above rain (bars) on one shared time axis.

    Args:
        level: level station -> time_ms, value (as read, any aggregation).
        rain: rain station -> time_ms, value.
        stations: the catalogue entries of the stations drawn, in the selection's order.
        span: the range (UTC ms) the x axis spans.
        zone: the center's zone.
        language: zh or en.
        revision: ``uirevision``: the same revision keeps the user's legend choices when the data change.
        window: the zoomed window (UTC ms) the x axis shows, None for the whole range.
    """
    has_level = bool(level)
    has_rain = bool(rain)
    rows = (1 if has_level else 0) + (1 if has_rain else 0) or 1
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        row_heights=[0.62, 0.38] if rows == 2 else None,
    )
    colours = station_colours(list(stations))
    names = {sid: station.display_name(language) for sid, station in stations.items()}
    x_span = wall_ms(pd.Series(list(span)), zone).tolist()
    drawn = read = 0
    for station_id, frame in level.items():
        shown = thin(frame)
        drawn += len(shown)
        read += len(frame)
        colour = colours[station_id]
        figure.add_trace(
            go.Scattergl(
                x=wall_ms(shown["time_ms"], zone),
                y=shown["value"].to_numpy(dtype=float),
                mode="lines",
                name=names[station_id],
                legendgroup=station_id,
                line={"color": colour, "width": 1.8},
                hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{y:.2f} m<extra>" + names[station_id] + "</extra>",
                uid=f"level-{station_id}",
            ),
            row=1,
            col=1,
        )
        for trace in _threshold_traces(stations[station_id], names[station_id], colour, x_span, language):
            figure.add_trace(trace, row=1, col=1)
    if len(level) == 1:
        _bands(figure, stations[next(iter(level))])
    rain_row = 2 if has_level else 1
    for station_id, frame in rain.items():
        figure.add_trace(
            go.Bar(
                x=wall_ms(frame["time_ms"], zone),
                y=frame["value"].to_numpy(dtype=float),
                name=f"{names[station_id]} · {t(language, 'history.rain')}",
                legendgroup=station_id,
                marker={"color": colours[station_id], "line": {"width": 0}},
                opacity=0.8,
                hovertemplate="%{x|%Y-%m-%d %H:%M}<br>%{y:.1f} mm<extra>" + names[station_id] + "</extra>",
                uid=f"rain-{station_id}",
            ),
            row=rain_row,
            col=1,
        )
    # the whole range autoranged (the threshold lines span it), a zoomed window given as it is: the redraw
    # of a zoom then shows what the user chose whatever plotly keeps of the GUI state
    figure.update_xaxes(type="date", gridcolor=LIGHT["grid"], tickformatstops=DATE_TICKS)
    if window is not None:
        shown = local_times(pd.Series(list(window)), zone).dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3].tolist()
        figure.update_xaxes(range=shown, autorange=False)
    figure.update_xaxes(title_text=_axis_title(zone, language), row=rows, col=1)
    if has_level:
        figure.update_yaxes(title_text=t(language, "fig.level"), gridcolor=LIGHT["grid"], row=1, col=1)
    if has_rain:
        figure.update_yaxes(
            title_text=t(language, "fig.rain"), rangemode="tozero", gridcolor=LIGHT["grid"], row=rain_row, col=1
        )
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        barmode="group",
        bargap=0.05,
        legend={"orientation": "h", "y": 1.06, "x": 0},
        plot_bgcolor="#ffffff",
        hovermode="closest",
        uirevision=revision,
    )
    return Drawn(figure, drawn, read)


def aligned_hours(frame: pd.DataFrame, origin_ms: int) -> np.ndarray:
    """Hours of each row from ``origin_ms``."""
    return (frame["time_ms"].to_numpy(dtype="int64") - origin_ms) / HOUR_MS


def origin(frame: pd.DataFrame, event_start_ms: int, align: str) -> int:
    """Where a station's series of one event is aligned: the event's start, or the station's peak in it."""
    if align == "peak":
        top = peak(frame)
        if top is not None:
            return top[0]
    return event_start_ms


def compare_figure(
    events: Mapping[str, tuple[int, Mapping[str, pd.DataFrame], Mapping[str, pd.DataFrame]]],
    labels: Mapping[str, str],
    stations: Mapping[str, Station],
    align: str,
    language: str,
    *,
    revision: str,
) -> go.Figure:
    """Two events overlaid, x = hours from each one's start (or each station's peak in it).

    Levels above (solid: first event, dashed: second), the cumulative rain of each gauge below.

    Args:
        events: ``a``/``b`` -> (event start UTC ms, level frames, rain frames) of the stations.
        labels: ``a``/``b`` -> how the event is named in the legend (its dates).
        stations: catalogue entries, in the selection's order.
        align: ``start`` or ``peak`` (a rain gauge's peak is its largest amount).
        language: zh or en.
        revision: ``uirevision``.
    """
    has_level = any(level for _, level, _ in events.values())
    has_rain = any(rain for _, _, rain in events.values())
    rows = (1 if has_level else 0) + (1 if has_rain else 0) or 1
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    colours = station_colours(list(stations))
    for key, dash in EVENTS:
        if key not in events:
            continue
        start_ms, level, rain = events[key]
        for station_id, frame in level.items():
            name = f"{stations[station_id].display_name(language)} · {labels[key]}"
            ordered = thin(frame.sort_values("time_ms"))
            figure.add_trace(
                go.Scattergl(
                    x=aligned_hours(ordered, origin(frame, start_ms, align)),
                    y=ordered["value"].to_numpy(dtype=float),
                    mode="lines",
                    name=name,
                    line={"color": colours[station_id], "dash": dash, "width": 2},
                    hovertemplate="%{x:.1f} h<br>%{y:.2f} m<extra>" + name + "</extra>",
                    uid=f"compare-{key}-level-{station_id}",
                ),
                row=1,
                col=1,
            )
        for station_id, frame in rain.items():
            name = f"{stations[station_id].display_name(language)} · {labels[key]} · {t(language, 'fig.cumulative')}"
            ordered = frame.sort_values("time_ms")
            figure.add_trace(
                go.Scatter(
                    x=aligned_hours(ordered, origin(frame, start_ms, align)),
                    y=ordered["value"].cumsum().to_numpy(dtype=float),
                    mode="lines",
                    name=name,
                    line={"color": colours[station_id], "dash": dash, "width": 2, "shape": "hv"},
                    hovertemplate="%{x:.1f} h<br>Σ %{y:.1f} mm<extra>" + name + "</extra>",
                    uid=f"compare-{key}-rain-{station_id}",
                ),
                row=rows,
                col=1,
            )
    figure.update_xaxes(title_text=t(language, f"history.hours_from_{align}"), row=rows, col=1)
    figure.update_xaxes(gridcolor=LIGHT["grid"], zeroline=True, zerolinecolor="#888")
    if has_level:
        figure.update_yaxes(title_text=t(language, "fig.level"), row=1, col=1)
    if has_rain:
        figure.update_yaxes(title_text=t(language, "fig.cumulative"), rangemode="tozero", row=rows, col=1)
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "y": 1.08, "x": 0},
        plot_bgcolor="#ffffff",
        uirevision=revision,
    )
    return figure


def empty_figure(message: str) -> go.Figure:
    """A blank figure saying ``message``."""
    figure = go.Figure()
    figure.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        plot_bgcolor="#ffffff",
        annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
        margin={"l": 20, "r": 20, "t": 20, "b": 20},
    )
    return figure

"""The history explorer's parts: the controls, the aggregation note, the statistics table, export links."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html
from dash.development.base_component import Component

from config.catalogue import Station
from config.i18n import t
from dashboard import ids, status
from dashboard.components.common import date_range, table
from dashboard.explorer import AUTO, PRESETS, Aggregations, View
from dashboard.stats import StationStats, WindowMax
from store.readings import AGGREGATIONS, DAY_MS

MINUTE_MS = 60_000
#: the texts of Dash's dropdown (its ``labels``), in the page's language
PICKER_LABELS = (
    "select_all",
    "deselect_all",
    "selected_count",
    "search",
    "clear_search",
    "clear_selection",
    "no_options_found",
)


def station_options(stations: Iterable[Station], language: str) -> list[dict[str, str]]:
    """Options of the station picker: "name (id)", searchable by the id and both names."""
    return [
        {
            "label": f"{station.display_name(language)} ({station.id})",
            "value": station.id,
            "search": " ".join(part for part in (station.id, station.name_zh, station.name_en) if part),
        }
        for station in stations
    ]


def format_duration(ms: int | None, language: str) -> str:
    """``3 h 05 min`` / ``3小时05分`` ("–" for None)."""
    if ms is None:
        return "–"
    minutes = round(ms / MINUTE_MS)
    return t(language, "history.duration").format(h=f"{minutes // 60:,}", m=f"{minutes % 60:02d}")


def format_length(ms: int, language: str) -> str:
    """A range's length: ``36 h`` up to two days, else ``365 days`` / ``365天``."""
    if ms <= 2 * DAY_MS:
        return t(language, "history.hours").format(n=f"{ms / 3_600_000:,.0f}")
    return t(language, "history.days").format(n=f"{ms / DAY_MS:,.0f}")


def picker_labels(language: str) -> Any:
    """The station picker's own texts (Dash's ``Dropdown.labels``) in ``language``."""
    return {key: t(language, f"history.picker.{key}") for key in PICKER_LABELS}


def dates_style(preset: str) -> dict[str, str]:
    """The custom range's date pickers show only when the range is custom."""
    return {"display": "inline-block" if preset == "custom" else "none"}


def controls(view: View, options: list[dict[str, str]], language: str, today: str, default_start: str) -> Component:
    """Station picker, range (presets or local days) and aggregation."""
    return html.Div(
        [
            html.Div(
                [
                    html.Label(t(language, "history.stations"), htmlFor=ids.HISTORY_STATIONS),
                    dcc.Dropdown(
                        id=ids.HISTORY_STATIONS,
                        options=options,
                        value=list(view.stations),
                        multi=True,
                        searchable=True,
                        placeholder=t(language, "history.stations_placeholder"),
                        labels=picker_labels(language),
                        style={"minWidth": "28em", "flex": "1"},
                    ),
                ],
                className="fw-toolbar",
            ),
            html.Div(
                [
                    html.Span(f"{t(language, 'history.range')}: "),
                    dcc.RadioItems(
                        id=ids.HISTORY_RANGE,
                        options=[
                            {"label": t(language, f"history.range.{key}"), "value": key} for key in (*PRESETS, "custom")
                        ],
                        value=view.preset,
                        inline=True,
                        className="fw-lang",
                    ),
                    html.Div(
                        date_range(
                            ids.HISTORY_DATES,
                            view.start_date or default_start,
                            view.end_date or today,
                            today,
                            language,
                            start_id=ids.HISTORY_DATE_START,
                            end_id=ids.HISTORY_DATE_END,
                        ),
                        id=ids.HISTORY_DATES_BOX,
                        style=dates_style(view.preset),
                    ),
                    html.Span(f"{t(language, 'history.aggregation')}: "),
                    dcc.RadioItems(
                        id=ids.HISTORY_AGG,
                        options=[
                            {"label": t(language, f"history.agg.{key}"), "value": key} for key in (AUTO, *AGGREGATIONS)
                        ],
                        value=view.aggregation,
                        inline=True,
                        className="fw-lang",
                    ),
                ],
                className="fw-toolbar",
                style={"margin": ".5em 0"},
            ),
        ]
    )


def note(
    chosen: Aggregations,
    length_ms: int,
    language: str,
    *,
    zoomed: Aggregations | None = None,
    drawn: int = 0,
    read: int = 0,
) -> Component:
    """Which aggregation is drawn and why; the zoomed window's; how many level points are drawn."""
    if chosen.coarsened:
        how = t(language, "history.how.coarsened")
    elif chosen.auto:
        how = t(language, "history.how.auto").format(length=format_length(length_ms, language))
    else:
        how = t(language, "history.how.user")
    parts = [
        t(language, "history.note").format(
            level=t(language, f"history.level_agg.{chosen.level}"),
            rain=t(language, f"history.rain_agg.{chosen.rain}"),
            how=how,
        )
    ]
    if zoomed is not None:
        parts.append(
            t(language, "history.zoomed").format(
                level=t(language, f"history.level_agg.{zoomed.level}"),
                rain=t(language, f"history.rain_agg.{zoomed.rain}"),
            )
        )
    if drawn < read:
        parts.append(t(language, "history.thinned").format(drawn=f"{drawn:,}", read=f"{read:,}"))
    marks: dict[str, Any] = {  # for tests and tools
        "data-level": chosen.level,
        "data-rain": chosen.rain,
        "data-zoomed": zoomed.level if zoomed else "",
    }
    return html.Div(" · ".join(parts), **marks)


def _window(found: WindowMax | None, zone: ZoneInfo, language: str) -> Component | str:
    if found is None:
        return "–"
    if found.end_ms is None:
        return f"{found.total_mm:.1f}"
    when = t(language, "history.window_end").format(time=status.format_time(found.end_ms, zone))
    return html.Span([f"{found.total_mm:.1f} ", html.Small(when)])


def stats_table(found: list[StationStats], names: Mapping[str, str], zone: ZoneInfo, language: str) -> Component:
    """The event statistics, one row per station (definitions under the table)."""
    rows = []
    for item in found:
        above = {key: ms for key, (_, ms) in item.above.items()}
        rows.append(
            [
                f"{names.get(item.station, item.station)} ({item.station})",
                f"{item.peak_m:.2f}" if item.peak_m is not None else "–",
                status.format_time(item.peak_ms, zone) or "–",
                format_duration(above.get("threshold.warning"), language),
                format_duration(above.get("threshold.guaranteed"), language),
                f"{item.rain_total_mm:,.1f}" if item.rain_total_mm is not None else "–",
                _window(item.rain_max.get("1h"), zone, language) if item.rain_total_mm is not None else "–",
                _window(item.rain_max.get("24h"), zone, language) if item.rain_total_mm is not None else "–",
            ]
        )
    headers = ["station", "peak", "peak_time", "above_warning", "above_guaranteed", "rain_total", "rain_1h", "rain_24h"]
    names_of = [t(language, f"history.col.{key}") for key in headers]
    names_of[2] += f" ({zone.key})"
    return html.Div(
        [
            table(names_of, rows, id="history-stats-table"),
            html.P(t(language, "history.stats_hint"), className="fw-hint"),
        ]
    )


def export_links(csv_href: str, xlsx_href: str, aggregation: str, zone: str, language: str) -> Component:
    """The CSV and Excel buttons of the current selection."""
    return html.Div(
        [
            html.Span(f"{t(language, 'history.export')}: "),
            html.A(t(language, "history.export_csv"), href=csv_href, id=ids.HISTORY_EXPORT_CSV, className="fw-button"),
            html.A(
                t(language, "history.export_xlsx"), href=xlsx_href, id=ids.HISTORY_EXPORT_XLSX, className="fw-button"
            ),
            html.Span(
                t(language, "history.export_hint").format(
                    aggregation=t(language, f"export.agg.{aggregation}"), zone=zone
                ),
                className="fw-hint",
            ),
        ],
        className="fw-toolbar",
    )


def compare_controls(view: View, language: str, today: str) -> Component:
    """Two events' days and the alignment."""
    return html.Div(
        [
            html.Span(f"{t(language, 'history.event_a')}: "),
            date_range(ids.HISTORY_EVENT_A, *view.event_a, today, language),
            html.Span(f"{t(language, 'history.event_b')}: "),
            date_range(ids.HISTORY_EVENT_B, *view.event_b, today, language),
            html.Span(f"{t(language, 'history.align')}: "),
            dcc.RadioItems(
                id=ids.HISTORY_ALIGN,
                options=[{"label": t(language, f"history.align.{key}"), "value": key} for key in ("start", "peak")],
                value=view.align,
                inline=True,
                className="fw-lang",
            ),
        ],
        className="fw-toolbar",
    )

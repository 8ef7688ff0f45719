"""The history explorer (``/history``): several stations over hours to years, statistics, two events, export.

The controls make a ``View`` (``dashboard.explorer``) kept in a store and in the URL query, so a view
can be shared; the graph, the statistics, the comparison and the export links each follow the store.
A zoom on the graph (its ``relayoutData``) reads the visible window again at the finer aggregation
``store.readings.choose`` gives for it; the figure keeps its ``uirevision``, so the zoom stays.
"""

from __future__ import annotations

from typing import Any, Final

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash import ctx as triggered
from dash.development.base_component import Component

from config.i18n import t
from dashboard import explorer, history_figures, ids, status
from dashboard.components import history as parts
from dashboard.components.common import header
from dashboard.context import Context
from dashboard.data import DataUnavailableError
from store.readings import BUCKET_MS, DAY_MS

#: in the browser: the graph's relayoutData goes to the zoom store only when it changes the x axes. Any
#: other relayout (autosize, a y zoom) would start the drawing callback again, and Dash drops the answer
#: of a request still running when the same callback is asked again: the first year would never show.
ZOOM_JS: Final = r"""
function (relayout) {
  var keys = Object.keys(relayout || {});
  var x = keys.some(function (k) { return /^xaxis[0-9]*\.(range|autorange)/.test(k); });
  return x ? relayout : window.dash_clientside.no_update;
}
"""


def layout(ctx: Context, language: str, search: str = "") -> Component:
    """The explorer in the state of the URL query ``search``."""
    view = explorer.parse_query(search, ctx.catalogue)
    now_ms = int(ctx.data.now() * 1000)
    today = status.local_date(now_ms, ctx.zone)
    options = parts.station_options(ctx.catalogue.values(), language)
    return html.Div(
        [
            header(language, "/history"),
            html.Div(
                [
                    html.H2(t(language, "history.title")),
                    parts.controls(view, options, language, today, status.local_date(now_ms - 6 * DAY_MS, ctx.zone)),
                    dcc.Store(id=ids.HISTORY_VIEW),
                    dcc.Store(id=ids.HISTORY_ZOOM),
                    html.Div(id=ids.HISTORY_NOTE, className="fw-hint"),
                    dcc.Graph(
                        id=ids.HISTORY_GRAPH,
                        figure=history_figures.empty_figure(""),
                        style={"height": "640px"},
                        config={"displaylogo": False, "scrollZoom": True},
                    ),
                    html.Div(id=ids.HISTORY_EXPORT),
                    html.H3(t(language, "history.stats")),
                    dcc.Loading(html.Div(id=ids.HISTORY_STATS), delay_show=300),
                    html.H3(t(language, "history.compare")),
                    html.P(t(language, "history.compare_hint"), className="fw-hint"),
                    parts.compare_controls(view, language, today),
                    html.Div(id=ids.HISTORY_COMPARE_NOTE, className="fw-hint"),
                    dcc.Graph(
                        id=ids.HISTORY_COMPARE,
                        figure=history_figures.empty_figure(""),
                        style={"display": "none"},
                        config={"displaylogo": False},
                    ),
                ],
                className="fw-page",
            ),
        ]
    )


def _aggregations(view: explorer.View, ctx: Context, start_ms: int, end_ms: int) -> explorer.Aggregations:
    """The view's aggregations over a range (its own, or a zoomed window, or an event)."""
    interval = min(ctx.catalogue[s].interval_s for s in view.stations)
    return explorer.aggregations(view.aggregation, start_ms, end_ms, len(view.stations), interval)


def _read(
    ctx: Context,
    view: explorer.View,
    span: tuple[int, int],
    chosen: explorer.Aggregations,
    window: tuple[int, int] | str,
) -> tuple[dict[str, Any], dict[str, Any], explorer.Aggregations | None]:
    """Levels and rain of the view over its range; with a zoomed window, that window at its finer aggregation.

    Raises:
        DataUnavailableError: InfluxDB did not answer.
    """
    found = ctx.data.history(view.stations, *span, chosen.level, chosen.rain)
    if not isinstance(window, tuple):
        return found.level, found.rain, None
    low, high = max(window[0], span[0]), min(window[1], span[1])
    if low >= high:
        return found.level, found.rain, None
    zoomed = _aggregations(view, ctx, low, high)
    if (zoomed.level, zoomed.rain) == (chosen.level, chosen.rain):
        return found.level, found.rain, zoomed
    fine = ctx.data.history(view.stations, low, high, zoomed.level, zoomed.rain)
    level = history_figures.merge_all(found.level, fine.level, (low, high), (0, BUCKET_MS[chosen.level]))
    rain = history_figures.merge_all(found.rain, fine.rain, (low, high), (BUCKET_MS[chosen.rain], 0))
    return level, rain, zoomed


def register(app: Dash, ctx: Context) -> None:
    """The explorer's callbacks: the view from the controls, the graph (and its zoom), statistics, comparison."""

    @app.callback(
        Output(ids.HISTORY_VIEW, "data"),
        Output(ids.URL, "search"),
        Input(ids.HISTORY_STATIONS, "value"),
        Input(ids.HISTORY_RANGE, "value"),
        Input(ids.HISTORY_DATES, "start_date"),
        Input(ids.HISTORY_DATES, "end_date"),
        Input(ids.HISTORY_AGG, "value"),
        Input(ids.HISTORY_EVENT_A, "start_date"),
        Input(ids.HISTORY_EVENT_A, "end_date"),
        Input(ids.HISTORY_EVENT_B, "start_date"),
        Input(ids.HISTORY_EVENT_B, "end_date"),
        Input(ids.HISTORY_ALIGN, "value"),
    )
    def choose_view(  # noqa: PLR0917 - one argument per control
        stations: Any,
        preset: Any,
        start: Any,
        end: Any,
        aggregation: Any,
        a_start: Any,
        a_end: Any,
        b_start: Any,
        b_end: Any,
        align: Any,
    ) -> tuple[Any, str]:
        view = explorer.make_view(
            stations, preset, start, end, aggregation, (a_start, a_end), (b_start, b_end), align, ctx.catalogue
        )
        return explorer.state(view, int(ctx.data.now() * 1000), ctx.zone), explorer.to_query(view)

    @app.callback(
        Output(ids.HISTORY_GRAPH, "figure"),
        Output(ids.HISTORY_NOTE, "children"),
        Input(ids.HISTORY_VIEW, "data"),
        Input(ids.HISTORY_ZOOM, "data"),
        State(ids.LANG, "data"),
    )
    def draw(data: Any, relayout: Any, language: str) -> tuple[Any, Any]:
        view = explorer.from_dict(data, ctx.catalogue)
        window = explorer.zoom_window(relayout, ctx.zone) if triggered.triggered_id == ids.HISTORY_ZOOM else "reset"
        if window is None:
            return no_update, no_update
        if not view.stations:
            return history_figures.empty_figure(t(language, "history.pick")), ""
        span = explorer.stored_span(data)
        if span is None:
            return history_figures.empty_figure(t(language, "history.bad_range")), ""
        chosen = _aggregations(view, ctx, *span)
        try:
            level, rain, zoomed = _read(ctx, view, span, chosen, window)
        except DataUnavailableError:
            return no_update, html.Div(t(language, "history.unavailable"), className="fw-error")
        stations = {sid: ctx.catalogue[sid] for sid in view.stations}
        drawn = history_figures.history_figure(
            level,
            rain,
            stations,
            span,
            ctx.zone,
            language,
            revision=explorer.to_query(view),
            window=window if isinstance(window, tuple) else None,
        )
        summary = parts.note(chosen, span[1] - span[0], language, zoomed=zoomed, drawn=drawn.drawn, read=drawn.read)
        return drawn.figure, summary

    @app.callback(Output(ids.HISTORY_DATES_BOX, "style"), Input(ids.HISTORY_RANGE, "value"))
    def show_dates(preset: Any) -> dict[str, str]:
        return parts.dates_style(str(preset))

    app.clientside_callback(
        ZOOM_JS, Output(ids.HISTORY_ZOOM, "data"), Input(ids.HISTORY_GRAPH, "relayoutData"), prevent_initial_call=True
    )

    @app.callback(
        Output(ids.HISTORY_STATS, "children"),
        Output(ids.HISTORY_EXPORT, "children"),
        Input(ids.HISTORY_VIEW, "data"),
        State(ids.LANG, "data"),
    )
    def statistics(data: Any, language: str) -> tuple[Any, Any]:
        view = explorer.from_dict(data, ctx.catalogue)
        span = explorer.stored_span(data) if view.stations else None
        if span is None:
            return None, None
        chosen = _aggregations(view, ctx, *span)
        hrefs = [
            explorer.export_href(fmt, view.stations, *span, aggregation=chosen.level, language=language)
            for fmt in ("csv", "xlsx")
        ]
        links = parts.export_links(hrefs[0], hrefs[1], chosen.level, status.zone_label(ctx.zone, span[0]), language)
        try:
            found = ctx.data.event_stats(view.stations, *span)
        except DataUnavailableError:
            return html.Div(t(language, "history.unavailable"), className="fw-error"), links
        return parts.stats_table(found, ctx.names(language), ctx.zone, language), links

    @app.callback(
        Output(ids.HISTORY_COMPARE, "figure"),
        Output(ids.HISTORY_COMPARE, "style"),
        Output(ids.HISTORY_COMPARE_NOTE, "children"),
        Input(ids.HISTORY_VIEW, "data"),
        State(ids.LANG, "data"),
    )
    def compare(data: Any, language: str) -> tuple[Any, Any, Any]:
        view = explorer.from_dict(data, ctx.catalogue)
        now_ms = int(ctx.data.now() * 1000)
        spans = {
            key: explorer.event_span(event, ctx.zone, now_ms)
            for key, event in (("a", view.event_a), ("b", view.event_b))
        }
        events = {key: value for key, value in spans.items() if value is not None}
        if not view.stations or not events:
            return no_update, {"display": "none"}, None
        loaded = {}
        try:
            for key, (start, end) in events.items():
                chosen = _aggregations(view, ctx, start, end)
                found = ctx.data.history(view.stations, start, end, chosen.level, chosen.rain)
                loaded[key] = (start, found.level, found.rain)
        except DataUnavailableError:
            return no_update, no_update, html.Div(t(language, "history.unavailable"), className="fw-error")
        labels = {
            key: f"{t(language, f'history.event_{key}')} {'–'.join(getattr(view, f'event_{key}'))}" for key in events
        }
        stations = {sid: ctx.catalogue[sid] for sid in view.stations}
        figure = history_figures.compare_figure(
            loaded, labels, stations, view.align, language, revision=explorer.to_query(view)
        )
        return figure, {"height": "520px"}, None

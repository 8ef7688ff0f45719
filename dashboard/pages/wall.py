"""The wall display (``/wall``): dark, large, refreshed by an interval, honest about stale data.

One server callback per refresh loads one (cached) snapshot and updates the map's stations (a
``Patch``: zoom and legend untouched), the counters and the panels. In the browser, a clientside
callback ticks the clock every second and compares the time of the last answer from the server with
now: when the server stops answering, a red banner says so and the panels are dimmed; when it answers
again, both go away by themselves.
"""

from __future__ import annotations

from typing import Any, Final

from dash import Dash, Input, Output, Patch, State, callback_context, dcc, html, no_update
from dash.development.base_component import Component

from config.i18n import t
from dashboard import figures, ids, sound, status
from dashboard.components import wall as panels
from dashboard.components.common import language_picker
from dashboard.context import Context
from dashboard.data import DataUnavailableError

#: no new reading from any station for this long: the data are stale, say so
STALE_DATA_MS: Final = status.STALE_DATA_MS

#: the browser notes when the server last answered (its own clock: server and wall may disagree)
SEEN_JS: Final = "function (status) { return Date.now(); }"
#: every second: the clock in the configured zone, and the banner when the server or the data are stale
TICK_JS: Final = """
function (n, seen, status, texts) {
  var now = Date.now();
  var clock = new Date(now).toLocaleString('sv-SE', {timeZone: texts.zone});
  var gone = now - (seen || performance.timeOrigin) > texts.unreachable_after_ms;
  var dbDown = !!(status && status.ok === false);
  var banner = '';
  if (gone) { banner = texts.unreachable; }
  else if (dbDown) { banner = texts.db; }
  else if (status && status.stale_minutes) { banner = texts.stale_data.replace('{minutes}', status.stale_minutes); }
  return [clock, banner, banner ? 'fw-banner fw-show' : 'fw-banner',
          (gone || dbDown) ? 'fw-wall-body fw-dim' : 'fw-wall-body'];
}
"""

#: once, at load: how much larger than a 1080p screen this one is (in quarters; never below 1)
SCALE_JS: Final = "function (texts) { return Math.max(1, Math.round(window.innerWidth / 1920 * 4) / 4); }"

#: a station newly red since the previous refresh plays the alarm (when ``dashboard.alarm_sound``);
#: the first answer after loading is the baseline (a reload does not beep for what is already red)
ALARM_JS: Final = """
function (red, seen, texts) {
  var now = red || [];
  if (seen === null || seen === undefined) { return now; }
  var before = {};
  seen.forEach(function (id) { before[id] = true; });
  var fresh = now.filter(function (id) { return !before[id]; });
  var audio = document.getElementById(texts.audio_id);
  if (fresh.length && audio) {
    window.fwAlarms = (window.fwAlarms || 0) + 1;
    audio.currentTime = 0;
    audio.play().then(function () {
      audio.dataset.played = String(window.fwAlarms);
    }).catch(function () {
      // autoplay refused (nobody has touched the page): say so; any click unlocks the sound
      var note = document.getElementById(texts.note_id);
      if (note) { note.textContent = texts.sound_blocked; }
      document.addEventListener('click', function () { if (note) { note.textContent = ''; } }, {once: true});
    });
  }
  return now;
}
"""


def layout(ctx: Context, language: str) -> Component:
    """The wall: title, clock, data time, banner, map on the left, counters and panels on the right."""
    figure = figures.base_map(
        ctx.layers, ctx.center, ctx.zoom, dark=True, attribution=ctx.attribution(language), tile_url=ctx.tile_url
    )
    figure.update_layout(showlegend=True)
    texts = {
        "zone": ctx.zone.key,
        "unreachable": t(language, "wall.banner.unreachable"),
        "db": t(language, "wall.banner.db"),
        "stale_data": t(language, "wall.banner.stale_data"),
        # three refreshes missed (and a margin for a slow one): the server is gone
        "unreachable_after_ms": 3 * ctx.refresh_ms + 5000,
        "sound_blocked": t(language, "wall.sound_blocked"),
        "audio_id": ids.WALL_AUDIO,
        "note_id": ids.WALL_SOUND_NOTE,
    }
    alarm: list[Component] = []
    if ctx.settings.dashboard.alarm_sound:
        alarm = [
            html.Audio(id=ids.WALL_AUDIO, src=sound.ALARM_PATH, preload="auto"),
            html.Span(id=ids.WALL_SOUND_NOTE, className="fw-sound-note"),
        ]

    def panel(title_key: str, content_id: str) -> Component:
        return html.Div([html.H2(t(language, title_key)), html.Div(id=content_id)], className="fw-panel")

    return html.Div(
        [
            html.Div(
                [
                    html.H1(t(language, "wall.title")),
                    html.Span(className="fw-spacer"),
                    html.Span(
                        [f"{t(language, 'wall.clock')} ", html.Span(id=ids.WALL_CLOCK, className="fw-clock")],
                    ),
                    html.Span(id=ids.WALL_DATA_TIME, className="fw-datatime"),
                    *alarm,
                    language_picker(language),
                ],
                className="fw-wall-top",
            ),
            html.Div(id=ids.WALL_BANNER, className="fw-banner"),
            html.Div(
                [
                    dcc.Graph(
                        id=ids.WALL_GRAPH,
                        figure=figure,
                        className="fw-wall-map",
                        config={"displayModeBar": False, "scrollZoom": True},
                    ),
                    html.Div(
                        [
                            html.Div(id=ids.WALL_COUNTERS, className="fw-counters"),
                            panel("wall.nearest", ids.WALL_NEAREST),
                            panel("wall.latest_alerts", ids.WALL_ALERTS),
                            panel("wall.rain", ids.WALL_RAIN),
                        ],
                        className="fw-wall-side",
                    ),
                ],
                id=ids.WALL_BODY,
                className="fw-wall-body",
            ),
            dcc.Interval(id=ids.WALL_TICK, interval=ctx.refresh_ms),
            dcc.Interval(id=ids.WALL_CLOCK_TICK, interval=1000),
            dcc.Store(id=ids.WALL_STATUS),
            dcc.Store(id=ids.WALL_SEEN),
            dcc.Store(id=ids.WALL_TEXTS, data=texts),
            dcc.Store(id=ids.WALL_RED),
            dcc.Store(id=ids.WALL_RED_SEEN),
            dcc.Store(id=ids.WALL_SCALE),
        ],
        id=ids.WALL,
        className="fw-wall",
    )


def wall_status(snapshot_newest_ms: int | None, now_ms: int) -> dict[str, Any]:
    """What the browser needs to judge freshness: server time, and minutes without new data if stale."""
    stale = snapshot_newest_ms is None or now_ms - snapshot_newest_ms > STALE_DATA_MS
    minutes = None
    if stale:
        minutes = "∞" if snapshot_newest_ms is None else str((now_ms - snapshot_newest_ms) // 60_000)
    return {"ok": True, "server_ms": now_ms, "newest_ms": snapshot_newest_ms, "stale_minutes": minutes}


def register(app: Dash, ctx: Context) -> None:
    """The wall's refresh callback and its clientside clock and staleness check."""

    @app.callback(
        Output(ids.WALL_GRAPH, "figure"),
        Output(ids.WALL_COUNTERS, "children"),
        Output(ids.WALL_NEAREST, "children"),
        Output(ids.WALL_ALERTS, "children"),
        Output(ids.WALL_RAIN, "children"),
        Output(ids.WALL_DATA_TIME, "children"),
        Output(ids.WALL, "className"),
        Output(ids.WALL_STATUS, "data"),
        Output(ids.WALL_RED, "data"),
        Input(ids.WALL_TICK, "n_intervals"),
        Input(ids.WALL_SCALE, "data"),
        State(ids.LANG, "data"),
    )
    def refresh(_n: int | None, scale: Any, language: str) -> tuple[Any, ...]:
        try:
            snapshot = ctx.data.snapshot()
        except DataUnavailableError:
            return (*([no_update] * 7), {"ok": False}, no_update)
        names = ctx.names(language)
        table = snapshot.table
        patch = Patch()
        scale = scale if isinstance(scale, int | float) and 1 <= scale <= 4 else 1.0
        patch["data"] = ctx.station_traces(snapshot, language, scale=scale)
        if callback_context.triggered_id == ids.WALL_SCALE and scale > 1:
            # once, when the screen's size is known: the same area and type sizes as on 1080p
            for path, value in figures.wall_scaled(ctx.zoom, scale).items():
                target = patch["layout"]
                for part in path[:-1]:
                    target = target[part]
                target[path[-1]] = value
        counts = status.counters(table)
        newest = snapshot.newest_ms
        data_time = f"{t(language, 'wall.data_time')} {status.format_time(newest, ctx.zone, seconds=True) or '–'}"
        red = "fw-wall fw-red-alarm" if counts.alerts["red"] else "fw-wall"
        return (
            patch,
            panels.counters(counts, language),
            panels.nearest(status.nearest_thresholds(table), names, language),
            panels.latest_alerts(snapshot.alerts, names, ctx.zone, language),
            panels.rain_totals(status.rain_ranking(table), names, language),
            data_time,
            red,
            wall_status(newest, snapshot.now_ms),
            status.red_stations(table),
        )

    app.clientside_callback(SCALE_JS, Output(ids.WALL_SCALE, "data"), Input(ids.WALL_TEXTS, "data"))
    app.clientside_callback(
        SEEN_JS,
        Output(ids.WALL_SEEN, "data"),
        Input(ids.WALL_STATUS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ALARM_JS,
        Output(ids.WALL_RED_SEEN, "data"),
        Input(ids.WALL_RED, "data"),
        State(ids.WALL_RED_SEEN, "data"),
        State(ids.WALL_TEXTS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        TICK_JS,
        Output(ids.WALL_CLOCK, "children"),
        Output(ids.WALL_BANNER, "children"),
        Output(ids.WALL_BANNER, "className"),
        Output(ids.WALL_BODY, "className"),
        Input(ids.WALL_CLOCK_TICK, "n_intervals"),
        State(ids.WALL_SEEN, "data"),
        State(ids.WALL_STATUS, "data"),
        State(ids.WALL_TEXTS, "data"),
    )

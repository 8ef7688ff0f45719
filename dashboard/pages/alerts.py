"""The alert desk (``/alerts``) for duty officers: alerts, acknowledgements, notes, audit trail, handover.

Three views under one set of tabs: the **alerts** (active first, by level, then time; filters; tick
one or many, acknowledge with a note or add a note), the **shift handover** (since the last handover
or the start of the shift: counts, what is still open, who acknowledged what, what happened; printable
and exported as CSV; the handover itself is recorded here) and the **audit trail** (every event and
action of the period, with who and when; CSV).

- **Refresh**: an interval at ``ctx.refresh_ms`` reads the (cached) alerts again; the table is drawn
  again only when its alerts changed, keeping the ticks. A write bumps a version store, so the views
  read at once, past the cache (``DataLayer`` clears it after writing).
- **Lost contact**: as on the wall, the browser notes when the server last answered and a banner says
  so when it stops answering.
- **Security**: acknowledging, notes and handovers call ``ctx.auth.require("officer")`` in the callback
  itself; the person recorded is the session's user. The buttons are disabled for others only as a
  courtesy.
"""

from __future__ import annotations

from typing import Any, Final

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update
from dash.dcc.express import send_string
from dash.development.base_component import Component

from config.i18n import t
from dashboard import desk, ids
from dashboard.auth import NotAllowedError
from dashboard.components import alerts as parts
from dashboard.components.common import header
from dashboard.context import Context
from dashboard.data import DataUnavailableError
from dashboard.pages.wall import SEEN_JS

VIEWS: Final = ("alerts", "handover", "audit")
PICKS: Final = {"type": ids.DESK_PICK, "alert": ALL}
VERSION: Final = Input(ids.DESK_VERSION, "data")
LANGUAGE: Final = State(ids.LANG, "data")

#: every second: the banner when the server has not answered for three refreshes, or InfluxDB does not
TICK_JS: Final = """
function (n, seen, status, texts) {
  var gone = Date.now() - (seen || performance.timeOrigin) > texts.unreachable_after_ms;
  var banner = gone ? texts.unreachable : ((status && status.ok === false) ? texts.db : '');
  return [banner, banner ? 'fw-banner fw-show' : 'fw-banner'];
}
"""
#: the tab shows its view; the filters belong to the alerts and the audit trail
VIEW_JS: Final = """
function (view) {
  function shown(yes) { return {display: yes ? 'block' : 'none'}; }
  return [shown(view === 'alerts'), shown(view === 'handover'), shown(view === 'audit'), shown(view !== 'handover')];
}
"""
PRINT_JS: Final = "function (n) { if (n) { window.print(); } return n; }"


def layout(ctx: Context, language: str) -> Component:
    """The desk: header, banner, tabs, filters and the three views (filled by the refresh callbacks)."""
    now_ms = int(ctx.data.now() * 1000)
    texts = {
        "unreachable": t(language, "desk.banner.unreachable"),
        "db": t(language, "desk.banner.db"),
        # three refreshes missed (and a margin for a slow one): the server is gone
        "unreachable_after_ms": 3 * ctx.refresh_ms + 5000,
    }
    hidden = {"display": "none"}
    handover = html.Div(
        [
            html.Div(
                [
                    html.Label(
                        [
                            html.Span(t(language, "desk.since"), className="fw-desk-label"),
                            dcc.Input(
                                id=ids.DESK_SINCE,
                                type="text",
                                placeholder=t(language, "desk.since.placeholder"),
                                debounce=True,
                                className="fw-desk-since",
                            ),
                        ],
                        className="fw-desk-field",
                    ),
                    html.Span(id=ids.DESK_SINCE_HINT, className="fw-desk-hint"),
                    html.Span(className="fw-spacer"),
                    html.Button(t(language, "desk.print"), id=ids.DESK_PRINT, n_clicks=0, className="fw-desk-button"),
                    html.Button(t(language, "desk.export"), id=ids.DESK_EXPORT, n_clicks=0, className="fw-desk-button"),
                ],
                className="fw-toolbar fw-no-print",
            ),
            html.Div(id=ids.DESK_HANDOVER),
            parts.handover_form(language),
        ],
        id=ids.DESK_HANDOVER_VIEW,
        style=hidden,
    )
    audit = html.Div(
        [
            html.Div(
                html.Button(
                    t(language, "desk.export"), id=ids.DESK_AUDIT_EXPORT, n_clicks=0, className="fw-desk-button"
                ),
                className="fw-toolbar fw-no-print",
            ),
            html.Div(id=ids.DESK_AUDIT),
        ],
        id=ids.DESK_AUDIT_VIEW,
        style=hidden,
    )
    return html.Div(
        [
            header(language, "/alerts"),
            html.Div(
                [
                    html.Div(id=ids.DESK_BANNER, className="fw-banner"),
                    html.Div(
                        [
                            html.H2(t(language, "desk.title")),
                            html.Span(className="fw-spacer"),
                            html.Span(parts.zone_note(ctx.zone, now_ms, language), className="fw-desk-hint"),
                        ],
                        className="fw-toolbar",
                    ),
                    dcc.Tabs(
                        id=ids.DESK_VIEW,
                        value="alerts",
                        children=[dcc.Tab(label=t(language, f"desk.tab.{view}"), value=view) for view in VIEWS],
                        className="fw-no-print",
                    ),
                    parts.filters(ctx.catalogue, language),
                    html.Div(
                        [
                            parts.actions(language),
                            html.Div(id=ids.DESK_COUNT, className="fw-desk-hint"),
                            html.Div(id=ids.DESK_TABLE),
                        ],
                        id=ids.DESK_ALERTS_VIEW,
                    ),
                    handover,
                    audit,
                    dcc.Interval(id=ids.DESK_TICK, interval=ctx.refresh_ms),
                    dcc.Interval(id=ids.DESK_CLOCK_TICK, interval=1000),
                    dcc.Store(id=ids.DESK_STATUS),
                    dcc.Store(id=ids.DESK_SEEN),
                    dcc.Store(id=ids.DESK_TEXTS, data=texts),
                    dcc.Store(id=ids.DESK_VERSION, data=0),
                    dcc.Store(id=ids.DESK_DIGEST),
                    dcc.Store(id=ids.DESK_PRINTED),
                    dcc.Download(id=ids.DESK_DOWNLOAD),
                    dcc.Download(id=ids.DESK_AUDIT_DOWNLOAD),
                ],
                id=ids.DESK,
                className="fw-page fw-desk",
            ),
        ]
    )


def now_ms(ctx: Context) -> int:
    """The data layer's clock, in ms."""
    return int(ctx.data.now() * 1000)


def handover_view(ctx: Context, since_text: Any) -> tuple[desk.HandoverSummary, bool]:
    """The handover summary for the since field's text (empty: the default), and whether that text was unreadable.

    Raises:
        DataUnavailableError: InfluxDB did not answer.
    """
    now = now_ms(ctx)
    recent_start = desk.window_start(now, desk.HANDOVER_RECENT_MS)
    recent = ctx.data.handovers(recent_start)
    chosen = desk.parse_since(since_text, ctx.zone, now)
    since = desk.Since(chosen, "chosen") if chosen is not None else desk.default_since(now, ctx.zone, recent)
    handovers = recent if since.ms >= recent_start else ctx.data.handovers(since.ms)
    summary = desk.handover_summary(ctx.data.desk_alerts(since.ms), handovers, since, now)
    return summary, bool(isinstance(since_text, str) and since_text.strip()) and chosen is None


def audit_view(ctx: Context, chosen: dict[str, Any]) -> list[desk.AuditEntry]:
    """The audit trail of the chosen period, for the alerts that pass the chosen filters (and every handover).

    Raises:
        DataUnavailableError: InfluxDB did not answer.
    """
    start = desk.period_start(chosen.get("period"), now_ms(ctx))
    alerts = ctx.data.desk_alerts(start)
    entries = desk.audit_trail(alerts, ctx.data.handovers(start), start)
    return desk.filtered_trail(entries, alerts, ctx.catalogue, desk.desk_filter(chosen))


def filter_group(kind: type[Input] | type[State]) -> dict[str, Any]:
    """The filters' values and the period, as a group of callback inputs or states (``desk.desk_filter`` reads it)."""
    return {
        "levels": kind(ids.DESK_LEVELS, "value"),
        "states": kind(ids.DESK_STATES, "value"),
        "kinds": kind(ids.DESK_KINDS, "value"),
        "waters": kind(ids.DESK_WATERS, "value"),
        "districts": kind(ids.DESK_DISTRICTS, "value"),
        "text": kind(ids.DESK_SEARCH, "value"),
        "period": kind(ids.DESK_PERIOD, "value"),
    }


def register(app: Dash, ctx: Context) -> None:  # noqa: PLR0915 - one page's callbacks, each a few lines
    """The desk's refresh, action, export and role callbacks, and its clientside banner, tabs and print."""

    @app.callback(
        output=[
            Output(ids.DESK_TABLE, "children"),
            Output(ids.DESK_COUNT, "children"),
            Output(ids.DESK_STATUS, "data"),
            Output(ids.DESK_DIGEST, "data"),
        ],
        inputs={"_tick": Input(ids.DESK_TICK, "n_intervals"), "chosen": filter_group(Input), "_version": VERSION},
        state={"picks": State(PICKS, "value"), "digest": State(ids.DESK_DIGEST, "data"), "language": LANGUAGE},
    )
    def refresh(*, _tick, chosen, _version, picks, digest, language):
        try:
            alerts = ctx.data.desk_alerts(desk.period_start(chosen["period"], now_ms(ctx)))
        except DataUnavailableError:
            return no_update, parts.problem(language, "status.unreachable"), {"ok": False}, no_update
        shown = desk.filtered(alerts, ctx.catalogue, desk.desk_filter(chosen))
        status = {"ok": True, "server_ms": now_ms(ctx)}
        count = parts.count_line(shown, len(alerts), language)
        drawn = desk.digest(shown[: parts.MAX_ROWS])
        if drawn == digest:
            return no_update, count, status, no_update  # same rows: keep the table (and what is ticked) as it is
        table = parts.alerts_table(shown, ctx.names(language), ctx.zone, language, desk.picked_ids(picks))
        return table, count, status, drawn

    @app.callback(
        output=Output(ids.DESK_AUDIT, "children"),
        inputs={
            "_tick": Input(ids.DESK_TICK, "n_intervals"),
            "view": Input(ids.DESK_VIEW, "value"),
            "chosen": filter_group(Input),
            "_version": VERSION,
        },
        state={"language": LANGUAGE},
    )
    def refresh_audit(*, _tick, view, chosen, _version, language):
        if view != "audit":
            return no_update
        try:
            entries = audit_view(ctx, chosen)
        except DataUnavailableError:
            return parts.problem(language, "status.unreachable")
        return parts.audit_table(entries, ctx.names(language), ctx.zone, language)

    @app.callback(
        Output(ids.DESK_HANDOVER, "children"),
        Output(ids.DESK_SINCE_HINT, "children"),
        Input(ids.DESK_TICK, "n_intervals"),
        Input(ids.DESK_VIEW, "value"),
        Input(ids.DESK_SINCE, "value"),
        Input(ids.DESK_VERSION, "data"),
        State(ids.LANG, "data"),
    )
    def refresh_handover(_n, view, since_text, _version, language):
        if view != "handover":
            return no_update, no_update
        try:
            summary, unreadable = handover_view(ctx, since_text)
        except DataUnavailableError:
            return parts.problem(language, "status.unreachable"), no_update
        hint = parts.since_text(summary.since, ctx.zone, language)
        if unreadable:
            hint = f"{t(language, 'desk.since.bad')} {hint}"
        return parts.handover_report(summary, ctx.names(language), ctx.zone, language), hint

    @app.callback(
        Output(ids.DESK_DOWNLOAD, "data"),
        Input(ids.DESK_EXPORT, "n_clicks"),
        State(ids.DESK_SINCE, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def export_handover(_clicks, since_text, language):
        try:
            summary, _ = handover_view(ctx, since_text)
        except DataUnavailableError:
            return no_update  # the view says the database does not answer
        text = parts.alerts_csv(
            summary.alerts, ctx.names(language), ctx.zone, language, since_ms=summary.since.ms, now_ms=summary.until_ms
        )
        return send_string(text, f"floodwatch-handover-{desk.file_stamp(summary.until_ms, ctx.zone)}.csv")

    @app.callback(
        output=Output(ids.DESK_AUDIT_DOWNLOAD, "data"),
        inputs={"_clicks": Input(ids.DESK_AUDIT_EXPORT, "n_clicks")},
        state={"chosen": filter_group(State), "language": LANGUAGE},
        prevent_initial_call=True,
    )
    def export_audit(*, _clicks, chosen, language):
        now = now_ms(ctx)
        try:
            entries = audit_view(ctx, chosen)
        except DataUnavailableError:
            return no_update  # the view says the database does not answer
        csv = parts.audit_csv(entries, ctx.names(language), ctx.zone, language, now)
        return send_string(csv, f"floodwatch-audit-{desk.file_stamp(now, ctx.zone)}.csv")

    @app.callback(
        Output(ids.DESK_MESSAGE, "children"),
        Output(ids.DESK_VERSION, "data", allow_duplicate=True),
        Output(ids.DESK_NOTE, "value"),
        Output(PICKS, "value", allow_duplicate=True),
        Output(ids.DESK_PICK_ALL, "value"),
        Input(ids.DESK_ACK, "n_clicks"),
        Input(ids.DESK_ADD_NOTE, "n_clicks"),
        State(ids.DESK_NOTE, "value"),
        State(PICKS, "value"),
        State(ids.DESK_VERSION, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def act(_ack, _note, note, picks, version, language):
        # a wildcard output takes one value per tick box, never a bare no_update
        unchanged = (no_update, no_update, [no_update for _ in picks or []], no_update)
        try:
            user = ctx.auth.require("officer")
        except NotAllowedError:
            return parts.denied(language), *unchanged
        acknowledge = callback_context.triggered_id == ids.DESK_ACK
        wanted, text = desk.picked_ids(picks), desk.clean_text(note)
        if not wanted or not (acknowledge or text):
            return parts.problem(language, "desk.none_picked" if not wanted else "desk.note_needed"), *unchanged
        try:
            outcome = (ctx.data.acknowledge if acknowledge else ctx.data.add_note)(wanted, user, text)
        except DataUnavailableError:
            return parts.problem(language, "desk.write_failed"), *unchanged
        return parts.outcome_message(outcome, language), (version or 0) + 1, "", [[] for _ in picks or []], []

    @app.callback(
        Output(PICKS, "value", allow_duplicate=True),
        Input(ids.DESK_PICK_ALL, "value"),
        State(PICKS, "id"),
        prevent_initial_call=True,
    )
    def pick_all(value, pick_ids):
        every = "all" in (value or [])
        return [[ident["alert"]] if every else [] for ident in pick_ids or []]

    @app.callback(
        Output(ids.DESK_HANDOVER_MESSAGE, "children"),
        Output(ids.DESK_VERSION, "data", allow_duplicate=True),
        Output(ids.DESK_HANDOVER_NOTE, "value"),
        Input(ids.DESK_HANDOVER_RECORD, "n_clicks"),
        State(ids.DESK_OUTGOING, "value"),
        State(ids.DESK_INCOMING, "value"),
        State(ids.DESK_HANDOVER_NOTE, "value"),
        State(ids.DESK_VERSION, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def record_handover(_clicks, outgoing, incoming, note, version, language):
        try:
            user = ctx.auth.require("officer")
        except NotAllowedError:
            return parts.denied(language), no_update, no_update
        if not (desk.clean_text(outgoing) and desk.clean_text(incoming)):
            return parts.problem(language, "desk.record.names_needed"), no_update, no_update
        try:
            handover = ctx.data.record_handover(user, outgoing, incoming, note)
        except DataUnavailableError:
            return parts.problem(language, "desk.write_failed"), no_update, no_update
        return parts.handover_done(handover.time_ms, ctx.zone, language), (version or 0) + 1, ""

    @app.callback(
        Output(ids.DESK_ACK, "disabled"),
        Output(ids.DESK_ADD_NOTE, "disabled"),
        Output(ids.DESK_HANDOVER_RECORD, "disabled"),
        Output(ids.DESK_ROLE_HINT, "children"),
        Input(ids.URL, "pathname"),
        State(ids.LANG, "data"),
    )
    def courtesy(_path, language):
        # only a courtesy: the actions check the role on the server themselves
        user = ctx.auth.current_user()
        allowed = user is not None and user.may("officer")
        hint = "" if allowed else t(language, "desk.officer_only")
        return not allowed, not allowed, not allowed, hint

    app.clientside_callback(
        SEEN_JS, Output(ids.DESK_SEEN, "data"), Input(ids.DESK_STATUS, "data"), prevent_initial_call=True
    )
    app.clientside_callback(
        TICK_JS,
        Output(ids.DESK_BANNER, "children"),
        Output(ids.DESK_BANNER, "className"),
        Input(ids.DESK_CLOCK_TICK, "n_intervals"),
        State(ids.DESK_SEEN, "data"),
        State(ids.DESK_STATUS, "data"),
        State(ids.DESK_TEXTS, "data"),
    )
    app.clientside_callback(
        VIEW_JS,
        Output(ids.DESK_ALERTS_VIEW, "style"),
        Output(ids.DESK_HANDOVER_VIEW, "style"),
        Output(ids.DESK_AUDIT_VIEW, "style"),
        Output(ids.DESK_FILTERS, "style"),
        Input(ids.DESK_VIEW, "value"),
    )
    app.clientside_callback(
        PRINT_JS, Output(ids.DESK_PRINTED, "data"), Input(ids.DESK_PRINT, "n_clicks"), prevent_initial_call=True
    )

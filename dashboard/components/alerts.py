"""The alert desk's parts: filters, the alerts table, the audit trail, the handover report, messages, CSV.

The CSV exports have the same columns as the tables they export (one definition of each).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html
from dash.development.base_component import Component

from config.catalogue import Catalogue
from config.i18n import t
from dashboard import desk, ids, status
from dashboard.components.common import badge, rule_name, station_link, table
from store.alerts import Alert
from store.explain import render as explain

#: the most rows the alerts table draws (the count says when there are more)
MAX_ROWS = 300


def when(ms: int | None, zone: ZoneInfo) -> str:
    """A local time with its UTC offset: ``2022-01-11 14:15 UTC+08:00`` (empty for None)."""
    if ms is None:
        return ""
    return f"{status.format_time(ms, zone)} {status.zone_label(zone, ms).rsplit(' ', 1)[-1]}"


def zone_note(zone: ZoneInfo, now_ms: int, language: str) -> str:
    """``Times in Asia/Shanghai UTC+08:00``."""
    return t(language, "desk.zone").format(zone=status.zone_label(zone, now_ms))


def state_text(alert: Alert, language: str) -> str:
    """Active unacknowledged, active acknowledged or resolved, in words."""
    return t(language, "desk.state." + desk.alert_state(alert))


def reason(alert: Alert, zone: ZoneInfo, language: str) -> str:
    """Why the alert fired, and when (local time with the zone).

    The explanation is ``store.explain.render``'s: the same sentence as notifications, the API and
    ``floodwatch alerts list``.

    Alerts stored before explanations existed get the rule in words, value, threshold and time.
    """
    if alert.explanation is not None:
        return t(language, "desk.reason.explained").format(
            text=explain(alert.explanation, language, zone), time=when(alert.raised_ms, zone)
        )
    rule = rule_name(alert.rule, language)
    if alert.rule == "suspect" or alert.value is None or alert.threshold is None:
        return t(language, "desk.reason.plain").format(rule=rule, time=when(alert.raised_ms, zone))
    return t(language, "desk.reason").format(
        rule=rule,
        value=desk.measure(alert.value, alert.rule),
        threshold=desk.measure(alert.threshold, alert.rule),
        time=when(alert.raised_ms, zone),
    )


def acknowledged_text(alert: Alert, zone: ZoneInfo) -> str:
    """``2022-01-11 14:20 王丽 (wangli)`` or empty."""
    if alert.acknowledged_ms is None:
        return ""
    return f"{status.format_time(alert.acknowledged_ms, zone)} {alert.acknowledged_by}".strip()


def _labelled(language: str, key: str, control: Component) -> Component:
    return html.Label([html.Span(t(language, key), className="fw-desk-label"), control], className="fw-desk-field")


def dropdown_labels(language: str) -> dcc.Dropdown.Labels:
    """The texts of a multi-select dropdown's own controls."""

    def text(key: str) -> str:
        return t(language, f"desk.dropdown.{key}")

    return dcc.Dropdown.Labels(
        select_all=text("select_all"),
        deselect_all=text("deselect_all"),
        selected_count=text("selected_count"),
        search=text("search"),
        clear_search=text("clear_search"),
        clear_selection=text("clear_selection"),
        no_options_found=text("no_options_found"),
    )


def filters(catalogue: Catalogue, language: str) -> Component:
    """Level, state, kind, river/basin, district, station search and period (remembered by the browser)."""
    basin = t(language, "desk.basin")

    def dropdown(ident: str, key: str, options: list[dict[str, str]]) -> Component:
        return _labelled(
            language,
            key,
            dcc.Dropdown(
                id=ident,
                options=options,
                value=[],
                multi=True,
                placeholder=t(language, "desk.filter.any"),
                labels=dropdown_labels(language),
                persistence=True,
                className="fw-desk-dropdown",
            ),
        )

    def checklist(ident: str, key: str, prefix: str, values: Sequence[str]) -> Component:
        options = [{"label": t(language, prefix + value), "value": value} for value in values]
        return _labelled(
            language,
            key,
            dcc.Checklist(id=ident, options=options, value=[], inline=True, persistence=True, className="fw-lang"),
        )

    return html.Div(
        [
            checklist(ids.DESK_LEVELS, "desk.filter.level", "state.", desk.LEVELS),
            checklist(ids.DESK_STATES, "desk.filter.state", "desk.state.", desk.STATES),
            dropdown(
                ids.DESK_KINDS,
                "desk.filter.kind",
                [{"label": t(language, "kind." + kind), "value": kind} for kind in status.KINDS],
            ),
            dropdown(
                ids.DESK_WATERS,
                "desk.filter.water",
                [
                    {"label": name if kind == "river" else f"{name} ({basin})", "value": value}
                    for value, kind, name in desk.water_options(catalogue)
                ],
            ),
            dropdown(
                ids.DESK_DISTRICTS,
                "desk.filter.district",
                [{"label": name, "value": name} for name in desk.district_options(catalogue)],
            ),
            _labelled(
                language,
                "desk.filter.search",
                dcc.Input(
                    id=ids.DESK_SEARCH,
                    type="search",
                    placeholder=t(language, "desk.filter.search_hint"),
                    debounce=0.4,
                    persistence=True,
                    className="fw-desk-search",
                ),
            ),
            _labelled(
                language,
                "desk.filter.period",
                dcc.RadioItems(
                    id=ids.DESK_PERIOD,
                    options=[{"label": t(language, f"range.{key}"), "value": key} for key in desk.PERIODS],
                    value=desk.DEFAULT_PERIOD,
                    inline=True,
                    persistence=True,
                    className="fw-lang",
                ),
            ),
        ],
        id=ids.DESK_FILTERS,
        className="fw-toolbar fw-desk-filters fw-no-print",
    )


def actions(language: str) -> Component:
    """Select all, the note, acknowledge and add-note buttons, and where their outcome is said."""
    return html.Div(
        [
            dcc.Checklist(
                id=ids.DESK_PICK_ALL,
                options=[{"label": t(language, "desk.select_all"), "value": "all"}],
                value=[],
                className="fw-lang",
            ),
            dcc.Input(
                id=ids.DESK_NOTE,
                type="text",
                placeholder=t(language, "desk.note.placeholder"),
                maxLength=desk.MAX_NOTE,
                className="fw-desk-note",
            ),
            html.Button(t(language, "desk.ack"), id=ids.DESK_ACK, n_clicks=0, className="fw-desk-button"),
            html.Button(t(language, "desk.add_note"), id=ids.DESK_ADD_NOTE, n_clicks=0, className="fw-desk-button"),
            html.Span(id=ids.DESK_ROLE_HINT, className="fw-desk-hint"),
            html.Div(id=ids.DESK_MESSAGE, className="fw-desk-message"),
        ],
        className="fw-toolbar fw-desk-actions fw-no-print",
    )


def alert_rows(alerts: Sequence[Alert], names: Mapping[str, str], zone: ZoneInfo, language: str) -> list[list[str]]:
    """The cells of the alerts table (and its CSV) as text, in the order of ``alert_headers``."""
    return [
        [
            t(language, "state." + a.level),
            state_text(a, language),
            names.get(a.station, a.station),
            a.station,
            rule_name(a.rule, language),
            reason(a, zone, language),
            status.format_time(a.raised_ms, zone),
            acknowledged_text(a, zone),
            a.note,
            status.format_time(a.resolved_ms, zone),
        ]
        for a in alerts
    ]


def alert_headers(language: str) -> list[str]:
    """The alerts table's column titles (after the tick box)."""
    keys = (
        "col.level",
        "col.state",
        "col.station",
        "desk.col.station_id",
        "col.rule",
        "desk.col.reason",
        "col.raised",
        "col.acknowledged",
        "desk.col.note",
        "col.resolved",
    )
    return [t(language, key) for key in keys]


def alerts_table(
    alerts: Sequence[Alert], names: Mapping[str, str], zone: ZoneInfo, language: str, picked: Iterable[str] = ()
) -> Component:
    """The alerts, one row each with a tick box (ticked when its id is in ``picked``), at most ``MAX_ROWS``."""
    if not alerts:
        return html.Div(t(language, "desk.none"), className="fw-desk-empty")
    chosen = set(picked)
    shown = alerts[:MAX_ROWS]
    body = []
    for alert, cells in zip(shown, alert_rows(shown, names, zone, language), strict=True):
        tick = dcc.Checklist(
            id={"type": ids.DESK_PICK, "alert": alert.id},
            options=[{"label": "", "value": alert.id}],
            value=[alert.id] if alert.id in chosen else [],
            className="fw-desk-pick",
        )
        row: list[Any] = [tick, badge(alert.level, language), *cells[1:2], station_link(alert.station, cells[2])]
        row += cells[3:]
        body.append(html.Tr([html.Td(cell) for cell in row], className="fw-desk-" + desk.alert_state(alert)))
    headers = ["", *alert_headers(language)]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)],
        className="fw-table fw-desk-table",
    )


def count_line(shown: Sequence[Alert], total: int, language: str) -> str:
    """How many alerts are shown of how many, how many are active and unacknowledged."""
    unacked = sum(1 for a in shown if desk.alert_state(a) == "open_unacked")
    text = t(language, "desk.count").format(shown=len(shown), total=total, unacked=unacked)
    if len(shown) > MAX_ROWS:
        text += " " + t(language, "desk.truncated").format(limit=MAX_ROWS)
    return text


def denied(language: str) -> Component:
    """The refusal shown to a viewer or an anonymous user (nothing was written)."""
    return html.Div(
        t(language, "auth.denied").format(role=t(language, "role.officer")), className="fw-error", id="desk-denied"
    )


def problem(language: str, key: str) -> Component:
    """A short complaint about the request (nothing was written)."""
    return html.Div(t(language, key), className="fw-desk-problem")


def outcome_message(outcome: desk.Outcome, language: str) -> Component:
    """What an acknowledgement or a note did."""
    parts = [t(language, f"desk.done.{outcome.action}").format(n=len(outcome.done))]
    if outcome.already:
        who = ", ".join(sorted({a.acknowledged_by for a in outcome.already if a.acknowledged_by}))
        parts.append(t(language, "desk.already").format(n=len(outcome.already), who=who))
    if outcome.missing:
        parts.append(t(language, "desk.missing").format(n=len(outcome.missing)))
    return html.Div(" ".join(parts), className="fw-desk-done", id="desk-done")


def event_name(what: str, language: str) -> str:
    """An audit entry's kind in words."""
    return t(language, "desk.event." + what)


def details(entry: desk.AuditEntry) -> str:
    """What an audit entry says: the value against the threshold, the note, who handed over to whom."""
    if entry.what == "handover":
        handed = f"{entry.outgoing} → {entry.incoming}"
        return f"{handed}: {entry.note}" if entry.note else handed
    if entry.what in desk.EVENTS and entry.value is not None:
        value = desk.measure(entry.value, entry.rule)
        return f"{value} / {desk.measure(entry.threshold, entry.rule)}" if entry.threshold is not None else value
    return entry.note


def audit_rows(
    entries: Sequence[desk.AuditEntry], names: Mapping[str, str], zone: ZoneInfo, language: str
) -> list[list[str]]:
    """The cells of the audit trail (and its CSV) as text, in the order of ``audit_headers``."""
    return [
        [
            desk.local_time(e.time_ms, zone),
            event_name(e.what, language),
            t(language, "state." + e.level) if e.level else "",
            desk.names_in(names, e.station),
            e.station,
            rule_name(e.rule, language) if e.rule else "",
            e.by or (t(language, "desk.by_system") if e.what in desk.EVENTS else ""),
            details(e),
            e.alert_id if e.what != "handover" else "",
        ]
        for e in entries
    ]


def audit_headers(language: str) -> list[str]:
    """The audit trail's column titles."""
    keys = (
        "col.time",
        "desk.col.event",
        "col.level",
        "col.station",
        "desk.col.station_id",
        "col.rule",
        "desk.col.by",
        "desk.col.details",
        "desk.col.alert_id",
    )
    return [t(language, key) for key in keys]


def audit_table(
    entries: Sequence[desk.AuditEntry], names: Mapping[str, str], zone: ZoneInfo, language: str, limit: int = 1000
) -> Component:
    """The audit trail, newest first (the last column, the alert id, is left to the CSV)."""
    if not entries:
        return html.Div(t(language, "desk.audit.none"), className="fw-desk-empty")
    rows = [row[:-1] for row in audit_rows(entries[:limit], names, zone, language)]
    return table(audit_headers(language)[:-1], rows, id="desk-audit-table")


def since_text(since: desk.Since, zone: ZoneInfo, language: str) -> str:
    """Where the handover window starts, and why there."""
    time = when(since.ms, zone)
    if since.source == "handover" and since.handover is not None:
        return t(language, "desk.since.handover").format(
            time=time, outgoing=since.handover.outgoing, incoming=since.handover.incoming
        )
    return t(language, f"desk.since.{since.source}").format(time=time)


def _card(language: str, key: str, number: int, ident: str, extra: str = "") -> Component:
    return html.Div(
        [html.H3(t(language, key)), html.Div(str(number), className="fw-big", id=ident), html.Div(extra)],
        className="fw-card",
    )


def handover_report(
    summary: desk.HandoverSummary, names: Mapping[str, str], zone: ZoneInfo, language: str
) -> Component:
    """The printable handover: the window, counts, what is still open, who acknowledged what, what happened."""
    by_level = " · ".join(f"{t(language, 'state.' + lv)} {n}" for lv, n in summary.raised.items())
    unacked = t(language, "desk.handover.unacked").format(n=summary.unacknowledged)
    cards = html.Div(
        [
            _card(language, "desk.handover.open", len(summary.open), "desk-open-count", unacked),
            _card(language, "desk.handover.raised", summary.raised_total, "desk-raised-count", by_level),
            _card(language, "desk.handover.acknowledged", len(summary.acknowledgements), "desk-acked-count"),
            _card(language, "desk.handover.resolved", summary.resolved, "desk-resolved-count"),
            _card(language, "desk.handover.escalated", summary.escalated, "desk-escalated-count"),
        ],
        className="fw-grid",
    )
    open_rows = [
        [
            badge(a.level, language),
            state_text(a, language),
            station_link(a.station, names.get(a.station, a.station)),
            reason(a, zone, language),
            acknowledged_text(a, zone),
            a.note,
        ]
        for a in summary.open
    ]
    open_headers = [
        t(language, k)
        for k in ("col.level", "col.state", "col.station", "desk.col.reason", "col.acknowledged", "desk.col.note")
    ]
    ack_rows = [
        [
            status.format_time(ack.time_ms, zone),
            ack.by,
            badge(ack.alert.level, language),
            names.get(ack.alert.station, ack.alert.station),
            rule_name(ack.alert.rule, language),
            ack.note,
        ]
        for ack in summary.acknowledgements
    ]
    ack_headers = [
        t(language, k) for k in ("col.time", "desk.col.by", "col.level", "col.station", "col.rule", "desk.col.note")
    ]
    window = t(language, "desk.handover.window").format(
        since=when(summary.since.ms, zone), until=when(summary.until_ms, zone)
    )
    return html.Div(
        [
            html.H3(f"{t(language, 'desk.handover.title')} · {window}", id="desk-handover-title"),
            cards,
            html.H3(t(language, "desk.handover.open_title")),
            table(open_headers, open_rows, id="desk-open-table")
            if open_rows
            else html.Div(t(language, "desk.handover.none_open")),
            html.H3(t(language, "desk.handover.acks_title")),
            table(ack_headers, ack_rows, id="desk-acks-table")
            if ack_rows
            else html.Div(t(language, "desk.handover.none_acks")),
            html.H3(t(language, "desk.handover.events_title")),
            audit_table(summary.entries, names, zone, language),
        ],
        className="fw-desk-report",
    )


def handover_form(language: str) -> Component:
    """Who hands over to whom (free text), the handover notes, and the button that records them."""

    def field(key: str, ident: str, limit: int) -> Component:
        return _labelled(language, key, dcc.Input(id=ident, type="text", maxLength=limit, className="fw-desk-note"))

    return html.Div(
        [
            html.H3(t(language, "desk.record.title")),
            field("desk.record.outgoing", ids.DESK_OUTGOING, desk.MAX_NAME),
            field("desk.record.incoming", ids.DESK_INCOMING, desk.MAX_NAME),
            field("desk.record.note", ids.DESK_HANDOVER_NOTE, desk.MAX_NOTE),
            html.Button(
                t(language, "desk.record.submit"), id=ids.DESK_HANDOVER_RECORD, n_clicks=0, className="fw-desk-button"
            ),
            html.Div(id=ids.DESK_HANDOVER_MESSAGE, className="fw-desk-message"),
        ],
        className="fw-card fw-desk-record fw-no-print",
    )


def handover_done(time_ms: int, zone: ZoneInfo, language: str) -> Component:
    """The confirmation of a recorded handover."""
    return html.Div(t(language, "desk.record.done").format(time=when(time_ms, zone)), className="fw-desk-done")


# -- CSV ---------------------------------------------------------------------------------------------


def _zoned(headers: list[str], columns: Iterable[int], zone: ZoneInfo, now_ms: int) -> list[str]:
    label = status.zone_label(zone, now_ms)
    return [f"{h} ({label})" if i in set(columns) else h for i, h in enumerate(headers)]


def alerts_csv(
    alerts: Sequence[Alert], names: Mapping[str, str], zone: ZoneInfo, language: str, *, since_ms: int, now_ms: int
) -> str:
    """The alerts as CSV: the table's columns, then the escalation, the notes and the alert id.

    Times have seconds and the zone in their headers; the notes are those written since ``since_ms``.
    """
    headers = [
        *alert_headers(language),
        t(language, "desk.col.escalated"),
        t(language, "desk.col.notes"),
        t(language, "desk.col.alert_id"),
    ]
    rows = []
    for alert, cells in zip(alerts, alert_rows(alerts, names, zone, language), strict=True):
        cells[6] = desk.local_time(alert.raised_ms, zone)
        if alert.acknowledged_ms is not None:
            cells[7] = f"{desk.local_time(alert.acknowledged_ms, zone)} {alert.acknowledged_by}"
        cells[9] = desk.local_time(alert.resolved_ms, zone)
        rows.append([*cells, desk.local_time(alert.escalated_ms, zone), desk.notes_of(alert, since_ms, zone), alert.id])
    return desk.csv_text(_zoned(headers, (6, 7, 9, 10), zone, now_ms), rows)


def audit_csv(
    entries: Sequence[desk.AuditEntry], names: Mapping[str, str], zone: ZoneInfo, language: str, now_ms: int
) -> str:
    """The audit trail as CSV, the zone in the time column's header."""
    return desk.csv_text(
        _zoned(audit_headers(language), (0,), zone, now_ms), audit_rows(entries, names, zone, language)
    )

"""The header, the language picker, badges and tables shared by the pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from dash import dcc, html
from dash.development.base_component import Component

from config.i18n import t
from config.users import User
from dashboard import ids
from dashboard.auth import LOGIN_PATH, LOGOUT_PATH
from dashboard.theme import STATE_COLOURS


def language_picker(language: str) -> Component:
    """中文 / English radio buttons bound to the language store."""
    return dcc.RadioItems(
        id=ids.LANG_PICK,
        options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}],
        value=language,
        inline=True,
        className="fw-lang",
    )


def header(language: str, active: str) -> Component:
    """The page header: title, navigation, language picker."""
    links = [("/", "nav.map"), ("/wall", "nav.wall"), ("/alerts", "desk.nav"), ("/history", "nav.history")]
    return html.Div(
        [
            html.H1(t(language, "app.title")),
            *[
                dcc.Link(t(language, key), href=href, className="active" if href == active else "")
                for href, key in links
            ],
            html.Span(className="fw-spacer"),
            html.Span(id=ids.USER_BAR, className="fw-user"),
            language_picker(language),
        ],
        className="fw-header",
    )


def user_bar(user: User | None, path: str, language: str) -> Component:
    """Who is logged in (name, role) and a log-out button; or a link to log in and come back here."""
    if user is None:
        return html.A(
            t(language, "user.login"), href=f"{LOGIN_PATH}?lang={language}&next={quote(path)}", id="user-login"
        )
    return html.Span(
        [
            html.Span(f"{user.name or user.login} · {t(language, 'role.' + user.role)}", id="user-name"),
            html.Form(
                html.Button(t(language, "user.logout"), type="submit", id="user-logout"),
                action=LOGOUT_PATH,
                method="POST",
            ),
        ]
    )


def badge(state: str, language: str) -> Component:
    """A coloured label of a state or alert level."""
    colour = STATE_COLOURS.get(state, "#9e9e9e")
    text_colour = "#000" if state in ("yellow", "orange", "stale") else "#fff"
    return html.Span(
        t(language, "state." + state), className="fw-badge", style={"background": colour, "color": text_colour}
    )


def rule_name(rule: str, language: str) -> str:
    """An alert rule id in words: ``rain_3h`` -> "Rainfall in 3 h" / "3小时降雨"; an unknown id as it is."""
    if rule.startswith("rain_") and rule.endswith("h") and rule[5:-1].isdigit():
        return t(language, "rule.rain").format(hours=rule[5:-1])
    key = "rule." + rule
    text = t(language, key)
    return rule if text == key else text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], **kwargs: Any) -> Component:
    """A plain HTML table."""
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        className="fw-table",
        **kwargs,
    )


def station_link(station_id: str, name: str) -> Component:
    """A link to a station's page."""
    return dcc.Link(name, href=f"/station/{station_id}")


def date_range(
    component_id: str, start: str, end: str, today: str, language: str, *, start_id: str = "", end_id: str = ""
) -> Component:
    """Date pickers of a range of local days, first to last (the station page's and the history explorer's)."""
    extra: dict[str, Any] = {}
    if start_id:
        extra = {"start_date_id": start_id, "end_date_id": end_id}
    return dcc.DatePickerRange(
        id=component_id,
        start_date=start or None,
        end_date=end or None,
        max_date_allowed=today,
        display_format="YYYY-MM-DD",
        month_format="YYYY-MM",
        first_day_of_week=1,
        minimum_nights=0,
        updatemode="bothdates",
        clearable=True,
        start_date_placeholder_text=t(language, "history.first_day"),
        end_date_placeholder_text=t(language, "history.last_day"),
        className="fw-dates",
        **extra,
    )

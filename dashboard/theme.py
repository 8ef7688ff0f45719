"""Colours, sizes and the page's CSS (inlined in the HTML: nothing is fetched from elsewhere)."""

from __future__ import annotations

from typing import Final

#: state -> marker colour (warning colours of SL 758-2018; grey for silent; purple for suspect)
STATE_COLOURS: Final[dict[str, str]] = {
    "red": "#e53935",
    "orange": "#fb8c00",
    "yellow": "#fdd835",
    "blue": "#1e88e5",
    "suspect": "#ab47bc",
    "stale": "#9e9e9e",
    "normal": "#43a047",
    "nodata": "#616161",
}
#: rain classes (``status.RAIN_CLASSES``), dry first: the China Meteorological Administration's
#: precipitation map colours (light green, green, light blue, blue, magenta, maroon) after a pale "dry"
RAIN_CLASS_COLOURS: Final = ("#dfe7ec", "#a6f28f", "#3dba3d", "#61b8ff", "#0000ff", "#fa00fa", "#800040")
RAIN_CLASS_SIZES: Final = (7, 9, 10, 12, 14, 16, 18)
#: switchable layers' features by kind: colour and line width (lines) or marker size (points); none of
#: the alert colours, so that an asset is never read as a station's state
LAYER_STYLES: Final[dict[str, tuple[str, int]]] = {
    "district": ("#7b6f8e", 2),
    "river": ("#2f7fc1", 2),
    "levee": ("#795548", 3),
    "dangerous_section": ("#b71c1c", 5),
    "reservoir": ("#006064", 11),
    "sluice": ("#00897b", 9),
    "pumping_station": ("#4527a0", 9),
    "camera": ("#263238", 8),
    "other": ("#607d8b", 2),
}
#: kind -> marker size in px (circles only: other symbols need a sprite server)
KIND_SIZES: Final[dict[str, int]] = {"river": 12, "reservoir": 14, "rain": 8}

LIGHT: Final[dict[str, str]] = {
    "background": "#eef3f7",
    "land": "#f7f5ef",
    "water": "#a9cce3",
    "river": "#5d9bd1",
    "boundary": "#8d8d8d",
    "other": "#e67e22",
    "text": "#222222",
    "paper": "#ffffff",
    "grid": "#dddddd",
}
DARK: Final[dict[str, str]] = {
    "background": "#0b1a2a",
    "land": "#1b2733",
    "water": "#1f4e79",
    "river": "#3f8fd2",
    "boundary": "#8899aa",
    "other": "#f39c12",
    "text": "#f2f2f2",
    "paper": "#0d1117",
    "grid": "#30363d",
}

CSS: Final = """
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Helvetica Neue", Arial,
  sans-serif; color: #222; background: #fafafa; }
a { color: #1565c0; }
.fw-header { display: flex; align-items: center; gap: 1.2em; padding: .5em 1em; background: #0d47a1; color: #fff; }
.fw-header h1 { font-size: 1.2em; margin: 0; }
.fw-header a { color: #fff; text-decoration: none; }
.fw-header a.active { text-decoration: underline; font-weight: bold; }
.fw-header .fw-spacer { flex: 1; }
.fw-lang label { margin-left: .6em; cursor: pointer; }
.fw-hint { margin: .3em 1em; color: #555; font-size: .9em; }
.fw-toolbar { display: flex; align-items: center; gap: .6em; flex-wrap: wrap; }
.fw-toolbar .fw-spacer { flex: 1; }
.fw-dates { display: inline-block; width: 17em; max-width: 100%; }
.fw-page { padding: .5em 1em; }
.fw-login { max-width: 22em; margin: 8vh auto; padding: 1.5em 2em; background: #fff; border-radius: 8px;
  box-shadow: 0 2px 12px rgba(0,0,0,.15); }
.fw-login label { display: block; margin: .8em 0; }
.fw-login input { display: block; width: 100%; box-sizing: border-box; padding: .45em; font-size: 1.05em; }
.fw-login button { padding: .5em 1.5em; font-size: 1.05em; }
.fw-user { display: inline-flex; gap: .6em; align-items: center; margin-right: 1em; }
.fw-user form { display: inline; margin: 0; }
.fw-map { height: calc(100vh - 6.5em); min-height: 420px; }
.fw-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16em, 1fr)); gap: .8em; margin: .8em 0; }
.fw-card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6em .9em; }
.fw-card h3 { margin: 0 0 .4em 0; font-size: 1em; color: #555; }
.fw-big { font-size: 1.6em; font-weight: bold; }
table.fw-table { border-collapse: collapse; width: 100%; }
table.fw-table th, table.fw-table td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #e5e5e5; }
.fw-badge { display: inline-block; min-width: 4.5em; text-align: center; padding: 0 .4em; border-radius: 4px;
  color: #000; font-weight: bold; }
.fw-button { display: inline-block; padding: .25em .9em; border: 1px solid #1565c0; border-radius: 4px;
  background: #fff; text-decoration: none; }
.fw-button:hover { background: #e3f2fd; }
.fw-error { background: #b71c1c; color: #fff; padding: .6em 1em; font-weight: bold; }

/* the wall display: dark, high contrast, large type, readable from across the room (1080p and 4K) */
.fw-wall { background: #0d1117; color: #f2f2f2; height: 100vh; box-sizing: border-box; overflow: hidden;
  padding: .6vw 1vw; font-size: clamp(14px, 1.05vw, 40px); display: flex; flex-direction: column; gap: .6vw; }
.fw-wall .fw-lang label { color: #c9d1d9; }
.fw-wall a { color: #90caf9; }
.fw-wall-top { display: flex; align-items: baseline; gap: 2vw; }
.fw-wall-top h1 { font-size: 1.8em; margin: 0; }
.fw-wall-top .fw-spacer { flex: 1; }
.fw-clock { font-size: 1.8em; font-variant-numeric: tabular-nums; font-weight: bold; }
.fw-datatime { font-size: 1.1em; color: #c9d1d9; }
.fw-wall-body { display: grid; grid-template-columns: 62fr 38fr; gap: 1vw; flex: 1; min-height: 0; }
.fw-wall-map { height: calc(100vh - 6.5em); min-height: 400px; }
/* one screen, never a scroll bar: each panel gets its share of the height and clips its last rows
   (the most urgent are first) */
.fw-wall-side { display: flex; flex-direction: column; gap: .8vw; overflow: hidden; min-height: 0; }
.fw-wall-side .fw-panel { flex: 1 1 0; min-height: 0; overflow: hidden; }
.fw-wall-side .fw-panel:nth-child(2) { flex-grow: 1.6; }
.fw-wall table.fw-table { width: 100%; }
.fw-wall .fw-name { display: inline-block; max-width: 9.5em; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; vertical-align: bottom; }
.fw-counters { display: grid; grid-template-columns: repeat(7, 1fr); gap: .4vw; }
.fw-counter { background: #161b22; border-radius: 6px; padding: .3em .4em; text-align: center;
  border: 2px solid #30363d; }
.fw-counter .fw-n { font-size: 2.3em; font-weight: bold; font-variant-numeric: tabular-nums; line-height: 1.1; }
.fw-counter .fw-l { font-size: .85em; color: #c9d1d9; }
.fw-panel { background: #161b22; border-radius: 6px; padding: .4em .7em; border: 1px solid #30363d; }
.fw-panel h2 { font-size: 1.15em; margin: 0 0 .3em 0; color: #e6edf3; }
.fw-wall table.fw-table td:not(:first-child) { white-space: nowrap; }
.fw-wall table.fw-table td, .fw-wall table.fw-table th { border-bottom: 1px solid #30363d; padding: .15em .4em;
  font-variant-numeric: tabular-nums; }
.fw-banner { display: none; padding: .5em 1em; font-size: 1.5em; font-weight: bold; text-align: center;
  background: #b71c1c; color: #fff; border-radius: 6px; }
.fw-banner.fw-show { display: block; }
.fw-dim { opacity: .35; filter: grayscale(1); transition: opacity .5s; }
@keyframes fw-pulse { 0% { box-shadow: 0 0 0 0 rgba(229,57,53,.9); } 70% { box-shadow: 0 0 0 1.2em rgba(229,57,53,0); }
  100% { box-shadow: 0 0 0 0 rgba(229,57,53,0); } }
.fw-red-active { border-color: #e53935 !important; background: #5c1010 !important; animation: fw-pulse 1.2s infinite; }
.fw-sound-note { color: #ffcdd2; font-size: .9em; }
.fw-wall.fw-red-alarm { outline: .5vw solid #e53935; outline-offset: -.5vw; }

/* the alert desk: filters and actions above the tables; printed without its controls */
.fw-desk .fw-banner { margin: .4em 0; }
.fw-desk-filters, .fw-desk-actions { margin: .5em 0; align-items: flex-end; }
.fw-desk-field { display: inline-flex; flex-direction: column; gap: .15em; }
.fw-desk-label { font-size: .85em; color: #555; }
.fw-desk-dropdown { min-width: 12em; }
.fw-desk-note { width: 32em; max-width: 100%; }
.fw-desk-search { width: 12em; }
.fw-desk-since { width: 17em; }
.fw-desk-button { padding: .4em 1em; cursor: pointer; }
.fw-desk-button:disabled { cursor: not-allowed; opacity: .5; }
.fw-desk-hint { color: #555; font-size: .9em; }
.fw-desk-message { flex-basis: 100%; }
.fw-desk-done { color: #1b5e20; font-weight: bold; }
.fw-desk-problem { color: #b71c1c; font-weight: bold; }
.fw-desk-empty { padding: 1em 0; color: #555; }
.fw-desk-pick label { margin: 0; }
table.fw-desk-table tr.fw-desk-open_unacked td { font-weight: bold; background: #fff8e1; }
table.fw-desk-table tr.fw-desk-resolved td { color: #666; }
.fw-desk-record { margin: 1em 0; max-width: 40em; display: flex; flex-direction: column; gap: .5em; }
.fw-desk-report h3 { margin: .8em 0 .3em 0; }
@media print {
  .fw-header, .fw-no-print, .fw-banner, .fw-desk-pick { display: none !important; }
  body { background: #fff; font-size: 10pt; }
  .fw-page { padding: 0; }
  .fw-card { break-inside: avoid; }
  table.fw-table tr { break-inside: avoid; }
  .fw-badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def index_string(title: str) -> str:
    """Dash's HTML template with our CSS inlined (no stylesheet to fetch, nothing from a CDN)."""
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n{%metas%}\n<title>" + title + "</title>\n{%favicon%}\n{%css%}\n"
        "<style>" + CSS + "</style>\n</head>\n<body>\n{%app_entry%}\n<footer>\n{%config%}\n{%scripts%}\n"
        "{%renderer%}\n</footer>\n</body>\n</html>\n"
    )

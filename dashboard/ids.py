"""Component ids, one constant each (Dash Pages demos' ``ids.py``)."""

from __future__ import annotations

from typing import Final

URL: Final = "url"
LANG: Final = "lang"
LANG_PICK: Final = "lang-pick"
PAGE: Final = "page"
USER_BAR: Final = "user-bar"  # who is logged in, log in / log out

MAP_GRAPH: Final = "map-graph"
MAP_TICK: Final = "map-tick"
MAP_ERROR: Final = "map-error"
MAP_LAYERS: Final = "map-layers"  # the layer switches that are on
MAP_LINK: Final = "map-link"  # the camera link last opened (clientside)
MAP_RAIN_VIEW: Final = "map-rain-view"  # "" (alert state) or a rain total column

WALL: Final = "wall"
WALL_GRAPH: Final = "wall-graph"
WALL_TICK: Final = "wall-tick"
WALL_CLOCK_TICK: Final = "wall-clock-tick"
WALL_CLOCK: Final = "wall-clock"
WALL_DATA_TIME: Final = "wall-data-time"
WALL_COUNTERS: Final = "wall-counters"
WALL_NEAREST: Final = "wall-nearest"
WALL_ALERTS: Final = "wall-alerts"
WALL_RAIN: Final = "wall-rain"
WALL_BANNER: Final = "wall-banner"
WALL_STATUS: Final = "wall-status"  # server: {"ok", "server_ms", "newest_ms"}
WALL_SEEN: Final = "wall-seen"  # client: when the browser last got a good refresh
WALL_TEXTS: Final = "wall-texts"
WALL_BODY: Final = "wall-body"
WALL_RED: Final = "wall-red"  # server: ids of the stations shown red
WALL_RED_SEEN: Final = "wall-red-seen"  # client: the red ids of the previous refresh
WALL_AUDIO: Final = "wall-audio"
WALL_SOUND_NOTE: Final = "wall-sound-note"

STATION_ID: Final = "station-id"
STATION_RANGE: Final = "station-range"
STATION_DATES: Final = "station-dates"  # the custom range's first and last day
STATION_DATE_START: Final = "station-date-start"
STATION_DATE_END: Final = "station-date-end"
STATION_TICK: Final = "station-tick"
STATION_LEVEL: Final = "station-level"
STATION_RAIN: Final = "station-rain"
STATION_SUMMARY: Final = "station-summary"
STATION_ALERTS: Final = "station-alerts"

HISTORY_STATIONS: Final = "history-stations"
HISTORY_RANGE: Final = "history-range"
HISTORY_DATES: Final = "history-dates"  # the custom range's first and last day
HISTORY_DATES_BOX: Final = "history-dates-box"
HISTORY_DATE_START: Final = "history-date-start"
HISTORY_DATE_END: Final = "history-date-end"
HISTORY_AGG: Final = "history-agg"
HISTORY_VIEW: Final = "history-view"  # the checked view (dashboard.explorer.View.as_dict)
HISTORY_GRAPH: Final = "history-graph"
HISTORY_ZOOM: Final = "history-zoom"  # the graph's relayoutData, when it changes the x axes
HISTORY_NOTE: Final = "history-note"  # which aggregation is drawn, and why
HISTORY_EXPORT: Final = "history-export"
HISTORY_EXPORT_CSV: Final = "history-export-csv"
HISTORY_EXPORT_XLSX: Final = "history-export-xlsx"
HISTORY_STATS: Final = "history-stats"
HISTORY_EVENT_A: Final = "history-event-a"
HISTORY_EVENT_B: Final = "history-event-b"
HISTORY_ALIGN: Final = "history-align"
HISTORY_COMPARE: Final = "history-compare"
HISTORY_COMPARE_NOTE: Final = "history-compare-note"

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

DESK: Final = "desk"
DESK_VIEW: Final = "desk-view"  # the tab shown: alerts, handover or audit
DESK_ALERTS_VIEW: Final = "desk-alerts-view"
DESK_HANDOVER_VIEW: Final = "desk-handover-view"
DESK_AUDIT_VIEW: Final = "desk-audit-view"
DESK_FILTERS: Final = "desk-filters"
DESK_LEVELS: Final = "desk-levels"
DESK_STATES: Final = "desk-states"
DESK_KINDS: Final = "desk-kinds"
DESK_WATERS: Final = "desk-waters"  # rivers and basins
DESK_DISTRICTS: Final = "desk-districts"
DESK_SEARCH: Final = "desk-search"
DESK_PERIOD: Final = "desk-period"
DESK_COUNT: Final = "desk-count"
DESK_TABLE: Final = "desk-table"
DESK_PICK: Final = "desk-pick"  # pattern-matching type: one checklist per alert row, {"type", "alert"}
DESK_PICK_ALL: Final = "desk-pick-all"
DESK_NOTE: Final = "desk-note"
DESK_ACK: Final = "desk-ack"
DESK_ADD_NOTE: Final = "desk-add-note"
DESK_MESSAGE: Final = "desk-message"
DESK_ROLE_HINT: Final = "desk-role-hint"
DESK_SINCE: Final = "desk-since"
DESK_SINCE_HINT: Final = "desk-since-hint"
DESK_HANDOVER: Final = "desk-handover"
DESK_PRINT: Final = "desk-print"
DESK_PRINTED: Final = "desk-printed"
DESK_EXPORT: Final = "desk-export"
DESK_AUDIT_EXPORT: Final = "desk-audit-export"
DESK_DOWNLOAD: Final = "desk-download"
DESK_OUTGOING: Final = "desk-outgoing"
DESK_INCOMING: Final = "desk-incoming"
DESK_HANDOVER_NOTE: Final = "desk-handover-note"
DESK_HANDOVER_RECORD: Final = "desk-handover-record"
DESK_HANDOVER_MESSAGE: Final = "desk-handover-message"
DESK_AUDIT: Final = "desk-audit"
DESK_TICK: Final = "desk-tick"
DESK_CLOCK_TICK: Final = "desk-clock-tick"
DESK_BANNER: Final = "desk-banner"
DESK_STATUS: Final = "desk-status"  # server: {"ok", "server_ms"}
DESK_SEEN: Final = "desk-seen"  # client: when the browser last got a good refresh
DESK_TEXTS: Final = "desk-texts"
DESK_VERSION: Final = "desk-version"  # bumped after every write: the views read again at once
DESK_DIGEST: Final = "desk-digest"  # of the rows shown: unchanged rows are not drawn again
DESK_AUDIT_DOWNLOAD: Final = "desk-audit-download"

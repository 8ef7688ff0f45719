"""What every page needs, built once by ``create_app``: settings, catalogue, data layer, basemap."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from config.catalogue import Catalogue
from config.i18n import t
from config.settings import Settings
from dashboard import figures
from dashboard.auth import Auth
from dashboard.cache import TTLCache
from dashboard.data import CACHE_TTL_S, DataLayer, Snapshot
from dashboard.geo import Feature, Layer


@dataclass(frozen=True)
class Context:
    """Per-app (never module-level) state shared by the pages' layouts and callbacks."""

    settings: Settings
    catalogue: Catalogue
    zone: ZoneInfo
    data: DataLayer
    layers: list[Layer]
    features: list[Feature]  # of the switchable layers (assets, cameras, boundaries, rivers)
    center: dict[str, float]
    zoom: float
    refresh_ms: int
    auth: Auth
    #: what is drawn from a snapshot, per language and view: ten screens build it once
    drawn: TTLCache = field(default_factory=lambda: TTLCache(2 * CACHE_TTL_S, max_items=8))

    @property
    def blue_margin_m(self) -> float:
        """Blue when a level is this close below the warning stage (the alert engine's setting)."""
        return self.settings.alerts.blue_margin_m

    @property
    def tile_url(self) -> str:
        """Raster tiles under the map ("" = none)."""
        return self.settings.dashboard.tile_url

    def attribution(self, language: str) -> str:
        """The map's credits: the basemap's, and the tiles' when there are tiles."""
        tiles = self.settings.dashboard.tile_attribution if self.tile_url else ""
        return " · ".join(part for part in (t(language, "map.attribution"), tiles) if part)

    def names(self, language: str) -> dict[str, str]:
        """Station id -> name in ``language``."""
        return {sid: station.display_name(language) for sid, station in self.catalogue.items()}

    def station_traces(
        self,
        snapshot: Snapshot,
        language: str,
        rain_column: str = "",
        shown: Collection[str] | None = None,
        scale: float = 1.0,
    ) -> list[dict[str, Any]]:
        """The map's station traces for ``snapshot`` (``figures.station_traces``), built once per snapshot and view."""
        key = ("stations", snapshot.now_ms, language, rain_column, None if shown is None else frozenset(shown), scale)
        table = snapshot.table if shown is None else figures.shown_stations(snapshot.table, shown)
        return self.drawn.get(
            key,
            lambda: figures.station_traces(table, self.names(language), self.zone, language, rain_column, scale),
        )

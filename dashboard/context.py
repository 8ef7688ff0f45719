"""What every page needs, built once by ``create_app``: settings, catalogue, data layer, basemap."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from config.catalogue import Catalogue
from config.i18n import t
from config.settings import Settings
from dashboard.auth import Auth
from dashboard.data import DataLayer
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

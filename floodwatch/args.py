"""What every command takes from its arguments: the settings."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from config.settings import CONFIG_ENV, Settings, load_settings
from floodwatch.errors import UserError
from floodwatch.logs import configure


def settings_from(args: argparse.Namespace) -> Settings:
    """Load the settings named by ``--config`` or ``$FLOODWATCH_CONFIG`` (or the defaults); apply ``log_level``."""
    path = getattr(args, "config", None) or os.environ.get(CONFIG_ENV)
    settings = load_settings(Path(path) if path else None)
    configure(settings.log_level if not getattr(args, "verbose", False) else "DEBUG", settings.log_format)
    return settings


def parse_time(text: str) -> int:
    """Epoch milliseconds from an ISO 8601 time (UTC when it has no zone) or a date.

    Raises:
        UserError: not a time.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"{text!r} is not a time; use ISO 8601 like 2022-01-10 or 2022-01-10T18:00:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)

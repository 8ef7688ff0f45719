"""What every command takes from its arguments: the settings."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from config.settings import CONFIG_ENV, Settings, load_settings


def settings_from(args: argparse.Namespace) -> Settings:
    """Load the settings named by ``--config`` or ``$FLOODWATCH_CONFIG`` (or the defaults); apply ``log_level``."""
    path = getattr(args, "config", None) or os.environ.get(CONFIG_ENV)
    settings = load_settings(Path(path) if path else None)
    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(settings.log_level)
    return settings

"""The WSGI entry point for a production server: ``gunicorn dashboard.wsgi:app``.

``app`` is the Flask server of ``create_app`` built from the settings file named by
``$FLOODWATCH_CONFIG`` (none: the defaults), secrets from the environment as for every command. A
settings error stops the worker with the same one-line message as the CLI, no traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from config.errors import ConfigError
from config.settings import CONFIG_ENV, load_settings
from dashboard.app import create_app


def build(environ: Mapping[str, str] = os.environ) -> Flask:
    """The Flask server of the dashboard for the settings file named in ``environ``.

    Raises:
        ConfigError: the settings or the catalogue are wrong.
    """
    path = environ.get(CONFIG_ENV)
    return create_app(load_settings(Path(path) if path else None, environ)).server


try:
    app = build()
except ConfigError as exc:
    print(f"floodwatch dashboard: {exc}", file=sys.stderr)
    raise SystemExit(1) from exc

"""``floodwatch dashboard``: serve the Dash app."""

from __future__ import annotations

import argparse

from floodwatch.args import settings_from


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch dashboard``."""
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the web dashboard",
        description="Serve the Dash app on dashboard.host:dashboard.port (default http://127.0.0.1:8050) with "
        "Flask's own server, for local use. Every script and style is served by the app itself: no internet "
        "needed. In production serve it with gunicorn instead: "
        "FLOODWATCH_CONFIG=FILE gunicorn --workers 2 --threads 8 --bind HOST:PORT dashboard.wsgi:app "
        "(README: Serving the dashboard).",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from dashboard.app import create_app  # noqa: PLC0415 - Dash is heavy; other commands do not need it

    settings = settings_from(args)
    app = create_app(settings)
    print(f"floodwatch dashboard: http://{settings.dashboard.host}:{settings.dashboard.port}/", flush=True)
    app.run(host=settings.dashboard.host, port=settings.dashboard.port, debug=False)
    return 0

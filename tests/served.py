"""The dashboard served for tests: ``create_app`` on a real WSGI server on a free loopback port."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server

from config.settings import Settings
from dashboard.app import create_app
from floodwatch.services import free_port
from tests.conftest import Env


class AppServer:
    """``create_app`` served by a real WSGI server on a free loopback port, in a thread."""

    def __init__(self, env: Env, refresh_ms: int = 1000, settings: Settings | None = None) -> None:
        self.port = free_port()
        self.app = create_app(settings or env.settings, refresh_ms=refresh_ms)
        self.server: BaseWSGIServer = make_server("127.0.0.1", self.port, self.app.server, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

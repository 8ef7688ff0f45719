"""The HTTP API's errors: JSON ``{"error": what is wrong, "hint": how to put it right}`` with a status.

Shared by the API's views and the login gate (401, 429), so that a machine client reads one shape of
error whatever refused it. An error never repeats the request's values: a hostile parameter is not
echoed, and credentials never appear in an answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response


class ApiError(Exception):
    """A request the API refuses: its HTTP status, what is wrong and the fix."""

    def __init__(self, status: int, error: str, hint: str = "") -> None:
        super().__init__(f"{status} {error}")
        self.status = status
        self.error = error
        self.hint = hint


def error_response(status: int, error: str, hint: str = "", headers: Mapping[str, str] | None = None) -> Response:
    """The JSON answer of an error."""
    body = json.dumps({"error": error, "hint": hint}, ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json", headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    return response

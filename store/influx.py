"""A small client for InfluxDB's v1 HTTP API: write line protocol, run InfluxQL, create the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import requests

from config.settings import InfluxSettings

_IDENT: Final = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class InfluxError(Exception):
    """InfluxDB could not be used; ``retryable`` tells whether trying again later may succeed."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class RefusedError(InfluxError):
    """InfluxDB refused (some of) the points for what they are (HTTP 400): retrying will not help."""

    def __init__(self, message: str, *, status: int | None = 400) -> None:
        super().__init__(message, status=status, retryable=False)


@dataclass(frozen=True)
class Series:
    """One series of a query result."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]


def quote_literal(value: str) -> str:
    r"""An InfluxQL single-quoted string literal with ``\``, ``'`` and newlines escaped.

    Raises:
        ValueError: the text holds a carriage return (InfluxQL's reader turns it into a newline) or a
            NUL (its end-of-input mark): neither can be quoted faithfully.
    """
    if "\r" in value or "\x00" in value:
        raise ValueError("InfluxQL cannot quote a carriage return or a NUL character")
    # InfluxQL's scanner ends a literal at a raw newline: escape it as it understands, \n
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def quote_ident(name: str) -> str:
    """An InfluxQL double-quoted identifier; only plain identifiers are accepted.

    Raises:
        ValueError: the name is not a plain identifier.
    """
    if not _IDENT.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


class InfluxClient:
    """Keep-alive HTTP session to one database. Thread-safe enough for one writer and readers."""

    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.session = requests.Session()
        self.session.verify = settings.verify_tls
        self.params: dict[str, str] = {"db": settings.database}
        if settings.retention_policy:
            self.params["rp"] = settings.retention_policy
        if settings.token is not None:
            # 2.x and 3.x v1-compatibility endpoints take the token in this header.
            self.session.headers["Authorization"] = f"Token {settings.token.get_secret_value()}"
        elif settings.username and settings.password is not None:
            # Basic auth, not the u/p query parameters: credentials never appear in a URL or its logs
            self.session.auth = (settings.username, settings.password.get_secret_value())

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def ping(self) -> bool:
        """Whether the server answers ``/ping``."""
        try:
            response = self.session.get(f"{self.base}/ping", timeout=self.settings.timeout_s)
        except requests.RequestException:
            return False
        return response.status_code == 204

    def write(self, body: bytes, precision: str = "ms") -> None:
        """Write line protocol.

        Raises:
            RefusedError: HTTP 400: points refused (a partial write keeps the good ones).
            InfluxError: unreachable, auth failure, missing database, or server error (retryable).
        """
        try:
            response = self.session.post(
                f"{self.base}/write",
                params={**self.params, "precision": precision},
                data=body,
                timeout=self.settings.timeout_s,
            )
        except requests.RequestException as exc:
            raise InfluxError(f"InfluxDB at {self.base} unreachable: {type(exc).__name__}") from exc
        if response.status_code == 204:
            return
        message = _error_text(response)
        if response.status_code == 400:
            raise RefusedError(message)
        raise InfluxError(
            f"InfluxDB write failed (HTTP {response.status_code}): {message}", status=response.status_code
        )

    def query(self, influxql: str, *, epoch: str = "ms", method: str = "GET") -> list[Series]:
        """Run InfluxQL (build it with ``quote_literal``/``quote_ident`` only) and return its series.

        Raises:
            InfluxError: the server failed or the statement has an error.
        """
        params = {**self.params, "q": influxql, "epoch": epoch}
        try:
            if method == "POST":
                response = self.session.post(f"{self.base}/query", data=params, timeout=self.settings.timeout_s)
            else:
                response = self.session.get(f"{self.base}/query", params=params, timeout=self.settings.timeout_s)
        except requests.RequestException as exc:
            raise InfluxError(f"InfluxDB at {self.base} unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise InfluxError(
                f"InfluxDB query failed (HTTP {response.status_code}): {_error_text(response)}",
                status=response.status_code,
            )
        series: list[Series] = []
        for result in response.json().get("results", []):
            if "error" in result:
                raise InfluxError(f"InfluxQL error: {result['error']}", retryable=False)
            for item in result.get("series", []):
                series.append(
                    Series(
                        item.get("name", ""),
                        item.get("tags", {}),
                        item.get("columns", []),
                        item.get("values", []),
                    )
                )
        return series

    def rows(self, influxql: str) -> list[dict[str, Any]]:
        """The query's points as dicts of column -> value, each with its series' tags.

        Raises:
            InfluxError: as ``query``.
        """
        out: list[dict[str, Any]] = []
        for series in self.query(influxql):
            for values in series.values:
                row = dict(zip(series.columns, values, strict=True))
                row.update(series.tags)
                out.append(row)
        return out

    def check_access(self) -> None:
        """Fail now, clearly, when the credentials are refused (``/ping`` answers without them).

        Raises:
            InfluxError: unreachable (retryable) or credentials refused (not retryable), naming which.
        """
        try:
            self.query("SHOW MEASUREMENTS LIMIT 1")
        except InfluxError as exc:
            if exc.status in (401, 403):
                how = (
                    "token (FLOODWATCH_INFLUX_TOKEN)"
                    if self.settings.token
                    else (
                        f"user {self.settings.username!r} (FLOODWATCH_INFLUX_USERNAME/PASSWORD)"
                        if self.settings.username
                        else "no credentials (set FLOODWATCH_INFLUX_USERNAME/PASSWORD or FLOODWATCH_INFLUX_TOKEN)"
                    )
                )
                raise InfluxError(
                    f"InfluxDB at {self.base} refused {how}: HTTP {exc.status}", status=exc.status, retryable=False
                ) from exc
            if exc.status == 404 or "database not found" in str(exc):
                return  # created at start when allowed
            raise

    def create_database(self) -> None:
        """``CREATE DATABASE`` (a no-op when it exists)."""
        self.query(f"CREATE DATABASE {quote_ident(self.settings.database)}", method="POST")


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text.strip()[:500]

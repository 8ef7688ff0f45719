"""The configuration error raised at start-up, with where it is and how to fix it."""

from __future__ import annotations

import re
from pathlib import Path


class ConfigError(Exception):
    """A setting, catalogue row or input file is wrong; carries the place and a fix.

    Args:
        message: what is wrong.
        path: the file, if any.
        line: the 1-based line in that file, if known.
        key: the setting or column, if any.
        hint: how to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.key = key
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """One human line (two with the hint): ``file:line: key: message`` then ``Fix: hint``."""
        where = ""
        if self.path is not None:
            where = str(self.path) + (f":{self.line}" if self.line is not None else "") + ": "
        key = f"{self.key}: " if self.key else ""
        text = f"{where}{key}{self.message}"
        return text + (f"\n  Fix: {self.hint}" if self.hint else "")


def toml_error_line(message: str) -> int | None:
    """The line a ``tomllib.TOMLDecodeError`` message names (``... (at line 3, column 10)``), if any."""
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None

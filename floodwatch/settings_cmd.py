"""``floodwatch settings``: every setting with its default, current value and meaning."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from config.settings import PACKAGE_DIR, SECRET_ENV, Settings
from floodwatch.args import settings_from


def leaves(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any, Any, str]]:
    """``(dotted name, current value, default, help)`` of every setting, sections in order."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from leaves(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value, field.get_default(call_default_factory=True), field.description or ""


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "{" + ", ".join(f"{k} = {_show(getattr(value, k))}" for k in type(value).model_fields) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, SecretStr):
        return '"********"'
    if value is None:
        return "(none)"
    if isinstance(value, Path) and value.is_relative_to(PACKAGE_DIR.parent):
        return json.dumps(str(value.relative_to(PACKAGE_DIR.parent)))
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return json.dumps(value if isinstance(value, bool | int | float) else str(value), ensure_ascii=False)


def markdown(settings: Settings) -> str:
    """The README's settings table (defaults, not the current values)."""
    env = {f"{section}.{key}": var for (section, key), var in SECRET_ENV.items()}
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for name, _value, default, text in leaves(settings):
        shown = f"env `{env[name]}`" if name in env else f"`{_show(default)}`"
        rows.append(f"| `{name}` | {shown} | {text} |")
    return "\n".join(rows)


def toml(settings: Settings) -> str:
    """The current settings as a commented TOML file (secrets masked)."""
    lines: list[str] = ["# floodwatch settings: every key, its meaning and its current value"]
    section = ""
    for name, value, _default, text in leaves(settings):
        head, _, key = name.rpartition(".")
        if head != section:
            lines += ["", f"[{head}]"]
            section = head
        lines.append(f"# {text}")
        secret = next((var for (s, k), var in SECRET_ENV.items() if f"{s}.{k}" == name), None)
        if secret:
            lines.append(f"# {key} comes from the environment: {secret}")
        elif value is not None:
            lines.append(f"{key} = {_show(value)}")
        else:
            lines.append(f"# {key} =")
    return "\n".join(lines) + "\n"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``floodwatch settings``."""
    parser = subparsers.add_parser(
        "settings",
        help="show every setting, its value and its meaning",
        description="Print the settings in effect as a commented TOML file (a good start for your own "
        "--config file; secrets are masked), or with --markdown the table of the README.",
    )
    parser.add_argument("--markdown", action="store_true", help="print the README's table of settings and defaults")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the settings."""
    settings = settings_from(args)
    print(markdown(settings) if args.markdown else toml(settings), end="" if not args.markdown else "\n")
    return 0

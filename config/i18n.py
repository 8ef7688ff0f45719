"""UI and message texts in Chinese and English, from ``config/i18n/<lang>.json``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from config.errors import ConfigError

FOLDER = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("zh", "en")


@cache
def texts(language: str) -> dict[str, str]:
    """All texts of ``language``.

    Raises:
        ConfigError: the translation file is missing or not a JSON object of strings.
    """
    path = FOLDER / f"{language}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read translations: {exc}", path=path, hint="restore the file from the repo") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError("translations must be a JSON object of strings", path=path)
    return data


def t(language: str, key: str) -> str:
    """The text for ``key`` in ``language`` (the key itself if missing, so a gap shows, not crashes)."""
    return texts(language).get(key, key)

"""UI and message texts in Chinese and English.

``config/i18n/<lang>.json`` holds the texts of the pages that came first; each later part of the
product keeps its own in ``config/i18n/<part>/<lang>.json`` (so parts are translated, reviewed and
merged on their own). A key defined in two files is an error, not a silent override.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from config.errors import ConfigError

FOLDER = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("zh", "en")


def files(folder: Path, language: str) -> list[Path]:
    """The translation files of ``language``: the main one first, then each part's, by name."""
    return [folder / f"{language}.json", *sorted(folder.glob(f"*/{language}.json"))]


@cache
def texts(language: str) -> dict[str, str]:
    """All texts of ``language`` (read once)."""
    return load(FOLDER, language)


def load(folder: Path, language: str) -> dict[str, str]:
    """All texts of ``language`` in the translation files under ``folder``.

    Raises:
        ConfigError: a translation file is missing, not a JSON object of strings, or repeats a key of another.
    """
    merged: dict[str, str] = {}
    where: dict[str, Path] = {}
    for path in files(folder, language):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read translations: {exc}", path=path, hint="restore the file from the repo"
            ) from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ConfigError("translations must be a JSON object of strings", path=path)
        clash = sorted(data.keys() & where.keys())
        if clash:
            raise ConfigError(
                f"the key {clash[0]!r} is defined in {where[clash[0]]} too", path=path, hint="keep each key in one file"
            )
        merged.update(data)
        where.update(dict.fromkeys(data, path))
    return merged


def t(language: str, key: str) -> str:
    """The text for ``key`` in ``language`` (the key itself if missing, so a gap shows, not crashes)."""
    return texts(language).get(key, key)

"""Translation files: the main file per language plus one per part, merged, with every key in one file only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.i18n import FOLDER, LANGUAGES, files, load


def write(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_parts_are_merged_into_the_main_texts(tmp_path: Path) -> None:
    """Keys of config/i18n/<part>/<lang>.json join those of <lang>.json."""
    write(tmp_path / "en.json", {"a": "A"})
    write(tmp_path / "sl651" / "en.json", {"sl651.b": "B"})
    assert load(tmp_path, "en") == {"a": "A", "sl651.b": "B"}


def test_a_key_in_two_files_is_refused_naming_both(tmp_path: Path) -> None:
    """The same key in two files stops with a message naming the key and both files."""
    write(tmp_path / "zh.json", {"a": "甲"})
    write(tmp_path / "part" / "zh.json", {"a": "乙"})
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "zh")
    message = str(error.value)
    assert "'a'" in message
    assert str(tmp_path / "zh.json") in message
    assert str(tmp_path / "part" / "zh.json") in message


def test_every_shipped_part_has_both_languages_with_the_same_keys() -> None:
    """Each shipped translation file has its counterpart in every language, with the same keys."""
    for path in files(FOLDER, "en"):
        keys = {
            language: set(json.loads(path.with_name(f"{language}.json").read_text("utf-8"))) for language in LANGUAGES
        }
        assert keys["zh"] == keys["en"], path

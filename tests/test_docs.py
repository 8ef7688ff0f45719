"""The README's reference tables are the ones the code generates, so documentation cannot drift."""

from __future__ import annotations

from config.catalogue import COLUMNS
from config.settings import load_settings
from floodwatch.settings_cmd import markdown
from ingest.decode import REASONS
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_settings_table_is_generated_from_the_settings_model() -> None:
    """`floodwatch settings --markdown` output (every setting, default and help) is in the README verbatim."""
    assert markdown(load_settings(None, {})) in README


def test_readme_documents_every_catalogue_column() -> None:
    """Every canonical catalogue column is in the README with its meaning."""
    for column, meaning in COLUMNS.items():
        assert f"| `{column}` | {meaning} |" in README


def test_readme_documents_every_reject_reason() -> None:
    """Every reason the decoder can give is explained in the README."""
    for reason, meaning in REASONS.items():
        assert f"| `{reason}` | {meaning} |" in README


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one() -> None:
    """The set-up block holds the two commands, and .ci/run calls the test one."""
    block = README.split("## Set up", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["scripts/up", "scripts/test"]
    assert "exec scripts/test" in (REPO / ".ci" / "run").read_text()

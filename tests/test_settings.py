"""Typed settings: defaults, file/line/key/fix errors, secrets from the environment, documentation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.errors import ConfigError
from config.settings import DEFAULT_CATALOGUE, SECRET_ENV, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
FILE_SECRETS = [(section, key, var) for (section, key), var in SECRET_ENV.items() if key != "username"]


def write(tmp_path: Path, text: str | bytes, name: str = "floodwatch.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env or {})
    return info.value


def leaf_settings(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every setting as (dotted name, field), walking into the section models."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from leaf_settings(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", info


def test_defaults_load_without_a_file() -> None:
    """Without a file or environment the settings are the documented defaults."""
    settings = load_settings(None, {})
    assert settings == Settings()
    assert settings.catalogue == DEFAULT_CATALOGUE
    assert settings.var_dir == Path("var")
    assert settings.mqtt.port == 11883
    assert settings.influx.token is None
    assert settings.mqtt.password is None


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    """An empty settings file (comments only) gives the defaults."""
    assert load_settings(write(tmp_path, "# nothing set\n"), {}) == Settings()


def test_file_values_override_defaults(tmp_path: Path) -> None:
    """Values in the file replace the defaults of their section only."""
    path = write(tmp_path, 'language = "en"\n\n[mqtt]\nport = 1883\nhost = "broker.example"\n')
    settings = load_settings(path, {})
    assert (settings.language, settings.mqtt.port, settings.mqtt.host) == ("en", 1883, "broker.example")
    assert settings.influx == Settings().influx


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error is a ConfigError naming the file and the line, with a fix."""
    path = write(tmp_path, "# settings\n[mqtt]\nhost = broker.example\n")
    error = load_error(path)
    assert error.path == path
    assert error.line == 3
    assert f"{path}:3:" in str(error)
    assert "Fix:" in str(error)


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        pytest.param('[mqtt]\nhost = "h"\nport = "x"\n', 3, "mqtt.port", "integer", id="wrong-type"),
        pytest.param("[mqtt]\nport = 70000\n", 2, "mqtt.port", "65535", id="out-of-range-port"),
        pytest.param("[ingest]\n\nbatch_size = 0\n", 3, "ingest.batch_size", "greater than", id="out-of-range"),
        pytest.param('language = "fr"\n', 1, "language", "zh", id="not-a-choice"),
        pytest.param('[mqtt]\nhost = "h"\nprot = 1883\n', 3, "mqtt.prot", "port", id="unknown-key-in-section"),
        pytest.param('# top\ncatalog = "x.csv"\n', 2, "catalog", "catalogue", id="unknown-key-at-top"),
    ],
)
def test_invalid_setting_names_file_line_key_and_fix(
    tmp_path: Path, text: str, line: int, key: str, words: str
) -> None:
    """A wrong type, a value out of range or an unknown key names the file, the key's line, the dotted key, a fix."""
    path = write(tmp_path, text)
    error = load_error(path)
    assert (error.path, error.line, error.key) == (path, line, key)
    message = str(error)
    assert message.startswith(f"{path}:{line}: {key}: ")
    assert "\n  Fix: " in message
    assert words in message


def test_unknown_key_hint_lists_the_known_keys(tmp_path: Path) -> None:
    """The fix for a misspelt key lists the keys known in its section."""
    error = load_error(write(tmp_path, "[ingest]\nbatchsize = 10\n"))
    assert error.hint is not None
    assert "batch_size" in error.hint
    assert "batchsize" in error.hint


@pytest.mark.parametrize(("section", "key", "var"), FILE_SECRETS)
def test_secrets_in_the_file_are_refused_naming_the_env_var(tmp_path: Path, section: str, key: str, var: str) -> None:
    """A password or token in the settings file is refused, naming its line and the environment variable to use."""
    path = write(tmp_path, f'[{section}]\n# secret below\n{key} = "s3cret-value"\n')
    error = load_error(path)
    assert (error.path, error.line, error.key) == (path, 3, f"{section}.{key}")
    assert var in str(error)
    assert "s3cret-value" not in str(error)


def test_usernames_may_be_in_the_file(tmp_path: Path) -> None:
    """A user name is not a secret and may be set in the file."""
    settings = load_settings(write(tmp_path, '[mqtt]\nusername = "ingest"\n'), {})
    assert settings.mqtt.username == "ingest"


def test_secrets_come_from_env_and_never_show_in_repr() -> None:
    """FLOODWATCH_* secrets fill SecretStr fields whose values never appear in repr or str of the settings."""
    env = {
        "FLOODWATCH_INFLUX_TOKEN": "tok-9f8e7d6c",
        "FLOODWATCH_MQTT_PASSWORD": "pw-1a2b3c4d",
        "FLOODWATCH_INFLUX_PASSWORD": "pw-5e6f7a8b",
        "FLOODWATCH_MQTT_USERNAME": "ingest-user",
    }
    settings = load_settings(None, env)
    assert settings.influx.token is not None
    assert settings.influx.token.get_secret_value() == "tok-9f8e7d6c"
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "pw-1a2b3c4d"
    assert settings.influx.password is not None
    assert settings.influx.password.get_secret_value() == "pw-5e6f7a8b"
    assert settings.mqtt.username == "ingest-user"
    for text in (repr(settings), str(settings), repr(settings.mqtt), repr(settings.influx)):
        for secret in ("tok-9f8e7d6c", "pw-1a2b3c4d", "pw-5e6f7a8b"):
            assert secret not in text


def test_empty_secret_env_vars_are_ignored() -> None:
    """An empty secret environment variable leaves the secret unset."""
    settings = load_settings(None, {"FLOODWATCH_INFLUX_TOKEN": "", "FLOODWATCH_MQTT_PASSWORD": ""})
    assert settings.influx.token is None
    assert settings.mqtt.password is None


def test_env_secrets_combine_with_the_file(tmp_path: Path) -> None:
    """Secrets from the environment join the file's section without replacing its other keys."""
    path = write(tmp_path, '[influx]\nurl = "http://db.example:8086"\n')
    settings = load_settings(path, {"FLOODWATCH_INFLUX_TOKEN": "tok-1"})
    assert settings.influx.url == "http://db.example:8086"
    assert settings.influx.token is not None
    assert settings.influx.token.get_secret_value() == "tok-1"


def test_relative_paths_resolve_against_the_files_folder(tmp_path: Path) -> None:
    """Relative catalogue, var_dir and ca_file paths in the file are relative to the file's folder, not the cwd."""
    path = write(
        tmp_path,
        'catalogue = "stations/my.csv"\nvar_dir = "state"\n[mqtt]\nca_file = "ca.pem"\n',
        name="conf/floodwatch.toml",
    )
    settings = load_settings(path, {})
    assert settings.catalogue == tmp_path / "conf" / "stations" / "my.csv"
    assert settings.var_dir == tmp_path / "conf" / "state"
    assert settings.mqtt.ca_file == tmp_path / "conf" / "ca.pem"
    assert settings.spool_dir == tmp_path / "conf" / "state" / "spool"


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    """An absolute catalogue path in the file is used as it is."""
    catalogue = tmp_path / "elsewhere" / "c.csv"
    settings = load_settings(write(tmp_path, f'catalogue = "{catalogue.as_posix()}"\n'), {})
    assert settings.catalogue == catalogue


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    """A time zone that is not an IANA name is refused with its line and key."""
    path = write(tmp_path, 'language = "en"\ntimezone = "Mars/Olympus_Mons"\n')
    error = load_error(path)
    assert (error.line, error.key) == (2, "timezone")
    assert "Mars/Olympus_Mons" in str(error)
    assert "Fix:" in str(error)


def test_known_timezone_is_accepted(tmp_path: Path) -> None:
    """An IANA time zone name is accepted."""
    assert load_settings(write(tmp_path, 'timezone = "Europe/Paris"\n'), {}).timezone == "Europe/Paris"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A settings file that cannot be read is a ConfigError naming it."""
    error = load_error(tmp_path / "absent.toml")
    assert error.path == tmp_path / "absent.toml"
    assert "Fix:" in str(error)


def test_every_setting_has_a_one_line_description() -> None:
    """Every setting, in every section, has a non-empty one-line description (its help) and a default."""
    names = []
    for name, info in leaf_settings():
        names.append(name)
        assert info.description, f"{name} has no description"
        assert info.description.strip(), f"{name} has a blank description"
        assert "\n" not in info.description, f"{name}: one line of help, please"
        assert not info.is_required(), f"{name} has no default"
    assert {"catalogue", "mqtt.port", "influx.token", "ingest.batch_size", "dashboard.port"} <= set(names)


def test_every_setting_is_documented_in_the_readme() -> None:
    """The README names every setting by its dotted name (secrets may be named by their environment variable)."""
    readme = ROOT / "README.md"
    assert readme.is_file(), "README.md is missing: it must document every setting"
    text = readme.read_text(encoding="utf-8")
    env_of = {f"{section}.{key}": var for (section, key), var in SECRET_ENV.items()}
    missing = [
        name
        for name, _ in leaf_settings()
        if f"`{name}`" not in text and not (name in env_of and f"`{env_of[name]}`" in text)
    ]
    assert missing == [], f"settings missing from README.md: {', '.join(missing)}"


# ---- bugs found while writing these tests (see the report) -------------------------------------


def test_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    """A settings file saved in another encoding (e.g. GBK or Latin-1) is a ConfigError naming it, not a traceback."""
    path = write(tmp_path, '# 设置\ntimezone = "Asia/Shanghai"\n'.encode("gbk"))
    error = load_error(path)
    assert error.path == path
    assert "Fix:" in str(error)


def test_misspelt_section_header_names_its_line(tmp_path: Path) -> None:
    """An unknown section such as `[influxdb]` is reported at the line of its header, like any unknown key."""
    path = write(tmp_path, '[mqtt]\nport = 1883\n[influxdb]\nurl = "http://db:8086"\n')
    error = load_error(path)
    assert (error.path, error.line, error.key) == (path, 3, "influxdb")
    assert str(error).startswith(f"{path}:3: influxdb: ")
    assert "influx" in str(error.hint)


@pytest.mark.parametrize(
    ("section", "var"), [("mqtt", "FLOODWATCH_MQTT_PASSWORD"), ("influx", "FLOODWATCH_INFLUX_TOKEN")]
)
def test_section_that_is_not_a_table_is_a_config_error_even_with_secrets_in_env(
    tmp_path: Path, section: str, var: str
) -> None:
    """A section given as a plain value is a ConfigError on its line even when a secret for it is in the environment."""
    path = write(tmp_path, f'# settings\n{section} = "localhost"\n')
    error = load_error(path, {var: "secret"})
    assert (error.line, error.key) == (2, section)


@pytest.mark.parametrize("value", ["2010-01-01T00:00:00", "2010-01-01"])
def test_oldest_without_a_zone_is_not_read_as_host_local_time(tmp_path: Path, value: str) -> None:
    """A TOML local date(-time) for ingest.oldest is refused or read as UTC, never left to the host's zone."""
    path = write(tmp_path, f"[ingest]\noldest = {value}\n")
    refused: ConfigError | None = None
    try:
        settings = load_settings(path, {})
    except ConfigError as error:
        refused = error
    if refused is not None:
        assert str(refused.key).startswith("ingest.oldest")
    else:
        assert settings.ingest.oldest.utcoffset() is not None, f"ingest.oldest = {value} is naive"

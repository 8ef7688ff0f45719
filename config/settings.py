"""Typed settings: one TOML file plus environment variables for secrets, validated once at start-up."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from config.contract import DEFAULT_PREFIX
from config.errors import ConfigError, toml_error_line

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_CATALOGUE = PACKAGE_DIR / "catalogues" / "garonne.csv"
CONFIG_ENV = "FLOODWATCH_CONFIG"
SECRETS_FILE_ENV = "FLOODWATCH_SECRETS_FILE"

#: secrets never live in the settings file: (section, key) -> environment variable
SECRET_ENV: dict[tuple[str, str], str] = {
    ("mqtt", "username"): "FLOODWATCH_MQTT_USERNAME",
    ("mqtt", "password"): "FLOODWATCH_MQTT_PASSWORD",
    ("influx", "username"): "FLOODWATCH_INFLUX_USERNAME",
    ("influx", "password"): "FLOODWATCH_INFLUX_PASSWORD",
    ("influx", "token"): "FLOODWATCH_INFLUX_TOKEN",
    ("dashboard", "secret_key"): "FLOODWATCH_DASHBOARD_SECRET_KEY",
}

Port = Annotated[int, Field(ge=0, le=65535)]
Positive = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttSettings(_Strict):
    """The MQTT broker the stations publish to and the ingester subscribes to."""

    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: Port = Field(11883, description="Broker port (the local services use it too; 8883 is usual for TLS).")
    tls: bool = Field(False, description="Connect with TLS.")
    ca_file: Path | None = Field(None, description="CA certificate for TLS; empty uses the system's CAs.")
    client_id: str = Field(
        "floodwatch-ingest",
        min_length=1,
        max_length=64,
        description="Ingester client id: keeps its persistent session; give every replica its own.",
    )
    topic_prefix: str = Field(
        DEFAULT_PREFIX, min_length=1, description="Stations publish to PREFIX/STATION_ID (contract v1)."
    )
    shared_group: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_\-]*$",
        description="Shared-subscription group: replicas in one group split the stream; empty = none.",
    )
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keep-alive interval in seconds.")
    session_expiry_s: int = Field(
        7 * 86400,
        ge=60,
        description="How long the broker keeps the ingester's queued readings while it is away.",
    )
    receive_maximum: int = Field(
        10000,
        ge=10,
        le=65535,
        description="Most un-acknowledged messages the broker may send the ingester at once (backpressure).",
    )
    reconnect_min_s: Positive = Field(1.0, description="First reconnect delay in seconds.")
    reconnect_max_s: Positive = Field(30.0, description="Longest reconnect delay in seconds (backoff cap).")
    username: str | None = Field(None, description="Broker user; from FLOODWATCH_MQTT_USERNAME.")
    password: SecretStr | None = Field(None, description="Broker password; from FLOODWATCH_MQTT_PASSWORD.")


class InfluxSettings(_Strict):
    """InfluxDB, reached through its v1-compatible HTTP API (1.x, 2.x and 3.x serve it)."""

    url: str = Field(
        "http://127.0.0.1:18086",
        pattern=r"^https?://[^/\s]+(/\S*)?$",
        description="Base URL of the InfluxDB HTTP API (the local services use its port).",
    )
    database: str = Field(
        "floodwatch",
        pattern=r"^[A-Za-z0-9_\-]{1,64}$",
        description="Database (1.x) or DBRP-mapped bucket name (2.x/3.x).",
    )
    retention_policy: str = Field(
        "", pattern=r"^[A-Za-z0-9_\-]*$", description="Retention policy to write to; empty = the default."
    )
    create_database: bool = Field(
        True, description="Create the database at start-up when missing (needs rights on 1.x)."
    )
    timeout_s: Positive = Field(10.0, description="HTTP timeout of one request in seconds.")
    verify_tls: bool = Field(True, description="Check the server certificate on https URLs.")
    username: str | None = Field(None, description="1.x user; from FLOODWATCH_INFLUX_USERNAME.")
    password: SecretStr | None = Field(None, description="1.x password; from FLOODWATCH_INFLUX_PASSWORD.")
    token: SecretStr | None = Field(None, description="2.x/3.x API token; from FLOODWATCH_INFLUX_TOKEN.")


class IngestSettings(_Strict):
    """The ingester: validation, batching, retries, the disk spool and the metrics endpoint."""

    role: Literal["all", "write", "alerts"] = Field(
        "all",
        description="all: store and evaluate; write: store only (replicas on mqtt.shared_group); alerts: evaluate "
        "the stations of alerts.partition only (see docs/scaling.md).",
    )
    batch_size: int = Field(5000, ge=1, le=100_000, description="Points per InfluxDB write, at most.")
    flush_interval_s: Positive = Field(0.25, description="Longest wait before a partial batch is written.")
    max_future_s: float = Field(
        300.0, ge=0, description="Readings stamped further ahead of the ingester's clock are rejected."
    )
    oldest: datetime = Field(datetime(2000, 1, 1, tzinfo=UTC), description="Readings stamped before this are rejected.")
    max_payload_bytes: int = Field(256 * 1024, ge=256, description="Larger MQTT payloads are rejected.")
    station_rate_per_s: float = Field(
        1000.0,
        gt=0,
        description="Messages a second one station topic may send after its burst (a replay at full speed "
        "sends ~300); more are rejected as rate_limited.",
    )
    station_burst: int = Field(
        20_000, ge=1, description="Messages one station topic may send at once (a month of 5-min backlog fits)."
    )
    max_readings_per_message: int = Field(
        5000, ge=1, description="A gateway batch with more readings is rejected whole."
    )
    spool_max_mb: int = Field(
        1024, ge=1, description="Disk kept for readings while InfluxDB is down; when full, acks stop."
    )
    retry_min_s: Positive = Field(0.5, description="First delay before writing the spool again.")
    retry_max_s: Positive = Field(30.0, description="Longest delay between spool write attempts.")
    on_startup_error: Literal["retry", "fail"] = Field(
        "retry",
        description="When the broker or InfluxDB is unreachable at start: retry with backoff, or exit.",
    )
    metrics_host: str = Field("127.0.0.1", description="Address of the /metrics and /health endpoint.")
    metrics_port: Port = Field(9108, description="Port of the /metrics endpoint; 0 turns it off.")
    log_interval_s: Positive = Field(60.0, description="How often the counters are logged.")

    @field_validator("oldest", mode="after")
    @classmethod
    def _utc_unless_zoned(cls, value: datetime) -> datetime:
        # a TOML local date or date-time must not depend on the host's zone
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ServicesSettings(_Strict):
    """The local Mosquitto and InfluxDB that ``floodwatch services`` runs (not used for remote ones)."""

    mosquitto_bin: str = Field("mosquitto", description="Mosquitto executable.")
    influxd_bin: str = Field("influxd", description="InfluxDB 1.x server executable.")
    influx_rpc_port: Port = Field(18088, description="Local InfluxDB's backup/RPC port (loopback only).")
    mqtt_max_queued: int = Field(
        2_000_000,
        ge=1000,
        description="Messages Mosquitto queues per offline or slow client before dropping.",
    )
    start_timeout_s: Positive = Field(30.0, description="How long to wait for a service to answer.")
    mqtt_password_file: Path | None = Field(
        None, description="Local Mosquitto: its password file (mosquitto_passwd); set, anonymous access ends."
    )
    mqtt_acl_file: Path | None = Field(None, description="Local Mosquitto: its ACL file (who may publish where).")
    mqtt_certfile: Path | None = Field(None, description="Local Mosquitto: server certificate (PEM); set, TLS only.")
    mqtt_keyfile: Path | None = Field(None, description="Local Mosquitto: the certificate's private key (PEM).")
    influx_auth: bool = Field(
        False,
        description="Local InfluxDB: require authentication (the first start creates the admin user "
        "from FLOODWATCH_INFLUX_USERNAME/PASSWORD).",
    )


class RainRule(_Strict):
    """One rolling-window rain threshold: ``mm`` or more within ``window_h`` hours raises ``level``."""

    window_h: Annotated[int, Field(ge=1, le=72)] = Field(description="Window length in hours.")
    mm: Annotated[float, Field(gt=0)] = Field(description="Rain amount in the window, millimetres.")
    level: Literal["blue", "yellow", "orange", "red"] = Field(description="Warning level raised.")


#: China Meteorological Administration rainstorm signals (DESIGN.md §4)
CMA_RAIN_RULES = (
    RainRule(window_h=12, mm=50, level="blue"),
    RainRule(window_h=6, mm=50, level="yellow"),
    RainRule(window_h=3, mm=50, level="orange"),
    RainRule(window_h=3, mm=100, level="red"),
)


class Channel(_Strict):
    """A notification channel: a webhook (JSON POST) or e-mail (SMTP), in one escalation group."""

    kind: Literal["webhook", "email"] = Field(description="webhook or email.")
    group: str = Field("duty", min_length=1, description="duty: every alert; escalation: escalated ones.")
    language: Literal["zh", "en"] = Field("zh", description="Language of the messages.")
    url: str = Field("", description="Webhook URL (kind webhook).")
    smtp_host: str = Field("", description="SMTP server (kind email).")
    smtp_port: Port = Field(25, description="SMTP port (kind email).")
    sender: str = Field("", description="From address (kind email).")
    to: list[str] = Field(default_factory=list, description="Recipients (kind email).")


class AlertSettings(_Strict):
    """The alert engine (DESIGN.md §4): rules, hysteresis, escalation and notification channels."""

    enabled: bool = Field(True, description="Evaluate alerts in the ingester.")
    blue_margin_m: float = Field(0.5, ge=0, description="Blue when the level is this close below the warning stage.")
    pending_s: int = Field(0, ge=0, description="How long a condition must hold before it fires.")
    hold_s: int = Field(900, ge=0, description="How long the value must stay below threshold - deadband to resolve.")
    level_deadband_m: float = Field(0.05, ge=0, description="Hysteresis of level thresholds, metres.")
    rain_deadband_mm: float = Field(5.0, ge=0, description="Hysteresis of rain-window thresholds, millimetres.")
    rain_rules: list[RainRule] = Field(
        default_factory=lambda: list(CMA_RAIN_RULES),
        description="Rolling-window rain rules for every rain gauge (default: the CMA rainstorm signals).",
    )
    critical_rain: Path | None = Field(
        None, description="CSV of per-station critical rainfall (station,window_h,blue,yellow,orange,red), mm."
    )
    flood_limits: Path | None = Field(
        None, description="CSV of reservoir flood-limit levels by sub-season (station,start,end,flood_limit_m)."
    )
    rate_m_per_h: float = Field(0.3, gt=0, description="Rate of rise that raises an alert, m/h.")
    rate_window_s: int = Field(
        3600,
        ge=300,
        description="The level's trend (rate of rise, forecast) is fitted over this (or 2 reporting intervals).",
    )
    rate_hold_s: int = Field(
        3600, ge=0, description="A fast rise ends after its trend stays below the rate - deadband this long."
    )
    rate_level: Literal["blue", "yellow", "orange", "red"] = Field("blue", description="Level of a fast rise.")
    forecast_horizon_s: int = Field(
        3600,
        ge=0,
        description="Forecast alert when the trend reaches the next threshold not yet reached within this; 0 = off.",
    )
    stale_max_age_h: float = Field(
        72.0, gt=0, description="Silent longer than this: the station is offline, not a new stale alert."
    )
    flat_line_s: int = Field(
        6 * 3600,
        ge=0,
        description="A level unchanged this long (and 12 readings) after it moved is suspect (see Alerts); 0 = off.",
    )
    flat_line_max_s: int = Field(
        18 * 3600, ge=0, description="The longest flat-line limit (after a slow change the limit grows)."
    )
    history_h: int = Field(26, ge=25, le=24 * 14, description="Readings kept per station for windows and late data.")
    escalate_after_s: int = Field(
        900, ge=0, description="An alert not acknowledged within this is escalated; 0 = never."
    )
    tick_s: float = Field(10.0, gt=0, description="How often stale stations and escalations are checked.")
    state_topic: str = Field(
        "floodwatch/v1/alerts", min_length=1, description="Retained MQTT topic prefix of each station's alert state."
    )
    partition: str = Field(
        "",
        pattern=r"^(\d+/\d+)?$",
        description="K/N: this process evaluates the stations whose id hashes to K of N (ingest.role = alerts).",
    )
    channels: list[Channel] = Field(default_factory=list, description="Notification channels.")
    notify_max_age_h: float = Field(
        24.0, gt=0, description="Events older than this (event time) are recorded, not notified (replays, backfill)."
    )
    webhook_retries: int = Field(5, ge=0, description="Retries of a failed webhook delivery, with backoff.")

    @model_validator(mode="after")
    def _flat_line_limits(self) -> AlertSettings:
        if self.flat_line_s and self.flat_line_max_s < self.flat_line_s:
            raise ValueError(
                f"flat_line_max_s ({self.flat_line_max_s}) is below flat_line_s ({self.flat_line_s}): "
                "the longest limit cannot be shorter than the shortest"
            )
        return self


class DashboardSettings(_Strict):
    """The Dash web app."""

    host: str = Field("127.0.0.1", description="Address the dashboard listens on.")
    port: Port = Field(8050, description="Port the dashboard listens on.")
    refresh_s: float = Field(10.0, ge=1, le=3600, description="How often the map and the wall display refresh.")
    layers: list[Path] = Field(
        default_factory=list,
        description="Switchable map layers (GeoJSON: assets, cameras, boundaries, rivers) besides "
        "config/geo/layers/*.geojson; absolute paths or relative to the working directory.",
    )
    tile_url: str = Field(
        "",
        description="Raster tiles under the map, e.g. the center's own tile server "
        "(http://HOST/{z}/{x}/{y}.png); empty = none, no request leaves the machine.",
    )
    tile_attribution: str = Field("", description="Credit shown on the map for the tiles of tile_url.")
    alarm_sound: bool = Field(
        False,
        description="Wall display: beep when a station turns red (a kiosk browser must allow autoplay, e.g. "
        "chromium --autoplay-policy=no-user-gesture-required).",
    )
    shared_cache: bool = Field(
        True,
        description="Workers of one machine (gunicorn) share the stations' snapshot through <var_dir>/dashboard-cache: "
        "one set of InfluxDB queries per refresh period whatever the number of workers and screens.",
    )
    login_required: bool = Field(
        False,
        description="Read-only pages and the API need a login too (changes always need an officer: acknowledge, "
        "notes, handover); off suits a wall display on the command center's LAN.",
    )
    users_file: Path | None = Field(
        None, description="Users, roles and password hashes (`floodwatch users`); empty = <var_dir>/users.toml."
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="A login lasts this long (about a shift).")
    secure_cookies: bool = Field(
        False,
        description="Send the session cookie over HTTPS only: set it when users reach the dashboard through "
        "HTTPS (the nginx example).",
    )
    trusted_proxies: int = Field(
        0,
        ge=0,
        le=5,
        description="Reverse proxies in front whose X-Forwarded-For/-Proto headers are believed (nginx: 1).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs session cookies; from FLOODWATCH_DASHBOARD_SECRET_KEY, else made once in "
        "<var_dir>/dashboard_secret_key (every worker on a machine shares it).",
    )

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        if value and not (
            value.startswith(("http://", "https://")) and all(part in value for part in ("{z}", "{x}", "{y}"))
        ):
            raise ValueError("a tile URL is http(s)://… with {z}, {x} and {y}, e.g. http://tiles.local/{z}/{x}/{y}.png")
        return value


class Settings(_Strict):
    """Everything floodwatch needs to run; see the README's *Settings* table."""

    catalogue: Path = Field(DEFAULT_CATALOGUE, description="Station catalogue CSV (canonical format).")
    var_dir: Path = Field(Path("var"), description="Folder of all local state: services, spool, dead letters, logs.")
    timezone: str = Field("Asia/Shanghai", description="Zone times are shown in (stored times are UTC).")
    language: Literal["zh", "en"] = Field("zh", description="Default UI and message language.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log verbosity.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or one JSON object a line (for a log collector)."
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)") from exc
        return value

    @property
    def spool_dir(self) -> Path:
        """Where readings wait while InfluxDB is unreachable."""
        return self.var_dir / "spool"

    @property
    def deadletter_dir(self) -> Path:
        """Where rejected messages are kept with their reason."""
        return self.var_dir / "deadletter"

    @property
    def users_file(self) -> Path:
        """The dashboard's users file."""
        return self.dashboard.users_file or self.var_dir / "users.toml"


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file (optional) and the secret environment variables, and validate them.

    Relative paths in the file are relative to the file's folder; without a file, ``var_dir`` is
    ``./var`` of the current directory.

    Raises:
        ConfigError: naming the file, the line and key, and the fix.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    text = ""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the settings file ({exc.strerror})",
                path=path,
                hint="check the path given to --config",
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                "not UTF-8 text",
                path=path,
                line=path.read_bytes()[: exc.start].count(b"\n") + 1,
                hint="save the file as UTF-8 (TOML requires it)",
            ) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = toml_error_line(str(exc))
            raise ConfigError(
                f"not valid TOML: {exc}", path=path, line=line, hint="fix the syntax (strings need quotes)"
            ) from exc
        _reject_secrets_in_file(data, path, text)
        _resolve_paths(data, path.parent)
    secrets = {**read_secrets_file(Path(env[SECRETS_FILE_ENV])), **env} if env.get(SECRETS_FILE_ENV) else env
    for (section, key), var in SECRET_ENV.items():
        # a section that is not a table is reported by the validation below, at its line
        if secrets.get(var) and isinstance(data.setdefault(section, {}), dict):
            data[section][key] = secrets[var]
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        key = ".".join(loc)
        raise ConfigError(
            first["msg"],
            path=path,
            line=_key_line(text, loc),
            key=key,
            hint=_hint(loc),
        ) from exc


def read_secrets_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (the ``SECRET_ENV`` names) from a file only its owner may read.

    The environment wins over the file. Blank lines and ``#`` comments are skipped.

    Raises:
        ConfigError: the file is missing, readable by group or others, or has a bad line.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the secrets file ({exc})",
            path=path,
            key=SECRETS_FILE_ENV,
            hint="point FLOODWATCH_SECRETS_FILE at a readable UTF-8 file",
        ) from exc
    if mode & 0o077:
        raise ConfigError(
            "the secrets file is readable by group or others", path=path, key=SECRETS_FILE_ENV, hint=f"chmod 600 {path}"
        )
    known = set(SECRET_ENV.values())
    secrets: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        if not sep or name.strip() not in known:
            raise ConfigError(
                f"expected NAME=value with NAME one of {', '.join(sorted(known))}",
                path=path,
                line=number,
                hint="one secret per line, e.g. FLOODWATCH_MQTT_PASSWORD=...",
            )
        secrets[name.strip()] = value.strip()
    return secrets


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for key in ("catalogue", "var_dir"):
        if isinstance(data.get(key), str):
            data[key] = str(base / data[key])
    for section, key in (
        ("mqtt", "ca_file"),
        ("alerts", "critical_rain"),
        ("alerts", "flood_limits"),
        ("services", "mqtt_password_file"),
        ("services", "mqtt_acl_file"),
        ("services", "mqtt_certfile"),
        ("services", "mqtt_keyfile"),
        ("dashboard", "users_file"),
    ):
        values = data.get(section)
        if isinstance(values, dict) and isinstance(values.get(key), str):
            values[key] = str(base / values[key])


def _reject_secrets_in_file(data: dict[str, Any], path: Path, text: str) -> None:
    for (section, key), var in SECRET_ENV.items():
        if key != "username" and isinstance(data.get(section), dict) and key in data[section]:
            raise ConfigError(
                "secrets are not read from the settings file",
                path=path,
                line=_key_line(text, [section, key]),
                key=f"{section}.{key}",
                hint=f"remove it from the file and set the environment variable {var}",
            )


def _hint(loc: list[str]) -> str:
    model: type[BaseModel] = Settings
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            known = ", ".join(model.model_fields)
            return f"unknown key {part!r}: check the spelling (known here: {known})"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            continue
        return f"{field.description} Default: {field.default!r}."
    return "see the Settings table in the README"


def _key_line(text: str, loc: list[str]) -> int | None:
    """Best-effort line of ``section.key`` in a TOML text (1-based), for error messages."""
    if not text or not loc:
        return None
    section, key = (None, loc[0]) if len(loc) == 1 else (loc[0], loc[1])
    current: str | None = None
    section_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[([^\]]+)\]", stripped)
        if header:
            current = header.group(1).strip()
            if section is None and current == key:
                return number  # an unknown or misplaced section: its header
            if current == section:
                section_line = number
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return section_line

"""The settings model and its loading from a home directory."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "CELLPHONE_"
SETTINGS_FILE = Path("config") / "cellphone.toml"


class ConfigError(Exception):
    """A setting or configuration file is wrong; the message says which and how to fix it."""


class DeliveryMode(StrEnum):
    """How the desk reaches agents."""

    AUTO = "auto"  # type into the chat pane when a display is there, else the inbox
    GUI = "gui"  # always try the screen first; no display is a fallback worth reporting
    INBOX = "inbox"  # never touch the screen


class MessagingSettings(BaseModel):
    model_config = {"extra": "forbid"}

    operator_name: str = Field("Captain", min_length=1, max_length=64)
    max_message_length: int = Field(20_000, ge=1, le=1_000_000)
    footer: str = Field(
        "Reply through your outbox folder; your inbox keeps a copy of every message.",
        max_length=2_000,
    )
    delivery_mode: DeliveryMode = DeliveryMode.AUTO
    wait_timeout_s: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="how long send/broadcast wait for outcomes before reporting",
    )
    retry_backoff_max_s: float = Field(60.0, gt=0)
    poll_interval_s: float = Field(
        0.25, gt=0, le=60, description="how often an idle desk looks for work queued elsewhere"
    )

    @field_validator("operator_name")
    @classmethod
    def _one_printable_line(cls, value: str) -> str:
        if not value.isprintable() or not value.strip():
            raise ValueError("must be one line of printable characters")
        return value


class GuiSettings(BaseModel):
    """Pacing of GUI steps, in seconds; defaults measured on a dummy-driver X display."""

    model_config = {"extra": "forbid"}

    pause_after_click_s: float = Field(
        0.0, ge=0, le=5, description="a wait after each click (the focus check polls anyway)"
    )
    pause_after_paste_s: float = Field(
        0.0, ge=0, le=5, description="extra wait between the paste and the submit keys"
    )
    paste_quiet_s: float = Field(
        0.01,
        gt=0,
        le=1,
        description="the target must have asked nothing for this long before Enter, and "
        "requests are answered until none came for this long after it",
    )
    verify_timeout_s: float = Field(
        1.0,
        gt=0,
        le=30,
        description="how long the pasted text may take to show, and the input to change "
        "back after Enter",
    )
    pause_between_recipients_s: float = Field(0.0, ge=0, le=10)
    clear_input: bool = False
    new_chat_hotkey: str | None = Field(None, examples=["ctrl+n"])
    pause_after_new_chat_s: float = Field(0.5, ge=0, le=10)
    check_window_title: bool = True


class DiscordSettings(BaseModel):
    model_config = {"extra": "forbid"}

    guild_id: int | None = None
    allowed_user_ids: list[int] = Field(default_factory=list)
    allowed_role_ids: list[int] = Field(default_factory=list)
    admin_user_ids: list[int] = Field(default_factory=list)
    admin_role_ids: list[int] = Field(default_factory=list)
    message_content_intent: bool = False
    devlog_channel_id: int | None = None
    api_base: str | None = Field(None, description="REST base URL; only tests change it")
    gateway_url: str | None = Field(None, description="gateway URL; only tests change it")


class OpenAISettings(BaseModel):
    model_config = {"extra": "forbid"}

    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    summaries: bool = False


class BackupKind(StrEnum):
    """What a backup holds: every file, what changed since the last backup of any kind, or
    what changed since the last full one."""

    FULL = "full"
    INCREMENTAL = "incremental"
    DIFFERENTIAL = "differential"


class BackupSettings(BaseModel):
    """Backups of the home (store, config, workspaces, devlogs) and the continuity checks."""

    model_config = {"extra": "forbid"}

    interval_minutes: float = Field(
        60.0,
        ge=0,
        le=7 * 24 * 60,
        description="how often a running coordinator backs up; 0 turns the schedule off",
    )
    full_every: int = Field(
        24, ge=1, le=10_000, description="the schedule makes a full backup after this many others"
    )
    scheduled_kind: BackupKind = Field(
        BackupKind.INCREMENTAL, description="the kind of the scheduled backups between full ones"
    )
    keep_last: int = Field(48, ge=1, le=100_000, description="prune keeps the newest N backups")
    keep_daily: int = Field(
        14, ge=0, le=10_000, description="and the newest backup of each of the last D days"
    )
    key_file: Path | None = Field(
        None,
        description="32-byte key (made by `cellphone backup key`) that encrypts archives; "
        "relative to the home; keep a copy outside the home",
    )
    rpo_hours: float = Field(
        2.0, gt=0, le=24 * 365, description="the newest verified backup may be this old"
    )
    rto_seconds: float = Field(
        300.0, gt=0, le=7 * 86_400, description="`backup drill` must restore within this time"
    )
    alert_channel_id: int | None = Field(
        None, description="Discord channel for failed scheduled backups (else devlog channel)"
    )
    min_free_disk_mb: int = Field(1024, ge=0, description="doctor fails below this much free")
    max_queue_age_minutes: float = Field(
        30.0, gt=0, description="doctor warns when a delivery waits longer than this"
    )


class Settings(BaseSettings):
    """Everything a home can configure. Nested groups map to TOML tables and to
    ``CELLPHONE_<GROUP>__<KEY>`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
    )
    messaging: MessagingSettings = MessagingSettings()
    gui: GuiSettings = GuiSettings()
    discord: DiscordSettings = DiscordSettings()
    openai: OpenAISettings = OpenAISettings()
    backups: BackupSettings = BackupSettings()
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "CELLPHONE_DISCORD_TOKEN")
    )


class OurDotEnv(DotEnvSettingsSource):
    """The home's ``.env``, read the way the environment is: only our settings
    (``CELLPHONE_<TABLE>__<KEY>``, ``DISCORD_TOKEN``) are taken. Other programs' variables
    (``OPENAI_API_KEY``, ...) and ours that are no settings (``CELLPHONE_LOG_LEVEL``) are
    left alone; an unknown key of a settings table is still refused."""

    def __call__(self) -> dict[str, Any]:
        return EnvSettingsSource.__call__(self)


@dataclass(frozen=True)
class Home:
    """Where a swarm's runtime state lives. Nothing here is code."""

    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def coordinates_file(self) -> Path:
        return self.config_dir / "coordinates.json"

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def onboarding_template(self) -> Path:
        return self.config_dir / "onboarding.md"

    @property
    def workspaces_dir(self) -> Path:
        return self.root / "agent_workspaces"

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def database(self) -> Path:
        return self.var_dir / "cellphone.db"

    @property
    def backups_dir(self) -> Path:
        return self.var_dir / "backups"

    @property
    def devlogs_dir(self) -> Path:
        return self.var_dir / "devlogs"


def resolve_home(option: Path | None) -> Home:
    """``--home`` wins, then ``CELLPHONE_HOME``, then the current directory."""
    raw = option or (
        Path(os.environ["CELLPHONE_HOME"]) if os.environ.get("CELLPHONE_HOME") else None
    )
    root = (raw or Path.cwd()).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"home {root} is a file, not a directory; pass --home with a folder")
    return Home(root)


def load_settings(home: Home, **overrides: Any) -> Settings:
    """Load settings for ``home``; a bad value raises :class:`ConfigError` in one line."""
    toml_file = home.settings_file

    class HomeSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_file)
            dotenv = OurDotEnv(settings_cls, env_file=home.root / ".env")
            return (init_settings, env_settings, dotenv, toml)

    try:
        return HomeSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, home)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{toml_file}: not valid TOML ({exc}); fix the file or remove it"
        ) from None


def _describe(exc: ValidationError, home: Home) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "settings"
    value = first.get("input")
    env_name = ENV_PREFIX + key.upper().replace(".", "__")
    where = f"{home.settings_file}, or {env_name} in the environment or {home.root / '.env'}"
    if first["type"] == "extra_forbidden":
        return f"unknown setting {key!r} (value {value!r}); remove it from {where}"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"setting {key} = {value!r} is invalid: {first['msg']}; fix it in {where}{more}"

"""The settings model and its loading from a home directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_origin

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from config.sources import (
    ENV_PREFIX,
    SourceError,
    merged,
    ours,
    read_dotenv,
    read_toml,
)

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
    # sharing the screen with the person at it
    check_drafts: bool = Field(
        True, description="never click into a chat input that holds text the desk did not type"
    )
    draft_retry_s: float = Field(
        5.0, gt=0, le=3600, description="how often a delivery held by a draft is tried again"
    )
    draft_hold_max_s: float = Field(
        300.0, ge=0, le=86400, description="after this long held by a draft, to the inbox"
    )
    operator_idle_s: float = Field(
        2.0,
        ge=0,
        le=600,
        description="type only once mouse and keyboard rested this long (0: do not wait)",
    )
    operator_wait_max_s: float = Field(
        120.0, ge=0, le=86400, description="the longest wait for the operator's hands to rest"
    )
    when_operator_busy: Literal["inbox", "deliver"] = Field(
        "inbox", description="after the longest wait: write to the inbox, or type anyway"
    )
    critical_skips_operator_wait: bool = True
    give_back: bool = Field(
        True, description="put pointer and keyboard focus back after a run of deliveries"
    )


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


class WatchSettings(BaseModel):
    """The files agents write back (outbox, devlogs, status.json) and what follows them:
    read and acknowledged state, reminders, stalls."""

    model_config = {"extra": "forbid"}

    settle_s: float = Field(
        0.1, gt=0, le=60, description="a dropped file must keep its size this long to be taken"
    )
    rescan_s: float = Field(
        2.0, gt=0, le=3600, description="how often the folders are scanned for missed files"
    )
    max_file_bytes: int = Field(262_144, ge=1, le=50_000_000)
    ack_timeout_s: float = Field(
        1800.0,
        gt=0,
        description="an unacknowledged --ack-required message is delivered again after "
        "this long, and reported overdue after as long again",
    )
    stall_after_s: float = Field(
        3600.0, gt=0, description="an agent silent this long (no status, outbox, devlog) stalls"
    )
    status_debounce_s: float = Field(
        10.0, ge=0, le=3600, description="status changes of an agent are posted at most this often"
    )
    operator_channel_id: int | None = Field(
        None, description="where agents' notes to the operator go (else the devlog channel)"
    )
    status_channel_id: int | None = Field(
        None, description="where status changes and stalls go (else the operator channel)"
    )


class SummaryProvider(BaseModel):
    """An OpenAI-compatible server that can summarize devlogs."""

    model_config = {"extra": "forbid"}

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None


class DevlogSettings(BaseModel):
    model_config = {"extra": "forbid"}

    webhook_url: SecretStr | None = Field(
        None, description="Discord webhook of the devlog channel, used when no bot runs"
    )
    summary_providers: list[SummaryProvider] = Field(
        default_factory=list, description="tried in order after the [openai] one fails"
    )
    summary_timeout_s: float = Field(
        8.0, gt=0, le=120, description="each summary request gives up after this long"
    )


class Settings(BaseModel):
    """Everything a home can configure. Nested groups map to TOML tables and to
    ``CELLPHONE_<GROUP>__<KEY>`` environment variables."""

    model_config = {"extra": "forbid"}

    messaging: MessagingSettings = MessagingSettings()
    gui: GuiSettings = GuiSettings()
    discord: DiscordSettings = DiscordSettings()
    openai: OpenAISettings = OpenAISettings()
    backups: BackupSettings = BackupSettings()
    watch: WatchSettings = WatchSettings()
    devlogs: DevlogSettings = DevlogSettings()
    discord_token: SecretStr | None = Field(
        None, description="from DISCORD_TOKEN (or CELLPHONE_DISCORD_TOKEN)"
    )


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
    """Load settings for ``home``: ``config/cellphone.toml``, then ``.env``, then the
    environment, then ``overrides``, the later winning. A bad value raises
    :class:`ConfigError` in one line."""
    tables = Settings.model_fields
    try:
        layers = (
            read_toml(home.settings_file),
            ours(read_dotenv(home.root / ".env"), tables, _is_list),
            ours(os.environ, tables, _is_list),
            overrides,
        )
        return Settings.model_validate(merged(*layers))
    except SourceError as exc:
        raise ConfigError(str(exc)) from None
    except ValidationError as exc:
        raise ConfigError(_describe(exc, home)) from None


def _is_list(path: tuple[str, ...]) -> bool:
    """Whether the setting at ``path`` holds a list (given as JSON in variables)."""
    model: Any = Settings
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return False
        model = field.annotation
    return get_origin(model) is list


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

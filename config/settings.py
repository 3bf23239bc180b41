"""The settings model and its loading from a home directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_origin

from config.errors import ConfigError
from config.model import Group, Secret, SettingsInvalid, setting
from config.sources import (
    ENV_PREFIX,
    SourceError,
    merged,
    ours,
    read_dotenv,
    read_toml,
)

SETTINGS_FILE = Path("config") / "cellphone.toml"


class DeliveryMode(StrEnum):
    """How the desk reaches agents."""

    AUTO = "auto"  # type into the chat pane when a display is there, else the inbox
    GUI = "gui"  # always try the screen first; no display is a fallback worth reporting
    INBOX = "inbox"  # never touch the screen


class MessagingSettings(Group):
    operator_name: str = setting("Captain", min_length=1, max_length=64)
    max_message_length: int = setting(20_000, ge=1, le=1_000_000)
    footer: str = setting(
        "Reply through your outbox folder; your inbox keeps a copy of every message.",
        max_length=2_000,
    )
    delivery_mode: DeliveryMode = DeliveryMode.AUTO
    wait_timeout_s: float = setting(
        60.0,
        gt=0,
        le=86_400,
        description="how long send/broadcast wait for outcomes before reporting",
    )
    retry_backoff_max_s: float = setting(60.0, gt=0)
    poll_interval_s: float = setting(
        0.25, gt=0, le=60, description="how often an idle desk looks for work queued elsewhere"
    )

    @staticmethod
    def _check_operator_name(value: str) -> str | None:
        if not value.isprintable() or not value.strip():
            return "must be one line of printable characters"
        return None


class GuiSettings(Group):
    """Pacing of GUI steps, in seconds; defaults measured on a dummy-driver X display."""

    pause_after_click_s: float = setting(
        0.0, ge=0, le=5, description="a wait after each click (the focus check polls anyway)"
    )
    pause_after_paste_s: float = setting(
        0.0, ge=0, le=5, description="extra wait between the paste and the submit keys"
    )
    paste_quiet_s: float = setting(
        0.01,
        gt=0,
        le=1,
        description="the target must have asked nothing for this long before Enter, and "
        "requests are answered until none came for this long after it",
    )
    verify_timeout_s: float = setting(
        1.0,
        gt=0,
        le=30,
        description="how long the pasted text may take to show, and the input to change "
        "back after Enter",
    )
    pause_between_recipients_s: float = setting(0.0, ge=0, le=10)
    clear_input: bool = False
    new_chat_hotkey: str | None = setting(
        None, description="keys opening a new chat first, like ctrl+n"
    )
    pause_after_new_chat_s: float = setting(0.5, ge=0, le=10)
    check_window_title: bool = True
    # sharing the screen with the person at it
    check_drafts: bool = setting(
        True, description="never click into a chat input that holds text the desk did not type"
    )
    draft_retry_s: float = setting(
        5.0, gt=0, le=3600, description="how often a delivery held by a draft is tried again"
    )
    draft_hold_max_s: float = setting(
        300.0, ge=0, le=86400, description="after this long held by a draft, to the inbox"
    )
    pictures_dir: str | None = setting(
        None,
        description="keep the pictures of every screen verification (before the paste, "
        "pasted, after Enter) as PNG files in this folder",
    )
    draft_probe_s: float = setting(
        0.3,
        gt=0,
        le=5,
        description="an input the desk has not seen empty yet is asked whether it holds text "
        "(select-all, then the primary selection read): this long for an answer; none means "
        "empty",
    )
    operator_idle_s: float = setting(
        2.0,
        ge=0,
        le=600,
        description="type only once mouse and keyboard rested this long (0: do not wait)",
    )
    operator_wait_max_s: float = setting(
        120.0, ge=0, le=86400, description="the longest wait for the operator's hands to rest"
    )
    when_operator_busy: Literal["inbox", "deliver"] = setting(
        "inbox", description="after the longest wait: write to the inbox, or type anyway"
    )
    critical_skips_operator_wait: bool = True
    give_back: bool = setting(
        True, description="put pointer and keyboard focus back after a run of deliveries"
    )


class TmuxSettings(Group):
    """Pacing and patience of the tmux lane (terminal agents in tmux panes), in seconds."""

    show_timeout_s: float = setting(
        2.0, gt=0, le=30, description="how long the pasted text may take to show in the pane"
    )
    submit_timeout_s: float = setting(
        2.0, gt=0, le=30, description="how long the input may take to empty after the submit keys"
    )
    submit_after_s: float = setting(
        0.0,
        ge=0,
        le=5,
        description="a wait between the paste showing and the submit keys, for every agent "
        "(an agent's own submit_after_s is kept when longer; one whose CLI took an Enter for "
        "a new line waits 0.1 s from then on anyway)",
    )
    hold_retry_s: float = setting(
        0.5,
        gt=0,
        le=3600,
        description="how often a delivery held by a busy agent or a draft is tried again",
    )
    hold_max_s: float = setting(
        300.0,
        ge=0,
        le=86400,
        description="after this long since the message was sent, a held delivery goes to the inbox",
    )
    critical_skips_busy_wait: bool = setting(
        True, description="critical messages are pasted while the agent works (it queues them)"
    )


class DiscordSettings(Group):
    guild_id: int | None = None
    allowed_user_ids: list[int] = setting(factory=list)
    allowed_role_ids: list[int] = setting(factory=list)
    admin_user_ids: list[int] = setting(factory=list)
    admin_role_ids: list[int] = setting(factory=list)
    message_content_intent: bool = False
    devlog_channel_id: int | None = None
    api_base: str | None = setting(None, description="REST base URL; only tests change it")
    gateway_url: str | None = setting(None, description="gateway URL; only tests change it")


class OpenAISettings(Group):
    api_key: Secret | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    summaries: bool = False


class BackupKind(StrEnum):
    """What a backup holds: every file, what changed since the last backup of any kind, or
    what changed since the last full one."""

    FULL = "full"
    INCREMENTAL = "incremental"
    DIFFERENTIAL = "differential"


class BackupSettings(Group):
    """Backups of the home (store, config, workspaces, devlogs) and the continuity checks."""

    interval_minutes: float = setting(
        60.0,
        ge=0,
        le=7 * 24 * 60,
        description="how often a running coordinator backs up; 0 turns the schedule off",
    )
    full_every: int = setting(
        24, ge=1, le=10_000, description="the schedule makes a full backup after this many others"
    )
    scheduled_kind: BackupKind = setting(
        BackupKind.INCREMENTAL, description="the kind of the scheduled backups between full ones"
    )
    keep_last: int = setting(48, ge=1, le=100_000, description="prune keeps the newest N backups")
    keep_daily: int = setting(
        14, ge=0, le=10_000, description="and the newest backup of each of the last D days"
    )
    key_file: Path | None = setting(
        None,
        description="32-byte key (made by `cellphone backup key`) that encrypts archives; "
        "relative to the home; keep a copy outside the home",
    )
    rpo_hours: float = setting(
        2.0, gt=0, le=24 * 365, description="the newest verified backup may be this old"
    )
    rto_seconds: float = setting(
        300.0, gt=0, le=7 * 86_400, description="`backup drill` must restore within this time"
    )
    alert_channel_id: int | None = setting(
        None, description="Discord channel for failed scheduled backups (else devlog channel)"
    )
    min_free_disk_mb: int = setting(1024, ge=0, description="doctor fails below this much free")
    max_queue_age_minutes: float = setting(
        30.0, gt=0, description="doctor warns when a delivery waits longer than this"
    )


class WatchSettings(Group):
    """The files agents write back (outbox, devlogs, status.json) and what follows them:
    read and acknowledged state, reminders, stalls."""

    settle_s: float = setting(
        0.1, gt=0, le=60, description="a dropped file must keep its size this long to be taken"
    )
    rescan_s: float = setting(
        2.0, gt=0, le=3600, description="how often the folders are scanned for missed files"
    )
    max_file_bytes: int = setting(262_144, ge=1, le=50_000_000)
    ack_timeout_s: float = setting(
        1800.0,
        gt=0,
        description="an unacknowledged --ack-required message is delivered again after "
        "this long, and reported overdue after as long again",
    )
    stall_after_s: float = setting(
        3600.0, gt=0, description="an agent silent this long (no status, outbox, devlog) stalls"
    )
    status_debounce_s: float = setting(
        10.0, ge=0, le=3600, description="status changes of an agent are posted at most this often"
    )
    operator_channel_id: int | None = setting(
        None, description="where agents' notes to the operator go (else the devlog channel)"
    )
    status_channel_id: int | None = setting(
        None, description="where status changes and stalls go (else the operator channel)"
    )


class SummaryProvider(Group):
    """An OpenAI-compatible server that can summarize devlogs."""

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: Secret | None = None


class DevlogSettings(Group):
    webhook_url: Secret | None = setting(
        None, description="Discord webhook of the devlog channel, used when no bot runs"
    )
    summary_providers: list[SummaryProvider] = setting(
        factory=list, description="tried in order after the [openai] one fails"
    )
    summary_timeout_s: float = setting(
        8.0, gt=0, le=120, description="each summary request gives up after this long"
    )


class ClusterSettings(Group):
    """Desks on several machines under one coordinator, joined over Redis Streams. Unset
    ``redis_url`` (the default): one machine, SQLite only, no Redis."""

    redis_url: str | None = setting(
        None,
        description="redis:// or rediss:// address of the coordinator's Redis; set it at the "
        "coordinator only (a desk joins with `cellphone desk --join`)",
    )
    username: str | None = setting(None, description="the Redis ACL user of this process")
    password: Secret | None = setting(None, description="the password of that user")
    tls_ca_file: Path | None = setting(None, description="CA file checking a rediss:// server")
    heartbeat_s: float = setting(1.0, gt=0, le=60, description="how often a desk says it lives")
    away_after_s: float = setting(
        30.0, gt=0, le=86_400, description="a desk silent this long is reported away"
    )
    when_desk_away: Literal["wait", "inbox"] = setting(
        "wait",
        description="messages for the agents of an away desk are typed when it is back "
        "(wait) or written to their inboxes there (inbox)",
    )
    resend_after_s: float = setting(
        30.0,
        gt=0,
        le=86_400,
        description="a delivery handed to a live desk with no outcome this long is handed "
        "over again (the desk's journal keeps it from being typed twice)",
    )
    stream_max_len: int = setting(
        100_000, ge=100, le=100_000_000, description="entries kept per stream (trimmed beyond)"
    )

    @staticmethod
    def _check_redis_url(value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://")):
            return "must start with redis:// or rediss://"
        return None


class Settings(Group):
    """Everything a home can configure. Nested groups map to TOML tables and to
    ``CELLPHONE_<GROUP>__<KEY>`` environment variables."""

    messaging: MessagingSettings = setting(factory=MessagingSettings)
    gui: GuiSettings = setting(factory=GuiSettings)
    tmux: TmuxSettings = setting(factory=TmuxSettings)
    discord: DiscordSettings = setting(factory=DiscordSettings)
    openai: OpenAISettings = setting(factory=OpenAISettings)
    backups: BackupSettings = setting(factory=BackupSettings)
    watch: WatchSettings = setting(factory=WatchSettings)
    devlogs: DevlogSettings = setting(factory=DevlogSettings)
    cluster: ClusterSettings = setting(factory=ClusterSettings)
    discord_token: Secret | None = setting(
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
    tables = [field.name for field in Settings.fields()]
    try:
        layers = (
            read_toml(home.settings_file),
            ours(read_dotenv(home.root / ".env"), tables, _is_list),
            ours(os.environ, tables, _is_list),
            overrides,
        )
        return Settings.from_mapping(merged(*layers))
    except SourceError as exc:
        raise ConfigError(str(exc)) from None
    except SettingsInvalid as exc:
        raise ConfigError(_describe(exc, home)) from None


def _is_list(path: tuple[str, ...]) -> bool:
    """Whether the setting at ``path`` holds a list (given as JSON in variables)."""
    kind: Any = Settings
    for part in path:
        if not (isinstance(kind, type) and issubclass(kind, Group)):
            return False
        found = [field.kind for field in kind.fields() if field.name == part]
        if not found:
            return False
        kind = found[0]
    return get_origin(kind) is list


def _describe(exc: SettingsInvalid, home: Home) -> str:
    first = exc.problems[0]
    key = ".".join(first.path) or "settings"
    env_name = ENV_PREFIX + key.upper().replace(".", "__")
    where = f"{home.settings_file}, or {env_name} in the environment or {home.root / '.env'}"
    if first.unknown:
        return f"unknown setting {key!r} (value {first.value!r}); remove it from {where}"
    more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
    return f"setting {key} = {first.value!r} is invalid: {first.message}; fix it in {where}{more}"

"""``cellphone doctor``: the checks that say whether the swarm can keep working and can be
recovered, each with how to fix it. The same checks feed ``/status`` and ``cellphone
status``, and the store's check stops a coordinator from starting on a damaged store."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from agents import Registry, Workspace
from agents.source import RegistrySource
from backups.errors import BackupError, DamagedStoreError
from backups.service import Backups
from config import ConfigError, DeliveryMode, Home, Settings
from coordinates import CoordinatesFileError
from coordinates.errors import NoDisplayError

LayoutReader = Callable[[], Any]  # coordinates.layout.read_layout, or a stand-in in tests
RESTORE_HINT = "`cellphone backup restore --at now --force` puts back the newest verified backup"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def run_checks(
    home: Home,
    settings: Settings,
    read_layout: LayoutReader | None = None,
    now: datetime | None = None,
    *,
    screen: bool = True,
) -> list[Check]:
    """Every check, in the order the doctor prints them; without ``screen``, those that
    need no display (what ``cellphone status`` shows, starting quickly)."""
    now = now or datetime.now(UTC)
    registry, registry_check = _registry(home)
    on_screen: list[Check] = []
    if screen:
        display, layout = _display(settings, read_layout)
        on_screen = [display, _clipboard(settings), registry_check or _points(registry, layout)]
    elif registry_check is not None:
        on_screen = [registry_check]
    return [
        *on_screen,
        _workspaces(home, registry),
        _store(home),
        _queue(home, settings, now),
        _backup_age(home, settings, now),
        _discord(settings),
        _disk(home, settings),
    ]


def status_checks(home: Home, settings: Settings) -> list[tuple[str, str, str]]:
    """The checks ``cellphone status`` shows: (check, status, detail) each."""
    return [(c.name, str(c.status), c.detail) for c in run_checks(home, settings, screen=False)]


def summary(checks: list[Check]) -> str:
    """One line for /status: the checks that are not ok, or that all are."""
    bad = [c for c in checks if c.status is not Status.OK]
    if not bad:
        return f"✅ all {len(checks)} checks ok"
    marks = {Status.FAIL: "❌", Status.WARN: "⚠️"}
    named = "; ".join(f"{marks[c.status]} {c.name}: {c.detail}" for c in bad)
    ok = len(checks) - len(bad)
    return f"{ok} of {len(checks)} ok; {named} (`cellphone doctor` says how to fix)"


def store_problem(database: Path) -> str | None:
    """What SQLite's quick check finds wrong with the store, or None when it is sound."""
    if not database.exists():
        return None
    try:
        with contextlib.closing(
            sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=10)
        ) as db:
            verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if verdict == ["ok"] else "; ".join(verdict[:3])


def ready_to_start(home: Home, settings: Settings) -> None:
    """What stops a coordinator from starting: a damaged store (running on it would lose or
    garble messages), a backup key file that cannot be read (no backup could be made)."""
    require_sound_store(home)
    Backups(home, settings.backups)  # reads backups.key_file


def require_sound_store(home: Home) -> None:
    """Stop start-up on a damaged store: running on it would lose or garble messages."""
    problem = store_problem(home.database)
    if problem is not None:
        raise DamagedStoreError(
            f"the store {home.database} is damaged ({problem}); not starting. "
            f"{RESTORE_HINT} (`cellphone backup list` shows the backups; what it replaces "
            "is kept)"
        )


def _display(settings: Settings, read_layout: LayoutReader | None) -> tuple[Check, Any]:
    strict = settings.messaging.delivery_mode is DeliveryMode.GUI
    if settings.messaging.delivery_mode is DeliveryMode.INBOX:
        return Check("display", Status.OK, "not needed: delivery_mode is inbox"), None
    try:
        layout = (read_layout or _live_layout)()
    except NoDisplayError as exc:
        status = Status.FAIL if strict else Status.WARN
        fix = "start the X session and set DISPLAY; until then messages go to the inboxes"
        return Check("display", status, str(exc), fix), None
    count = len(layout.monitors)
    return Check("display", Status.OK, f"{count} monitor{'s' if count != 1 else ''}"), layout


def _live_layout() -> Any:
    # the X libraries load only for this check: the CLI starts without them
    from coordinates.layout import read_layout

    return read_layout()


def _clipboard(settings: Settings) -> Check:
    found = shutil.which("xclip") or shutil.which("xsel")
    if found:
        return Check("xclip", Status.OK, found)
    status = Status.FAIL if settings.messaging.delivery_mode is DeliveryMode.GUI else Status.WARN
    return Check("xclip", status, "neither xclip nor xsel found", "apt-get install xclip")


def _registry(home: Home) -> tuple[Registry | None, Check | None]:
    try:
        return RegistrySource(home.coordinates_file).current(), None
    except (CoordinatesFileError, ConfigError, OSError, ValueError) as exc:
        fix = "`cellphone coords check` explains; `cellphone init` makes a new file"
        return None, Check("agent points", Status.FAIL, str(exc), fix)


def _points(registry: Registry | None, layout: Any) -> Check:
    if registry is None or layout is None:
        return Check("agent points", Status.WARN, "not checked: no display")
    off = [
        f"{a.agent_id} {a.chat_point}"
        for a in registry.active()
        if a.chat_point is None or layout.monitor_at(a.chat_point) is None
    ]
    if off:
        return Check(
            "agent points",
            Status.FAIL,
            "on no live monitor: " + ", ".join(off),
            "`cellphone coords calibrate` the agents named",
        )
    return Check("agent points", Status.OK, f"{len(registry.active())} active agents on a monitor")


def _workspaces(home: Home, registry: Registry | None) -> Check:
    if registry is None:
        return Check("workspaces", Status.WARN, "not checked: no agents known")
    bad = []
    for agent in registry:
        inbox = Workspace.of(home.workspaces_dir, agent).inbox
        try:
            inbox.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=inbox, prefix=".doctor-"):
                pass
        except OSError as exc:
            bad.append(f"{inbox}: {exc.strerror or exc}")
    if bad:
        fix = "fix the folders' owner and permissions (or the disk)"
        return Check("workspaces", Status.FAIL, "; ".join(bad[:3]), fix)
    return Check("workspaces", Status.OK, f"{len(registry)} inboxes writable")


def _store(home: Home) -> Check:
    if not home.database.exists():
        return Check("store", Status.WARN, "no store yet", "the first message creates it")
    problem = store_problem(home.database)
    if problem is not None:
        return Check("store", Status.FAIL, f"damaged: {problem}", RESTORE_HINT)
    return Check("store", Status.OK, "integrity check ok")


def _queue(home: Home, settings: Settings, now: datetime) -> Check:
    oldest = _oldest_queued(home.database)
    if oldest is None:
        return Check("queue", Status.OK, "nothing waiting")
    minutes = (now - oldest).total_seconds() / 60
    detail = f"oldest queued delivery waits {minutes:.0f} min"
    if minutes > settings.backups.max_queue_age_minutes:
        fix = "run the desk (`cellphone deliver --watch` or the bot); `cellphone status`"
        return Check("queue", Status.WARN, detail, fix)
    return Check("queue", Status.OK, detail)


def _oldest_queued(database: Path) -> datetime | None:
    """When the oldest message with a delivery still queued was made (read-only)."""
    if not database.exists():
        return None
    query = (
        "SELECT MIN(m.created_at) FROM deliveries d JOIN messages m ON m.seq = d.message_seq "
        "WHERE d.state = 'queued'"
    )
    try:
        with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
            value = db.execute(query).fetchone()[0]
    except sqlite3.DatabaseError:
        return None  # the store check reports a damaged store
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _backup_age(home: Home, settings: Settings, now: datetime) -> Check:
    rpo = settings.backups.rpo_hours
    try:
        newest = Backups(home, settings.backups).last_verified()
    except BackupError as exc:
        return Check("backups", Status.FAIL, str(exc), "fix backups.key_file")
    fix = "`cellphone backup create` (a running bot or `deliver --watch` backs up on schedule)"
    if newest is None:
        return Check("backups", Status.FAIL, "no verified backup", fix)
    hours = (now - newest).total_seconds() / 3600
    detail = f"newest verified backup {hours:.1f} h old (recovery point {rpo:g} h)"
    return Check(
        "backups", Status.FAIL if hours > rpo else Status.OK, detail, fix if hours > rpo else ""
    )


def _discord(settings: Settings) -> Check:
    d = settings.discord
    missing = [
        name
        for name, present in (
            ("DISCORD_TOKEN", settings.discord_token is not None),
            ("discord.guild_id", d.guild_id is not None),
            (
                "discord.allowed_user_ids or allowed_role_ids",
                bool(
                    d.allowed_user_ids or d.allowed_role_ids or d.admin_user_ids or d.admin_role_ids
                ),
            ),
        )
        if not present
    ]
    if missing:
        return Check(
            "discord",
            Status.WARN,
            "missing: " + ", ".join(missing),
            "set them in config/cellphone.toml and .env to command the swarm from Discord",
        )
    return Check("discord", Status.OK, f"guild {d.guild_id}")


def _disk(home: Home, settings: Settings) -> Check:
    where = home.root if home.root.exists() else home.root.parent
    free_mb = shutil.disk_usage(where).free // 1_000_000
    need = settings.backups.min_free_disk_mb
    if free_mb < need:
        return Check(
            "free disk",
            Status.FAIL,
            f"{free_mb:,} MB free (need {need:,})",
            "free space, or `cellphone backup prune`",
        )
    return Check("free disk", Status.OK, f"{free_mb:,} MB free")

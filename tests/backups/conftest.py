"""A home with history (messages delivered to inboxes, devlogs) and its backups, on a clock
the tests move forward."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backups.service import Backups
from backups.sources import home_files
from config import Home, Settings, load_settings
from messaging.runtime import open_runtime


class Clock:
    """Time as the backups see it: starts at a fixed moment, moves only when told."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def broadcast(home: Home, settings: Settings, count: int, text: str = "news") -> None:
    """``count`` broadcasts, delivered to every agent's inbox (no screen here)."""
    async with open_runtime(home, settings) as rt:
        for n in range(count):
            await rt.service.broadcast(f"{text} {n}")
        deadline = asyncio.get_running_loop().time() + 10
        while await rt.store.pending():
            assert asyncio.get_running_loop().time() < deadline, "deliveries still pending"
            await rt.desk.until_idle()
            await asyncio.sleep(0.01)


def write_devlog(home: Home, agent: str, name: str, text: str) -> Path:
    path = home.workspaces_dir / agent / "devlogs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def backed_up_bytes(home: Home) -> dict[str, bytes]:
    """Every file a backup of ``home`` covers (the store aside), by relative path."""
    return {source.path: Path(source.absolute).read_bytes() for source in home_files(home)}


def row_counts(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("messages", "deliveries", "audit")
        }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def busy_home(home: Home, settings: Settings) -> Home:
    await broadcast(home, settings, 3)
    write_devlog(home, "Agent-1", "2026-03-01.md", "# day one\nparser started\n")
    home.devlogs_dir.mkdir(parents=True, exist_ok=True)
    (home.devlogs_dir / "swarm.md").write_text("swarm devlog\n")
    return home


@pytest.fixture
def backups(busy_home: Home, settings: Settings, clock: Clock) -> Backups:
    return Backups(busy_home, settings.backups, clock)


def settings_with(home: Home, **backup_settings: object) -> Settings:
    return load_settings(home, backups=backup_settings)


def flip_byte(path: Path, offset: int) -> None:
    """Change one byte of ``path`` in place, keeping its size."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_store(database: Path) -> None:
    """Break one page of the store's full-text index: the store still opens and takes
    deliveries, but SQLite's integrity check fails."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'messages_fts_data'"
        ).fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    with open(database, "r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xff" * 16)

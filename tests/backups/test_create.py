"""A backup taken while the desk writes a broadcast into the inboxes restores to a sound,
consistent store: every delivery the store calls done has its letter in the backup."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from backups.service import Backups
from config import BackupKind, Home, Settings
from messaging.model import DeliveryState
from messaging.runtime import open_runtime

VALID_STATES = {state.value for state in DeliveryState}


async def test_a_backup_during_a_broadcast_restores_a_consistent_store(
    home: Home, settings: Settings, tmp_path: Path
) -> None:
    backups = Backups(home, settings.backups)
    async with open_runtime(home, settings) as rt:
        assert rt.desk_here
        for n in range(150):
            await rt.service.broadcast(f"broadcast {n}: " + "rebase onto main " * 20)
        total = 150 * len(rt.registry.current().active())
        # back up while the desk is part way through writing the letters
        while await rt.store.pending() > total * 3 // 4:
            await asyncio.sleep(0.005)
        assert await rt.store.pending() > 0
        made = await asyncio.to_thread(backups.create, BackupKind.FULL)
        while await rt.store.pending():
            await rt.desk.until_idle()
            await asyncio.sleep(0.01)

    backups.verify(made.id)
    target = tmp_path / "restored"
    backups.restore(made.id, to=target)
    with contextlib.closing(sqlite3.connect(target / "var" / "cellphone.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states = db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
        done = db.execute(
            "SELECT d.agent, m.id FROM deliveries d JOIN messages m ON m.seq = d.message_seq "
            "WHERE d.state = 'delivered'"
        ).fetchall()
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 150
    assert {state for state, _ in states} <= VALID_STATES
    assert sum(count for _, count in states) == total
    assert 0 < len(done) < total  # the snapshot caught the broadcast part way
    letters = {
        (path.parts[-3], path.stem.rsplit("_", 1)[-1])
        for path in (target / "agent_workspaces").glob("*/inbox/*.md")
    }
    assert set(done) <= letters


async def test_an_idle_store_is_not_copied_again(
    busy_home: Home, settings: Settings, tmp_path: Path
) -> None:
    backups = Backups(busy_home, settings.backups)
    full = backups.create(BackupKind.FULL)
    idle = backups.create(BackupKind.INCREMENTAL)
    store = "var/cellphone.db"
    assert idle.store_stamp == full.store_stamp
    assert [e.path for e, _ in idle.stored_here()] == []
    assert idle.store_rows == full.store_rows

    async with open_runtime(busy_home, settings) as rt:
        await rt.service.broadcast("one more")
        while await rt.store.pending():
            await rt.desk.until_idle()
    busy = backups.create(BackupKind.INCREMENTAL)
    assert busy.store_stamp != idle.store_stamp
    assert store in {e.path for e, _ in busy.stored_here()}
    assert busy.store_rows["messages"] == full.store_rows["messages"] + 1

    backups.restore(idle.id, to=tmp_path / "idle")
    with contextlib.closing(sqlite3.connect(tmp_path / "idle" / store)) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 3

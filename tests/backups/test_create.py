"""A backup taken while the desk writes a broadcast into the inboxes restores to a sound,
consistent store: every delivery the store calls done has its letter in the backup."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest

from backups import archive, create
from backups.archive import BLOCK
from backups.errors import BackupError
from backups.packer import BUFFER, SMALL, _Reader
from backups.service import Backups
from backups.sources import Source
from config import BackupKind, Home, Settings
from messaging.model import DeliveryState
from messaging.runtime import open_runtime
from tests.backups.conftest import write_devlog

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


def test_a_large_file_cut_while_read_fails_the_backup_and_leaves_nothing(
    busy_home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that shrinks while a reader copies it (simulated: the reader is told a larger
    size than the file has) stops the backup with its name; no archive is left."""
    big = busy_home.workspaces_dir / "Agent-2" / "outbox" / "build.bin"
    big.write_bytes(os.urandom(6_000_000))
    for n in range(40):  # enough for the other reader to fill all its buffers meanwhile
        write_devlog(busy_home, "Agent-3", f"note-{n:02d}.md", "x" * 1_000_000)
    real_large = _Reader._large

    def shrunk(self: _Reader, fd: int, source: Source, size: int, mtime: int) -> tuple[int, str]:
        return real_large(self, fd, source, size + 5_000_000, mtime)

    monkeypatch.setattr(_Reader, "_large", shrunk)
    backups = Backups(busy_home, settings.backups)
    with pytest.raises(BackupError, match=r"build\.bin got shorter while it was backed up"):
        backups.create(BackupKind.FULL)
    assert list(busy_home.backups_dir.iterdir()) == [busy_home.backups_dir / ".create.lock"]


def test_a_store_that_cannot_be_archived_fails_the_backup_and_leaves_nothing(
    busy_home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is archived on a thread of its own beside the readers: its failure stops
    them, and the backup fails with the store's reason."""
    for n in range(20):
        write_devlog(busy_home, "Agent-3", f"note-{n:02d}.md", "x" * 300_000)

    def broken(*args: object) -> None:
        raise BackupError("the store's pieces could not be read")

    monkeypatch.setattr(create, "_store_pieces", broken)
    backups = Backups(busy_home, settings.backups)
    with pytest.raises(BackupError, match="the store's pieces could not be read"):
        backups.create(BackupKind.FULL)
    assert list(busy_home.backups_dir.iterdir()) == [busy_home.backups_dir / ".create.lock"]


def test_files_of_every_awkward_size_go_straight_to_the_disk_and_restore_byte_for_byte(
    home: Home, settings: Settings, tmp_path: Path
) -> None:
    """Sizes around the packer's buffer and blocks (one ending within a block of the end of
    its buffer must still be written in whole blocks), through the direct writes of this
    filesystem; tar reads the archive back the same."""
    (tmp_path / "probe").touch()
    probe = archive._direct_fd(tmp_path / "probe")  # ext4 on a disk here: the direct way
    assert probe is not None
    os.close(probe)
    sizes = [0, 1, 511, 512, 513, SMALL - 1, SMALL + 1, BUFFER - 3 * BLOCK, BUFFER - BLOCK - 100]
    sizes += [BUFFER - 100, BUFFER, BUFFER + 7, 2 * BUFFER - BLOCK - 1, 3 * BUFFER + 4097]
    folder = home.workspaces_dir / "Agent-1" / "outbox"
    written = {}
    for size in sizes:
        data = os.urandom(size)
        (folder / f"artifact-{size}.bin").write_bytes(data)
        written[f"agent_workspaces/Agent-1/outbox/artifact-{size}.bin"] = data
    backups = Backups(home, settings.backups)
    made = backups.create(BackupKind.FULL)
    backups.verify(made.id)
    with tarfile.open(backups.catalog.archive(made)) as tar:
        for name, data in written.items():
            member = tar.extractfile(name)
            assert member is not None and member.read() == data, name
    target = tmp_path / "restored"
    backups.restore(made.id, to=target)
    for name, data in written.items():
        assert (target / name).read_bytes() == data, name

"""Restore: the drill of the whole chain into a new folder, point in time, refusals."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from backups.errors import BackupError, RestoreRefusedError
from backups.manifest import STORE_PATH, Manifest
from backups.restore import restore
from backups.service import Backups
from config import BackupKind, Home, Settings
from messaging.runtime import open_runtime
from tests.backups.conftest import (
    Clock,
    backed_up_bytes,
    broadcast,
    row_counts,
    write_devlog,
)


async def test_drill_full_and_two_incrementals_restore_a_destroyed_home(
    backups: Backups, busy_home: Home, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    home = busy_home
    full = backups.create(BackupKind.FULL)

    clock.advance(hours=1)
    await broadcast(home, settings, 2, "second")
    write_devlog(home, "Agent-2", "notes.md", "lexer done\n")
    first = backups.create(BackupKind.INCREMENTAL)

    clock.advance(hours=1)
    await broadcast(home, settings, 1, "third")
    write_devlog(home, "Agent-1", "2026-03-01.md", "# day one\nparser started\nparser done\n")
    (home.workspaces_dir / "Agent-2" / "devlogs" / "notes.md").unlink()
    second = backups.create(BackupKind.INCREMENTAL)
    for made in (full, first, second):
        backups.verify(made.id)

    expected_files = backed_up_bytes(home)
    expected_rows = row_counts(home.database)
    assert expected_rows["messages"] == 6 and expected_rows["deliveries"] == 48
    assert second.parent == first.id and first.parent == full.id
    assert second.chain == [full.id, first.id, second.id]
    # an incremental stores only what changed: the new inbox letters and edited devlog
    stored = {entry.path for entry, _ in second.stored_here() if entry.path != STORE_PATH}
    assert stored == {
        *(p for p in expected_files if "inbox" in p and p not in first_paths(first)),
        "agent_workspaces/Agent-1/devlogs/2026-03-01.md",
    }

    # the machine is lost; the backups survived elsewhere and come to a new one
    new_machine = Home(tmp_path / "new-machine")
    shutil.copytree(home.backups_dir, new_machine.backups_dir)
    shutil.rmtree(home.root)
    target = tmp_path / "restored"
    result = Backups(new_machine, settings.backups).restore(second.id, to=target)

    assert result.chain == [full.id, first.id, second.id]
    restored = Home(target)
    assert backed_up_bytes(restored) == expected_files
    assert row_counts(restored.database) == expected_rows
    assert not (target / "agent_workspaces" / "Agent-2" / "devlogs" / "notes.md").exists()
    # empty folders come back too: every agent's outbox, which only the agents write to
    for n in range(1, 9):
        for folder in ("inbox", "outbox", "devlogs"):
            assert (target / "agent_workspaces" / f"Agent-{n}" / folder).is_dir()
    with sqlite3.connect(restored.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def first_paths(manifest: Manifest) -> set[str]:
    return {entry.path for entry in manifest.files}


async def test_differential_holds_everything_since_the_last_full(
    backups: Backups, busy_home: Home, settings: Settings, clock: Clock
) -> None:
    full = backups.create(BackupKind.FULL)
    clock.advance(minutes=5)
    write_devlog(busy_home, "Agent-3", "a.md", "first change\n")
    incremental = backups.create(BackupKind.INCREMENTAL)
    clock.advance(minutes=5)
    write_devlog(busy_home, "Agent-4", "b.md", "second change\n")
    differential = backups.create(BackupKind.DIFFERENTIAL)

    assert incremental.parent == full.id and differential.parent == full.id
    assert differential.chain == [full.id, differential.id]
    stored = {entry.path for entry, _ in differential.stored_here()}
    assert {
        "agent_workspaces/Agent-3/devlogs/a.md",
        "agent_workspaces/Agent-4/devlogs/b.md",
    } <= stored


def test_a_file_rewritten_keeping_its_size_and_time_is_stored_again(
    backups: Backups, busy_home: Home, clock: Clock, tmp_path: Path
) -> None:
    """Unchanged files are not read; a file counts as changed when its ctime or inode
    moved, not only its size or mtime."""
    backups.create(BackupKind.FULL)
    devlog = busy_home.workspaces_dir / "Agent-1" / "devlogs" / "2026-03-01.md"
    before = devlog.stat()
    devlog.write_text("# day one\nparser stalled\n")  # as long as what it replaces
    os.utime(devlog, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (devlog.stat().st_size, devlog.stat().st_mtime_ns) == (
        before.st_size,
        before.st_mtime_ns,
    )
    clock.advance(minutes=5)
    incremental = backups.create(BackupKind.INCREMENTAL)
    stored = {entry.path for entry, _ in incremental.stored_here()}
    assert "agent_workspaces/Agent-1/devlogs/2026-03-01.md" in stored
    result = backups.restore(incremental.id, to=tmp_path / "restored")
    restored = result.target / "agent_workspaces/Agent-1/devlogs/2026-03-01.md"
    assert restored.read_text() == "# day one\nparser stalled\n"


def test_an_incremental_without_a_full_backup_becomes_full(backups: Backups) -> None:
    made = backups.create(BackupKind.INCREMENTAL)
    assert made.kind is BackupKind.FULL and made.parent is None


async def test_point_in_time_takes_the_newest_verified_chain_at_or_before(
    backups: Backups, busy_home: Home, clock: Clock, tmp_path: Path
) -> None:
    early = backups.create(BackupKind.FULL)
    backups.verify(early.id)
    clock.advance(hours=1)
    write_devlog(busy_home, "Agent-1", "late.md", "later\n")
    middle = backups.create(BackupKind.INCREMENTAL)
    clock.advance(hours=1)
    late = backups.create(BackupKind.INCREMENTAL)
    backups.verify(late.id)
    between = middle.created_at + (late.created_at - middle.created_at) / 2

    # the middle one was never verified: the early full backup is the newest verified chain
    result = backups.restore(at=between, to=tmp_path / "pit-1")
    assert result.backup_id == early.id
    assert not (tmp_path / "pit-1/agent_workspaces/Agent-1/devlogs/late.md").exists()

    backups.verify(middle.id)
    assert backups.restore(at=between, to=tmp_path / "pit-2").backup_id == middle.id
    assert (tmp_path / "pit-2/agent_workspaces/Agent-1/devlogs/late.md").read_text() == "later\n"
    with pytest.raises(BackupError, match="no verified backup was made at or before"):
        backups.restore(at=early.created_at.replace(year=2025), to=tmp_path / "pit-3")


def test_restore_refuses_the_live_home_without_force(backups: Backups, busy_home: Home) -> None:
    made = backups.create(BackupKind.FULL)
    devlog = busy_home.workspaces_dir / "Agent-1" / "devlogs" / "2026-03-01.md"
    devlog.write_text("written after the backup\n")

    with pytest.raises(RestoreRefusedError, match="add --force"):
        backups.restore(made.id)
    assert devlog.read_text() == "written after the backup\n"

    result = backups.restore(made.id, force=True)
    assert devlog.read_text() == "# day one\nparser started\n"
    assert result.replaced is not None
    kept = result.replaced / "agent_workspaces/Agent-1/devlogs/2026-03-01.md"
    assert kept.read_text() == "written after the backup\n"
    assert not (busy_home.var_dir / "cellphone.db-wal").exists()
    assert row_counts(busy_home.database)["messages"] == 3


def test_restore_refuses_a_folder_that_is_not_empty(backups: Backups, tmp_path: Path) -> None:
    made = backups.create(BackupKind.FULL)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(RestoreRefusedError, match="add --force"):
        backups.restore(made.id, to=occupied)
    assert sorted(p.name for p in occupied.iterdir()) == ["keep.txt"]


async def test_restore_refuses_while_a_coordinator_holds_the_store(
    backups: Backups, busy_home: Home, settings: Settings
) -> None:
    made = backups.create(BackupKind.FULL)
    async with open_runtime(busy_home, settings) as rt:
        assert rt.desk_here
        with pytest.raises(RestoreRefusedError, match=r"a coordinator \(process \d+\) holds"):
            backups.restore(made.id, force=True)


def test_dry_run_checks_everything_and_writes_nothing(backups: Backups, tmp_path: Path) -> None:
    made = backups.create(BackupKind.FULL)
    result = backups.restore(made.id, to=tmp_path / "never", dry_run=True)
    assert result.dry_run and result.files == len(made.files)
    assert not (tmp_path / "never").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".never")] == []


def test_a_manifest_path_leaving_the_home_is_refused(backups: Backups, tmp_path: Path) -> None:
    made = backups.create(BackupKind.FULL)
    sidecar = backups.catalog.folder / f"{made.id}.json"
    data = json.loads(sidecar.read_text())
    data["files"][0]["columns"]["path"][0] = "config/../../escaped"
    sidecar.write_text(json.dumps(data))
    with pytest.raises(BackupError, match=re.escape("refusing the path 'config/../../escaped'")):
        restore(backups.catalog, backups.catalog.get(made.id), tmp_path / "t", live=False)
    assert not (tmp_path / "escaped").exists()


def test_large_files_read_side_by_side_stay_whole(
    backups: Backups, busy_home: Home, tmp_path: Path
) -> None:
    """Files larger than a reader's buffer, several of them packed at once by both readers,
    among small ones: each comes back byte for byte."""
    for n in range(4):
        big = busy_home.workspaces_dir / f"Agent-{n + 1}" / "outbox" / f"build-{n}.bin"
        big.write_bytes(os.urandom(9_000_000 + n * 12_345))
        for m in range(40):
            write_devlog(busy_home, f"Agent-{n + 1}", f"note-{m}.md", f"note {n} {m}\n" * m)
    expected = backed_up_bytes(busy_home)
    made = backups.create(BackupKind.FULL)
    backups.verify(made.id)
    backups.restore(made.id, to=tmp_path / "restored")
    assert backed_up_bytes(Home(tmp_path / "restored")) == expected
    for entry in made.files:  # times and modes too: the next incremental compares them
        restored = (tmp_path / "restored" / entry.path).stat()
        assert (restored.st_mtime_ns, restored.st_mode & 0o7777) == (entry.mtime_ns, entry.mode)

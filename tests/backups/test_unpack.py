"""Restore writes files on several threads: a home of ten thousand files comes back byte
for byte, plain and encrypted; a damaged or cut off archive stops the restore and the live
home stays as it was."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from backups.archive import members
from backups.errors import VerifyError
from backups.manifest import FileEntry, Part
from backups.service import Backups
from backups.unpack import LARGE, Unpacker
from config import BackupKind, Home
from tests.backups.conftest import Clock, backed_up_bytes, flip_byte
from tests.backups.test_verify import encrypted, offset_of

LETTERS = 10_000


def fill(home: Home, letters: int = LETTERS) -> None:
    """Small letters over every agent's inbox (some empty), devlogs, and large files: sizes
    that are no multiple of a page and one that is, one past what an encrypted archive hands
    to a worker in one piece; and a name too long for a plain tar header."""
    rng = random.Random(5)
    for n in range(letters):
        inbox = home.workspaces_dir / f"Agent-{n % 8 + 1}" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        size = 0 if n % 997 == 0 else rng.randint(1, 600)
        (inbox / f"letter-{n:05d}.md").write_bytes(rng.randbytes(size))
    for n in range(30):
        devlog = home.workspaces_dir / f"Agent-{n % 8 + 1}" / "devlogs" / f"day-{n}.md"
        devlog.write_bytes(rng.randbytes(rng.randint(4_000, 300_000)))
    outbox = home.workspaces_dir / "Agent-2" / "outbox"
    (outbox / "build.bin").write_bytes(os.urandom(3 * LARGE + 1_234))
    (outbox / "bundle.bin").write_bytes(os.urandom(9 * LARGE + 77))
    (outbox / "pages.bin").write_bytes(os.urandom(2 * LARGE))
    long_name = "release-notes-" + "ü" * 60 + ".md"  # past a tar header's 100 bytes: pax
    (outbox / long_name).write_text("notes\n" * 500)
    os.chmod(outbox / "build.bin", 0o750)


def restored_exactly(made_files: tuple[FileEntry, ...], target: Path) -> None:
    for entry in made_files:  # modes and times too: the next incremental compares them
        info = (target / entry.path).stat()
        assert (info.st_mtime_ns, info.st_mode & 0o7777) == (entry.mtime_ns, entry.mode)


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
def test_a_home_of_ten_thousand_files_comes_back_byte_for_byte(
    busy_home: Home, backups: Backups, clock: Clock, tmp_path: Path, sealed: bool
) -> None:
    fill(busy_home)
    if sealed:
        backups = encrypted(busy_home, tmp_path, clock, "key")
    expected = backed_up_bytes(busy_home)
    assert len(expected) > LETTERS
    made = backups.create(BackupKind.FULL)
    backups.verify(made.id)

    result = backups.restore(made.id, to=tmp_path / "restored")

    assert result.files == len(made.files)
    assert backed_up_bytes(Home(tmp_path / "restored")) == expected
    restored_exactly(made.files, tmp_path / "restored")
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []


def test_the_folders_are_shared_among_the_workers(
    busy_home: Home, backups: Backups, tmp_path: Path
) -> None:
    """Each folder's files go to one worker, and the eight inboxes do not all go to one."""
    fill(busy_home, letters=800)
    made = backups.create(BackupKind.FULL)
    wanted = {entry.path: [(entry, entry.parts[0])] for entry in made.files if not entry.pieces}
    root = tmp_path / "out"
    for entry in made.files:
        (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
    with (
        members(backups.catalog.archive(made), None, made.id) as found,
        Unpacker(root, workers=2) as unpacker,
    ):
        for name, content in found:
            if name in wanted:
                unpacker.add(wanted[name], content)
        assert unpacker.finish() == []
    inboxes = {f"agent_workspaces/Agent-{n}/inbox" for n in range(1, 9)}
    assert inboxes <= unpacker.folders.keys()
    assert {unpacker.folders[folder] for folder in inboxes} == {0, 1}
    sample = "agent_workspaces/Agent-3/inbox/letter-00002.md"
    assert (root / sample).read_bytes() == (busy_home.root / sample).read_bytes()


@pytest.mark.parametrize("which", ["letter", "large file"])
def test_a_changed_byte_in_the_archive_stops_the_restore_and_the_live_home_stays(
    busy_home: Home, backups: Backups, which: str
) -> None:
    fill(busy_home, letters=400)
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    if which == "letter":
        name = "agent_workspaces/Agent-4/inbox/letter-00003.md"
        at = offset_of(archive, (busy_home.root / name).read_bytes()[:64])
    else:
        name = "agent_workspaces/Agent-2/outbox/bundle.bin"
        at = offset_of(archive, (busy_home.root / name).read_bytes()[5 * LARGE : 5 * LARGE + 64])
    flip_byte(archive, at + 7)
    (busy_home.devlogs_dir / "swarm.md").write_text("written after the backup\n")
    before = backed_up_bytes(busy_home)
    top = sorted(p.name for p in busy_home.root.iterdir())

    with pytest.raises(VerifyError, match=f"{name}: content changed") as caught:
        backups.restore(made.id, force=True)

    assert len(caught.value.problems) == 1
    assert "do not restore it" in str(caught.value)
    assert backed_up_bytes(busy_home) == before
    assert sorted(p.name for p in busy_home.root.iterdir()) == top  # no staging, no .replaced


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
def test_a_cut_off_archive_stops_the_restore_and_the_live_home_stays(
    busy_home: Home, backups: Backups, clock: Clock, tmp_path: Path, sealed: bool
) -> None:
    fill(busy_home, letters=400)
    if sealed:
        backups = encrypted(busy_home, tmp_path, clock, "key")
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    with open(archive, "r+b") as handle:
        handle.truncate(archive.stat().st_size * 2 // 3)
    (busy_home.devlogs_dir / "swarm.md").write_text("written after the backup\n")
    before = backed_up_bytes(busy_home)
    top = sorted(p.name for p in busy_home.root.iterdir())

    with pytest.raises(VerifyError, match=r"cut off") as caught:
        backups.restore(made.id, force=True)

    assert archive.name in str(caught.value)
    assert backed_up_bytes(busy_home) == before
    assert sorted(p.name for p in busy_home.root.iterdir()) == top


def test_a_filesystem_refusing_a_direct_write_gets_an_ordinary_one(tmp_path: Path) -> None:
    """Large files go straight to the disk from the mapped archive, whose members start on
    a block. Content that does not (here: one byte in) is refused by ext4, xfs and btrfs;
    the file is written again without, and so is every one after it."""
    data = bytearray(os.urandom(2 * LARGE + 1))
    view = memoryview(data)[1:]
    digest = hashlib.sha256(view).hexdigest()
    entry = FileEntry("config/big.bin", len(view), digest, 1_700_000_000_000_000_000, 0o640, "b")
    (tmp_path / "config").mkdir()
    with Unpacker(tmp_path) as unpacker:
        unpacker.add([(entry, Part("b", entry.path, 0, len(view), digest))], view)
        assert unpacker.finish() == []
    assert not unpacker.direct
    written = tmp_path / "config" / "big.bin"
    assert written.read_bytes() == bytes(view)
    assert (written.stat().st_mode & 0o777, written.stat().st_mtime_ns) == (0o640, entry.mtime_ns)

"""Verify recomputes every hash and names what does not match; encryption with a key file,
and what the wrong key does."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from backups.crypto import make_key_file
from backups.errors import BackupError, VerifyError, WrongKeyError
from backups.service import Backups
from config import BackupKind, Home, Settings
from tests.backups.conftest import Clock, backed_up_bytes, flip_byte, settings_with

DEVLOG = "agent_workspaces/Agent-1/devlogs/2026-03-01.md"


def offset_of(archive: Path, text: bytes) -> int:
    data = archive.read_bytes()
    assert data.count(text) == 1
    return data.index(text)


def test_a_changed_byte_in_the_archive_names_the_file(backups: Backups) -> None:
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    flip_byte(archive, offset_of(archive, b"parser started"))

    with pytest.raises(VerifyError) as caught:
        backups.verify(made.id)
    assert caught.value.problems == [
        f"{DEVLOG}: content changed (sha256 {caught.value.problems[0].split('sha256 ')[1][:12]}…, "
        f"manifest says {next(e.sha256 for e in made.files if e.path == DEVLOG)[:12]}…)"
    ]
    checked = backups.catalog.verified(made.id)
    assert checked is not None and not checked.ok


def test_a_changed_manifest_hash_is_caught(backups: Backups) -> None:
    made = backups.create(BackupKind.FULL)
    sidecar = backups.catalog.folder / f"{made.id}.json"
    digest = next(e.sha256 for e in made.files if e.path == DEVLOG)
    sidecar.write_text(sidecar.read_text().replace(digest, "0" * 64))
    with pytest.raises(VerifyError) as caught:
        backups.verify(made.id)
    assert any(p.startswith(f"{DEVLOG}: content changed") for p in caught.value.problems)
    assert any("its manifest differs" in p for p in caught.value.problems)


def test_a_manifest_written_again_with_the_same_content_still_matches_its_archive(
    backups: Backups,
) -> None:
    made = backups.create(BackupKind.FULL)
    sidecar = backups.catalog.folder / f"{made.id}.json"
    sidecar.write_text(json.dumps(json.loads(sidecar.read_text()), indent=2))  # other bytes
    assert backups.verify(made.id) == made


def test_a_cut_off_archive_is_damaged(backups: Backups) -> None:
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(VerifyError, match=r"is damaged|missing from"):
        backups.verify(made.id)


def test_a_member_outside_the_manifest_is_named_and_never_written(
    backups: Backups, tmp_path: Path
) -> None:
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    with tarfile.open(archive, "a") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))

    with pytest.raises(VerifyError, match=r"holds '\.\./\.\./escaped\.txt', which its manifest"):
        backups.verify(made.id)
    backups.restore(made.id, to=tmp_path / "deep" / "restored")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists()


def test_a_reference_to_a_removed_backup_is_named(
    backups: Backups, busy_home: Home, clock: Clock
) -> None:
    full = backups.create(BackupKind.FULL)
    clock.advance(minutes=1)
    incremental = backups.create(BackupKind.INCREMENTAL)
    backups.catalog.archive(full).unlink()
    with pytest.raises(VerifyError, match=f"held by backup {full.id}, which is missing"):
        backups.verify(incremental.id)


def encrypted(home: Home, tmp_path: Path, clock: Clock, name: str) -> Backups:
    key = tmp_path / f"{name}.key"
    if not key.exists():
        make_key_file(key)
    return Backups(home, settings_with(home, key_file=str(key)).backups, clock)


def test_encrypted_backups_restore_with_their_key_and_name_the_wrong_one(
    busy_home: Home, tmp_path: Path, clock: Clock
) -> None:
    backups = encrypted(busy_home, tmp_path, clock, "right")
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    assert archive.name.endswith(".tar.enc")
    assert b"parser started" not in archive.read_bytes()
    backups.verify(made.id)
    result = backups.restore(made.id, to=tmp_path / "restored")
    assert (result.target / DEVLOG).read_text() == "# day one\nparser started\n"

    wrong = encrypted(busy_home, tmp_path, clock, "wrong")
    assert backups.key is not None
    with pytest.raises(WrongKeyError, match=f"encrypted with key {backups.key.id}") as caught:
        wrong.verify(made.id)
    assert wrong.key is not None and wrong.key.id in str(caught.value)
    with pytest.raises(WrongKeyError):
        wrong.restore(made.id, to=tmp_path / "never")
    assert not (tmp_path / "never").exists()

    keyless = Backups(busy_home, Settings().backups, clock)
    with pytest.raises(WrongKeyError, match=r"backups\.key_file is not set"):
        keyless.verify(made.id)


def test_a_changed_byte_of_an_encrypted_archive_fails_authentication(
    busy_home: Home, tmp_path: Path, clock: Clock
) -> None:
    backups = encrypted(busy_home, tmp_path, clock, "key")
    made = backups.create(BackupKind.FULL)
    archive = backups.catalog.archive(made)
    flip_byte(archive, archive.stat().st_size // 2)
    with pytest.raises(VerifyError, match="failed authentication"):
        backups.verify(made.id)


def test_a_key_file_that_holds_no_key_is_refused(busy_home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(BackupError, match=f"backup key file {bad} does not hold a key"):
        Backups(busy_home, settings_with(busy_home, key_file=str(bad)).backups)
    with pytest.raises(BackupError, match="exists; choose another path"):
        make_key_file(bad)


def test_an_encrypted_backup_of_large_files_packed_side_by_side_restores_them(
    busy_home: Home, tmp_path: Path, clock: Clock
) -> None:
    """An encrypted archive is a stream: pieces that both readers and the store's thread
    have ready wait their turn, and every file still comes back byte for byte."""
    for n in range(3):
        outbox = busy_home.workspaces_dir / f"Agent-{n + 1}" / "outbox"
        (outbox / f"build-{n}.bin").write_bytes(os.urandom(5_000_000 + n * 4_321))
        for m in range(60):
            (outbox / f"note-{m}.md").write_text(f"note {n} {m}\n" * (m * 40))
    expected = backed_up_bytes(busy_home)
    backups = encrypted(busy_home, tmp_path, clock, "key")
    made = backups.create(BackupKind.FULL)
    backups.verify(made.id)
    backups.restore(made.id, to=tmp_path / "restored")
    assert backed_up_bytes(Home(tmp_path / "restored")) == expected

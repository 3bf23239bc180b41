"""Reading backups back: verify (recompute every hash), and restore a backup's whole chain
into a staging folder beside the target, swapped in only once every file checked out."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from backups.archive import COPY_BUFFER, Content, members
from backups.catalog import Catalog
from backups.errors import BackupError, RestoreRefusedError, VerifyError
from backups.manifest import (
    MANIFEST_MEMBER,
    ROOTS,
    STORE_PATH,
    FileEntry,
    Manifest,
    Part,
    check_path,
)
from backups.unpack import Unpacker
from messaging.desk import desk_holder

Wanted = dict[str, list[tuple[FileEntry, Part]]]  # member name -> the pieces it holds


@dataclass(frozen=True)
class RestoreResult:
    backup_id: str
    chain: list[str]
    target: Path
    files: int
    size: int
    seconds: float
    replaced: Path | None  # where the state the restore replaced was kept
    dry_run: bool


def verify(catalog: Catalog, backup_id: str, now: datetime) -> Manifest:
    """Recompute the hash of everything the archive of ``backup_id`` holds and check that
    the backups it builds on are there. The outcome is recorded; problems raise
    :class:`VerifyError` naming each file."""
    manifest = catalog.get(backup_id)
    wanted: Wanted = {}
    held_by: dict[str, list[str]] = {}  # the files other backups hold (part of), by backup
    for entry in manifest.files:  # one pass: a manifest lists tens of thousands of files
        for part in entry.parts:
            if part.source == manifest.id:
                wanted.setdefault(part.member, []).append((entry, part))
                continue
            paths = held_by.setdefault(part.source, [])
            if not paths or paths[-1] != entry.path:
                paths.append(entry.path)
    try:
        problems = _read(catalog, manifest, wanted, None, own=manifest)
    except VerifyError as exc:
        problems = exc.problems
    known = catalog.ids()
    for source, paths in held_by.items():
        if source not in known or not catalog.archive(catalog.get(source)).is_file():
            problems += [f"{path}: held by backup {source}, which is missing" for path in paths]
    catalog.mark_verified(manifest.id, now, problems)
    if problems:
        raise VerifyError(manifest.id, problems)
    return manifest


def restore(
    catalog: Catalog,
    manifest: Manifest,
    target: Path,
    *,
    live: bool,
    force: bool = False,
    dry_run: bool = False,
) -> RestoreResult:
    """Restore ``manifest`` (reading every backup of its chain) into ``target``. ``live``:
    the target is a home in use; it, or any folder that is not empty, is only replaced with
    ``force``, and never while a coordinator holds its store."""
    started = time.perf_counter()
    target = target.resolve()
    _refuse(target, live=live, force=force)
    for path in (*(entry.path for entry in manifest.files), *manifest.folders):
        check_path(path, f"backup {manifest.id}")
    chain = manifest.chain
    for source in chain:
        if source != manifest.id and not catalog.archive(catalog.get(source)).is_file():
            raise VerifyError(manifest.id, [f"the archive of backup {source} is missing"])
    # beside what it replaces (one filesystem: the swap is a rename): inside a target that
    # exists, else next to it
    where = (
        target / f".restoring-{manifest.id}"
        if target.exists()
        else (target.parent / f".{target.name}.restoring-{manifest.id}")
    )
    staging = None if dry_run else where
    replaced = None
    try:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            _lay_out(staging, manifest)
        problems: list[str] = []
        for source in chain:
            wanted: Wanted = {}
            for entry in manifest.files:
                for part in entry.parts:
                    if part.source == source:
                        wanted.setdefault(part.member, []).append((entry, part))
            problems += _read(catalog, catalog.get(source), wanted, staging, own=None)
        if staging is not None:
            problems += _finish(staging, manifest)
        if problems:
            raise VerifyError(manifest.id, problems)
        if staging is not None:
            replaced = _swap(staging, target)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(
        manifest.id,
        chain,
        target,
        len(manifest.files),
        manifest.size,
        time.perf_counter() - started,
        replaced,
        dry_run,
    )


def choose_at(catalog: Catalog, when: datetime) -> Manifest:
    """The newest backup made at or before ``when`` whose whole chain passed verification."""
    for manifest in reversed(catalog.manifests()):
        if manifest.created_at > when:
            continue
        checks = [catalog.verified(source) for source in manifest.chain]
        if all(check is not None and check.ok for check in checks):
            return manifest
    raise BackupError(
        f"no verified backup was made at or before {when.isoformat()}; "
        "`cellphone backup list` shows the backups and when each was verified"
    )


def _refuse(target: Path, *, live: bool, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise RestoreRefusedError(f"{target} is a file; restore --to a folder")
    holder = desk_holder(target / "var" / "desk.lock")
    if holder:
        raise RestoreRefusedError(
            f"a coordinator (process {holder}) holds the store of {target}; stop it "
            "(`cellphone bot` or `cellphone deliver --watch`) and restore again"
        )
    occupied = target.exists() and any(target.iterdir())
    if (live or occupied) and not force:
        raise RestoreRefusedError(
            f"restoring into {target} replaces its config, agent workspaces, devlogs and "
            "store; add --force to do it (what it replaces is kept in a .replaced-* folder "
            "there), or restore --to a new folder"
        )


def _lay_out(staging: Path, manifest: Manifest) -> None:
    """The folders of the backup under ``staging`` (empty ones too), its empty files, and
    the files made of several pieces at their full size (the others are created as they
    are written)."""
    folders = {str(Path(entry.path).parent) for entry in manifest.files} | set(manifest.folders)
    for folder in sorted(folders):
        (staging / folder).mkdir(parents=True, exist_ok=True)
    for entry in manifest.files:
        if len(entry.parts) != 1:
            with open(staging / entry.path, "wb") as handle:
                handle.truncate(entry.size)


def _read(
    catalog: Catalog,
    archive_of: Manifest,
    wanted: Wanted,
    root: Path | None,
    own: Manifest | None,
) -> list[str]:
    """Read one archive; check each wanted member's sha256, writing it out under ``root``
    (several at once: :mod:`backups.unpack`). With ``own``, the archive must hold exactly its
    manifest's members and a copy of it."""
    problems: list[str] = []
    seen: set[str] = set()
    path = catalog.archive(archive_of)
    with (
        members(path, catalog.key_for(archive_of), archive_of.id) as found,
        Unpacker(root) as unpacker,
    ):
        for name, content in found:
            if name == MANIFEST_MEMBER:
                if own is not None and not _same_manifest(content, path, catalog, own):
                    problems.append(f"{path.name}: its manifest differs from {own.id}.json")
                continue
            targets = wanted.get(name)
            if targets is None:
                if own is not None:
                    problems.append(
                        f"{path.name}: holds {name!r}, which its manifest does not list"
                    )
                continue
            seen.add(name)
            unpacker.add(targets, content)
        problems += unpacker.finish()
    problems += [
        f"{entry.path}: missing from {path.name}"
        for name, targets in wanted.items()
        if name not in seen
        for entry, _ in targets
    ]
    return problems


def _same_manifest(content: Content, path: Path, catalog: Catalog, own: Manifest) -> bool:
    """Whether the archive's copy of its manifest is ``own``: the same bytes as the
    catalog's file (both are written from one text), or else read and compared."""
    data = bytes(content) if isinstance(content, memoryview) else content.read()
    with contextlib.suppress(OSError):
        if data == catalog.manifest_file(own.id).read_bytes():
            return True
    return _embedded(data, path) == own


def _embedded(data: bytes, path: Path) -> Manifest | None:
    try:
        return Manifest.from_json(data.decode("utf-8"), f"{path.name}:{MANIFEST_MEMBER}")
    except (BackupError, UnicodeDecodeError):
        return None


def _finish(staging: Path, manifest: Manifest) -> list[str]:
    """Whole-file hashes of files made of several pieces, and the modes and times of the
    files not written whole (those were set as they were written)."""
    problems = []
    for entry in manifest.files:
        if len(entry.parts) == 1:
            continue
        path = staging / entry.path
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(COPY_BUFFER):
                digest.update(block)
        if digest.hexdigest() != entry.sha256:
            problems.append(f"{entry.path}: restored content does not match its sha256")
        os.chmod(path, entry.mode)
        os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns))
    return problems


def _swap(staging: Path, target: Path) -> Path | None:
    """Put the restored folders in place; what they replace moves to ``.replaced-<time>``."""
    if not target.exists():
        os.replace(staging, target)
        return None
    replaced = target / f".replaced-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    items = [*ROOTS, STORE_PATH, f"{STORE_PATH}-wal", f"{STORE_PATH}-shm"]
    for item in items:
        old, new = target / item, staging / item
        if old.exists() or old.is_symlink():
            (replaced / item).parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, replaced / item)
        if new.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new, old)
    return replaced if replaced.exists() else None

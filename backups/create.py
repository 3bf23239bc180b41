"""Making a backup: a consistent snapshot of the store (SQLite's online backup API, safe
while the coordinator writes), the home's files, and the manifest that lists them all.

An incremental backup stores what changed since the newest backup, a differential one what
changed since the newest full one; a file counts as unchanged when its size and mtime are.
The store's snapshot is compared in pieces of :data:`STORE_PIECE` bytes, so a few new
messages store a few pieces, not the whole database."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import sqlite3
import stat
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from backups.archive import ArchiveWriter
from backups.catalog import Catalog
from backups.errors import BackupError
from backups.manifest import (
    MANIFEST_MEMBER,
    STORE_PATH,
    FileEntry,
    Manifest,
    Part,
    new_id,
    write_atomic,
)
from config import BackupKind, Home
from messaging.inbox import TEMP_PREFIX

log = logging.getLogger(__name__)

STORE_PIECE = 1 << 20
SMALL_FILE = 8 << 20  # read whole: what is archived is exactly what was read
WORKSPACE_ITEMS = ("inbox", "outbox", "devlogs", "status.json")
COUNTED_TABLES = ("messages", "deliveries", "audit")


@dataclass(frozen=True)
class Source:
    """A file of the home to back up."""

    path: str  # relative, "/"-separated
    absolute: Path
    size: int
    mtime_ns: int
    mode: int


def home_files(home: Home, skip: Collection[Path] = ()) -> Iterator[Source]:
    """The files a backup covers, in a stable order: config/, each agent's inbox, outbox,
    devlogs and status.json, and var/devlogs/. Symlinks inside are not followed; the
    inbox's half-written temporary files are left out."""
    tops = [home.config_dir]
    if home.workspaces_dir.is_dir():
        for agent in sorted(home.workspaces_dir.iterdir()):
            tops.extend(agent / item for item in WORKSPACE_ITEMS)
    tops.append(home.devlogs_dir)
    for top in tops:
        yield from _walk(home.root, top, skip)


def _walk(root: Path, top: Path, skip: Collection[Path]) -> Iterator[Source]:
    try:
        info = top.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode):
        if top not in skip and not top.name.startswith(TEMP_PREFIX):
            relative = top.relative_to(root).as_posix()
            mode = stat.S_IMODE(info.st_mode)
            yield Source(relative, top, info.st_size, info.st_mtime_ns, mode)
        return
    if not stat.S_ISDIR(info.st_mode):
        return
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for child in sorted(top.iterdir()):
            if child.is_symlink():
                continue
            yield from _walk(root, child, skip)


@contextlib.contextmanager
def store_snapshot(database: Path, folder: Path) -> Iterator[tuple[Path | None, dict[str, int]]]:
    """A consistent copy of the store taken with SQLite's online backup API (readers never
    block the coordinator's writes in WAL mode), and its row counts; None without a store."""
    if not database.exists():
        yield None, {}
        return
    with tempfile.TemporaryDirectory(dir=folder, prefix=".snapshot-") as work:
        copy = Path(work) / "cellphone.db"
        try:
            source = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=30)
            try:
                target = sqlite3.connect(copy)
                try:
                    source.backup(target)
                    target.execute("PRAGMA journal_mode=DELETE")
                    rows = {t: _count(target, t) for t in COUNTED_TABLES}
                finally:
                    target.close()
            finally:
                source.close()
        except sqlite3.Error as exc:
            raise BackupError(
                f"cannot snapshot the store {database}: {exc}; if it is damaged, "
                "`cellphone doctor` says so and `cellphone backup restore` puts back a backup"
            ) from None
        yield copy, {t: n for t, n in rows.items() if n is not None}


def _count(db: sqlite3.Connection, table: str) -> int | None:
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return None  # a store without this table yet


def parent_for(catalog: Catalog, kind: BackupKind) -> Manifest | None:
    if kind is BackupKind.INCREMENTAL:
        return catalog.newest()
    if kind is BackupKind.DIFFERENTIAL:
        return catalog.newest(BackupKind.FULL)
    return None


@contextlib.contextmanager
def _creating(folder: Path) -> Iterator[None]:
    """One backup at a time per home, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".create.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"another backup of this home is being made (lock {folder / '.create.lock'}); "
                "wait for it to finish"
            ) from None
        for stale in folder.glob(".*.partial"):
            stale.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)


def create_backup(
    home: Home, catalog: Catalog, kind: BackupKind, now: datetime, skip: Collection[Path] = ()
) -> Manifest:
    """Make one backup of ``home``. An incremental or differential without a full backup to
    build on becomes a full one."""
    with _creating(catalog.folder):
        parent = parent_for(catalog, kind)
        if parent is None:
            kind = BackupKind.FULL
        backup_id = new_id(now, catalog.ids())
        key = catalog.key
        known = {e.path: e for e in parent.files} if parent else {}
        path = catalog.folder / f"{backup_id}{'.tar.enc' if key else '.tar'}"
        writer = ArchiveWriter(path, key)
        try:
            with store_snapshot(home.database, catalog.folder) as (snapshot, rows):
                files = [
                    _file(writer, backup_id, source, known.get(source.path))
                    for source in home_files(home, skip)
                ]
                if snapshot is not None:
                    files.append(_store(writer, backup_id, snapshot, known.get(STORE_PATH)))
            manifest = Manifest(
                id=backup_id,
                kind=kind,
                created_at=now,
                parent=parent.id if parent else None,
                files=tuple(f for f in files if f is not None),
                key_id=key.id if key else None,
                store_rows=rows,
            )
            writer.add_bytes(MANIFEST_MEMBER, manifest.to_json().encode(), now.timestamp())
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        write_atomic(catalog.folder / f"{backup_id}.json", manifest.to_json().encode())
        log.info("backup %s (%s) made: %d files", backup_id, kind, len(manifest.files))
        return manifest


def _file(
    writer: ArchiveWriter, backup_id: str, source: Source, before: FileEntry | None
) -> FileEntry | None:
    if (
        before is not None
        and before.size == source.size
        and before.mtime_ns == source.mtime_ns
        and before.mode == source.mode
    ):
        return before
    try:
        with open(source.absolute, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size <= SMALL_FILE:
                data = handle.read()
                size, digest = len(data), hashlib.sha256(data).hexdigest()
                writer.add_bytes(source.path, data, info.st_mtime)
            else:
                size = info.st_size
                digest = writer.add_stream(source.path, handle, size, info.st_mtime)
    except FileNotFoundError:
        return None  # removed since the folder was listed: not part of this backup
    except OSError as exc:
        raise BackupError(
            f"cannot back up {source.absolute}: {exc.strerror or exc}; if it was being "
            "rewritten, run the backup again"
        ) from None
    part = Part(backup_id, source.path, 0, size, digest)
    return FileEntry(source.path, size, digest, info.st_mtime_ns, source.mode, (part,))


def _store(
    writer: ArchiveWriter, backup_id: str, snapshot: Path, before: FileEntry | None
) -> FileEntry:
    earlier = {(p.offset, p.size, p.sha256): p for p in before.parts} if before else {}
    whole = hashlib.sha256()
    parts: list[Part] = []
    with open(snapshot, "rb") as handle:
        offset = 0
        while piece := handle.read(STORE_PIECE):
            whole.update(piece)
            digest = hashlib.sha256(piece).hexdigest()
            part = earlier.get((offset, len(piece), digest))
            if part is None:
                member = f"{STORE_PATH}.pieces/{offset // STORE_PIECE:06d}"
                writer.add_bytes(member, piece)
                part = Part(backup_id, member, offset, len(piece), digest)
            parts.append(part)
            offset += len(piece)
    info = snapshot.stat()
    return FileEntry(STORE_PATH, offset, whole.hexdigest(), info.st_mtime_ns, 0o644, tuple(parts))

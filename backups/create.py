"""Making a backup: the store's snapshot and the home's files into one archive, and the
manifest that lists them all.

An incremental backup stores what changed since the newest backup, a differential one what
changed since the newest full one; a file counts as unchanged when its size, mtime, ctime,
inode and mode are as they were (no unchanged file is read). The store's snapshot is
compared in pieces of :data:`STORE_PIECE` bytes, so a few new messages store a few pieces,
not the whole database. Reader threads read, hash and archive changed files while another
thread snapshots, hashes and archives the store."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import mmap
import os
import tempfile
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from backups.archive import BLOCK, ArchiveWriter, header
from backups.catalog import Catalog
from backups.errors import BackupError
from backups.manifest import (
    MANIFEST_MEMBER,
    STORE_PATH,
    FileBlocks,
    FileEntry,
    Manifest,
    Part,
    new_id,
    write_atomic,
)
from backups.packer import pack
from backups.sources import Source, home_files, store_snapshot, store_stamp
from config import BackupKind, Home

log = logging.getLogger(__name__)

STORE_PIECE = 64 << 10
STORE_WRITE = 1 << 20  # new pieces are archived in writes of about this size


def parent_for(catalog: Catalog, kind: BackupKind) -> Manifest | None:
    if kind is BackupKind.INCREMENTAL:
        return catalog.newest()
    if kind is BackupKind.DIFFERENTIAL:
        return catalog.newest(BackupKind.FULL)
    return None


def create_backup(
    home: Home, catalog: Catalog, kind: BackupKind, now: datetime, skip: Collection[str] = ()
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
        # taken before the snapshot: a write after it changes the stamp the next backup sees
        stamp = store_stamp(home.database)
        idle = parent is not None and stamp == parent.store_stamp and STORE_PATH in known
        writer = ArchiveWriter(catalog.folder / f"{backup_id}{'.tar.enc' if key else '.tar'}", key)
        listed = FileBlocks()
        try:
            with (
                tempfile.TemporaryDirectory(dir=catalog.folder, prefix=".snapshot-") as work,
                # a store unchanged since the backup built on is not copied again
                contextlib.nullcontext() if idle else store_snapshot(home.database) as copy_store,
                ThreadPoolExecutor(1, thread_name_prefix="backup-store") as pool,
            ):
                # the store's state is fixed first; it is copied, compared and archived
                # while the files are packed
                copy = Path(work) / "cellphone.db"
                store = pool.submit(_store, copy_store, copy, backup_id, known, writer)
                folders: list[str] = []
                _files(writer, backup_id, home_files(home, skip, folders), known, listed)
                rows, entry = store.result()
                if idle:
                    assert parent is not None
                    rows, entry = parent.store_rows, known[STORE_PATH]
                if entry is not None:
                    listed.add([entry])
            files, blocks = listed.finish()
            manifest = Manifest(
                id=backup_id,
                kind=kind,
                created_at=now,
                parent=parent.id if parent else None,
                files=files,
                key_id=key.id if key else None,
                store_rows=rows,
                store_stamp=stamp,
                folders=tuple(folders),
            )
            text = manifest.to_json(blocks).encode()
            writer.add_bytes(MANIFEST_MEMBER, text, now.timestamp())
            writer.commit()
        except BaseException:
            listed.stop()
            writer.abort()
            raise
        write_atomic(catalog.manifest_file(backup_id), text)
        catalog.remember(manifest)
        log.info("backup %s (%s) made: %d files", backup_id, kind, len(manifest.files))
        return manifest


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


def _files(
    writer: ArchiveWriter,
    backup_id: str,
    sources: Iterator[Source],
    known: dict[str, FileEntry],
    listed: FileBlocks,
) -> None:
    """The entries of every source to ``listed``: an unchanged one as it was in the backup
    built on, a changed one archived here. The folders are listed as the readers go."""
    kept: list[FileEntry] = []

    def changed() -> Iterator[Source]:
        nonlocal kept
        for source in sources:
            before = known.get(source.path)
            if (
                before is not None
                and (
                    before.size,
                    before.mtime_ns,
                    before.mode,
                    before.inode,
                    before.ctime_ns,
                )
                == source[2:]
            ):
                kept.append(before)
                if len(kept) == FileBlocks.SIZE:
                    listed.add(kept)
                    kept = []
            else:
                yield source
        listed.add(kept)

    pack(backup_id, changed(), writer, listed)


def _store(
    copy_store: Callable[[Path], dict[str, int]] | None,
    copy: Path,
    backup_id: str,
    known: dict[str, FileEntry],
    writer: ArchiveWriter,
) -> tuple[dict[str, int], FileEntry | None]:
    """Copy the store's snapshot to ``copy``, compare it piece by piece with the backup
    built on and archive the pieces that differ: its row counts and its entry. A failure
    stops the readers too."""
    if copy_store is None:
        return {}, None
    try:
        rows = copy_store(copy)
        return rows, _store_pieces(copy, backup_id, known.get(STORE_PATH), writer)
    except BaseException:
        writer.cancel()
        raise


def _store_pieces(
    copy: Path, backup_id: str, before: FileEntry | None, writer: ArchiveWriter
) -> FileEntry:
    """The store's entry: its whole hash is taken on a thread of its own while the pieces
    are hashed, compared and archived here (the copy is this backup's own scratch file:
    nothing changes it while it is mapped)."""
    with open(copy, "rb") as handle:
        # gone once closed: freeing its blocks happens on this thread, not at the end
        copy.unlink()
        info = os.fstat(handle.fileno())
        if not info.st_size:  # an empty store: one empty member
            writer.add_bytes(STORE_PATH, b"")
            digest = hashlib.sha256().hexdigest()
            return FileEntry(STORE_PATH, 0, digest, info.st_mtime_ns, 0o644, backup_id)
        with (
            mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ) as mapped,
            memoryview(mapped) as view,
            ThreadPoolExecutor(1, thread_name_prefix="backup-store-hash") as pool,
        ):
            whole = pool.submit(lambda: hashlib.sha256(view).hexdigest())
            try:
                parts = _pieces(view, backup_id, before, writer)
            finally:
                digest = whole.result()
    return FileEntry(STORE_PATH, info.st_size, digest, info.st_mtime_ns, 0o644, "", parts)


def _pieces(
    view: memoryview, backup_id: str, before: FileEntry | None, writer: ArchiveWriter
) -> tuple[Part, ...]:
    """Each piece of ``view`` as it was in the backup built on, or archived here."""
    earlier = {(p.offset, p.size, p.sha256): p for p in before.pieces} if before else {}
    parts: list[Part] = []
    for chunk in range(0, len(view), STORE_WRITE):
        new = bytearray()
        for at in range(chunk, min(len(view), chunk + STORE_WRITE), STORE_PIECE):
            piece = view[at : at + STORE_PIECE]
            digest = hashlib.sha256(piece).hexdigest()
            part = earlier.get((at, len(piece), digest))
            if part is None:
                member = f"{STORE_PATH}.pieces/{at // STORE_PIECE:06d}"
                part = Part(backup_id, member, at, len(piece), digest)
                new += header(member, len(piece), 0)
                new += piece
                new += bytes(-len(piece) % BLOCK)
            parts.append(part)
        writer.put(writer.reserve(len(new)), new)
    return tuple(parts)

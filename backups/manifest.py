"""The manifest of a backup: every file of the home it covers with its size and sha256, and
where each piece of its content is stored (this archive or one of its parents)."""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from backups.errors import BackupError
from config import BackupKind

FORMAT = 2  # 1: files as rows, each with its parts; still read
MANIFEST_MEMBER = "manifest.json"
# What a backup may hold, as paths relative to the home; a restore writes nothing else.
STORE_PATH = "var/cellphone.db"
ROOTS = ("config", "agent_workspaces", "var/devlogs")
_ROOT_PREFIXES = tuple(f"{root}/" for root in ROOTS)


class Part(NamedTuple):
    """A piece of a file's content: ``size`` bytes at ``offset``, stored as tar member
    ``member`` of the archive of backup ``source``."""

    source: str
    member: str
    offset: int
    size: int
    sha256: str


class FileEntry(NamedTuple):
    """A file of the home as a backup saw it. Most files are stored whole, as member
    ``path`` of the archive of backup ``source``; a file stored in pieces (the store) lists
    them in ``pieces``. (Named tuples: a manifest lists tens of thousands of files, read at
    every backup.)"""

    path: str  # relative to the home, with "/"
    size: int
    sha256: str
    mtime_ns: int
    mode: int
    source: str  # "" when the file is in pieces
    pieces: tuple[Part, ...] = ()
    inode: int = 0  # with ctime_ns: a file replaced or changed keeping its size and mtime
    ctime_ns: int = 0

    @property
    def parts(self) -> tuple[Part, ...]:
        """Where the content is stored, in order."""
        return self.pieces or (Part(self.source, self.path, 0, self.size, self.sha256),)


# the columns of the files in a manifest; "pieces" are listed apart, by path
_COLUMNS = ("path", "size", "sha256", "mtime_ns", "mode", "source", "inode", "ctime_ns")


@dataclass(frozen=True)
class Manifest:
    id: str
    kind: BackupKind
    created_at: datetime
    parent: str | None
    files: tuple[FileEntry, ...]
    key_id: str | None = None  # the encryption key's id; None: not encrypted
    store_rows: dict[str, int] = field(default_factory=dict)  # rows per table at the snapshot
    store_stamp: tuple[int, ...] | None = None  # the store's files when it was snapshot
    folders: tuple[str, ...] = ()  # every folder, empty ones too
    format: int = FORMAT

    @property
    def chain(self) -> list[str]:
        """The backups whose archives a restore of this one reads, oldest first."""
        sources = {entry.source for entry in self.files if not entry.pieces}
        sources.update(part.source for entry in self.files for part in entry.pieces)
        return sorted(sources)

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files)

    def stored_here(self) -> list[tuple[FileEntry, Part]]:
        return [(e, p) for e in self.files for p in e.parts if p.source == self.id]

    def to_json(self, blocks: list[str] | None = None) -> str:
        """The files in blocks of columns (a list per field): quick to write and read for
        tens of thousands of files. ``blocks``: the files already encoded by
        :func:`encode_files`, in the order of :attr:`files`."""
        if blocks is None:
            blocks = [encode_files(self.files)] if self.files else []
        data = {
            "format": self.format,
            "id": self.id,
            "kind": str(self.kind),
            "created_at": self.created_at.isoformat(),
            "parent": self.parent,
            "key_id": self.key_id,
            "store_rows": self.store_rows,
            "store_stamp": self.store_stamp,
            "folders": self.folders,
            "part_columns": Part._fields,
        }
        return f'{json.dumps(data, separators=(",", ":"))[:-1]},"files":[{",".join(blocks)}]}}'

    @classmethod
    def from_json(cls, text: str, origin: str) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("format") == 1:
                files = _rows_of_format_1(data["files"])
            elif data.get("format") == FORMAT:
                files = tuple(
                    entry
                    for block in data["files"]
                    for entry in _columns(block["columns"], block["pieces"])
                )
            else:
                raise BackupError(
                    f"{origin}: manifest format {data.get('format')!r} is not {FORMAT}; "
                    "use the agent-cellphone version that made it"
                )
            return cls(
                id=data["id"],
                kind=BackupKind(data["kind"]),
                created_at=datetime.fromisoformat(data["created_at"]),
                parent=data["parent"],
                files=files,
                key_id=data.get("key_id"),
                store_rows=dict(data.get("store_rows") or {}),
                store_stamp=tuple(data["store_stamp"]) if data.get("store_stamp") else None,
                folders=tuple(data.get("folders") or ()),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(
                f"{origin}: not a readable backup manifest ({exc}); the backup is damaged"
            ) from None


def encode_files(entries: Sequence[FileEntry]) -> str:
    """A block of a manifest's files as JSON: a list per field, and the pieces of the
    files stored in pieces."""
    fields = tuple(zip(*entries, strict=True))
    data = {
        "columns": {name: fields[_FIELD[name]] for name in _COLUMNS},
        "pieces": {entry.path: entry.pieces for entry in entries if entry.pieces},
    }
    return json.dumps(data, separators=(",", ":"))


_FIELD = {name: n for n, name in enumerate(FileEntry._fields)}


class FileBlocks:
    """The files of a manifest being made, encoded a block at a time on a thread of its
    own while the backup runs: writing the manifest at the end then takes little."""

    SIZE = 512  # files a block: each is encoded holding the interpreter lock ~1 ms

    def __init__(self) -> None:
        self._queue: queue.Queue[list[FileEntry] | None] = queue.Queue()
        self._entries: list[FileEntry] = []
        self._blocks: list[str] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="backup-manifest", daemon=True)
        self._thread.start()

    def add(self, entries: list[FileEntry]) -> None:
        """Entries of files to list (the list is the caller's no more)."""
        if entries:
            self._queue.put(entries)

    def finish(self) -> tuple[tuple[FileEntry, ...], list[str]]:
        """Every entry added, in the order of the blocks, and the blocks."""
        self.stop()
        if self._error is not None:
            raise self._error
        return tuple(self._entries), self._blocks

    def stop(self) -> None:
        """End the thread (when the backup is abandoned, too); it may be called again."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        try:
            while (entries := self._queue.get()) is not None:
                self._blocks.append(encode_files(entries))
                self._entries.extend(entries)
        except BaseException as exc:  # raised by finish
            self._error = exc


def _columns(
    columns: dict[str, list[Any]], pieces: dict[str, list[list[Any]]]
) -> tuple[FileEntry, ...]:
    lists = [columns[name] for name in _COLUMNS]
    if len({len(values) for values in lists}) != 1:
        raise ValueError("the file columns differ in length")
    entries = [
        FileEntry(path, size, digest, mtime_ns, mode, source, (), inode, ctime_ns)
        for path, size, digest, mtime_ns, mode, source, inode, ctime_ns in zip(*lists, strict=True)
    ]
    if pieces:
        for n, entry in enumerate(entries):
            held = pieces.get(entry.path)
            if held is not None:
                entries[n] = entry._replace(source="", pieces=tuple(Part(*p) for p in held))
    return tuple(entries)


def _rows_of_format_1(rows: list[list[Any]]) -> tuple[FileEntry, ...]:
    """Format 1: a row per file, ending in its parts (one part: stored whole)."""
    entries = []
    for path, size, digest, mtime_ns, mode, parts in rows:
        held = tuple(Part(*part) for part in parts)
        whole = len(held) == 1 and held[0][1:] == (path, 0, size, digest)
        if whole:
            entries.append(FileEntry(path, size, digest, mtime_ns, mode, held[0].source))
        else:
            entries.append(FileEntry(path, size, digest, mtime_ns, mode, "", held))
    return tuple(entries)


def check_path(path: str, origin: str) -> str:
    """``path`` if it is a plain relative path inside what a backup may hold; a path that
    could leave the target (absolute, ``..``, a backslash) is refused."""
    inside = path == STORE_PATH or path in ROOTS or path.startswith(_ROOT_PREFIXES)
    if (
        not inside
        or "\\" in path
        or "\0" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise BackupError(
            f"{origin}: refusing the path {path!r}: it would write outside the home's "
            f"backed-up folders ({', '.join(ROOTS)}, {STORE_PATH})"
        )
    return path


def new_id(now: datetime, taken: set[str]) -> str:
    """An id that sorts by time: 20261129T130512.123Z, bumped a millisecond if taken."""
    stamp = now.astimezone(UTC)
    while True:
        candidate = stamp.strftime("%Y%m%dT%H%M%S.") + f"{stamp.microsecond // 1000:03d}Z"
        if candidate not in taken:
            return candidate
        stamp += timedelta(milliseconds=1)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name, synced, then renamed."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    sync_dir(path.parent)


def sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

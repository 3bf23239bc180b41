"""The manifest of a backup: every file of the home it covers with its size and sha256, and
where each piece of its content is stored (this archive or one of its parents)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from backups.errors import BackupError
from config import BackupKind

FORMAT = 1
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
    """(Named tuples: a manifest lists tens of thousands of files, read at every backup.)"""

    path: str  # relative to the home, with "/"
    size: int
    sha256: str
    mtime_ns: int
    mode: int
    parts: tuple[Part, ...]


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
        return sorted({part.source for entry in self.files for part in entry.parts})

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files)

    def stored_here(self) -> list[tuple[FileEntry, Part]]:
        return [(e, p) for e in self.files for p in e.parts if p.source == self.id]

    def to_json(self) -> str:
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
            "columns": {"files": FileEntry._fields, "parts": Part._fields},
            "files": self.files,  # named tuples: lists in the columns' order
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, origin: str) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("format") != FORMAT:
                raise BackupError(
                    f"{origin}: manifest format {data.get('format')!r} is not {FORMAT}; "
                    "use the agent-cellphone version that made it"
                )
            files = tuple(
                FileEntry(
                    path,
                    size,
                    digest,
                    mtime_ns,
                    mode,
                    tuple(Part(*part) for part in parts),
                )
                for path, size, digest, mtime_ns, mode, parts in data["files"]
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

"""Files agents drop off, handled exactly once across restarts.

A file is known by its folder, agent, name, modification time and a hash of its bytes.
Once handled, the store remembers it (``processed_files``) and the file moves to ``sent/``
beside it, or to ``rejected/`` with a ``.reason.txt`` file saying why. A file found again
after a crash between the two steps is only moved, never handled twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from messaging.model import utc_now
from messaging.notices import Channel, Notices
from messaging.store import Store

log = logging.getLogger(__name__)

SENT = "sent"
REJECTED = "rejected"
REASON_SUFFIX = ".reason.txt"


class FileOutcome(StrEnum):
    SENT = SENT
    REJECTED = REJECTED


class RejectedFileError(ValueError):
    """A file that cannot be handled; the message is the reason written beside it."""


@dataclass(frozen=True)
class DroppedFile:
    """A file read once: its bytes and the key it is remembered by."""

    kind: str
    agent_id: str
    path: Path
    data: bytes
    key: str

    @classmethod
    def read(cls, kind: str, agent_id: str, path: Path, max_bytes: int) -> DroppedFile:
        """Read ``path``; a file over ``max_bytes`` is read only that far (it is rejected)."""
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
            mtime = os.fstat(handle.fileno()).st_mtime_ns
        digest = hashlib.sha256(data).hexdigest()
        return cls(kind, agent_id, path, data, f"{kind}:{agent_id}:{path.name}:{mtime}:{digest}")

    def text(self, max_bytes: int) -> str:
        """The content as text, or :class:`RejectedFileError` saying why it is not."""
        if len(self.data) > max_bytes:
            raise RejectedFileError(
                f"the file is larger than {max_bytes:,} bytes (setting watch.max_file_bytes); "
                "split it into smaller files"
            )
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RejectedFileError(
                f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None


class Ledger:
    """What the store remembers of handled files, and the moves that follow; a rejected
    file is told to the operator."""

    def __init__(self, store: Store, notices: Notices) -> None:
        self.store = store
        self.notices = notices

    async def take(
        self, kind: str, agent_id: str, path: Path, max_bytes: int
    ) -> DroppedFile | None:
        """The file read, or None when there is nothing to do: it is gone, or it was
        handled before a restart (then it is only moved where it belongs)."""
        try:
            dropped = await asyncio.to_thread(DroppedFile.read, kind, agent_id, path, max_bytes)
        except FileNotFoundError:
            return None  # moved away meanwhile
        known = await self.outcome(dropped)
        if known is None:
            return dropped
        await self.move(dropped, known, "handled before a restart")
        return None

    async def reject(self, dropped: DroppedFile, reason: str) -> None:
        """Move a file to ``rejected/`` with ``reason`` beside it and tell the operator."""
        log.warning(
            "%s file %s of %s rejected: %s",
            dropped.kind,
            dropped.path.name,
            dropped.agent_id,
            reason,
        )
        await self.notices.add(
            Channel.OPERATOR,
            f"{dropped.agent_id}: {dropped.kind} file `{dropped.path.name}` was rejected: "
            f"{reason} (moved to {dropped.kind}/rejected/)",
            agent_id=dropped.agent_id,
            key="rejected:" + dropped.key,
        )
        await self.finish(dropped, FileOutcome.REJECTED, reason)

    async def outcome(self, dropped: DroppedFile) -> FileOutcome | None:
        rows = await self.store.rows(
            "SELECT outcome FROM processed_files WHERE key = ?", (dropped.key,)
        )
        return FileOutcome(rows[0][0]) if rows else None

    async def finish(
        self, dropped: DroppedFile, outcome: FileOutcome, detail: str | None = None
    ) -> Path:
        """Remember the file's outcome, then move it (with its reason when rejected)."""
        async with self.store.writing() as tx:
            await tx.execute(
                "INSERT INTO processed_files (key, kind, agent, name, outcome, detail, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (
                    dropped.key,
                    dropped.kind,
                    dropped.agent_id,
                    dropped.path.name,
                    outcome.value,
                    detail,
                    utc_now().isoformat(),
                ),
            )
        return await self.move(dropped, outcome, detail)

    async def move(self, dropped: DroppedFile, outcome: FileOutcome, detail: str | None) -> Path:
        reason = detail if outcome is FileOutcome.REJECTED else None
        return await asyncio.to_thread(move_aside, dropped.path, outcome.value, reason)


def move_aside(path: Path, folder: str, reason: str | None = None) -> Path:
    """Move ``path`` into ``<its folder>/<folder>/``, never over another file; write
    ``reason`` beside it first. Returns where it went (the path itself if it is gone)."""
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = _free_name(target_dir, path.name)
    if reason is not None:
        _write_atomically(target_dir / (target.name + REASON_SUFFIX), reason + "\n")
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return path
    return target


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = os.path.splitext(name)
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem}.{number}{suffix}"
    return target


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name("." + path.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)

"""Inbox delivery: one markdown file per message in ``agent_workspaces/<id>/inbox/``.

A file is written to a hidden temporary name, flushed to disk, then renamed, so an agent
never reads half a message. The name sorts by time and holds the message id, so writing
the same delivery again finds the file already there and makes no second one.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from agents.frontmatter import dump
from messaging.model import Message

TEMP_PREFIX = ".incoming-"
REPEAT_NOTE = {"possible_repeat": "typing was interrupted; it may be in the chat too"}


@dataclass(frozen=True)
class InboxLetter:
    """One file to write: where, and the rendered text with its header."""

    inbox: Path
    message: Message
    agent_id: str
    text: str
    possible_repeat: bool = False
    reason: str | None = None  # why the screen was not used, when it was meant to be
    via: str = "inbox"  # how the message reached the agent; a screen delivery keeps a copy


def file_name(message: Message) -> str:
    stamp = message.created_at.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}_{message.id}.md"


def inbox_file(inbox: Path, message: Message) -> Path:
    return inbox / file_name(message)


def compose(letter: InboxLetter) -> str:
    """The file's text: the front matter (through the one serializer, so no value can add
    lines of its own), a blank line, the rendered message."""
    m = letter.message
    fields: dict[str, str | bool] = {
        "from": m.sender,
        "to": letter.agent_id,
        "priority": str(m.priority),
        "type": str(m.type),
        "time": m.created_at.isoformat(),
        "id": m.id,
        "delivered_via": letter.via,
    }
    if letter.possible_repeat:
        fields["possible_repeat"] = True
    if letter.reason:
        fields["screen_skipped"] = _one_line(letter.reason)
    return dump(fields, comments=REPEAT_NOTE) + "\n" + letter.text + "\n"


def write_letters(
    letters: list[InboxLetter], pool: ThreadPoolExecutor | None = None
) -> list[Path | OSError]:
    """Write each letter durably; an error for one letter does not stop the others, and
    a folder that cannot be synced is an error of each of its letters.

    With ``pool``, files are written and flushed side by side (the disk takes several
    flushes at once faster than one after another). Blocking: call it from a thread.
    """
    results: list[Path | OSError] = list(
        pool.map(_write_or_error, letters)
        if pool and len(letters) > 1
        else map(_write_or_error, letters)
    )
    folders = {
        letter.inbox for letter, r in zip(letters, results, strict=True) if isinstance(r, Path)
    }
    unsynced = {folder: error for folder in folders if (error := _fsync_dir(folder))}
    return [
        unsynced.get(letter.inbox, result) if isinstance(result, Path) else result
        for letter, result in zip(letters, results, strict=True)
    ]


def _write_or_error(letter: InboxLetter) -> Path | OSError:
    try:
        return _write(letter)
    except OSError as exc:
        return exc


def _write(letter: InboxLetter) -> Path:
    target = inbox_file(letter.inbox, letter.message)
    if target.exists():
        return target
    letter.inbox.mkdir(parents=True, exist_ok=True)
    temp = letter.inbox / f"{TEMP_PREFIX}{target.name}"
    data = compose(letter).encode("utf-8")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, target)
    return target


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(folder: Path) -> OSError | None:
    """Make the renames into ``folder`` durable; the error when that failed: the letters
    there are not known to be on disk (written again, they are found and synced again)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # a folder that cannot be opened cannot be synced (and was written)
    try:
        os.fsync(fd)
    except OSError as exc:
        return exc
    finally:
        os.close(fd)
    return None


def remove_stale_temp_files(workspaces_dir: Path) -> int:
    """Temporary files left by a crash hold nothing the store does not; remove them."""
    removed = 0
    for temp in workspaces_dir.glob(f"*/inbox/{TEMP_PREFIX}*"):
        temp.unlink(missing_ok=True)
        removed += 1
    return removed


def _one_line(text: str) -> str:
    return " ".join(text.split())

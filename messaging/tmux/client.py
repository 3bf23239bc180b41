"""Running tmux commands against one pane's server, without blocking the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from coordinates.tmux import TmuxTarget, describe_tmux_error

COMMAND_TIMEOUT_S = 5.0
# what one snapshot asks of the pane before its text: id, whether its program exited,
# whether someone scrolls it (copy mode), the cursor, the size
_STATE = "#{pane_id}\t#{pane_dead}\t#{pane_in_mode}\t#{cursor_x}\t#{cursor_y}\t#{pane_height}"


class TmuxError(Exception):
    """tmux could not do what was asked; the message says why in words for the operator."""


@dataclass(frozen=True)
class Snapshot:
    """What a pane showed at one moment: its visible lines (with their escape sequences of
    colour and style) and state."""

    pane_id: str
    dead: bool
    in_mode: bool
    cursor: tuple[int, int]  # (x, y) within the visible lines
    lines: tuple[str, ...]


async def tmux(pane: TmuxTarget, *arguments: str, stdin: bytes | None = None) -> str:
    """Run tmux with ``arguments`` (several commands joined by ``";"``) against the pane's
    server; its standard output. :class:`TmuxError` when tmux fails or is missing."""
    try:
        process = await asyncio.create_subprocess_exec(
            *pane.command(*arguments),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise TmuxError("tmux is not installed (Debian package tmux)") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), COMMAND_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TmuxError(f"tmux did not answer within {COMMAND_TIMEOUT_S:g} s") from None
    if process.returncode != 0:
        raise TmuxError(describe_tmux_error(pane, err.decode("utf-8", "replace")))
    return out.decode("utf-8", "replace")


async def snapshot(pane: TmuxTarget) -> Snapshot:
    """The pane's visible text and state, read in one tmux call. The capture comes first:
    unlike display-message, which answers for the current pane when the target names no
    pane, it fails on a target that does not exist."""
    out = await tmux(
        pane,
        "capture-pane", "-p", "-e", "-t", pane.target, ";",
        "display-message", "-p", "-t", pane.target, _STATE,
    )  # fmt: skip
    text, _, state = out.rstrip("\n").rpartition("\n")
    try:
        pane_id, dead, in_mode, x, y, height = state.split("\t")
        cursor = (int(x), int(y))
        rows = int(height)
    except ValueError:
        raise TmuxError(f"tmux described pane {pane} as {state!r}, which is not readable") from None
    lines = text.split("\n")[:rows]
    return Snapshot(pane_id, dead == "1", in_mode == "1", cursor, tuple(lines))


async def paste(pane: TmuxTarget, buffer: str, text: str) -> None:
    """Put ``text`` in tmux buffer ``buffer`` and paste it into the pane as a bracketed paste
    (line breaks stay in the input of a program that asked for bracketed paste), deleting
    the buffer after."""
    await tmux(
        pane,
        "load-buffer", "-b", buffer, "-", ";",
        "paste-buffer", "-p", "-d", "-b", buffer, "-t", pane.target,
        stdin=text.encode("utf-8"),
    )  # fmt: skip


async def press(pane: TmuxTarget, *keys: str) -> None:
    """Press tmux keys (``Enter``, ``C-c``, ``Escape``) in the pane, one after another."""
    await tmux(pane, "send-keys", "-t", pane.target, *keys)

"""Running tmux commands against agents' panes without blocking the event loop: through a
lasting control-mode connection per tmux server (:mod:`messaging.tmux.control`), or a tmux
process per command where no connection can be had."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass

from coordinates.tmux import TmuxTarget, describe_tmux_error
from messaging.tmux.control import CommandFailed, ControlClient, ControlError

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 5.0
# what one snapshot asks of the pane after its text: id, whether its program exited,
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


class TmuxClient:
    """Speaks to the tmux servers of the agents' panes, one control connection each."""

    def __init__(self) -> None:
        self._connections: dict[tuple[str, ...], ControlClient] = {}
        self._connecting: dict[tuple[str, ...], asyncio.Lock] = {}

    async def run(self, pane: TmuxTarget, *arguments: str) -> str:
        """Run tmux with ``arguments`` (several commands joined by ``";"``) against the
        pane's server; its output. :class:`TmuxError` when tmux fails or is missing."""
        connection = await self._connection(pane)
        if connection is not None:
            try:
                return await asyncio.wait_for(connection.run(*arguments), COMMAND_TIMEOUT_S)
            except CommandFailed as exc:
                raise TmuxError(describe_tmux_error(pane, str(exc))) from None
            except (ControlError, TimeoutError) as exc:
                log.debug("tmux control connection failed (%s); a tmux process instead", exc)
                await self._drop(pane)
        return await run_process(pane, *arguments)

    async def snapshot(self, pane: TmuxTarget) -> Snapshot:
        """The pane's visible text and state, read in one command. The capture comes first:
        unlike display-message, which answers for the current pane when the target names no
        pane, it fails on a target that does not exist."""
        out = await self.run(
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
            raise TmuxError(
                f"tmux described pane {pane} as {state!r}, which is not readable"
            ) from None
        lines = text.split("\n")[:rows]
        return Snapshot(pane_id, dead == "1", in_mode == "1", cursor, tuple(lines))

    async def paste(self, pane: TmuxTarget, buffer: str, text: str) -> None:
        """Put ``text`` in tmux buffer ``buffer`` and paste it into the pane as a bracketed
        paste (line breaks stay in the input of a program that asked for bracketed paste),
        deleting the buffer after. The text goes to tmux through a file of this user's."""
        fd, path = tempfile.mkstemp(prefix="cellphone-paste-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(text.encode("utf-8"))
            await self.run(
                pane,
                "load-buffer", "-b", buffer, path, ";",
                "paste-buffer", "-p", "-d", "-b", buffer, "-t", pane.target,
            )  # fmt: skip
        finally:
            os.unlink(path)

    async def press(self, pane: TmuxTarget, *keys: str) -> None:
        """Press tmux keys (``Enter``, ``C-c``, ``BSpace``) in the pane, one after another."""
        await self.run(pane, "send-keys", "-t", pane.target, *keys)

    async def close(self) -> None:
        connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            await connection.close()

    async def _connection(self, pane: TmuxTarget) -> ControlClient | None:
        server = tuple(pane.command())
        connection = self._connections.get(server)
        if connection is not None and not connection.closed:
            return connection
        async with self._connecting.setdefault(server, asyncio.Lock()):
            connection = self._connections.get(server)
            if connection is not None and not connection.closed:
                return connection
            try:
                connection = await ControlClient.connect(list(server), pane.target)
            except (ControlError, OSError) as exc:
                log.debug("no tmux control connection for %s: %s", pane, exc)
                return None
            self._connections[server] = connection
            return connection

    async def _drop(self, pane: TmuxTarget) -> None:
        connection = self._connections.pop(tuple(pane.command()), None)
        if connection is not None:
            await connection.close()


async def run_process(pane: TmuxTarget, *arguments: str) -> str:
    """Run one tmux process with ``arguments`` against the pane's server; its output."""
    try:
        process = await asyncio.create_subprocess_exec(
            *pane.command(*arguments),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise TmuxError("tmux is not installed (Debian package tmux)") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TmuxError(f"tmux did not answer within {COMMAND_TIMEOUT_S:g} s") from None
    if process.returncode != 0:
        raise TmuxError(describe_tmux_error(pane, err.decode("utf-8", "replace")))
    return out.decode("utf-8", "replace")

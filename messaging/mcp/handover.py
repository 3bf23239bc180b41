"""Handing a ``cellphone mcp`` start to the home's warm host: the agent CLI's standard input,
output and error, the environment and the folder go over the host's socket; a server forked
from the host (the MCP SDK already loaded) serves the CLI on them, and this process waits for
its exit code. Loads nothing but the standard library: it runs before the SDK would load."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

log = logging.getLogger(__name__)

SOCKET_NAME = "mcp-host.sock"
STANDARD_FDS = (0, 1, 2)
PARENT_ENV = "CELLPHONE_MCP_HOST_PARENT"  # a host started beside a desk ends with its process
STOP_WAIT_S = 5.0


@contextlib.asynccontextmanager
async def host_beside(home: Path) -> AsyncIterator[None]:
    """A warm host for ``home`` (``cellphone mcp --host``, a process of its own: it forks)
    while the context runs, beside a long-running desk. It ends with the context, and with
    this process however it ends: it watches that its parent is still there."""
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    command = [sys.executable, "-m", "cellphone", "mcp", "--host", "--home", os.fspath(home)]
    try:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL
        )
    except OSError as exc:
        log.warning("no warm MCP host beside the desk: %s", exc)
        yield
        return
    try:
        yield
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


def host_socket(var_dir: Path) -> Path:
    return var_dir / SOCKET_NAME


def hand_over(path: Path, agent_id: str) -> int | None:
    """The exit code of the server the host at ``path`` ran for ``agent_id`` on this
    process's standard streams, or None when no host answers there (serve here instead)."""
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        try:
            connection.connect(os.fspath(path))
        except OSError:
            return None  # a socket left by a host that ended
        request = {"agent": agent_id, "env": dict(os.environ), "cwd": os.getcwd()}
        socket.send_fds(connection, [json.dumps(request).encode()], list(STANDARD_FDS))
        connection.shutdown(socket.SHUT_WR)
        answer = _read_all(connection)
    try:
        return int(answer.decode().strip())
    except ValueError:
        return 1  # the host ended before its server did


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(64):
        chunks.append(chunk)
    return b"".join(chunks)

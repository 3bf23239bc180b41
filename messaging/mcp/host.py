"""The warm host of a home: a process holding the MCP SDK loaded, which forks a server for
each ``cellphone mcp`` start handed over to it (see :mod:`messaging.mcp.handover`), so an
agent CLI's server answers at once instead of loading the SDK first.

The host takes connections one at a time on ``var/mcp-host.sock`` and starts no thread and
no event loop: each server is a child forked from that single-threaded state, which puts
the agent CLI's streams in place of its own, takes on its environment and folder, and runs
the same server ``cellphone mcp`` runs. A child outlives the host; the host reaps those that
ended."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

from config.settings import Home, load_settings, resolve_home
from messaging.mcp.handover import PARENT_ENV, STANDARD_FDS, host_socket
from messaging.mcp.server import serve
from messaging.mcp.tools import DevlogPoster, ScreenProvider, lazy_screen

log = logging.getLogger(__name__)

MAX_REQUEST = 1 << 20  # the environment of an agent CLI, with room to spare
ACCEPT_WAIT_S = 1.0  # how often the accept loop looks at its children and the stop flag


def run_host(
    home: Path | None, screen_provider: ScreenProvider, post_devlog: DevlogPoster | None
) -> None:
    """Serve hand-overs on the home's socket until SIGTERM or SIGINT, or, started beside a
    desk (:func:`messaging.mcp.handover.host_beside`), until that process is gone."""
    parent = int(os.environ.get(PARENT_ENV) or 0)
    where = resolve_home(home)
    path = host_socket(where.var_dir)
    stopping: list[int] = []
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda signum, frame: stopping.append(signum))
    with _listening(path) as listener:
        while not stopping:
            if parent and os.getppid() != parent:
                log.info("the process the host was started beside is gone: the host ends")
                break
            _reap()
            try:
                connection, _ = listener.accept()
            except (TimeoutError, InterruptedError):
                continue
            with connection:
                _start_server(connection, listener, where, screen_provider, post_devlog)
    _reap()


@contextlib.contextmanager
def _listening(path: Path) -> Iterator[socket.socket]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a host that ended left it; one that runs keeps answering its own
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)  # the owner's alone: a connection starts a server as this user
    try:
        listener.bind(os.fspath(path))
    finally:
        os.umask(old)
    listener.listen(16)
    listener.settimeout(ACCEPT_WAIT_S)
    try:
        yield listener
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _start_server(
    connection: socket.socket,
    listener: socket.socket,
    where: Home,
    screen_provider: ScreenProvider,
    post_devlog: DevlogPoster | None,
) -> None:
    connection.settimeout(5)
    try:
        message, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, len(STANDARD_FDS))
        request = json.loads(message)
    except (OSError, ValueError) as exc:
        log.warning("a hand-over was not understood: %s", exc)
        return
    if len(fds) != len(STANDARD_FDS):
        for fd in fds:
            os.close(fd)
        log.warning("a hand-over came with %d streams, not 3", len(fds))
        return
    pid = os.fork()
    if pid == 0:  # the server: never returns
        listener.close()
        code = 1
        try:
            code = _child(request, fds, where, screen_provider, post_devlog)
        except BaseException:
            log.exception("the server for %s failed", request.get("agent"))
        finally:
            with contextlib.suppress(OSError):
                connection.sendall(f"{code}\n".encode())
            os._exit(code)
    log.info("serving %s in process %d", request.get("agent"), pid)
    for fd in fds:
        os.close(fd)


def _child(
    request: dict[str, object],
    fds: list[int],
    where: Home,
    screen_provider: ScreenProvider,
    post_devlog: DevlogPoster | None,
) -> int:
    """Become the server of the CLI that handed itself over: its streams, environment
    (the settings read from it) and folder; the exit code of ``cellphone mcp``."""
    for number, fd in zip(STANDARD_FDS, fds, strict=True):
        os.dup2(fd, number)
        os.close(fd)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    env = request.get("env")
    if isinstance(env, dict):
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
    with contextlib.suppress(OSError):
        os.chdir(str(request.get("cwd") or "/"))
    settings = load_settings(where)
    screen = lazy_screen(screen_provider, settings, where.var_dir / "looks")
    asyncio.run(serve(where, settings, str(request.get("agent")), screen, post_devlog))
    return 0


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return

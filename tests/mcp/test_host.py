"""The warm host of a home (``cellphone mcp --host``): a ``cellphone mcp --as`` started while
it runs is handed to it, and a server forked from the host (the SDK loaded already) serves
the agent CLI on its own streams; without a host, or with a socket a host left behind, the
command serves on its own."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config import Home
from messaging.mcp.handover import host_socket
from tests.conftest import inbox_files
from tests.mcp.client import CELLPHONE, agent_session, call
from tests.mcp.test_startup import sdk_loaded_by

WAIT_S = 60.0  # the host loads the SDK before it listens


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        return any(os.path.realpath(fd) == str(path) for fd in fds.iterdir())
    return False


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"{what} within {WAIT_S} s"
        time.sleep(0.05)


@contextlib.contextmanager
def running_host(home: Home) -> Iterator[subprocess.Popen[bytes]]:
    host = subprocess.Popen(
        [CELLPHONE, "mcp", "--host", "--home", str(home.root)], stderr=subprocess.PIPE
    )
    try:
        wait_until(lambda: host_socket(home.var_dir).exists(), "the host listens")
        yield host
    finally:
        host.send_signal(signal.SIGTERM)
        host.wait(30)


async def test_a_start_is_served_by_a_server_forked_from_the_host(home: Home) -> None:
    with running_host(home) as host:
        async with agent_session(home.root, "Agent-1") as session:
            [server] = children(host.pid)  # the session's server is the host's child
            text, error = await call(session, "send_message", {"to": ["Agent-2"], "text": "hi"})
            assert holds_open(server, home.database)
        assert not error and "Agent-2  delivered via inbox" in text
        wait_until(lambda: children(host.pid) == [], "the ended server is reaped")
        assert host.poll() is None
    assert host.returncode == 0
    assert not host_socket(home.var_dir).exists()
    [file] = inbox_files(home, "Agent-2")
    assert "from: Agent-1" in file.read_text()


async def test_a_start_takes_an_unknown_agent_as_without_a_host(home: Home) -> None:
    with running_host(home) as host:
        result = subprocess.run(
            [CELLPHONE, "mcp", "--home", str(home.root), "--as", "Agent-12"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert children(host.pid) == []
    assert result.returncode == 2 and "unknown agent 'Agent-12'" in result.stderr


async def test_a_socket_left_by_a_host_that_ended_is_passed_by(home: Home) -> None:
    path = host_socket(home.var_dir)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(os.fspath(path))
    left.close()  # bound, never listening: nothing answers there
    async with agent_session(home.root, "Agent-3") as session:
        text, error = await call(session, "send_message", {"to": ["Agent-4"], "text": "still"})
    assert not error and "Agent-4  delivered via inbox" in text


def test_the_host_serves_every_agent_and_takes_nothing_else(home: Home) -> None:
    result = subprocess.run(
        [CELLPHONE, "mcp", "--host", "--as", "Agent-1", "--home", str(home.root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--host serves every agent" in result.stderr


@pytest.fixture(autouse=True)
def _no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    # the host passes on the environment of each start; these tests deliver to the inbox
    monkeypatch.delenv("DISPLAY", raising=False)


def test_a_start_handed_to_the_host_loads_no_sdk(home: Home) -> None:
    # standard input is empty: the forked server answers nothing and ends, exit code 0
    with running_host(home):
        code, loaded, _ = sdk_loaded_by("mcp", "--as", "Agent-1", "--home", str(home.root))
    assert code == 0 and loaded == []


def test_a_long_running_desk_runs_a_warm_host_that_ends_with_it(home: Home) -> None:
    """`cellphone deliver --watch` starts the home's warm host beside its desk: a start is
    handed to it; killed (SIGKILL: no time to stop anything), the desk leaves no host behind."""
    desk = subprocess.Popen(
        [CELLPHONE, "deliver", "--watch", "--home", str(home.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "DISPLAY"},
    )
    try:
        wait_until(lambda: host_socket(home.var_dir).exists(), "the host beside the desk listens")
        [host] = children(desk.pid)
        assert "--host" in Path(f"/proc/{host}/cmdline").read_bytes().decode().split("\0")
        code, loaded, _ = sdk_loaded_by("mcp", "--as", "Agent-1", "--home", str(home.root))
        assert code == 0 and loaded == []  # handed to that host
    finally:
        desk.send_signal(signal.SIGKILL)
        desk.wait(30)
    wait_until(lambda: not Path(f"/proc/{host}").exists() or _zombie(host), "the host ends")
    assert not host_socket(home.var_dir).exists()


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    return True

"""A real redis-server on 127.0.0.1 (with its append-only file), a coordinator's home, and
desk processes (`cellphone desk --join`) each with a home of its own agents."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config import Home
from tests.cluster.helpers import join_command, redis_command
from tests.conftest import make_home

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0
PANE_CHAT = Path(__file__).with_name("pane_chat.py")  # an agent's chat input in a tmux pane


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class RedisServer:
    """redis-server as a coordinator runs it: AOF on, fsync every second."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: tests/run.sh installs it (Debian redis-server)"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                *redis_command(binary, self.port, self.folder),
                *("--logfile", str(self.folder / "redis.log")),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self.answers, START_TIMEOUT_S, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"redis-server exited: {log}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                reply = s.recv(64)
        except OSError:
            return False
        return reply.startswith((b"+PONG", b"-NOAUTH", b"-LOADING")) and not reply.startswith(
            b"-LOADING"
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def agents_of(first: int, count: int) -> dict:
    return {
        "agents": {
            f"Agent-{n}": {"description": f"agent {n}", "active": True}
            for n in range(first, first + count)
        }
    }


def desk_home(root: Path, first: int, count: int, toml: str = "") -> Home:
    home = make_home(root, agents_of(first, count))
    home.settings_file.parent.mkdir(parents=True, exist_ok=True)
    home.settings_file.write_text(
        '[messaging]\ndelivery_mode = "inbox"\n[cluster]\nheartbeat_s = 0.2\n' + toml,
        encoding="utf-8",
    )
    return home


@dataclass
class DeskProcess:
    """``cellphone desk --join URL --name NAME --home H`` in a process of its own."""

    name: str
    home: Home
    url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "CELLPHONE_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            **self.env,
        }
        env.pop("DISPLAY", None)
        log = open(self.home.root / f"desk-{self.name}.log", "ab")  # noqa: SIM115
        with log:
            self.process = subprocess.Popen(
                join_command(self.url, self.name, self.home),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return (self.home.root / f"desk-{self.name}.log").read_text(errors="replace")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def desks() -> Iterator[list[DeskProcess]]:
    started: list[DeskProcess] = []
    yield started
    for desk in started:
        with contextlib.suppress(Exception):
            desk.stop()

"""Waiting on the coordinator in a test, with a deadline."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from config import Home, Settings, load_settings
from messaging.runtime import Runtime
from tests.conftest import inbox_files, make_home


def join_command(url: str, name: str, home: Home) -> list[str]:
    """The command line of a desk process: ``cellphone desk --join URL --name NAME --home
    HOME``."""
    return [
        *(sys.executable, "-m", "cellphone", "desk", "--join", url, "--name", name),
        *("--home", str(home.root)),
    ]


def redis_command(binary: str, port: int, folder: Path) -> list[str]:
    """redis-server on loopback, its data in ``folder``: an append-only file synced every
    second and no snapshots, as the README advises."""
    return [
        *(binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)),
        *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
    ]


async def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def coordinator_home(
    root: Path, url: str, messaging: dict[str, object] | None = None, **cluster: object
) -> tuple[Home, Settings]:
    home = make_home(root, {"agents": {}})
    settings = load_settings(
        home,
        cluster={"redis_url": url, "heartbeat_s": 0.2, **cluster},
        messaging={"delivery_mode": "inbox", **(messaging or {})},
    )
    return home, settings


def copies(home: Home, agent_id: str, message_id: str) -> int:
    """Files in the agent's inbox holding this message."""
    return sum(1 for f in inbox_files(home, agent_id) if message_id in f.name)


async def rows_once(rt: Runtime, sql: str, timeout: float) -> list[tuple[object, ...]]:
    """The rows of ``sql`` in the coordinator's store once there are any."""
    deadline = time.monotonic() + timeout
    while not (rows := [tuple(r) for r in await rt.store.rows(sql)]):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for rows of {sql}")
        await asyncio.sleep(0.05)
    return rows

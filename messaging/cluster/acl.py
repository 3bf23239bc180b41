"""The Redis ACL user of a desk: it reads and acknowledges only its own stream, and writes
only its own outcome stream, heartbeat and forwarded files (write-only keys: it reads none
of them back)."""

from __future__ import annotations

import os

from messaging.cluster.files import files_stream
from messaging.cluster.wire import aioredis, desk_stream, heartbeat_key, outcome_stream

COMMANDS = (
    "ping", "hello", "auth", "client|setname",  # the client's own (7.0 has no CLIENT SETINFO)
    "xreadgroup", "xack", "xautoclaim", "xgroup|create", "xgroup|delconsumer",
    "xinfo|consumers", "xadd", "set",
)  # fmt: skip


def desk_user(name: str) -> str:
    return f"desk-{name}"


def desk_rules(name: str, password: str) -> list[str]:
    """The ``ACL SETUSER`` rules of desk ``name``'s user."""
    return [
        "reset",
        "on",
        f">{password}",
        f"~{desk_stream(name)}",
        f"%W~{outcome_stream(name)}",
        f"%W~{heartbeat_key(name)}",
        f"%W~{files_stream(name)}",
        "resetchannels",
        "-@all",
        *(f"+{command}" for command in COMMANDS),
    ]


async def grant(redis: aioredis.Redis, name: str, password: str | None = None) -> tuple[str, str]:
    """Make (or remake) desk ``name``'s user with ``password`` (a new random one by default);
    its user name and password. The coordinator's own user must be allowed ``ACL``."""
    password = password or os.urandom(24).hex()
    user = desk_user(name)
    await redis.execute_command("ACL", "SETUSER", user, *desk_rules(name, password))
    return user, password

"""What goes over Redis: key names, the entries of the streams, heartbeats, the connection.

One stream per desk (``cellphone:desk:<name>``) carries the deliveries meant for its agents,
one entry per message and desk; each desk answers on its own outcome stream
(``cellphone:outcomes:<name>``) and keeps its heartbeat in ``cellphone:heartbeat:<name>``
(which expires: :mod:`messaging.cluster.presence`), so a Redis ACL user per desk can be held
to its own keys.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from config.settings import ClusterSettings
from messaging.errors import MessagingError
from messaging.model import (
    DeliveryMethod,
    DeliveryState,
    Message,
    MessageType,
    Outcome,
    Priority,
)


class RedisClientMissingError(MessagingError):
    def __init__(self) -> None:
        super().__init__(
            "the Redis client is not installed, and desks on several machines need it: run "
            "`pip install 'agent-cellphone[cluster]'` (or unset cluster.redis_url)"
        )


try:  # the one import of the client: the other modules of the package take it from here
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError, ResponseError
except ModuleNotFoundError:
    raise RedisClientMissingError() from None

PREFIX = "cellphone"
DESKS_GROUP = "desks"  # the consumer group of a desk's stream
COORDINATOR_GROUP = "coordinator"  # the consumer group of the outcome streams
DESK_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


__all__ = ["RedisError", "ResponseError", "aioredis"]


class ClusterError(MessagingError):
    """Redis cannot be reached or refused what was asked, or a desk is named wrong."""


async def cancelled(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait for them to end. The client may turn a cancellation into
    a timeout error that a loop takes for a lost connection, so their loops also check a
    flag of their own, set before this is called; cancelling is repeated until they end."""
    pending = [task for task in tasks if not task.done()]
    while pending:
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=1.0)
        pending = list(still)


def checked_desk_name(name: str) -> str:
    if not DESK_NAME.fullmatch(name):
        raise ClusterError(
            f"desk name {name!r} is not allowed; use 1 to 32 lowercase letters, digits and "
            "dashes, starting with a letter or digit (e.g. pc-2)"
        )
    return name


def desk_stream(name: str) -> str:
    return f"{PREFIX}:desk:{name}"


def outcome_stream(name: str) -> str:
    return f"{PREFIX}:outcomes:{name}"


def heartbeat_key(name: str) -> str:
    return f"{PREFIX}:heartbeat:{name}"


def desk_of_heartbeat(key: str) -> str:
    return key.removeprefix(f"{PREFIX}:heartbeat:")


def shown_url(url: str) -> str:
    """``url`` without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def connect(url: str, settings: ClusterSettings) -> aioredis.Redis:
    """A client of the Redis at ``url`` as the ACL user of the settings (the user and
    password in the URL win); ``rediss://`` checks the server with ``tls_ca_file``."""
    if not url.startswith(("redis://", "rediss://")):
        raise ClusterError(
            f"Redis address {shown_url(url)!r} must start with redis:// or rediss://"
        )
    options: dict[str, Any] = {"decode_responses": True, "health_check_interval": 5}
    if settings.username is not None:
        options["username"] = settings.username
    if settings.password is not None:
        options["password"] = settings.password.get_secret_value()
    if url.startswith("rediss://") and settings.tls_ca_file is not None:
        options["ssl_ca_certs"] = str(Path(settings.tls_ca_file))
    client: aioredis.Redis = aioredis.Redis.from_url(url, **options)
    return client


@dataclass(frozen=True)
class Handed:
    """One message for the agents of one desk, as its stream entry holds it."""

    seq: int  # the message's row at the coordinator
    message: Message  # recipients: every agent of the message this desk owns
    agents: tuple[str, ...]  # the ones this entry hands over (the rest come in other entries)
    sent_at: float
    # the coordinator's attempt of each agent's delivery: one higher than the desk served
    # for a delivery it settled is a retry (handing over again keeps the number)
    attempts: dict[str, int] = field(default_factory=dict)

    def fields(self) -> dict[str, str]:
        m = self.message
        return {
            "seq": str(self.seq),
            "id": m.id,
            "agents": json.dumps(list(self.agents)),
            "recipients": json.dumps(list(m.recipients)),
            "sender": m.sender,
            "type": m.type.value,
            "priority": m.priority.value,
            "body": m.body,
            "tags": json.dumps(list(m.tags)),
            "created_at": m.created_at.isoformat(),
            "reply_to": m.reply_to or "",
            "ack": "1" if m.ack_required else "0",
            "sent_at": repr(self.sent_at),
            "attempts": json.dumps(self.attempts),
        }

    @classmethod
    def parse(cls, fields: dict[str, str]) -> Handed:
        message = Message(
            sender=fields["sender"],
            recipients=tuple(json.loads(fields["recipients"])),
            body=fields["body"],
            type=MessageType(fields["type"]),
            priority=Priority(fields["priority"]),
            tags=tuple(json.loads(fields["tags"])),
            id=fields["id"],
            created_at=datetime.fromisoformat(fields["created_at"]),
            reply_to=fields["reply_to"] or None,
            ack_required=fields["ack"] == "1",
        )
        return cls(
            int(fields["seq"]),
            message,
            tuple(json.loads(fields["agents"])),
            float(fields["sent_at"]),
            {str(a): int(n) for a, n in json.loads(fields.get("attempts", "{}")).items()},
        )


@dataclass(frozen=True)
class Reported:
    """The outcome of one delivery, as a desk's outcome stream holds it."""

    seq: int
    outcome: Outcome

    def fields(self) -> dict[str, str]:
        o = self.outcome
        return {
            "seq": str(self.seq),
            "id": o.message_id,
            "agent": o.agent_id,
            "state": o.state.value,
            "method": o.method.value if o.method else "",
            "reason": o.reason or "",
            "possible_repeat": "1" if o.possible_repeat else "0",
            "attempts": str(o.attempts),
            "verified": "" if o.verified is None else str(int(o.verified)),
        }

    @classmethod
    def parse(cls, fields: dict[str, str]) -> Reported:
        verified = fields["verified"]
        return cls(
            int(fields["seq"]),
            Outcome(
                message_id=fields["id"],
                agent_id=fields["agent"],
                state=DeliveryState(fields["state"]),
                method=DeliveryMethod(fields["method"]) if fields["method"] else None,
                reason=fields["reason"] or None,
                possible_repeat=fields["possible_repeat"] == "1",
                attempts=int(fields["attempts"]),
                verified=None if verified == "" else verified == "1",
            ),
        )


@dataclass(frozen=True)
class RemoteAgent:
    agent_id: str
    description: str
    active: bool


@dataclass(frozen=True)
class Heartbeat:
    desk: str
    since: float  # when the desk process started (the first to claim an agent keeps it)
    beat: int  # counts up; the coordinator sees a desk away when it stops changing
    agents: tuple[RemoteAgent, ...]
    ttl_ms: int = 0  # how long Redis keeps this beat (0: for ever, as desks before did)

    def dumps(self) -> str:
        return json.dumps(
            {
                "desk": self.desk,
                "since": self.since,
                "beat": self.beat,
                "agents": [[a.agent_id, a.description, a.active] for a in self.agents],
                "ttl_ms": self.ttl_ms,
            }
        )

    @classmethod
    def loads(cls, text: str) -> Heartbeat:
        data = json.loads(text)
        return cls(
            data["desk"],
            float(data["since"]),
            int(data["beat"]),
            tuple(RemoteAgent(str(a), str(d), bool(on)) for a, d, on in data["agents"]),
            int(data.get("ttl_ms", 0)),
        )

"""Notices for the operator: what agents send to ``operator``, rejected files, overdue
acknowledgements, stalls and status changes. Each is stored first and posted by whoever
posts to Discord (the bot, or a webhook); a notice is posted once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from messaging.model import utc_now
from messaging.store import Store


class Channel(StrEnum):
    OPERATOR = "operator"
    STATUS = "status"


@dataclass(frozen=True)
class Notice:
    seq: int
    channel: Channel
    agent_id: str | None
    text: str
    created_at: datetime


class Notices:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.listeners: list[Callable[[], None]] = []  # told of each new notice

    async def add(
        self, channel: Channel, text: str, *, agent_id: str | None = None, key: str | None = None
    ) -> bool:
        """Store a notice; with ``key`` already used, nothing new (False)."""
        async with self.store.writing() as tx:
            cursor = await tx.execute(
                "INSERT INTO notices (channel, agent, text, key, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (channel.value, agent_id, text, key, utc_now().isoformat()),
            )
        for listener in self.listeners:
            listener()
        return cursor.rowcount == 1

    async def unposted(self, limit: int = 50) -> list[Notice]:
        rows = await self.store.rows(
            "SELECT seq, channel, agent, text, created_at FROM notices"
            " WHERE posted_at IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [Notice(r[0], Channel(r[1]), r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]

    async def recent(self, limit: int = 20) -> list[Notice]:
        rows = await self.store.rows(
            "SELECT seq, channel, agent, text, created_at FROM notices ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        return [Notice(r[0], Channel(r[1]), r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]

    async def posted(self, seq: int) -> None:
        async with self.store.writing() as tx:
            await tx.execute(
                "UPDATE notices SET posted_at = ? WHERE seq = ?", (utc_now().isoformat(), seq)
            )

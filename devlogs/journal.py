"""Devlogs as the store keeps them: added once (by key), summarized, posted."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from devlogs.entry import Devlog
from messaging.model import utc_now
from messaging.store import Store

_COLUMNS = (
    "seq, agent, title, body, created_at, summary, summary_error, posted_at, post_error,"
    " summarize, parts_posted"
)


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(
        self,
        agent_id: str,
        title: str,
        body: str,
        *,
        summarize: bool = False,
        key: str | None = None,
    ) -> Devlog:
        """Keep a devlog (synced) before anything is posted; with ``key`` already used, the
        devlog kept then."""
        async with self.store.writing() as tx:
            await tx.execute(
                "INSERT INTO devlogs (key, agent, title, body, created_at, summarize)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, agent_id, title, body, utc_now().isoformat(), int(summarize)),
            )
            rows = await tx.execute_fetchall(
                f"SELECT {_COLUMNS} FROM devlogs WHERE"
                + (" key = ?" if key else " seq = last_insert_rowid()"),
                (key,) if key else (),
            )
        [row] = rows
        return _devlog(row)

    async def get(self, seq: int) -> Devlog | None:
        rows = await self.store.rows(f"SELECT {_COLUMNS} FROM devlogs WHERE seq = ?", (seq,))
        return _devlog(rows[0]) if rows else None

    async def unposted(self, limit: int = 20) -> list[Devlog]:
        rows = await self.store.rows(
            f"SELECT {_COLUMNS} FROM devlogs WHERE posted_at IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [_devlog(row) for row in rows]

    async def recent(self, agent_id: str | None = None, limit: int = 10) -> list[Devlog]:
        where, params = ("WHERE agent = ?", (agent_id,)) if agent_id else ("", ())
        rows = await self.store.rows(
            f"SELECT {_COLUMNS} FROM devlogs {where} ORDER BY seq DESC LIMIT ?",
            (*params, limit),
        )
        return [_devlog(row) for row in rows]

    async def summarized(self, seq: int, summary: str | None, error: str | None) -> None:
        await self._set(seq, summary=summary, summary_error=error)

    async def part_posted(self, seq: int, parts: int) -> None:
        async with self.store.writing() as tx:
            await tx.execute("UPDATE devlogs SET parts_posted = ? WHERE seq = ?", (parts, seq))

    async def posted(self, seq: int) -> None:
        await self._set(seq, posted_at=utc_now().isoformat(), post_error=None)

    async def not_posted(self, seq: int, error: str) -> None:
        await self._set(seq, post_error=error)

    async def _set(self, seq: int, **values: str | None) -> None:
        assignments = ", ".join(f"{name} = ?" for name in values)
        async with self.store.writing() as tx:
            await tx.execute(
                f"UPDATE devlogs SET {assignments} WHERE seq = ?", (*values.values(), seq)
            )


def _devlog(row: sqlite3.Row) -> Devlog:
    return Devlog(
        seq=row["seq"],
        agent_id=row["agent"],
        title=row["title"],
        body=row["body"],
        created_at=datetime.fromisoformat(row["created_at"]),
        summary=row["summary"],
        summary_error=row["summary_error"],
        posted_at=datetime.fromisoformat(row["posted_at"]) if row["posted_at"] else None,
        post_error=row["post_error"],
        summarize=bool(row["summarize"]),
        parts_posted=row["parts_posted"],
    )

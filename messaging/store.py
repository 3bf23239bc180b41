"""The message store: SQLite in WAL mode through aiosqlite.

Every message is a row; every (message, recipient) pair is a delivery row carrying its
state, lane, method, attempts and last error. The schema is versioned with
``PRAGMA user_version`` and upgraded by the migrations below, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from agents.registry import natural_key
from messaging.errors import StoreError
from messaging.model import (
    Delivery,
    DeliveryMethod,
    DeliveryState,
    Lane,
    Message,
    MessageType,
    Priority,
    utc_now,
)

MIGRATIONS: tuple[str, ...] = (
    # 1: messages, deliveries, full-text search, audit log
    """
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        sender TEXT NOT NULL,
        type TEXT NOT NULL,
        priority TEXT NOT NULL,
        body TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        idem_key TEXT UNIQUE,
        routing TEXT NOT NULL  -- {"Agent-1": "screen", ...}: one delivery row per key
    );
    CREATE TABLE deliveries (
        message_seq INTEGER NOT NULL REFERENCES messages(seq),
        agent TEXT NOT NULL,
        lane TEXT NOT NULL,
        rank INTEGER NOT NULL,
        state TEXT NOT NULL,
        method TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        possible_repeat INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        delivered_at TEXT,
        PRIMARY KEY (message_seq, agent)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_queued ON deliveries (lane, rank DESC, message_seq)
        WHERE state = 'queued';
    CREATE INDEX deliveries_delivering ON deliveries (lane) WHERE state = 'delivering';
    CREATE INDEX deliveries_by_agent ON deliveries (agent, message_seq DESC);
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='seq'
    );
    CREATE TRIGGER messages_route AFTER INSERT ON messages BEGIN
        INSERT INTO deliveries (message_seq, agent, lane, rank, state, updated_at)
        SELECT new.seq, key, value,
               CASE new.priority WHEN 'critical' THEN 2 WHEN 'urgent' THEN 1 ELSE 0 END,
               'queued', new.created_at
        FROM json_each(new.routing);
    END;
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, body) VALUES (new.seq, new.body);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    END;
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        command TEXT NOT NULL,
        arguments TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_REACHED = {DeliveryState.DELIVERED, DeliveryState.FALLBACK}
_RESULT_COLUMNS = ", ".join(
    f"json_extract(value, '$.{name}') AS {name}"
    for name in ("seq", "agent", "state", "method", "error", "retry_at", "delivered")
)

_DELIVERY_COLUMNS = (
    "d.agent, d.lane, d.state, d.method, d.attempts, d.last_error, d.possible_repeat,"
    " d.updated_at, d.delivered_at"
)
_MESSAGE_COLUMNS = (
    "m.seq, m.id, m.sender, m.type, m.priority, m.body, m.tags, m.created_at, m.idem_key"
)


@dataclass(frozen=True)
class Claimed:
    """A delivery taken by a desk worker: the store row key plus what the worker needs."""

    seq: int
    delivery: Delivery


@dataclass(frozen=True)
class Attempt:
    """The result of one attempt, written back by :meth:`Store.record`."""

    seq: int
    agent_id: str
    state: DeliveryState
    method: DeliveryMethod | None = None
    error: str | None = None
    retry_at: float = 0.0  # epoch seconds; for a delivery that stays queued


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    message: Message
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class AgentQueue:
    agent_id: str
    queued: int
    delivering: int
    last: Delivery | None


class Store:
    """One connection per process; the desk and the service share it."""

    """Two connections: ``_durable`` (synchronous=FULL) commits what a power cut must not
    undo: a new message, "about to type", recovery. ``_db`` (synchronous=NORMAL) does the
    reads and the bookkeeping of claims and results, which the next synced commit carries
    to disk; replaying lost bookkeeping is harmless because inbox writes are idempotent and
    a delivery marked "about to type" is never typed again."""

    def __init__(self, db: aiosqlite.Connection, durable: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self._durable = durable
        self.path = path
        # coroutines share each connection: a statement of one must never land inside
        # another's transaction, so every public method holds the connection's lock
        self._lock = asyncio.Lock()
        self._durable_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._durable_lock:
            await self._durable.execute("BEGIN IMMEDIATE")
            try:
                yield self._durable
            except BaseException:
                await self._durable.execute("ROLLBACK")
                raise
            await self._durable.execute("COMMIT")

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            durable = await _connect(path, synchronous="FULL")
            db = await _connect(path, synchronous="NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        store = cls(db, durable, path)
        try:
            await store._migrate()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        await self._db.close()
        await self._durable.close()

    async def _migrate(self) -> None:
        version = await self._scalar("PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema version {version}, newer than this "
                f"program's {SCHEMA_VERSION}; upgrade agent-cellphone"
            )
        for number in range(version, SCHEMA_VERSION):
            async with self._tx() as tx:
                if await self._scalar("PRAGMA user_version", db=tx) == number:
                    for statement in _statements(MIGRATIONS[number]):
                        await tx.execute(statement)
                    await tx.execute(f"PRAGMA user_version = {number + 1}")

    async def _scalar(
        self, sql: str, params: Sequence[Any] = (), db: aiosqlite.Connection | None = None
    ) -> Any:
        async with (db or self._db).execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    # -- writing -----------------------------------------------------------------------

    # Each round trip to the database thread costs more than the statement itself, so the
    # hot paths are single statements (atomic on their own): the insert creates the
    # delivery rows through a trigger, the claim is one UPDATE ... RETURNING.

    async def insert(self, message: Message, lanes: dict[str, Lane]) -> tuple[Message, bool]:
        """Store ``message`` with one queued delivery per recipient, atomically and synced.

        With an idempotency key already used, nothing is written and the stored message is
        returned with ``False``.
        """
        routing = json.dumps({agent: lanes[agent].value for agent in message.recipients})
        async with self._durable_lock:
            cursor = await self._durable.execute(
                "INSERT INTO messages (id, sender, type, priority, body, tags, created_at,"
                " idem_key, routing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (idem_key) DO NOTHING",
                (
                    message.id,
                    message.sender,
                    message.type.value,
                    message.priority.value,
                    message.body,
                    json.dumps(list(message.tags)),
                    message.created_at.isoformat(),
                    message.key,
                    routing,
                ),
            )
        if cursor.rowcount == 1:
            return message, True
        assert message.key is not None
        async with self._lock:
            existing = await self._message_by_key(message.key)
        assert existing is not None
        return existing, False

    async def claim(self, lane: Lane, limit: int) -> list[Claimed]:
        """Take up to ``limit`` due deliveries of ``lane`` in priority then FIFO order,
        marking them delivering and counting the attempt."""
        async with self._lock:
            rows = await self._db.execute_fetchall(
                "UPDATE deliveries SET state = 'delivering', attempts = attempts + 1,"
                " updated_at = ? WHERE (message_seq, agent) IN ("
                "   SELECT message_seq, agent FROM deliveries"
                "   WHERE lane = ? AND state = 'queued' AND next_attempt_at <= ?"
                "   ORDER BY rank DESC, message_seq LIMIT ?)"
                " RETURNING message_seq, rank, agent, lane, state, method, attempts,"
                " last_error, possible_repeat, updated_at, delivered_at",
                (utc_now().isoformat(), lane.value, time.time(), limit),
            )
            if not rows:
                return []
            messages = await self._messages({row["message_seq"] for row in rows})
        ordered = sorted(rows, key=lambda r: (-r["rank"], r["message_seq"]))
        return [
            Claimed(row["message_seq"], _delivery(row, messages[row["message_seq"]]))
            for row in ordered
        ]

    async def _messages(self, seqs: set[int]) -> dict[int, Message]:
        marks = ",".join("?" * len(seqs))
        rows = await self._db.execute_fetchall(
            f"SELECT {_MESSAGE_COLUMNS}, m.routing FROM messages m WHERE m.seq IN ({marks})",
            tuple(seqs),
        )
        return {row["seq"]: _message(row, list(json.loads(row["routing"]))) for row in rows}

    async def mark_typing(self, seq: int, agent_id: str) -> None:
        """Record, before the first key is pressed, that the screen is being used: after a
        crash such a delivery is not typed again."""
        async with self._durable_lock:
            await self._durable.execute(
                "UPDATE deliveries SET method = 'gui', updated_at = ?"
                " WHERE message_seq = ? AND agent = ?",
                (utc_now().isoformat(), seq, agent_id),
            )

    async def record(self, attempts: Iterable[Attempt]) -> None:
        """Write the results of attempts: one statement, so one transaction."""
        now = utc_now().isoformat()
        rows = [
            {
                "seq": a.seq,
                "agent": a.agent_id,
                "state": a.state.value,
                "method": a.method.value if a.method else None,
                "error": a.error,
                "retry_at": a.retry_at,
                "delivered": now if a.state in _REACHED else None,
            }
            for a in attempts
        ]
        if not rows:
            return
        async with self._lock:
            await self._db.execute(
                "UPDATE deliveries AS d SET state = r.state, method = COALESCE(r.method, d.method),"
                " last_error = r.error, next_attempt_at = r.retry_at, updated_at = ?,"
                " delivered_at = COALESCE(r.delivered, d.delivered_at)"
                f" FROM (SELECT {_RESULT_COLUMNS} FROM json_each(?)) AS r"
                " WHERE d.message_seq = r.seq AND d.agent = r.agent",
                (now, json.dumps(rows)),
            )

    async def recover(self) -> tuple[int, int]:
        """After a crash: deliveries caught while typing go to the inbox marked as possible
        repeats; any other delivery caught mid-way is queued again (inbox writes are
        idempotent). Returns (requeued, possible_repeats)."""
        now = utc_now().isoformat()
        async with self._tx() as tx:
            repeats = await tx.execute(
                "UPDATE deliveries SET state = 'queued', lane = 'inbox', possible_repeat = 1,"
                " updated_at = ? WHERE state = 'delivering' AND method = 'gui'",
                (now,),
            )
            requeued = await tx.execute(
                "UPDATE deliveries SET state = 'queued', updated_at = ? WHERE state = 'delivering'",
                (now,),
            )
        return requeued.rowcount + repeats.rowcount, repeats.rowcount

    async def requeue(self, message_id: str) -> list[str]:
        """Queue again every delivery of a message that did not reach the agent's screen:
        failed, fallen back, cancelled or waiting on a retry. Returns the agents."""
        async with self._tx() as tx:
            seq = await self._scalar("SELECT seq FROM messages WHERE id = ?", (message_id,), db=tx)
            if seq is None:
                return []
            async with tx.execute(
                "SELECT agent FROM deliveries WHERE message_seq = ? AND (state IN"
                " ('failed', 'fallback', 'cancelled') OR (state = 'queued' AND attempts > 0))",
                (seq,),
            ) as cursor:
                agents = [row[0] for row in await cursor.fetchall()]
            await tx.execute(
                "UPDATE deliveries SET state = 'queued', lane = 'screen', last_error = NULL,"
                " possible_repeat = 0, next_attempt_at = 0, updated_at = ?"
                " WHERE message_seq = ? AND (state IN ('failed', 'fallback', 'cancelled')"
                " OR (state = 'queued' AND attempts > 0))",
                (utc_now().isoformat(), seq),
            )
        return agents

    async def audit(
        self, actor: str, command: str, arguments: dict[str, Any], outcome: str
    ) -> None:
        async with self._tx() as tx:
            await tx.execute(
                "INSERT INTO audit (at, actor, command, arguments, outcome) VALUES (?, ?, ?, ?, ?)",
                (
                    utc_now().isoformat(),
                    actor,
                    command,
                    json.dumps(arguments, ensure_ascii=False),
                    outcome,
                ),
            )

    # -- reading -----------------------------------------------------------------------

    async def message(self, message_id: str) -> HistoryEntry | None:
        async with self._lock:
            async with self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?", (message_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return (await self._entries([row]))[0]

    async def deliveries(self, message_id: str) -> list[Delivery]:
        entry = await self.message(message_id)
        return list(entry.deliveries) if entry else []

    async def history(
        self, *, agent: str | None = None, limit: int = 20, search: str | None = None
    ) -> list[HistoryEntry]:
        """Newest first. ``search`` is a set of words all of which must appear (FTS5)."""
        params: list[Any] = []
        if search:
            # walk the full-text index newest first and stop at ``limit`` matches
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages_fts f JOIN messages m"
                " ON m.seq = f.rowid WHERE messages_fts MATCH ?"
            )
            params.append(fts_query(search))
            if agent is not None:
                sql += (
                    " AND EXISTS (SELECT 1 FROM deliveries a"
                    " WHERE a.message_seq = m.seq AND a.agent = ?)"
                )
                params.append(agent)
            sql += " ORDER BY f.rowid DESC LIMIT ?"
        elif agent is not None:
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM deliveries a JOIN messages m"
                " ON m.seq = a.message_seq WHERE a.agent = ?"
                " ORDER BY a.message_seq DESC LIMIT ?"
            )
            params.append(agent)
        else:
            sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages m ORDER BY m.seq DESC LIMIT ?"
        async with self._lock:
            async with self._db.execute(sql, (*params, limit)) as cursor:
                rows = list(await cursor.fetchall())
            return await self._entries(rows)

    async def queues(self, agents: Sequence[str]) -> list[AgentQueue]:
        async with self._lock:
            return await self._queues(agents)

    async def _queues(self, agents: Sequence[str]) -> list[AgentQueue]:
        counts: dict[tuple[str, str], int] = {}
        async with self._db.execute(
            "SELECT agent, state, COUNT(*) FROM deliveries WHERE state IN"
            " ('queued', 'delivering') GROUP BY agent, state"
        ) as cursor:
            for agent, state, count in await cursor.fetchall():
                counts[(agent, state)] = count
        result = []
        for agent in agents:
            async with self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS}, {_DELIVERY_COLUMNS}, '' AS recipients"
                " FROM deliveries d JOIN messages m ON m.seq = d.message_seq"
                " WHERE d.agent = ? AND (d.state != 'queued' OR d.attempts > 0)"
                " ORDER BY d.message_seq DESC LIMIT 1",
                (agent,),
            ) as cursor:
                row = await cursor.fetchone()
            last = _delivery(row, _message(row, [agent])) if row else None
            result.append(
                AgentQueue(
                    agent,
                    counts.get((agent, "queued"), 0),
                    counts.get((agent, "delivering"), 0),
                    last,
                )
            )
        return result

    async def pending(self) -> int:
        async with self._lock:
            return int(
                await self._scalar(
                    "SELECT COUNT(*) FROM deliveries WHERE state IN ('queued', 'delivering')"
                )
            )

    async def due(self, lane: Lane | None = None) -> int:
        """Deliveries a desk would work on now (of one lane, or all): being delivered, or
        queued and due."""
        where = "(state = 'delivering' OR (state = 'queued' AND next_attempt_at <= ?))"
        params: tuple[Any, ...] = (time.time(),)
        if lane is not None:
            where, params = f"lane = ? AND {where}", (lane.value, *params)
        async with self._lock:
            return int(await self._scalar(f"SELECT COUNT(*) FROM deliveries WHERE {where}", params))

    async def next_retry_at(self) -> float | None:
        async with self._lock:
            return await self._scalar(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'queued'"
            )

    async def _message_by_key(self, key: str) -> Message | None:
        async with self._db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.idem_key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return (await self._entries([row]))[0].message

    async def _entries(self, rows: Sequence[sqlite3.Row]) -> list[HistoryEntry]:
        if not rows:
            return []
        seqs = [row["seq"] for row in rows]
        marks = ",".join("?" * len(seqs))
        by_seq: dict[int, list[sqlite3.Row]] = {seq: [] for seq in seqs}
        async with self._db.execute(
            f"SELECT d.message_seq, {_DELIVERY_COLUMNS} FROM deliveries d"
            f" WHERE d.message_seq IN ({marks})",
            seqs,
        ) as cursor:
            for drow in await cursor.fetchall():
                by_seq[drow["message_seq"]].append(drow)
        entries = []
        for row in rows:
            drows = sorted(by_seq[row["seq"]], key=lambda r: natural_key(r["agent"]))
            message = _message(row, [d["agent"] for d in drows])
            entries.append(
                HistoryEntry(row["seq"], message, tuple(_delivery(d, message) for d in drows))
            )
        return entries


def fts_query(words: str) -> str:
    """Quote each word so user text is never parsed as FTS5 syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words.split())


def _statements(script: str) -> list[str]:
    """Split a migration into statements (triggers contain ';' inside BEGIN ... END)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _message(row: sqlite3.Row, recipients: list[str]) -> Message:
    return Message(
        id=row["id"],
        sender=row["sender"],
        recipients=tuple(recipients),
        body=row["body"],
        type=MessageType(row["type"]),
        priority=Priority(row["priority"]),
        tags=tuple(json.loads(row["tags"])),
        created_at=datetime.fromisoformat(row["created_at"]),
        key=row["idem_key"],
    )


def _delivery(row: sqlite3.Row, message: Message) -> Delivery:
    return Delivery(
        message=message,
        agent_id=row["agent"],
        state=DeliveryState(row["state"]),
        lane=Lane(row["lane"]),
        method=DeliveryMethod(row["method"]) if row["method"] else None,
        attempts=row["attempts"],
        last_error=row["last_error"],
        possible_repeat=bool(row["possible_repeat"]),
        updated_at=datetime.fromisoformat(row["updated_at"]) if row["updated_at"] else None,
        delivered_at=datetime.fromisoformat(row["delivered_at"]) if row["delivered_at"] else None,
    )


async def _connect(path: Path, *, synchronous: str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    await db.execute("PRAGMA busy_timeout = 10000")
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute(f"PRAGMA synchronous = {synchronous}")
    return db

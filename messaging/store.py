"""The message store: SQLite in WAL mode through aiosqlite.

Every message is a row; every (message, recipient) pair is a delivery row carrying its
state, lane, method, attempts and last error. The schema is versioned with
``PRAGMA user_version`` and upgraded by the migrations below, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite

from agents.registry import natural_key
from messaging.errors import StoreError
from messaging.model import (
    HELD,
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
    # 2: whether a screen delivery was seen on screen (NULL: not typed, or not looked at)
    """
    ALTER TABLE deliveries ADD COLUMN verified INTEGER;
    """,
    # 3: agents answer back: threads, read and acknowledged state with reminders, files
    # handled once, notices for the operator, devlogs, and what agents last reported
    """
    ALTER TABLE messages ADD COLUMN reply_to TEXT;
    ALTER TABLE messages ADD COLUMN thread TEXT;  -- id of the thread's first message
    ALTER TABLE messages ADD COLUMN ack_required INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_thread ON messages (thread, seq) WHERE thread IS NOT NULL;
    ALTER TABLE deliveries ADD COLUMN read_at TEXT;
    ALTER TABLE deliveries ADD COLUMN acked_at TEXT;
    ALTER TABLE deliveries ADD COLUMN nudged_at TEXT;
    ALTER TABLE deliveries ADD COLUMN overdue_at TEXT;
    CREATE TABLE processed_files (
        key TEXT PRIMARY KEY,  -- kind:agent:name:sha256 of the content
        kind TEXT NOT NULL,
        agent TEXT NOT NULL,
        name TEXT NOT NULL,
        outcome TEXT NOT NULL,  -- sent | rejected
        detail TEXT,  -- message id, or why it was rejected
        at TEXT NOT NULL
    );
    CREATE TABLE notices (
        seq INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,  -- operator | status | devlog
        agent TEXT,
        text TEXT NOT NULL,
        key TEXT UNIQUE,
        created_at TEXT NOT NULL,
        posted_at TEXT
    );
    CREATE INDEX notices_unposted ON notices (channel, seq) WHERE posted_at IS NULL;
    CREATE TABLE devlogs (
        seq INTEGER PRIMARY KEY,
        key TEXT UNIQUE,
        agent TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        summary TEXT,
        summary_error TEXT,
        created_at TEXT NOT NULL,
        posted_at TEXT,
        post_error TEXT
    );
    CREATE INDEX devlogs_unposted ON devlogs (seq) WHERE posted_at IS NULL;
    CREATE TABLE agent_status (
        agent TEXT PRIMARY KEY,
        state TEXT,
        task TEXT,
        progress TEXT,
        changed_at TEXT,
        last_seen_at TEXT,  -- last status, outbox file or devlog
        stalled_at TEXT  -- flagged silent; cleared by the next sign of life
    );
    """,
    # 4: a devlog remembers whether a summary was asked for and how many of its parts
    # are posted, so a retry or a restart posts no part twice
    """
    ALTER TABLE devlogs ADD COLUMN summarize INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE devlogs ADD COLUMN parts_posted INTEGER NOT NULL DEFAULT 0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_S = 10.0  # how long a statement waits for another process's write to end
_REACHED = {DeliveryState.DELIVERED, DeliveryState.FALLBACK}
# the methods that press keys for an agent, as an SQL list: caught mid-way, never typed again
_TYPED = "(" + ", ".join(f"'{m.value}'" for m in DeliveryMethod if m.types) + ")"
# held deliveries go after the others of their rank: they never keep other agents waiting
_HELD = f"coalesce(last_error LIKE '{HELD}%', 0)"
_RESULT_COLUMNS = ", ".join(
    f"json_extract(value, '$.{name}') AS {name}"
    for name in ("seq", "agent", "state", "method", "error", "retry_at", "delivered", "verified")
)

_DELIVERY_COLUMNS = (
    "d.agent, d.lane, d.state, d.method, d.attempts, d.last_error, d.possible_repeat,"
    " d.updated_at, d.delivered_at, d.verified, d.read_at, d.acked_at, d.nudged_at,"
    " d.overdue_at"
)
_MESSAGE_COLUMNS = (
    "m.seq, m.id, m.sender, m.type, m.priority, m.body, m.tags, m.created_at, m.idem_key,"
    " m.reply_to, m.ack_required"
)


P = ParamSpec("P")
R = TypeVar("R")


def _guarded(
    method: Callable[Concatenate[Store, P], Awaitable[R]],
) -> Callable[Concatenate[Store, P], Awaitable[R]]:
    """The store's boundary: an SQLite error leaves it as a :class:`StoreError` saying what
    to do, never as a raw ``sqlite3`` traceback."""

    @functools.wraps(method)
    async def guarded(self: Store, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(explain(exc, self.path)) from exc

    return guarded


def explain(exc: sqlite3.Error, path: Path) -> str:
    """One line for an SQLite error: what went wrong with ``path`` and what to do."""
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"database {path} is locked: another process kept it busy for more than "
            f"{BUSY_TIMEOUT_S:g} s ({exc}); try again, and if it lasts, stop the program "
            "holding it (`cellphone status` names the desk's process)"
        )
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return (
            f"database {path} is damaged ({exc}); move it away (a new, empty one is made "
            "on the next command) or put back a backup of it"
        )
    if code.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY")):
        return (
            f"cannot use database {path} ({exc}); check that its folder exists and is "
            "writable and that the disk has room, then try again"
        )
    return f"database {path}: {exc} ({code or type(exc).__name__}); please report this error"


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
    verified: bool | None = None  # typed: seen on screen (True) or not looked at (False)


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
    unread: int = 0  # reached the agent, not read yet
    overdue: int = 0  # acknowledgement asked for, reminded, reported, still not given
    stalled_since: datetime | None = None  # silent too long (see messaging.activity)


@dataclass(frozen=True)
class Unacknowledged:
    """A delivery whose acknowledgement is asked for and not given."""

    message: Message
    agent_id: str
    delivered_at: datetime
    nudged_at: datetime | None


class Store:
    """The desk and the service of one process share it, through two connections.

    ``_durable`` (synchronous=FULL) commits what a power cut must not undo: a new message,
    "about to type", recovery. ``_db`` (synchronous=NORMAL) does the reads and the
    bookkeeping of claims and results, which the next synced commit carries to disk;
    replaying lost bookkeeping is harmless because inbox writes are idempotent and a
    delivery marked "about to type" is never typed again. Every public method raises
    :class:`StoreError`, never a raw ``sqlite3`` error."""

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
            # a task cancelled while BEGIN runs on the connection's thread must still end
            # the transaction, or every other writer waits on it
            begin = asyncio.ensure_future(self._durable.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
                yield self._durable
                await self._durable.execute("COMMIT")
            except BaseException:
                if not begin.done():
                    await asyncio.wait([begin])
                if self._durable.in_transaction:  # a failed COMMIT leaves it open
                    await self._durable.execute("ROLLBACK")
                raise

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """A synced transaction for the tables the store keeps for other parts (files
        handled, notices, devlogs, agent status); an SQLite error leaves as StoreError."""
        try:
            async with self._tx() as tx:
                yield tx
        except sqlite3.Error as exc:
            raise StoreError(explain(exc, self.path)) from exc

    @_guarded
    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows of one read of those tables."""
        async with self._lock:
            return list(await self._db.execute_fetchall(sql, params))

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating or upgrading) the database at ``path``. On any failure every
        connection opened so far is closed again, so the process can exit."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder {path.parent} of the database: {exc.strerror}; "
                "check the home's permissions"
            ) from exc
        try:
            durable = await _connect(path, synchronous="FULL")
            try:
                db = await _connect(path, synchronous="NORMAL")
            except BaseException:
                await durable.close()
                raise
        except sqlite3.Error as exc:
            raise StoreError(explain(exc, path)) from exc
        store = cls(db, durable, path)
        try:
            await store._migrate()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        try:
            await self._db.close()
        finally:
            await self._durable.close()

    @_guarded
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

    @_guarded
    async def insert(self, message: Message, lanes: dict[str, Lane]) -> tuple[Message, bool]:
        """Store ``message`` with one queued delivery per recipient, atomically and synced.

        With an idempotency key already used, nothing is written and the stored message is
        returned with ``False``.
        """
        routing = json.dumps({agent: lanes[agent].value for agent in message.recipients})
        async with self._durable_lock:
            cursor = await self._durable.execute(
                "INSERT INTO messages (id, sender, type, priority, body, tags, created_at,"
                " idem_key, routing, reply_to, ack_required, thread)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " (SELECT COALESCE(thread, id) FROM messages WHERE id = ?10))"
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
                    message.reply_to,
                    int(message.ack_required),
                ),
            )
        if cursor.rowcount == 1:
            return message, True
        assert message.key is not None
        async with self._lock:
            existing = await self._message_by_key(message.key)
        assert existing is not None
        return existing, False

    @_guarded
    async def claim(self, lane: Lane, limit: int) -> list[Claimed]:
        """Take up to ``limit`` due deliveries of ``lane`` in priority then FIFO order,
        marking them delivering and counting the attempt."""
        async with self._lock:
            rows = await self._db.execute_fetchall(
                "UPDATE deliveries SET state = 'delivering', attempts = attempts + 1,"
                " updated_at = ? WHERE (message_seq, agent) IN ("
                "   SELECT message_seq, agent FROM deliveries"
                "   WHERE lane = ? AND state = 'queued' AND next_attempt_at <= ?"
                f"   ORDER BY rank DESC, {_HELD} , message_seq LIMIT ?)"
                " RETURNING message_seq, rank, agent, lane, state, method, attempts,"
                " last_error, possible_repeat, updated_at, delivered_at, verified,"
                " read_at, acked_at, nudged_at, overdue_at",
                (utc_now().isoformat(), lane.value, time.time(), limit),
            )
            if not rows:
                return []
            messages = await self._messages({row["message_seq"] for row in rows})
        ordered = sorted(rows, key=lambda r: (-r["rank"], _held(r), r["message_seq"]))
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

    @_guarded
    async def mark_typing(
        self, seq: int, agent_id: str, method: DeliveryMethod = DeliveryMethod.GUI
    ) -> None:
        """Record, before the first key is pressed, that the screen (or a tmux pane) is being
        typed into: after a crash such a delivery is not typed again."""
        async with self._durable_lock:
            await self._durable.execute(
                "UPDATE deliveries SET method = ?, updated_at = ?"
                " WHERE message_seq = ? AND agent = ?",
                (method.value, utc_now().isoformat(), seq, agent_id),
            )

    @_guarded
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
                "verified": a.verified,
            }
            for a in attempts
        ]
        if not rows:
            return
        async with self._lock:
            await self._db.execute(
                "UPDATE deliveries AS d SET state = r.state, method = COALESCE(r.method, d.method),"
                " last_error = r.error, next_attempt_at = r.retry_at, updated_at = ?,"
                " delivered_at = COALESCE(r.delivered, d.delivered_at), verified = r.verified"
                f" FROM (SELECT {_RESULT_COLUMNS} FROM json_each(?)) AS r"
                " WHERE d.message_seq = r.seq AND d.agent = r.agent",
                (now, json.dumps(rows)),
            )

    @_guarded
    async def release(self, attempts: Iterable[Attempt]) -> dict[tuple[int, str], bool]:
        """Put back in the queue deliveries a worker claimed but could not finish, with the
        attempt's error and retry time. One marked as being typed goes to the inbox lane as
        a possible repeat (keys may have been sent), as after a crash. Rows no longer being
        delivered are left alone. Returns the rows put back, each with its possible-repeat
        flag."""
        rows = [
            {"seq": a.seq, "agent": a.agent_id, "error": a.error, "retry_at": a.retry_at}
            for a in attempts
        ]
        if not rows:
            return {}
        async with self._lock:
            put_back = await self._db.execute_fetchall(
                "UPDATE deliveries AS d SET state = 'queued', last_error = r.error,"
                " next_attempt_at = r.retry_at, updated_at = ?,"
                f" lane = CASE WHEN d.method IN {_TYPED} THEN 'inbox' ELSE d.lane END,"
                f" possible_repeat = CASE WHEN d.method IN {_TYPED} THEN 1"
                " ELSE d.possible_repeat END"
                f" FROM (SELECT {_RESULT_COLUMNS} FROM json_each(?)) AS r"
                " WHERE d.message_seq = r.seq AND d.agent = r.agent AND d.state = 'delivering'"
                " RETURNING message_seq, agent, possible_repeat",
                (utc_now().isoformat(), json.dumps(rows)),
            )
        return {(row[0], row[1]): bool(row[2]) for row in put_back}

    @_guarded
    async def handed_over(self, lane: Lane, before: datetime) -> list[Claimed]:
        """Deliveries of ``lane`` being delivered since before ``before``, oldest first (the
        ones handed to another machine's desk whose outcome did not come back)."""
        async with self._lock:
            rows = await self._db.execute_fetchall(
                "SELECT message_seq, rank, agent, lane, state, method, attempts, last_error,"
                " possible_repeat, updated_at, delivered_at, verified, read_at, acked_at,"
                " nudged_at, overdue_at FROM deliveries"
                " WHERE lane = ? AND state = 'delivering' AND updated_at < ?"
                " ORDER BY message_seq",
                (lane.value, before.isoformat()),
            )
            if not rows:
                return []
            messages = await self._messages({row["message_seq"] for row in rows})
        return [
            Claimed(row["message_seq"], _delivery(row, messages[row["message_seq"]]))
            for row in rows
        ]

    @_guarded
    async def recover(self) -> tuple[int, int]:
        """After a crash: deliveries caught while typing go to the inbox marked as possible
        repeats; any other delivery caught mid-way is queued again (inbox writes are
        idempotent). Returns (requeued, possible_repeats)."""
        now = utc_now().isoformat()
        async with self._tx() as tx:
            repeats = await tx.execute(
                "UPDATE deliveries SET state = 'queued', lane = 'inbox', possible_repeat = 1,"
                f" updated_at = ? WHERE state = 'delivering' AND method IN {_TYPED}",
                (now,),
            )
            requeued = await tx.execute(
                "UPDATE deliveries SET state = 'queued', updated_at = ? WHERE state = 'delivering'",
                (now,),
            )
        return requeued.rowcount + repeats.rowcount, repeats.rowcount

    @_guarded
    async def requeue(self, message_id: str, lanes: Mapping[str, Lane]) -> list[str]:
        """Queue again every delivery of a message that did not reach the agent's screen:
        failed, fallen back, cancelled or waiting on a retry, each on the lane ``lanes``
        gives its agent (the inbox for an agent not in it). A possible repeat stays one and
        stays on the inbox lane: it is never typed. Returns the agents."""
        now = utc_now().isoformat()
        async with self._tx() as tx:
            seq = await self._scalar("SELECT seq FROM messages WHERE id = ?", (message_id,), db=tx)
            if seq is None:
                return []
            async with tx.execute(
                "SELECT agent, possible_repeat FROM deliveries WHERE message_seq = ? AND (state IN"
                " ('failed', 'fallback', 'cancelled') OR (state = 'queued' AND attempts > 0))",
                (seq,),
            ) as cursor:
                rows = [(row[0], bool(row[1])) for row in await cursor.fetchall()]
            await tx.executemany(
                "UPDATE deliveries SET state = 'queued', lane = ?, last_error = NULL,"
                " next_attempt_at = 0, updated_at = ? WHERE message_seq = ? AND agent = ?",
                [
                    (Lane.INBOX if repeat else lanes.get(agent, Lane.INBOX), now, seq, agent)
                    for agent, repeat in rows
                ],
            )
        return [agent for agent, _ in rows]

    @_guarded
    async def mark_read(self, agent_id: str, message_ids: Sequence[str]) -> list[str]:
        """Note that ``agent_id`` read these messages (the first time counts). Returns the
        ids of those that were unread."""
        return await self._stamp_deliveries("read_at", agent_id, message_ids)

    @_guarded
    async def acknowledge(self, agent_id: str, message_ids: Sequence[str]) -> list[str]:
        """Note that ``agent_id`` acknowledged these messages (reading them too). Returns
        the ids of those that were not acknowledged before."""
        await self._stamp_deliveries("read_at", agent_id, message_ids)
        return await self._stamp_deliveries("acked_at", agent_id, message_ids)

    async def _stamp_deliveries(
        self, column: str, agent_id: str, message_ids: Sequence[str]
    ) -> list[str]:
        if not message_ids:
            return []
        marks = ",".join("?" * len(message_ids))
        async with self._tx() as tx:
            rows = await tx.execute_fetchall(
                f"UPDATE deliveries SET {column} = ? WHERE agent = ? AND {column} IS NULL"
                f" AND message_seq IN (SELECT seq FROM messages WHERE id IN ({marks}))"
                " RETURNING message_seq",
                (utc_now().isoformat(), agent_id, *message_ids),
            )
            seqs = [row[0] for row in rows]
            if not seqs:
                return []
            found = await tx.execute_fetchall(
                f"SELECT id FROM messages WHERE seq IN ({','.join('?' * len(seqs))})", seqs
            )
        return [row[0] for row in found]

    @_guarded
    async def unacknowledged(self, delivered_before: datetime) -> list[Unacknowledged]:
        """Deliveries asking for an acknowledgement, reached before ``delivered_before``,
        not acknowledged and not yet reported overdue."""
        async with self._lock:
            rows = await self._db.execute_fetchall(
                f"SELECT {_MESSAGE_COLUMNS}, d.agent, d.delivered_at, d.nudged_at"
                " FROM deliveries d JOIN messages m ON m.seq = d.message_seq"
                " WHERE m.ack_required = 1 AND d.acked_at IS NULL AND d.overdue_at IS NULL"
                " AND d.state IN ('delivered', 'fallback') AND d.delivered_at < ?"
                " ORDER BY d.message_seq",
                (delivered_before.isoformat(),),
            )
        return [
            Unacknowledged(
                _message(row, [row["agent"]]),
                row["agent"],
                datetime.fromisoformat(row["delivered_at"]),
                _time(row["nudged_at"]),
            )
            for row in rows
        ]

    @_guarded
    async def stamp(self, column: str, message_id: str, agent_id: str, at: datetime) -> bool:
        """Set ``nudged_at`` or ``overdue_at`` of one delivery once; False if it was set."""
        assert column in ("nudged_at", "overdue_at")
        async with self._tx() as tx:
            cursor = await tx.execute(
                f"UPDATE deliveries SET {column} = ? WHERE agent = ? AND {column} IS NULL"
                " AND message_seq = (SELECT seq FROM messages WHERE id = ?)",
                (at.isoformat(), agent_id, message_id),
            )
        return cursor.rowcount == 1

    @_guarded
    async def thread(self, message_id: str) -> list[HistoryEntry]:
        """Every message of the thread ``message_id`` belongs to, oldest first."""
        async with self._lock:
            root = await self._scalar(
                "SELECT COALESCE(thread, id) FROM messages WHERE id = ?", (message_id,)
            )
            if root is None:
                return []
            rows = await self._db.execute_fetchall(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.id = ? OR m.thread = ?"
                " ORDER BY m.seq",
                (root, root),
            )
            return await self._entries(list(rows))

    @_guarded
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

    @_guarded
    async def message(self, message_id: str) -> HistoryEntry | None:
        async with self._lock:
            async with self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?", (message_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return (await self._entries([row]))[0]

    @_guarded
    async def deliveries(self, message_id: str) -> list[Delivery]:
        entry = await self.message(message_id)
        return list(entry.deliveries) if entry else []

    @_guarded
    async def history(
        self, *, agent: str | None = None, limit: int = 20, search: str | None = None
    ) -> list[HistoryEntry]:
        """Newest first. ``search`` is a set of words all of which must appear (FTS5)."""
        params: list[Any] = []
        words = fts_query(search or "")  # blank: no search
        if words:
            # walk the full-text index newest first and stop at ``limit`` matches
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages_fts f JOIN messages m"
                " ON m.seq = f.rowid WHERE messages_fts MATCH ?"
            )
            params.append(words)
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

    @_guarded
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
        async with self._db.execute(
            "SELECT agent, SUM(read_at IS NULL AND state IN ('delivered', 'fallback')),"
            " SUM(overdue_at IS NOT NULL AND acked_at IS NULL) FROM deliveries"
            " WHERE read_at IS NULL OR overdue_at IS NOT NULL GROUP BY agent"
        ) as cursor:
            for agent, unread, overdue in await cursor.fetchall():
                counts[(agent, "unread")] = unread or 0
                counts[(agent, "overdue")] = overdue or 0
        async with self._db.execute(
            "SELECT agent, stalled_at FROM agent_status WHERE stalled_at IS NOT NULL"
        ) as cursor:
            stalled = {agent: _time(at) for agent, at in await cursor.fetchall()}
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
                    counts.get((agent, "unread"), 0),
                    counts.get((agent, "overdue"), 0),
                    stalled.get(agent),
                )
            )
        return result

    @_guarded
    async def pending(self) -> int:
        async with self._lock:
            return int(
                await self._scalar(
                    "SELECT COUNT(*) FROM deliveries WHERE state IN ('queued', 'delivering')"
                )
            )

    @_guarded
    async def due(self, lane: Lane | None = None) -> int:
        """Deliveries a desk would work on now (of one lane, or all): being delivered, or
        queued and due."""
        where = "(state = 'delivering' OR (state = 'queued' AND next_attempt_at <= ?))"
        params: tuple[Any, ...] = (time.time(),)
        if lane is not None:
            where, params = f"lane = ? AND {where}", (lane.value, *params)
        async with self._lock:
            return int(await self._scalar(f"SELECT COUNT(*) FROM deliveries WHERE {where}", params))

    @_guarded
    async def due_above(self, lane: Lane, rank: int) -> bool:
        """Whether a delivery of ``lane`` ranked above ``rank`` is queued and due now."""
        async with self._lock:
            found = await self._scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE lane = ? AND"
                " state = 'queued' AND rank > ? AND next_attempt_at <= ? LIMIT 1)",
                (lane.value, rank, time.time()),
            )
        return bool(found)

    async def held_before(self, lane: Lane, agent_id: str, seq: int, rank: int) -> str | None:
        """Why an earlier delivery of ``lane`` to the agent, of ``rank`` or above, is held
        (queued after a draft or a busy agent held it), or None: a later one joins the hold,
        so an agent gets its messages of one priority in order (a higher one is not kept
        behind: a critical message may go to a busy agent)."""
        async with self._lock:
            return await self._scalar(
                "SELECT last_error FROM deliveries WHERE lane = ? AND agent = ? AND"
                f" state = 'queued' AND message_seq < ? AND rank >= ? AND {_HELD}"
                " ORDER BY message_seq LIMIT 1",
                (lane.value, agent_id, seq, rank),
            )

    @_guarded
    async def next_retry_at(self, lane: Lane) -> float | None:
        """When the next delivery of ``lane`` waiting on a retry becomes due (epoch seconds),
        or None when none waits: deliveries due already are not waiting."""
        async with self._lock:
            return await self._scalar(
                "SELECT MIN(next_attempt_at) FROM deliveries"
                " WHERE lane = ? AND state = 'queued' AND next_attempt_at > ?",
                (lane.value, time.time()),
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
        reply_to=row["reply_to"],
        ack_required=bool(row["ack_required"]),
    )


def _held(row: sqlite3.Row) -> bool:
    return (row["last_error"] or "").startswith(HELD)


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
        verified=None if row["verified"] is None else bool(row["verified"]),
        read_at=_time(row["read_at"]),
        acked_at=_time(row["acked_at"]),
        nudged_at=_time(row["nudged_at"]),
        overdue_at=_time(row["overdue_at"]),
    )


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def _connect(path: Path, *, synchronous: str) -> aiosqlite.Connection:
    """A connection in WAL mode; closed again (its thread ended) when a PRAGMA fails, as it
    does first on a file that is not a database."""
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        await db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute(f"PRAGMA synchronous = {synchronous}")
    except BaseException:
        await db.close()
        raise
    return db

"""The store on a real SQLite file: schema versions, claims, history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from messaging.errors import StoreError
from messaging.model import DeliveryState, Lane, Message, Priority
from messaging.store import SCHEMA_VERSION, Attempt, Store


def message(body: str, *agents: str, priority: Priority = Priority.NORMAL) -> Message:
    return Message(sender="Captain", recipients=agents, body=body, priority=priority)


async def test_new_database_is_at_the_current_version_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "var" / "cellphone.db")
    await store.close()
    db = sqlite3.connect(tmp_path / "var" / "cellphone.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_database_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cellphone.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this program's"):
        await Store.open(path)


async def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "cellphone.db"
    store = await Store.open(path)
    await store.insert(message("kept", "Agent-1"), {"Agent-1": Lane.INBOX})
    await store.close()
    store = await Store.open(path)
    [entry] = await store.history()
    assert entry.message.body == "kept"
    await store.close()


async def test_claim_orders_by_priority_then_fifo_and_counts_attempts(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    bodies = [
        ("a", Priority.NORMAL),
        ("b", Priority.CRITICAL),
        ("c", Priority.NORMAL),
        ("d", Priority.URGENT),
        ("e", Priority.CRITICAL),
    ]
    for body, priority in bodies:
        await store.insert(message(body, "Agent-1", priority=priority), {"Agent-1": Lane.SCREEN})
    assert await store.claim(Lane.INBOX, 10) == []
    first = await store.claim(Lane.SCREEN, 2)
    rest = await store.claim(Lane.SCREEN, 10)
    assert [c.delivery.message.body for c in first + rest] == ["b", "e", "d", "a", "c"]
    assert all(c.delivery.state is DeliveryState.DELIVERING for c in first + rest)
    assert all(c.delivery.attempts == 1 for c in first)
    await store.record([Attempt(first[0].seq, "Agent-1", DeliveryState.QUEUED, error="x")])
    [again] = await store.claim(Lane.SCREEN, 10)
    assert again.delivery.message.body == "b" and again.delivery.attempts == 2
    await store.close()


async def test_retry_time_is_respected(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    await store.insert(message("later", "Agent-2"), {"Agent-2": Lane.INBOX})
    [claimed] = await store.claim(Lane.INBOX, 1)
    far = 4_000_000_000.0
    await store.record(
        [Attempt(claimed.seq, "Agent-2", DeliveryState.QUEUED, error="e", retry_at=far)]
    )
    assert await store.claim(Lane.INBOX, 1) == []
    assert await store.next_retry_at() == far
    assert await store.due() == 0 and await store.pending() == 1
    await store.close()


async def test_requeue_takes_back_what_did_not_arrive(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    msg = message("m", "Agent-1", "Agent-2")
    await store.insert(msg, {"Agent-1": Lane.SCREEN, "Agent-2": Lane.SCREEN})
    one, two = await store.claim(Lane.SCREEN, 2)
    await store.record(
        [
            Attempt(one.seq, one.delivery.agent_id, DeliveryState.DELIVERED),
            Attempt(two.seq, two.delivery.agent_id, DeliveryState.FALLBACK, error="dead zone"),
        ]
    )
    assert await store.requeue(msg.id) == [two.delivery.agent_id]
    rows = {d.agent_id: d for d in await store.deliveries(msg.id)}
    assert rows[two.delivery.agent_id].state is DeliveryState.QUEUED
    assert rows[two.delivery.agent_id].last_error is None
    assert rows[one.delivery.agent_id].state is DeliveryState.DELIVERED
    await store.close()

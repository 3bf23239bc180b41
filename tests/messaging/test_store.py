"""The store on a real SQLite file: schema versions, claims, history."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import messaging.store
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


async def test_a_database_of_the_first_schema_gains_verification_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cellphone.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(messaging.store.MIGRATIONS[0])
    old.execute(
        "INSERT INTO messages (id, sender, type, priority, body, created_at, routing)"
        " VALUES ('0123456789abcdef', 'Captain', 'system', 'normal', 'before the upgrade',"
        " '2026-11-01T10:00:00+00:00', '{\"Agent-1\": \"screen\"}')"
    )
    old.execute("UPDATE deliveries SET state = 'delivered', method = 'gui'")
    old.execute("PRAGMA user_version = 1")
    old.close()
    store = await Store.open(path)
    [entry] = await store.history()
    await store.close()
    [delivery] = entry.deliveries
    assert (entry.message.body, delivery.state) == ("before the upgrade", DeliveryState.DELIVERED)
    assert delivery.verified is None  # typed before anything was checked on screen


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
    assert await store.next_retry_at(Lane.INBOX) == far
    assert await store.next_retry_at(Lane.SCREEN) is None
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
    lanes = {"Agent-1": Lane.SCREEN, "Agent-2": Lane.SCREEN}
    assert await store.requeue(msg.id, lanes) == [two.delivery.agent_id]
    rows = {d.agent_id: d for d in await store.deliveries(msg.id)}
    assert rows[two.delivery.agent_id].state is DeliveryState.QUEUED
    assert rows[two.delivery.agent_id].last_error is None
    assert rows[one.delivery.agent_id].state is DeliveryState.DELIVERED
    await store.close()


async def test_next_retry_is_per_lane_and_only_in_the_future(tmp_path: Path) -> None:
    # a screen delivery due now (held by a pause, say) must not make the inbox worker,
    # asking when to look again, hear "now" forever
    store = await Store.open(tmp_path / "cellphone.db")
    await store.insert(message("due", "Agent-1"), {"Agent-1": Lane.SCREEN})
    await store.insert(message("later", "Agent-2"), {"Agent-2": Lane.INBOX})
    [claimed] = await store.claim(Lane.INBOX, 1)
    soon = time.time() + 30
    await store.record(
        [Attempt(claimed.seq, "Agent-2", DeliveryState.QUEUED, error="e", retry_at=soon)]
    )
    assert await store.next_retry_at(Lane.SCREEN) is None
    assert await store.next_retry_at(Lane.INBOX) == soon
    await store.close()


async def test_release_puts_back_what_a_worker_held_and_never_types_twice(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    msg = message("m", "Agent-1", "Agent-2", "Agent-3")
    await store.insert(msg, {a: Lane.SCREEN for a in msg.recipients})
    one, two, three = await store.claim(Lane.SCREEN, 3)
    await store.mark_typing(two.seq, "Agent-2")  # keys may have been sent
    await store.record([Attempt(three.seq, "Agent-3", DeliveryState.DELIVERED)])
    later = time.time() + 5
    put_back = await store.release(
        [
            Attempt(c.seq, c.delivery.agent_id, DeliveryState.QUEUED, error="boom", retry_at=later)
            for c in (one, two, three)
        ]
    )
    assert put_back == {(one.seq, "Agent-1"): False, (two.seq, "Agent-2"): True}
    rows = {d.agent_id: d for d in await store.deliveries(msg.id)}
    assert (rows["Agent-1"].state, rows["Agent-1"].lane) == (DeliveryState.QUEUED, Lane.SCREEN)
    assert rows["Agent-1"].last_error == "boom"
    assert (rows["Agent-2"].lane, rows["Agent-2"].possible_repeat) == (Lane.INBOX, True)
    assert rows["Agent-3"].state is DeliveryState.DELIVERED  # recorded already: left alone
    assert await store.due() == 0 and await store.next_retry_at(Lane.SCREEN) == later
    await store.close()


async def test_requeue_puts_each_delivery_on_its_lane_and_a_possible_repeat_on_the_inbox(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    msg = message("m", "Agent-1", "Agent-2")
    await store.insert(msg, {"Agent-1": Lane.SCREEN, "Agent-2": Lane.SCREEN})
    first, _ = await store.claim(Lane.SCREEN, 2)
    await store.mark_typing(first.seq, first.delivery.agent_id)
    assert await store.recover() == (2, 1)  # the process died while typing to Agent-1
    claimed = await store.claim(Lane.INBOX, 5) + await store.claim(Lane.SCREEN, 5)
    await store.record(
        [Attempt(c.seq, c.delivery.agent_id, DeliveryState.FALLBACK, error="x") for c in claimed]
    )
    lanes = {"Agent-1": Lane.SCREEN, "Agent-2": Lane.INBOX}  # Agent-2 has no point now
    assert sorted(await store.requeue(msg.id, lanes)) == ["Agent-1", "Agent-2"]
    rows = {d.agent_id: d for d in await store.deliveries(msg.id)}
    assert (rows["Agent-1"].lane, rows["Agent-1"].possible_repeat) == (Lane.INBOX, True)
    assert (rows["Agent-2"].lane, rows["Agent-2"].possible_repeat) == (Lane.INBOX, False)
    assert {d.state for d in rows.values()} == {DeliveryState.QUEUED}
    await store.close()


async def test_blank_search_is_no_search(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    await store.insert(message("anything", "Agent-1"), {"Agent-1": Lane.INBOX})
    for blank in ("  ", "\t\n", ""):
        assert [e.message.body for e in await store.history(search=blank)] == ["anything"]
    await store.close()


async def test_a_locked_database_is_a_store_error_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messaging.store, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "cellphone.db"
    store = await Store.open(path)
    other = sqlite3.connect(path, isolation_level=None)  # another process writing
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="is locked: another process") as caught:
            await store.insert(message("m", "Agent-1"), {"Agent-1": Lane.INBOX})
        assert str(path) in str(caught.value) and "try again" in str(caught.value)
        with pytest.raises(StoreError, match="is locked"):
            await store.audit("op", "send", {}, "ok")  # a transaction: rolled back cleanly
    finally:
        other.execute("ROLLBACK")
        other.close()
    await store.audit("op", "send", {}, "ok")  # the connection is usable again
    await store.close()


async def test_a_file_that_is_no_database_is_refused_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "cellphone.db"
    path.write_bytes(b"not sqlite at all" * 512)
    with pytest.raises(StoreError, match=r"is damaged .*file is not a database.*move it away"):
        await Store.open(path)
    deadline = time.monotonic() + 5
    while connection_threads():  # each open connection has a (non-daemon) thread
        assert time.monotonic() < deadline, f"connections left open: {connection_threads()}"
        await asyncio.sleep(0.02)


def connection_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def test_a_database_of_the_second_schema_gains_threads_and_read_state(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cellphone.db"
    old = sqlite3.connect(path, isolation_level=None)
    for script in messaging.store.MIGRATIONS[:2]:
        old.executescript(script)
    old.execute(
        "INSERT INTO messages (id, sender, type, priority, body, created_at, routing)"
        " VALUES ('0123456789abcdef', 'Captain', 'system', 'normal', 'before the upgrade',"
        " '2026-11-01T10:00:00+00:00', '{\"Agent-1\": \"inbox\"}')"
    )
    old.execute("UPDATE deliveries SET state = 'delivered', method = 'inbox', verified = NULL")
    old.execute("PRAGMA user_version = 2")
    old.close()
    store = await Store.open(path)
    reply, _ = await store.insert(
        Message(
            sender="Agent-1", recipients=("Agent-2",), body="answer", reply_to="0123456789abcdef"
        ),
        {"Agent-2": Lane.INBOX},
    )
    thread = await store.thread(reply.id)
    [queue] = await store.queues(["Agent-1"])
    await store.close()
    assert [e.message.body for e in thread] == ["before the upgrade", "answer"]
    assert thread[0].deliveries[0].read_at is None
    assert queue.unread == 1  # delivered before the upgrade and never read
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_replies_form_one_thread_whichever_message_is_asked(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    lanes = {"Agent-1": Lane.INBOX, "Agent-2": Lane.INBOX}
    first, _ = await store.insert(message("question", "Agent-1"), lanes)
    other, _ = await store.insert(message("unrelated", "Agent-1"), lanes)
    answer, _ = await store.insert(
        Message(sender="Agent-1", recipients=("Agent-2",), body="answer", reply_to=first.id),
        lanes,
    )
    again, _ = await store.insert(
        Message(sender="Agent-2", recipients=("Agent-1",), body="thanks", reply_to=answer.id),
        lanes,
    )
    by_first = [e.message.body for e in await store.thread(first.id)]
    by_last = [e.message.id for e in await store.thread(again.id)]
    alone = [e.message.body for e in await store.thread(other.id)]
    [entry] = [e for e in await store.history() if e.message.id == answer.id]
    await store.close()
    assert by_first == ["question", "answer", "thanks"]
    assert by_last == [first.id, answer.id, again.id]
    assert alone == ["unrelated"]
    assert entry.message.reply_to == first.id


async def test_read_and_acknowledged_are_kept_once_per_recipient(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")
    lanes = {"Agent-1": Lane.INBOX, "Agent-2": Lane.INBOX}
    sent, _ = await store.insert(message("read me", "Agent-1", "Agent-2"), lanes)
    assert await store.mark_read("Agent-1", [sent.id]) == [sent.id]
    assert await store.mark_read("Agent-1", [sent.id]) == []  # the first read counts
    assert await store.acknowledge("Agent-2", [sent.id, "ffffffffffffffff"]) == [sent.id]
    deliveries = {d.agent_id: d for d in await store.deliveries(sent.id)}
    await store.close()
    assert deliveries["Agent-1"].read_at is not None and deliveries["Agent-1"].acked_at is None
    assert deliveries["Agent-2"].read_at is not None and deliveries["Agent-2"].acked_at is not None


async def test_a_writer_cancelled_mid_transaction_leaves_none_open(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "cellphone.db")

    async def write() -> None:
        async with store.writing() as tx:
            await tx.execute(
                "INSERT INTO notices (channel, text, created_at) VALUES ('a', 'b', 'c')"
            )

    for _ in range(20):  # cancelled at each of its first awaits in turn
        for steps in range(4):
            task = asyncio.create_task(write())
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    # another connection can write at once: no transaction was left open
    await asyncio.wait_for(store.insert(message("after", "Agent-1"), {"Agent-1": Lane.INBOX}), 2)
    await asyncio.wait_for(store.claim(Lane.INBOX, 1), 2)
    await store.close()

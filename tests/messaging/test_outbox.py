"""Outbox files routed by the real watcher (inotify through watchdog) into the real store
and desk of a home in tmp_path: deliveries, threads, acknowledgements, rejections, and
exactly-once handling across restarts."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from agents.watch import WorkspaceWatcher
from backups.service import Backups
from config import Home, Settings
from messaging.filed import Ledger
from messaging.model import DeliveryMethod, MessageType
from messaging.notices import Notices
from messaging.outbox import InboxReads, OutboxRouter
from messaging.runtime import Runtime, open_runtime
from tests.conftest import inbox_files
from tests.messaging.test_desk import RecordingScreen


async def until(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


BACKUP_LOCK = ".create.lock"  # what the backups hold while making one


@asynccontextmanager
async def watching(rt: Runtime) -> AsyncIterator[WorkspaceWatcher]:
    router = OutboxRouter(rt.service, Ledger(rt.store, Notices(rt.store)), 4096)
    watcher = WorkspaceWatcher(
        rt.home.workspaces_dir,
        rt.registry,
        {"outbox": router},
        on_read=InboxReads(rt.service),
        settle_s=0.05,
        rescan_s=0.5,
        quiet_opens=rt.home.backups_dir / BACKUP_LOCK,
    )
    await watcher.start()
    try:
        yield watcher
    finally:
        await watcher.stop()


def outbox(home: Home, agent: str) -> Path:
    return home.workspaces_dir / agent / "outbox"


def drop(home: Home, agent: str, name: str, text: str | bytes) -> Path:
    """Write as an agent should: to a temporary name, then rename."""
    folder = outbox(home, agent)
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{name}.tmp"
    temp.write_bytes(text.encode() if isinstance(text, str) else text)
    return temp.rename(folder / name)


def sent(home: Home, agent: str) -> list[str]:
    return sorted(p.name for p in (outbox(home, agent) / "sent").glob("*.md"))


async def test_an_outbox_file_arrives_in_the_other_agents_inbox(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings) as rt, watching(rt):
        drop(home, "Agent-3", "status.md", "---\nto: Agent-1\npriority: urgent\n---\nTests pass.\n")
        await until(lambda: len(inbox_files(home, "Agent-1")) == 1)
        [entry] = await rt.service.history(agent="Agent-1")
        await rt.desk.wait_for(entry.message.id, 10)
        [entry] = await rt.service.history(agent="Agent-1")
    assert (entry.message.sender, entry.message.type) == ("Agent-3", MessageType.AGENT)
    assert (entry.message.body, str(entry.message.priority)) == ("Tests pass.", "urgent")
    assert entry.deliveries[0].method is DeliveryMethod.INBOX
    letter = inbox_files(home, "Agent-1")[0].read_text()
    assert "from: Agent-3" in letter and "[A2A] Agent-3 → Agent-1" in letter
    assert sent(home, "Agent-3") == ["status.md"]
    assert list(outbox(home, "Agent-3").glob("*.md")) == []


async def test_a_reply_threads_under_its_message_and_acknowledges_it(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings) as rt, watching(rt):
        question = await rt.service.send(["Agent-2"], "Which port?", ack_required=True)
        asked = question.message.id
        drop(
            home,
            "Agent-2",
            "answer.md",
            f"---\nto: Agent-1, operator\nreply-to: {asked}\nack: [{asked}]\n---\nPort 8080.",
        )
        await until(lambda: sent(home, "Agent-2") == ["answer.md"])
        thread = await rt.service.thread(asked)
        [delivery] = await rt.store.deliveries(asked)
        notes = await Notices(rt.store).unposted()
    assert [e.message.body for e in thread] == ["Which port?", "Port 8080."]
    assert thread[1].message.reply_to == asked
    assert delivery.acked_at is not None and delivery.read_at is not None
    assert [n.text for n in notes] == ["**Agent-2** → operator\nPort 8080."]


async def test_opening_an_inbox_file_marks_it_read(home: Home, settings: Settings) -> None:
    async with open_runtime(home, settings) as rt, watching(rt):
        submission = await rt.service.send(["Agent-1"], "read me")
        await until(lambda: len(inbox_files(home, "Agent-1")) == 1)
        [queue] = [q for q in await rt.service.status() if q.agent_id == "Agent-1"]
        assert queue.unread == 1
        inbox_files(home, "Agent-1")[0].read_text()  # the agent reads it
        await until(
            lambda: _read(rt, submission.message.id),
        )
        [queue] = [q for q in await rt.service.status() if q.agent_id == "Agent-1"]
    assert queue.unread == 0


async def test_an_agent_says_it_read_a_message_in_its_outbox(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings) as rt, watching(rt):
        submission = await rt.service.send(["Agent-1"], "read me")
        message_id = submission.message.id
        drop(home, "Agent-1", "seen.md", f"---\nread: {message_id}\n---\n")
        await until(lambda: _read(rt, message_id))
        drop(home, "Agent-1", "bad.md", "---\nread: 0000000000000000\n---\n")
        rejected = outbox(home, "Agent-1") / "rejected"
        await until(lambda: (rejected / "bad.md.reason.txt").exists())
    assert sent(home, "Agent-1") == ["seen.md"]
    assert "0000000000000000" in (rejected / "bad.md.reason.txt").read_text()


async def test_a_backup_reading_every_inbox_file_marks_nothing_read(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings) as rt, watching(rt):
        sent = [(await rt.service.send([f"Agent-{n}"], "kept unread")).message for n in (1, 2)]
        for message in sent:
            await rt.desk.wait_for(message.id, 10)
        backups = Backups(home, settings.backups)
        manifest = await asyncio.to_thread(backups.create)  # reads every inbox file
        await asyncio.sleep(0.5)  # the opens it caused have been seen
        assert not [m for m in sent if await _read(rt, m.id)]
        [letter] = inbox_files(home, "Agent-2")
        letter.rename(letter.with_name("done-" + letter.name))  # the agent moves it
        await until(lambda: _read(rt, sent[1].id))
        assert not await _read(rt, sent[0].id)
    assert any("/inbox/" in f.path for f in manifest.files)


async def _read(rt: Runtime, message_id: str) -> bool:
    [delivery] = await rt.store.deliveries(message_id)
    return delivery.read_at is not None


async def test_malformed_files_are_rejected_with_reasons_and_the_good_one_goes_through(
    home: Home, settings: Settings
) -> None:
    bad = {
        "latin1.md": "---\nto: Agent-1\n---\ncaf\xe9".encode("latin-1"),
        "bare.md": "just text, no front matter",
        "stranger.md": "---\nto: Agent-99\n---\nhello",
        "huge.md": "---\nto: Agent-1\n---\n" + "x" * 5000,
        "typo.md": "---\nto: Agent-1\nproirity: urgent\n---\nhi",
        "nobody.md": "---\npriority: urgent\n---\nhi",
    }
    async with open_runtime(home, settings) as rt, watching(rt):
        for name, text in bad.items():
            drop(home, "Agent-2", name, text)
        drop(home, "Agent-2", "good.md", "---\nto: Agent-1\n---\nfine")
        rejected = outbox(home, "Agent-2") / "rejected"
        await until(lambda: len(list(rejected.glob("*.md"))) == len(bad))
        await until(lambda: sent(home, "Agent-2") == ["good.md"])
        notes = await Notices(rt.store).unposted()
        history = await rt.service.history(agent="Agent-1")
    reasons = {name: (rejected / f"{name}.reason.txt").read_text().strip() for name in bad}
    assert "not UTF-8" in reasons["latin1.md"]
    assert "no front matter" in reasons["bare.md"]
    assert "Agent-99" in reasons["stranger.md"] and "Agent-1" in reasons["stranger.md"]
    assert "larger than 4,096 bytes" in reasons["huge.md"]
    assert "'proirity'" in reasons["typo.md"]
    assert "no 'to:'" in reasons["nobody.md"]
    assert sorted(n.text.split("`")[1] for n in notes) == sorted(bad)
    assert [e.message.body for e in history] == ["fine"]
    assert list(outbox(home, "Agent-2").glob("*.md")) == []


async def test_a_file_still_being_written_and_temporary_names_are_waited_for(
    home: Home, settings: Settings
) -> None:
    folder = outbox(home, "Agent-2")
    async with open_runtime(home, settings) as rt, watching(rt):
        (folder / "draft.md.tmp").write_text("---\nto: Agent-1\n---\nnot yet")
        growing = folder / "long.md"
        with growing.open("w") as handle:
            handle.write("---\nto: Agent-1\n---\nfirst half")
            handle.flush()
            for _ in range(5):  # keeps changing for longer than settle_s
                await asyncio.sleep(0.03)
                handle.write(" more")
                handle.flush()
            await asyncio.sleep(0.03)
            handle.write(" end")
        await until(lambda: sent(home, "Agent-2") == ["long.md"])
        [entry] = await rt.service.history(agent="Agent-1")
    assert entry.message.body == "first half more more more more more end"
    assert (folder / "draft.md.tmp").exists()


async def test_a_restart_in_the_middle_routes_every_file_once(
    home: Home, settings: Settings
) -> None:
    names = [f"note-{n:02}.md" for n in range(30)]
    async with open_runtime(home, settings) as rt:
        async with watching(rt):
            for name in names:
                drop(home, "Agent-2", name, f"---\nto: Agent-1\n---\n{name}")
            await until(lambda: len(sent(home, "Agent-2")) >= 5)
        # stopped part-way; one file is handled but put back as if the move was lost
        first = sent(home, "Agent-2")[0]
        moved = outbox(home, "Agent-2") / "sent" / first
        stat = moved.stat()
        shutil.copy2(moved, outbox(home, "Agent-2") / first)
        os.utime(outbox(home, "Agent-2") / first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    async with open_runtime(home, settings) as rt:
        async with watching(rt):
            await until(lambda: not list(outbox(home, "Agent-2").glob("*.md")))
        history = await rt.service.history(agent="Agent-1", limit=100)
    bodies = sorted(e.message.body for e in history)
    assert bodies == names  # none lost, none twice
    assert len(list((outbox(home, "Agent-2") / "sent").glob("*.md"))) == 31


async def test_an_outbox_file_is_typed_into_the_other_agents_window(
    home: Home, settings: Settings
) -> None:
    screen = RecordingScreen()  # the screen stand-in of the desk tests (no display here)
    async with open_runtime(home, settings, screen) as rt, watching(rt):
        drop(home, "Agent-4", "done.md", "---\nto: Agent-5\n---\nMerged, please rebase.")
        await until(lambda: len(screen.jobs) == 1)
        await until(lambda: len(inbox_files(home, "Agent-5")) == 1)  # and the inbox copy
    [job] = screen.jobs
    assert job.agent.agent_id == "Agent-5"
    assert job.text.startswith("[A2A] Agent-4 → Agent-5\n\nMerged, please rebase.")
    assert "delivered_via: gui" in inbox_files(home, "Agent-5")[0].read_text()

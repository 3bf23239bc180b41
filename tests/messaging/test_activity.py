"""Status files kept and their changes posted (debounced), stalls flagged once and cleared
by the next sign of life; on a real home with the real watcher."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from agents.watch import STATUS_FILE, WorkspaceWatcher
from config import Home, Settings
from messaging.activity import Activity
from messaging.model import utc_now
from messaging.notices import Channel, Notices
from messaging.runtime import Runtime, open_runtime

SEEN = "SELECT agent, state FROM agent_status ORDER BY agent"


@asynccontextmanager
async def watching(rt: Runtime, activity: Activity) -> AsyncIterator[None]:
    watcher = WorkspaceWatcher(
        rt.home.workspaces_dir,
        rt.registry,
        {STATUS_FILE: activity.status_arrived},
        settle_s=0.03,
        rescan_s=0.2,
    )
    await watcher.start()
    try:
        yield
    finally:
        await watcher.stop()


def write_status(home: Home, agent: str, **fields: str) -> None:
    path = home.workspaces_dir / agent / STATUS_FILE
    temp = path.with_name(".status.json.tmp")
    temp.write_text(json.dumps(fields))
    temp.replace(path)


async def until_notices(notices: Notices, count: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(found := await notices.unposted()) < count:
        assert time.monotonic() < deadline, f"only {[n.text for n in found]}"
        await asyncio.sleep(0.02)
    return [n.text for n in found]


async def test_status_changes_are_posted_debounced_and_stalls_once(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings) as rt:
        notices = Notices(rt.store)
        activity = Activity(rt.store, notices, debounce_s=3, stall_after_s=600)
        async with watching(rt, activity):
            write_status(home, "Agent-2", state="working", task="parser", progress="10%")
            assert await until_notices(notices, 1) == ["**Agent-2** is working on parser (10%)"]
            first_posted = time.monotonic()
            write_status(home, "Agent-2", state="working", task="parser", progress="60%")
            await asyncio.sleep(0.3)  # progress alone is no news
            write_status(home, "Agent-2", state="blocked", task="parser", progress="60%")
            write_status(home, "Agent-2", state="blocked", task="review", progress="0%")
            await asyncio.sleep(0.3)
            assert len(await notices.unposted()) == 1  # within the debounce: held
            await asyncio.sleep(max(0.0, first_posted + 3.1 - time.monotonic()))
            await activity.flush()
            texts = await until_notices(notices, 2)
            await asyncio.sleep(0.5)  # rescans find the unchanged file: nothing new
            assert len(await notices.unposted()) == 2
        assert texts[1] == "**Agent-2** is blocked on review (0%)"  # the latest change wins
        later = utc_now() + timedelta(seconds=601)
        assert await activity.check_stalls(later) == ["Agent-2"]
        assert await activity.check_stalls(later + timedelta(hours=1)) == []  # once
        queues = {q.agent_id: q for q in await rt.service.status()}
        assert queues["Agent-2"].stalled_since == later
        assert queues["Agent-1"].stalled_since is None  # never seen: not stalled
        await activity.seen("Agent-2")
        queues = {q.agent_id: q for q in await rt.service.status()}
        stall = [n for n in await notices.unposted() if "stalled" in n.text]
    assert queues["Agent-2"].stalled_since is None
    assert [n.channel for n in stall] == [Channel.STATUS]
    assert stall[0].text.startswith("⚠️ Agent-2 looks stalled")


async def test_a_status_that_is_not_json_is_ignored_and_the_watcher_goes_on(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings) as rt:
        notices = Notices(rt.store)
        activity = Activity(rt.store, notices, debounce_s=0, stall_after_s=600)
        async with watching(rt, activity):
            (home.workspaces_dir / "Agent-1" / STATUS_FILE).write_text("{not json")
            (home.workspaces_dir / "Agent-3" / STATUS_FILE).write_text("[1, 2]")
            write_status(home, "Agent-4", state="done")
            texts = await until_notices(notices, 1)
            deadline = time.monotonic() + 10
            while len(rows := await rt.store.rows(SEEN)) < 3:  # the bad ones: seen, no state
                assert time.monotonic() < deadline, f"only {[tuple(r) for r in rows]}"
                await asyncio.sleep(0.02)
    assert texts == ["**Agent-4** is done"]
    assert [(r[0], r[1]) for r in rows] == [
        ("Agent-1", None),
        ("Agent-3", None),
        ("Agent-4", "done"),
    ]

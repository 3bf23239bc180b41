"""The workspace watcher of a process that reads no inbox (a desk joined to a coordinator):
it watches each agent's folder and the folders it hands on, not the inboxes the desk writes
into, and watches a folder made again from the next scan on; on a real home with the real
watcher (watchdog, inotify)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from pathlib import Path

from agents.source import RegistrySource
from agents.watch import STATUS_FILE, Arrival, WorkspaceWatcher
from config import Home
from coordinates.file import write_atomic


class HeardQueue(asyncio.Queue[tuple[str, Path]]):
    """The watcher's queue of events, counting those heard from each folder."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: Counter[str] = Counter()

    def put_nowait(self, item: tuple[str, Path]) -> None:
        self.heard[item[1].parent.name] += 1
        super().put_nowait(item)


async def until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time given"
        await asyncio.sleep(0.01)


async def test_a_watcher_reading_no_inbox_hears_no_letter_and_watches_folders_made_again(
    home: Home,
) -> None:
    arrived: list[tuple[str, str, str]] = []

    async def handed(arrival: Arrival) -> None:
        arrived.append((arrival.agent.agent_id, arrival.folder, arrival.path.name))
        if arrival.folder != STATUS_FILE:
            arrival.path.unlink()

    watcher = WorkspaceWatcher(
        home.workspaces_dir,
        RegistrySource(home.coordinates_file),
        {"outbox": handed, "devlogs": handed, STATUS_FILE: handed},
        settle_s=0.03,
        rescan_s=0.2,
    )
    queue = HeardQueue()
    watcher._events = queue
    await watcher.start()
    agent = home.workspaces_dir / "Agent-1"
    try:
        for n in range(40):  # letters written as the desk writes them
            write_atomic(agent / "inbox" / f"{n:04d}.md", f"letter {n}\n")
        write_atomic(agent / "outbox" / "to-agent-2.md", "hello\n")
        write_atomic(agent / STATUS_FILE, '{"state": "working"}')
        await until(lambda: len(arrived) == 2)
        assert sorted(arrived) == [
            ("Agent-1", "outbox", "to-agent-2.md"),
            ("Agent-1", STATUS_FILE, STATUS_FILE),
        ]
        assert queue.heard["inbox"] == 0
        assert watcher._observer is not None  # the kernel is not asked about the inboxes
        watched = {Path(e.watch.path) for e in watcher._observer.emitters if e.is_alive()}
        assert agent in watched and agent / "outbox" in watched
        assert not any(path.name == "inbox" or path == home.workspaces_dir for path in watched)
        assert queue.heard["outbox"] > 0  # heard, not only found by a scan

        shutil.rmtree(agent / "devlogs")
        (agent / "devlogs").mkdir()
        await asyncio.sleep(0.6)  # scans since: the new folder is watched
        heard = queue.heard["devlogs"]
        write_atomic(agent / "devlogs" / "day-1.md", "# day 1\n")
        await until(lambda: queue.heard["devlogs"] > heard)
        await until(lambda: len(arrived) == 3)
        assert arrived[-1] == ("Agent-1", "devlogs", "day-1.md")
    finally:
        await watcher.stop()

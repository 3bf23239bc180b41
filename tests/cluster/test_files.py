"""Agents' files on other machines: an agent on pc-2 messages one on pc-3 through its
outbox, and its devlog and status reach the coordinator, whose own watchers take them."""

from __future__ import annotations

import json
from pathlib import Path

from devlogs.watching import Watchers
from messaging.runtime import open_runtime
from tests.cluster.conftest import DeskProcess, RedisServer, desk_home
from tests.cluster.helpers import coordinator_home, rows_once, until
from tests.conftest import inbox_files


async def test_an_agent_on_one_desk_messages_an_agent_on_another(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    homes = {n: desk_home(tmp_path / f"pc-{n}", 8 * (n - 1) + 1, 8) for n in (2, 3)}
    for n, home in homes.items():
        desks.append(DeskProcess(f"pc-{n}", home, redis_server.url))
        desks[-1].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    async with open_runtime(home, settings) as rt, Watchers(rt, None):
        await until(lambda: len(rt.registry.current()) == 16, 30, "16 agents announced")
        workspace = homes[2].workspaces_dir / "Agent-9"
        (workspace / "outbox" / "to-17.md").write_text(
            "---\nto: Agent-17\n---\nhello from pc-2\n", encoding="utf-8"
        )
        (workspace / "devlogs" / "today.md").write_text(
            "# Fixed the parser\nAll green.\n", encoding="utf-8"
        )
        (workspace / "status.json").write_text(
            json.dumps({"state": "working", "task": "parser"}), encoding="utf-8"
        )
        await until(lambda: inbox_files(homes[3], "Agent-17"), 30, "the message on pc-3")

        devlogs = await rows_once(rt, "SELECT agent, title FROM devlogs", 30)
        status = await rows_once(rt, "SELECT agent, state FROM agent_status", 30)
    [letter] = inbox_files(homes[3], "Agent-17")
    text = letter.read_text()
    assert "hello from pc-2" in text and "from: Agent-9" in text
    assert devlogs == [("Agent-9", "Fixed the parser")]
    assert status == [("Agent-9", "working")]
    assert (workspace / "outbox" / "forwarded" / "to-17.md").exists()

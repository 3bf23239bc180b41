"""Each tool of ``cellphone mcp`` through the MCP SDK's client over stdio, against a real home:
what it stores and writes, what it answers, and that bad input is a tool error naming the
value with nothing stored."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

from agents.frontmatter import parse
from config import Home, load_settings
from devlogs.journal import Journal
from messaging.activity import read_status
from messaging.lockfile import ProcessLock
from messaging.model import DeliveryState
from messaging.runtime import open_runtime
from messaging.store import HistoryEntry
from tests.conftest import inbox_files
from tests.mcp.client import CELLPHONE, agent_session, call

OTHERS = [f"Agent-{n}" for n in range(2, 9)]


async def history(home: Home, agent: str | None = None) -> list[HistoryEntry]:
    async with open_runtime(home, load_settings(home), start_desk=False) as rt:
        return await rt.store.history(agent=agent, limit=1000)


async def test_the_tools_are_listed_with_their_arguments(home: Home) -> None:
    async with agent_session(home.root, "Agent-1") as session:
        listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == {
        "send_message",
        "list_inbox",
        "read_message",
        "acknowledge",
        "set_status",
        "post_devlog",
        "list_agents",
    }
    send = listed["send_message"].input_schema
    assert send["required"] == ["to", "text"] and "sender" not in send["properties"]


async def test_a_message_sent_reaches_the_inbox_once_from_the_agent(home: Home) -> None:
    async with agent_session(home.root, "Agent-1") as session:
        text, error = await call(
            session, "send_message", {"to": ["Agent-3"], "text": "Rebase on main, please."}
        )
    [entry] = await history(home)
    assert not error
    # the lines `cellphone send` prints
    assert text.splitlines()[0] == f"message {entry.message.id} (agent-to-agent, normal)"
    assert "Agent-3  delivered via inbox" in text
    assert (entry.message.sender, entry.message.recipients) == ("Agent-1", ("Agent-3",))
    [file] = inbox_files(home, "Agent-3")
    document = parse(file.read_text())
    assert document.fields["from"] == "Agent-1" and document.fields["id"] == entry.message.id
    assert "Rebase on main, please." in document.body
    assert not inbox_files(home, "Agent-1")


async def test_all_is_every_other_active_agent(home: Home) -> None:
    async with agent_session(home.root, "Agent-1") as session:
        text, error = await call(
            session, "send_message", {"to": ["all"], "text": "Stand-up", "priority": "urgent"}
        )
    [entry] = await history(home)
    assert not error and "(broadcast, urgent)" in text
    assert list(entry.message.recipients) == OTHERS
    assert all(len(inbox_files(home, agent)) == 1 for agent in OTHERS)
    assert not inbox_files(home, "Agent-1")


async def test_bad_input_is_a_tool_error_naming_it_and_nothing_is_stored(home: Home) -> None:
    cases = {
        "Agent-9": {"to": ["Agent-9"], "text": "hi"},
        "'loud'": {"to": ["Agent-2"], "text": "hi", "priority": "loud"},
        "empty": {"to": ["Agent-2"], "text": "  "},
        "'\\x07'": {"to": ["Agent-2"], "text": "ring \x07"},
        "'0123456789abcdef'": {"to": ["Agent-2"], "text": "hi", "reply_to": "0123456789abcdef"},
        "'all' beside agents": {"to": ["all", "Agent-2"], "text": "hi"},
        "'sender'": {"to": ["Agent-2"], "text": "hi", "sender": "Agent-2"},
        "to 7": {"to": 7, "text": "hi"},
        "'text' is missing": {"to": ["Agent-2"]},
    }
    async with agent_session(home.root, "Agent-1") as session:
        for named, arguments in cases.items():
            text, error = await call(session, "send_message", arguments)
            assert error and named in text, (arguments, text)
            assert text.startswith("error: ")
    assert await history(home) == []
    assert not any(inbox_files(home, agent) for agent in OTHERS)


async def test_an_unknown_agent_cannot_serve(home: Home) -> None:
    result = subprocess.run(
        [CELLPHONE, "mcp", "--home", str(home.root), "--as", "Agent-12"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "unknown agent 'Agent-12'; known agents: Agent-1" in result.stderr


async def test_the_inbox_lists_unread_first_and_reading_marks_read(home: Home) -> None:
    async with agent_session(home.root, "Agent-2") as sender:
        for n in range(3):
            await call(sender, "send_message", {"to": ["Agent-5"], "text": f"note {n}"})
    first, second, third = reversed(await history(home))  # oldest first
    async with agent_session(home.root, "Agent-5") as session:
        text, error = await call(session, "read_message", {"message_id": second.message.id})
        assert not error and text.endswith("note 1") and "from: Agent-2" in text
        text, _ = await call(session, "list_inbox", {})
        lines = text.splitlines()
        assert lines[0].startswith("Agent-5: 2 unread")
        order = [
            next(e for e in (first, second, third) if e.message.id in line) for line in lines[1:4]
        ]
        assert order == [first, third, second]  # unread oldest first, then the read one
        assert "[unread]" in lines[1] and "[read]" in lines[3]
        text, _ = await call(session, "list_inbox", {"unread_only": True, "limit": 1})
        assert first.message.id in text and third.message.id not in text
        text, error = await call(session, "read_message", {"message_id": "f" * 16})
        assert error and "'ffffffffffffffff'" in text
    [delivery] = (await history(home, "Agent-5"))[1].deliveries
    assert delivery.read_at is not None


async def test_only_messages_of_ones_own_inbox_are_read_or_acknowledged(home: Home) -> None:
    async with agent_session(home.root, "Agent-2") as sender:
        await call(
            sender, "send_message", {"to": ["Agent-3"], "text": "ack me", "ack_required": True}
        )
        await call(sender, "send_message", {"to": ["Agent-4"], "text": "not for 3"})
    not_for_3, for_3 = await history(home)
    async with agent_session(home.root, "Agent-3") as session:
        text, error = await call(session, "read_message", {"message_id": not_for_3.message.id})
        assert error and f"'{not_for_3.message.id}' is not addressed to Agent-3" in text
        ids = [for_3.message.id, not_for_3.message.id]
        text, error = await call(session, "acknowledge", {"message_ids": ids})
        assert error and not_for_3.message.id in text
        text, error = await call(session, "acknowledge", {"message_ids": [for_3.message.id]})
        assert not error and text == f"Agent-3 acknowledged {for_3.message.id}"
        text, _ = await call(session, "acknowledge", {"message_ids": [for_3.message.id]})
        assert text == f"Agent-3 was already acknowledged {for_3.message.id}"
    entries = {e.message.id: e for e in await history(home)}
    assert entries[for_3.message.id].deliveries[0].acked_at is not None
    assert entries[not_for_3.message.id].deliveries[0].acked_at is None


async def test_a_reply_in_a_thread_answers_its_newest_message(home: Home) -> None:
    async with agent_session(home.root, "Agent-2") as two:
        await call(two, "send_message", {"to": ["Agent-3"], "text": "Which port?"})
        [question] = await history(home)
        async with agent_session(home.root, "Agent-3") as three:
            await call(
                three,
                "send_message",
                {"to": ["Agent-2"], "text": "8080", "reply_to": question.message.id},
            )
        answer = (await history(home))[0]
        text, error = await call(
            two,
            "send_message",
            {"to": ["Agent-3"], "text": "Thanks", "thread": question.message.id},
        )
        assert not error
        text, error = await call(
            two, "read_message", {"message_id": answer.message.id, "thread": True}
        )
    thanks = (await history(home))[0]
    assert answer.message.reply_to == question.message.id
    assert thanks.message.reply_to == answer.message.id
    assert not error and text.startswith(f"thread of {answer.message.id}: 3 messages")
    assert text.index("Which port?") < text.index("8080") < text.index("Thanks")


async def test_the_status_is_the_agents_status_json(home: Home) -> None:
    status_file = home.workspaces_dir / "Agent-4" / "status.json"
    shutil.rmtree(status_file.parent)  # an agent whose folders were never made
    async with agent_session(home.root, "Agent-4") as session:
        text, error = await call(
            session,
            "set_status",
            {"state": "working", "task": "the login page", "progress": "2 of 5"},
        )
        assert not error and str(status_file) in text
        status = read_status(status_file)
        assert (status.state, status.task, status.progress) == (
            "working",
            "the login page",
            "2 of 5",
        )
        text, error = await call(session, "set_status", {"state": "x" * 301})
        assert error and "301 characters" in text
        text, error = await call(session, "set_status", {"task": "no state"})
        assert error and "'state' is missing" in text
        assert read_status(status_file).state == "working"  # unchanged
        text, _ = await call(session, "list_agents", {})
    line = next(line for line in text.splitlines() if line.startswith("Agent-4"))
    assert (
        line.startswith("Agent-4 (you): ")
        and "state working; task the login page; progress 2 of 5" in line
    )
    assert len(text.splitlines()) == 8
    assert json.loads(status_file.read_text()) == {
        "state": "working",
        "task": "the login page",
        "progress": "2 of 5",
    }


async def test_a_devlog_is_kept_once_as_devlog_create_keeps_it(home: Home) -> None:
    async with agent_session(home.root, "Agent-6") as session:
        text, error = await call(
            session, "post_devlog", {"title": "CI cache", "text": "Cached the wheels."}
        )
        assert not error and text.startswith("devlog 1 by Agent-6: kept, not posted")
        text, error = await call(session, "post_devlog", {"title": " ", "text": "no title"})
        assert error and "no title" in text
    async with open_runtime(home, load_settings(home), start_desk=False) as rt:
        [devlog] = await Journal(rt.store).recent()
    assert (devlog.agent_id, devlog.title, devlog.body) == (
        "Agent-6",
        "CI cache",
        "Cached the wheels.",
    )


def test_the_entry_of_each_cli_starts_this_server(home: Home, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {
        "HOME": str(tmp_path / "user"),
        "PATH": "/usr/bin:/bin",
        "CODEX_HOME": str(tmp_path / "codex"),
    }
    for cli in ("claude", "codex", "gemini"):
        result = subprocess.run(
            [
                CELLPHONE,
                "mcp",
                "--home",
                str(home.root),
                "--as",
                "Agent-2",
                "--entry",
                cli,
                "--write",
                "--project",
                str(project),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert result.returncode == 0, result.stderr
    expected = {"command": CELLPHONE, "args": ["mcp", "--home", str(home.root), "--as", "Agent-2"]}
    claude = json.loads((project / ".mcp.json").read_text())["mcpServers"]["cellphone"]
    gemini = json.loads((project / ".gemini" / "settings.json").read_text())["mcpServers"][
        "cellphone"
    ]
    import tomllib

    codex = tomllib.loads((tmp_path / "codex" / "config.toml").read_text())["mcp_servers"][
        "cellphone"
    ]
    assert claude == {"type": "stdio", **expected} and gemini == expected
    assert codex == {**expected, "required": True}


async def test_a_send_whose_desk_ran_elsewhere_is_delivered_once_that_desk_stops(
    home: Home,
) -> None:
    # another process runs the desk (this test holds its lock) when the message is sent, and
    # stops before taking it, as a `cellphone send` of another agent does after its own
    # message: the server's desk then starts and delivers it
    other_desk = ProcessLock(home.var_dir / "desk.lock")
    assert other_desk.acquire()
    async with agent_session(home.root, "Agent-1") as session:
        sending = asyncio.create_task(
            call(session, "send_message", {"to": ["Agent-2"], "text": "while another desk ran"})
        )
        async with asyncio.timeout(30):
            while not await history(home):
                await asyncio.sleep(0.05)
        [queued] = (await history(home))[0].deliveries
        assert queued.state is DeliveryState.QUEUED and not sending.done()
        other_desk.release()
        text, error = await sending
    assert not error and "Agent-2  delivered via inbox" in text
    assert "another process" not in text
    assert len(inbox_files(home, "Agent-2")) == 1

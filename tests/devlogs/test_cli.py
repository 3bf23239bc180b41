"""``cellphone devlog create | recent`` and ``cellphone deliver --watch`` run as the user
runs them (a child process), posting to the Discord double through a webhook URL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from tests.discord_double import DiscordDouble
from tests.discord_double.payloads import snowflake
from tests.test_cli import ROOT, headless
from tests.test_cli import home as home  # the fixture: a home made by `cellphone init`


async def cellphone(
    *args: str, home: Path, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run the CLI without blocking this loop (the doubles answer from it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cellphone",
        *args,
        "--home",
        str(home),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**headless(os.environ), "COLUMNS": "200", **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def hook(double: DiscordDouble) -> dict[str, str]:
    url = f"{double.api_base}/webhooks/{snowflake()}/token"
    return {"CELLPHONE_DEVLOGS__WEBHOOK_URL": url}


def posts(double: DiscordDouble) -> list[str]:
    return [c.json["content"] for c in double.calls if c.path.startswith("/webhooks/")]


async def test_create_posts_through_the_webhook_when_no_bot_runs(home: Path) -> None:
    text = home / "today.md"
    text.write_text("Moved the cache to Redis.\n\nNext: metrics.")
    async with DiscordDouble() as discord:
        code, out, err = await cellphone(
            "devlog",
            "create",
            "--agent",
            "Agent-2",
            "--title",
            "Cache",
            "--file",
            str(text),
            home=home,
            env=hook(discord),
        )
        assert code == 0, err
        from_stdin = await cellphone(
            "devlog",
            "create",
            "-a",
            "Agent-3",
            "--title",
            "Piped",
            "-",
            home=home,
            stdin="read from stdin",
            env=hook(discord),
        )
    assert "posted through the webhook" in out
    assert from_stdin[0] == 0, from_stdin[2]
    assert posts(discord) == [
        "**Agent-2** · devlog: **Cache**\n\nMoved the cache to Redis.\n\nNext: metrics.",
        "**Agent-3** · devlog: **Piped**\n\nread from stdin",
    ]


async def test_without_bot_or_webhook_it_is_kept_and_said_so(home: Path) -> None:
    code, out, _ = await cellphone(
        "devlog", "create", "-a", "Agent-1", "--title", "Kept", "-", home=home, stdin="body"
    )
    assert code == 1 and "kept, not posted" in out and "webhook_url" in out
    code, out, _ = await cellphone("devlog", "recent", "--json", home=home)
    [kept] = json.loads(out)
    assert (kept["title"], kept["posted_at"]) == ("Kept", None)


async def test_bad_input_is_one_line_and_exit_2(home: Path) -> None:
    cases = [
        (("-a", "Agent-77", "--title", "x", "-"), "Agent-77"),
        (("-a", "Agent-1", "--title", "x"), "--file F or -"),
        (("-a", "Agent-1", "--title", "  ", "-"), "no title"),
        (("-a", "Agent-1", "--title", "x", "--file", "/nonexistent.md"), "/nonexistent.md"),
    ]
    for args, expected in cases:
        code, _, err = await cellphone("devlog", "create", *args, home=home, stdin="text")
        assert code == 2, (args, err)
        assert expected in err and len(err.strip().splitlines()) == 1, err


async def watch_process(home: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cellphone",
        "deliver",
        "--watch",
        "--home",
        str(home),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**headless(os.environ), **env},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # Ctrl-C works
    )


async def test_deliver_watch_routes_outbox_files_and_posts_devlogs(home: Path) -> None:
    workspaces = home / "agent_workspaces"
    async with DiscordDouble() as discord:
        process = await watch_process(home, hook(discord))
        try:
            (workspaces / "Agent-5" / "outbox" / "note.md").write_text(
                "---\nto: Agent-6\n---\nreview please"
            )
            (workspaces / "Agent-5" / "devlogs" / "done.md").write_text("# Done\n\nAll green.")
            deadline = time.monotonic() + 20
            inbox = workspaces / "Agent-6" / "inbox"
            while not (list(inbox.glob("*.md")) and posts(discord)):
                assert time.monotonic() < deadline, "nothing routed in time"
                await asyncio.sleep(0.05)
            # a devlog made meanwhile (without a webhook here) is posted by that process
            code, out, err = await cellphone(
                "devlog",
                "create",
                "-a",
                "Agent-7",
                "--title",
                "Aside",
                "-",
                home=home,
                stdin="from the shell",
            )
            assert code == 0, err
            assert "posted by the process watching this home" in out
        finally:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.wait(), 30)
    [letter] = inbox.glob("*.md")
    assert "review please" in letter.read_text() and "from: Agent-5" in letter.read_text()
    assert posts(discord) == [
        "**Agent-5** · devlog: **Done**\n\nAll green.",
        "**Agent-7** · devlog: **Aside**\n\nfrom the shell",
    ]


async def test_a_watcher_killed_mid_stream_then_restarted_loses_and_doubles_nothing(
    home: Path,
) -> None:
    outbox = home / "agent_workspaces" / "Agent-1" / "outbox"
    inbox = home / "agent_workspaces" / "Agent-2" / "inbox"
    names = [f"n{n:03}.md" for n in range(60)]
    for name in names:
        (outbox / f".{name}.tmp").write_text(f"---\nto: Agent-2\n---\nnote {name}")
    first = await watch_process(home, {})
    try:
        for name in names:  # arriving while it works
            (outbox / f".{name}.tmp").rename(outbox / name)
            await asyncio.sleep(0.005)
        deadline = time.monotonic() + 20
        while len(list(inbox.glob("*.md"))) < 10:
            assert time.monotonic() < deadline, "nothing routed in time"
            await asyncio.sleep(0.01)
    finally:
        first.kill()  # SIGKILL: no chance to finish anything
        await first.wait()
    second = await watch_process(home, {})
    try:
        deadline = time.monotonic() + 30
        while list(outbox.glob("*.md")) or len(list(inbox.glob("*.md"))) < len(names):
            assert time.monotonic() < deadline, "not every file was routed after the restart"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a double would show now
    finally:
        second.kill()
        await second.wait()
    bodies = sorted(p.read_text().split("note ")[1].split()[0] for p in inbox.glob("*.md"))
    assert bodies == names

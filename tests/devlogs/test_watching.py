"""End to end on a real home: files agents write become deliveries and posts at the
Discord double (through a webhook URL, as when no bot runs), summaries come from the
OpenAI double, and a restart in the middle posts nothing twice and skips nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config import Home, Settings, load_settings
from devlogs.journal import Journal
from devlogs.post import WebhookPoster
from devlogs.watching import Watchers
from messaging.runtime import open_runtime
from tests.discord_double import DiscordDouble
from tests.discord_double.payloads import snowflake
from tests.openai_double import OpenAIDouble


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def webhook_url(double: DiscordDouble) -> str:
    return f"{double.api_base}/webhooks/{snowflake()}/hook-token"


def posts(double: DiscordDouble) -> list[dict[str, Any]]:
    return [c.json for c in double.calls if c.path.startswith("/webhooks/")]


def settings_for(home: Home, openai: OpenAIDouble | None = None, **more: Any) -> Settings:
    more.setdefault("watch", {"settle_s": 0.05, "rescan_s": 0.5})
    return load_settings(
        home,
        openai={"base_url": openai.base_url, "api_key": "k", "summaries": True} if openai else {},
        devlogs={"summary_timeout_s": 2},
        **more,
    )


def drop(home: Home, agent: str, folder: str, name: str, text: str) -> Path:
    where = home.workspaces_dir / agent / folder
    where.mkdir(parents=True, exist_ok=True)
    temp = where / f".{name}.part"
    temp.write_text(text)
    return temp.rename(where / name)


async def test_a_devlog_file_becomes_a_post_with_the_summary_and_pings_nobody(
    home: Home,
) -> None:
    async with (
        DiscordDouble() as discord,
        OpenAIDouble(answer="Login works again. Tests added.") as openai,
    ):
        settings = settings_for(home, openai)
        async with (
            open_runtime(home, settings) as rt,
            WebhookPoster(webhook_url(discord)) as poster,
            Watchers(rt, poster),
        ):
            drop(home, "Agent-3", "devlogs", "login.md", "# Fixed login\n\n@everyone it works.")
            await until(lambda: len(posts(discord)) == 1)
    [post] = posts(discord)
    assert post["content"] == (
        "**Agent-3** · devlog: **Fixed login**\n> Login works again. Tests added.\n\n"
        "@everyone it works."
    )
    assert post["allowed_mentions"] == {"parse": []}
    assert "@everyone it works." in openai.requests[0]["messages"][-1]["content"]
    assert (home.workspaces_dir / "Agent-3" / "devlogs" / "sent" / "login.md").exists()
    [kept] = home.devlogs_dir.glob("*_Agent-3_1.md")  # the swarm's copy
    assert "title: Fixed login" in kept.read_text()
    assert kept.read_text().endswith("\n@everyone it works.\n")


async def test_a_long_devlog_is_split_and_a_failed_summary_loses_nothing(home: Home) -> None:
    body = "\n\n".join(f"step {n}: " + "done " * 60 for n in range(20))  # 3 posts
    async with DiscordDouble() as discord, OpenAIDouble(status=500) as openai:
        settings = settings_for(home, openai)
        async with (
            open_runtime(home, settings) as rt,
            WebhookPoster(webhook_url(discord)) as poster,
            Watchers(rt, poster),
        ):
            drop(home, "Agent-1", "devlogs", "long.md", f"---\ntitle: Long day\n---\n{body}")
            journal = Journal(rt.store)
            await until_async(lambda: _posted(journal))
            [devlog] = await journal.recent()
    contents = [p["content"] for p in posts(discord)]
    assert len(contents) == 4 and all(len(c) <= 2000 for c in contents)
    assert "\n\n".join(contents) == "**Agent-1** · devlog: **Long day**\n\n" + body.strip()
    assert devlog.summary is None and "500" in (devlog.summary_error or "")
    assert len(openai.requests) == 2  # a try and one retry


async def test_a_very_long_devlog_is_attached_under_a_short_embed(home: Home) -> None:
    body = "\n\n".join(f"step {n}: " + "done " * 60 for n in range(60))
    async with (
        DiscordDouble() as discord,
        open_runtime(home, settings_for(home)) as rt,
        WebhookPoster(webhook_url(discord)) as poster,
        Watchers(rt, poster),
    ):
        drop(home, "Agent-2", "devlogs", "week.md", f"# A week\n\n{body}")
        await until(lambda: len(posts(discord)) == 1)
        await asyncio.sleep(0.3)  # no second part follows
    [call] = [c for c in discord.calls if c.path.startswith("/webhooks/")]
    assert call.json["content"] == "**Agent-2** · devlog: **A week**"
    assert call.json["allowed_mentions"] == {"parse": []}
    [embed] = call.json["embeds"]
    assert embed["title"] == "A week"
    assert embed["description"] == "step 0: " + ("done " * 60).strip()
    assert embed["footer"]["text"].startswith(f"{len(body.strip()):,} characters")
    [(name, data)] = call.files.values()
    assert name == "devlog-1.md"
    assert data.decode().endswith(body.strip() + "\n")


async def _posted(journal: Journal) -> bool:
    return all(d.posted_at for d in await journal.recent()) and bool(await journal.recent())


async def test_a_restart_in_the_middle_posts_nothing_twice_and_skips_nothing(
    home: Home,
) -> None:
    names = [f"day-{n:02}.md" for n in range(12)]
    async with DiscordDouble() as discord:
        settings = settings_for(home)
        for name in names:
            drop(home, "Agent-2", "devlogs", name, f"# {name}\n\nwork")
        async with (
            open_runtime(home, settings) as rt,
            WebhookPoster(webhook_url(discord)) as poster,
            Watchers(rt, poster),
        ):
            await until(lambda: len(posts(discord)) >= 3)
        async with (
            open_runtime(home, settings) as rt,
            WebhookPoster(webhook_url(discord)) as poster,
            Watchers(rt, poster),
        ):
            await until(lambda: len(posts(discord)) >= len(names))
            await asyncio.sleep(0.3)  # a double would show up now
    titles = sorted(p["content"].split("**")[3] for p in posts(discord))
    assert titles == sorted(n.replace("_", "\\_") for n in names)


async def test_notes_to_the_operator_and_rejections_are_posted(home: Home) -> None:
    async with DiscordDouble() as discord:
        settings = settings_for(home)
        async with (
            open_runtime(home, settings) as rt,
            WebhookPoster(webhook_url(discord)) as poster,
            Watchers(rt, poster),
        ):
            drop(home, "Agent-4", "outbox", "hi.md", "---\nto: operator\n---\nNeed a review.")
            drop(home, "Agent-4", "devlogs", "blank.md", "# Nothing\n")
            await until(lambda: len(posts(discord)) == 2)
    contents = sorted(p["content"] for p in posts(discord))
    assert contents[0] == "**Agent-4** → operator\nNeed a review."
    assert contents[1].startswith("Agent-4: devlogs file `blank.md` was rejected: the devlog is")
    reason = home.workspaces_dir / "Agent-4" / "devlogs" / "rejected" / "blank.md.reason.txt"
    assert "empty" in reason.read_text()


async def test_an_unreachable_webhook_keeps_the_devlog_until_it_can_post(home: Home) -> None:
    async with DiscordDouble() as discord:
        settings = settings_for(home)
        async with open_runtime(home, settings) as rt:
            broken = f"http://127.0.0.1:{discord.port}/nowhere"
            async with WebhookPoster(broken) as poster, Watchers(rt, poster):
                drop(home, "Agent-1", "devlogs", "kept.md", "# Kept\n\nsafe")
                journal = Journal(rt.store)
                await until_async(lambda: _has_error(journal))
            async with WebhookPoster(webhook_url(discord)) as poster, Watchers(rt, poster):
                await until(lambda: len(posts(discord)) == 1)
    assert posts(discord)[0]["content"].endswith("**Kept**\n\nsafe")


async def _has_error(journal: Journal) -> bool:
    return any(d.post_error for d in await journal.recent())


async def until_async(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_an_unacknowledged_message_is_nudged_once_then_reported_overdue(
    home: Home,
) -> None:
    async with DiscordDouble() as discord:
        settings = settings_for(
            home, watch={"settle_s": 0.05, "rescan_s": 0.1, "ack_timeout_s": 0.4}
        )
        async with (
            open_runtime(home, settings) as rt,
            WebhookPoster(webhook_url(discord)) as poster,
            Watchers(rt, poster),
        ):
            asked = await rt.service.send(["Agent-6", "Agent-7"], "Ack please", ack_required=True)
            message_id = asked.message.id
            drop(home, "Agent-7", "outbox", "ok.md", f"---\nack: {message_id}\n---\n")
            await until(lambda: any("overdue" in p["content"] for p in posts(discord)))
            await asyncio.sleep(1.0)  # three more timeouts: nothing is repeated
            queues = {q.agent_id: q for q in await rt.service.status()}
    inbox6 = sorted((home.workspaces_dir / "Agent-6" / "inbox").glob("*.md"))
    inbox7 = sorted((home.workspaces_dir / "Agent-7" / "inbox").glob("*.md"))
    assert len(inbox6) == 2 and "Reminder: message " + message_id in inbox6[1].read_text()
    assert len(inbox7) == 1  # acknowledged through its outbox: never reminded
    overdue = [p["content"] for p in posts(discord) if "overdue" in p["content"]]
    assert overdue == [
        f"overdue: Agent-6 has not acknowledged message {message_id} from Captain, "
        "even after a reminder: Ack please"
    ]
    assert (queues["Agent-6"].overdue, queues["Agent-7"].overdue) == (1, 0)

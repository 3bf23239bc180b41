"""/devlog post | recent and the bot's watchers, driven through the Discord double: files
agents write become posts in the channels and deliveries, nobody is pinged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from config import Home, load_settings
from devlogs.entry import Devlog
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, running_bot, until
from tests.discord_double import DiscordDouble, RestCall


@contextlib.asynccontextmanager
async def devlog_swarm(
    home: Home, double: DiscordDouble, people: People, **watch: Any
) -> AsyncIterator[Swarm]:
    operators = [r.id for r in double.guild.roles if r.name == "operators"]
    settings = load_settings(
        home,
        discord={
            "guild_id": double.guild.id,
            "allowed_role_ids": operators,
            "admin_user_ids": [people.admin.id],
            "api_base": double.api_base,
            "gateway_url": double.gateway_url,
            "devlog_channel_id": double.guild.channel_id,
        },
        watch={"settle_s": 0.05, "rescan_s": 0.5, **watch},
    )
    screen = GatedScreen()
    screen.gate.set()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)


@pytest.fixture
async def swarm(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    async with devlog_swarm(home, double, people) as running:
        yield running


def channel_posts(double: DiscordDouble) -> list[RestCall]:
    path = f"/channels/{double.guild.channel_id}/messages"
    return [c for c in double.calls if c.method == "POST" and c.path == path]


async def marked_posted(swarm: Swarm, agent: str, timeout: float = 5.0) -> Devlog:
    """The newest devlog of ``agent`` once it is marked posted (just after Discord's
    answer to the post), waiting up to ``timeout``."""
    cog: Any = swarm.bot.get_cog("DevlogsCog")
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        [devlog] = await cog.watchers.publisher.journal.recent(agent, 1)
        if devlog.posted_at is not None:
            return devlog
        await asyncio.sleep(0.02)
    raise AssertionError(f"the devlog of {agent} was not marked posted in {timeout} s")


async def test_devlog_post_reaches_the_channel_and_pings_nobody(swarm: Swarm) -> None:
    sent = await swarm.run("devlog post", agent="Agent-2", title="Parser", text="@here done")
    answer = await swarm.final(sent, "kept")
    assert "devlog 1 by `Agent-2` kept" in answer.content
    posted = await until(lambda: channel_posts(swarm.double))
    assert posted[0].content == "**Agent-2** · devlog: **Parser**\n\n@here done"
    assert posted[0].allowed_mentions == {"parse": []}
    await marked_posted(swarm, "Agent-2")
    recent = await swarm.run("devlog recent", agent="Agent-2")
    listing = await swarm.final(recent, "Parser")
    assert "posted" in listing.content


async def test_files_agents_write_are_routed_and_posted_by_the_bot(swarm: Swarm) -> None:
    workspaces = swarm.rt.home.workspaces_dir
    (workspaces / "Agent-3" / "devlogs" / "today.md").write_text("# Today\n\nShipped.")
    (workspaces / "Agent-3" / "outbox" / "q.md").write_text(
        "---\nto: Agent-1, operator\n---\nCan I merge?"
    )
    await until(lambda: len(channel_posts(swarm.double)) == 2, timeout=10)
    contents = sorted(c.content for c in channel_posts(swarm.double))
    assert contents == [
        "**Agent-3** · devlog: **Today**\n\nShipped.",
        "**Agent-3** → operator\nCan I merge?",
    ]
    [entry] = await swarm.rt.service.history(agent="Agent-1")  # routed before it was posted
    assert entry.message.sender == "Agent-3"
    sent = await swarm.run("history", thread=entry.message.id)
    shown = await swarm.final(sent, entry.message.id)
    assert "Can I merge?" in shown.content
    status = await swarm.run("status")
    text = await swarm.final(status, "Agent-1")
    assert "unread" in text.content


async def test_a_devlog_for_an_unknown_agent_is_refused_with_the_known_ones(swarm: Swarm) -> None:
    sent = await swarm.run("devlog post", agent="Agent-42", title="x", text="y")
    answer = await swarm.double.reply(sent, lambda c: "Agent-42" in c.content)
    assert "Agent-1" in answer.content
    await asyncio.sleep(0.3)
    assert channel_posts(swarm.double) == []


async def test_a_very_long_devlog_is_attached_by_the_bot(swarm: Swarm) -> None:
    body = "\n\n".join(f"part {n} " + "x" * 1500 for n in range(6))
    folder = swarm.rt.home.workspaces_dir / "Agent-4" / "devlogs"
    (folder / ".big.md.tmp").write_text(f"# Big\n\n{body}")
    (folder / ".big.md.tmp").rename(folder / "big.md")
    [call] = await until(lambda: channel_posts(swarm.double), timeout=10)
    assert call.content == "**Agent-4** · devlog: **Big**"
    assert call.allowed_mentions == {"parse": []}
    assert call.data["embeds"][0]["title"] == "Big"
    [(name, data)] = call.files.values()
    assert name == "devlog-1.md" and data.decode().endswith(body + "\n")


@pytest.fixture
async def roomy(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    """Agents may write devlog files up to 40 MB (watch.max_file_bytes goes to 50 MB)."""
    async with devlog_swarm(home, double, people, max_file_bytes=40_000_000) as running:
        yield running


async def test_a_devlog_over_the_upload_limit_is_posted_without_its_file(roomy: Swarm) -> None:
    swarm = roomy
    limit = swarm.bot.guilds[0].filesize_limit  # 10 MiB: a guild without boosts
    body = "\n\n".join(f"part {n} " + "x" * 1_000_000 for n in range(limit // 1_000_000 + 1))
    folder = swarm.rt.home.workspaces_dir / "Agent-4" / "devlogs"
    (folder / ".huge.md.tmp").write_text(f"# Huge\n\n{body}")
    (folder / ".huge.md.tmp").rename(folder / "huge.md")
    [call] = await until(lambda: channel_posts(swarm.double), timeout=20)
    assert call.files == {}
    assert call.content.startswith("**Agent-4** · devlog: **Huge**\n⚠️ devlog-1.md (10.")
    assert call.content.endswith(
        "over Discord's upload limit here (10.0 MiB): not attached; the home keeps it whole "
        "in var/devlogs/"
    )
    assert list((swarm.rt.home.var_dir / "devlogs").glob("*_Agent-4_1.md"))
    assert swarm.double.refused == []
    devlog = await marked_posted(swarm, "Agent-4")
    assert devlog.post_error is None  # no upload to try again


async def test_a_devlog_goes_through_a_global_rate_limit_once(swarm: Swarm) -> None:
    swarm.double.global_rate_limit(retry_after=0.3, times=2)
    sent = await swarm.run("devlog post", agent="Agent-2", title="Limits", text="slow down")
    await swarm.final(sent, "kept")
    await marked_posted(swarm, "Agent-2")
    assert [is_global for _, is_global in swarm.double.rate_limited] == [True, True]
    posted = [m for m in swarm.double.messages.values() if "**Limits**" in m["content"]]
    assert len(posted) == 1


async def test_a_devlog_rate_limited_past_discord_py_s_tries_waits_and_goes(
    swarm: Swarm,
) -> None:
    path = f"/channels/{swarm.double.guild.channel_id}/messages"
    swarm.double.rate_limit(lambda c: c.path == path, retry_after=0.05, times=5)
    sent = await swarm.run("devlog post", agent="Agent-2", title="Busy", text="later")
    await swarm.final(sent, "kept")
    cog: Any = swarm.bot.get_cog("DevlogsCog")
    for _ in range(250):  # discord.py tries 5 times, then the post waits with its reason
        [devlog] = await cog.watchers.publisher.journal.recent("Agent-2", 1)
        if devlog.post_error:
            break
        await asyncio.sleep(0.02)
    assert devlog.post_error == (
        f"Discord kept rate limiting the posts to channel {swarm.double.guild.channel_id} "
        "(discord.devlog_channel_id); they are tried again"
    )
    await marked_posted(swarm, "Agent-2", timeout=10)  # on the publisher's next try, 5 s on

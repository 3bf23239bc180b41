"""Channels the bot posts to unasked (devlogs, notices, backup alerts) that it cannot use:
one line each when the bot is ready, a clear reason on the post that waits, and no crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from config import Home, load_settings
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, running_bot, until
from tests.discord_double import DiscordDouble

UNKNOWN_ID = 4_242


def channel_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.channels" and r.levelno == logging.WARNING
    ]


async def swarm_with(
    home: Home, double: DiscordDouble, people: People, **settings: Any
) -> AsyncIterator[Swarm]:
    backups = settings.pop("backups", None) or {"interval_minutes": 0}
    watch = settings.pop("watch", {})
    operators = [r.id for r in double.guild.roles if r.name == "operators"]
    configured = load_settings(
        home,
        backups=backups,
        watch=watch,
        discord={
            "guild_id": double.guild.id,
            "allowed_role_ids": operators,
            "api_base": double.api_base,
            "gateway_url": double.gateway_url,
            **settings,
        },
    )
    screen = GatedScreen()
    async with (
        open_runtime(home, configured, screen) as rt,
        running_bot(rt, configured, double) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)


async def test_each_channel_the_bot_cannot_use_is_one_line_once_it_is_ready(
    home: Home, double: DiscordDouble, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    hidden = double.add_channel("staff", view=False)
    read_only = double.add_channel("announcements", send=False)
    async for swarm in swarm_with(
        home,
        double,
        people,
        devlog_channel_id=UNKNOWN_ID,
        watch={"operator_channel_id": hidden.id, "status_channel_id": read_only.id},
        backups={"interval_minutes": 0, "alert_channel_id": double.guild.channel_id},
    ):
        await until(lambda: len(channel_warnings(caplog)) == 3)
        assert swarm.bot.is_ready()
    fix = "give the bot View Channel, Send Messages, Embed Links and Attach Files there"
    assert channel_warnings(caplog) == [
        f"discord.devlog_channel_id {UNKNOWN_ID} cannot be used: there is no such channel "
        f"(deleted, or a wrong id); {fix}, or set another channel",
        f"watch.operator_channel_id {hidden.id} cannot be used: the bot cannot see it "
        f"(Missing Access); {fix}, or set another channel",
        f"watch.status_channel_id {read_only.id} cannot be used: the bot lacks send_messages, "
        f"embed_links, attach_files "
        f"in #announcements; {fix}, or set another channel",
    ]


async def test_a_devlog_for_a_channel_the_bot_may_not_post_in_waits_saying_why(
    home: Home, double: DiscordDouble, people: People
) -> None:
    read_only = double.add_channel("devlogs", send=False)
    async for swarm in swarm_with(home, double, people, devlog_channel_id=read_only.id):
        sent = await swarm.run("devlog post", agent="Agent-1", title="Parser", text="done")
        await swarm.final(sent, "kept")
        refused = await until(lambda: [e for _, e in double.refused if e.code == 50013])
        assert refused[0].status == 403
        cog: Any = swarm.bot.get_cog("DevlogsCog")
        journal = cog.watchers.publisher.journal
        for _ in range(250):  # the error is kept just after Discord's answer: up to 5 s
            [devlog] = await journal.recent(None, 1)
            if devlog.post_error:
                break
            await asyncio.sleep(0.02)
        recent = await swarm.run("devlog recent")
        listing = await swarm.final(recent, "Parser")
        assert (
            f"waiting (discord.devlog\\_channel\\_id {read_only.id} cannot be used: the bot may"
            in listing.content
        )


@pytest.fixture
async def failing_schedule(
    home: Home, double: DiscordDouble, people: People
) -> AsyncIterator[Swarm]:
    home.backups_dir.parent.mkdir(parents=True, exist_ok=True)
    home.backups_dir.write_text("a file where the backups folder should be")
    hidden = double.add_channel("alerts", view=False)
    backups = {"interval_minutes": 60, "alert_channel_id": hidden.id}
    async for swarm in swarm_with(home, double, people, backups=backups):
        yield swarm


async def test_a_backup_alert_to_a_hidden_channel_is_a_line_and_the_schedule_goes_on(
    failing_schedule: Swarm, caplog: pytest.LogCaptureFixture
) -> None:
    swarm = failing_schedule
    await until(lambda: [e for _, e in swarm.double.refused if e.code == 50001], timeout=10)
    line = await until(
        lambda: [r.getMessage() for r in caplog.records if "backup alert not posted" in r.message]
    )
    assert "backups.alert_channel_id" in line[0] and "the bot cannot see it" in line[0]
    schedule = getattr(swarm.bot.get_cog("BackupsCog"), "_task", None)
    assert schedule is not None  # (the extension's own module: its class is not ours)
    assert not schedule.done()  # the schedule waits for its next try, it did not die

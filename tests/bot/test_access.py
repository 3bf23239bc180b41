"""Who may command the swarm, when discord.py has not cached the guild (the app is in it
without its bot user, or the guild is unavailable): operators by role still are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import Home
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot
from tests.discord_double import DiscordDouble


@pytest.fixture
async def uncached(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    double.bot_in_guild = False  # no GUILD_CREATE: Member.roles knows none of its roles
    settings = bot_settings(home, double, people)
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double) as bot,
    ):
        assert bot.get_guild(double.guild.id) is None
        yield Swarm(double, rt, bot, screen, people)


async def test_an_operator_by_role_is_one_in_a_guild_not_cached(uncached: Swarm) -> None:
    sent = await uncached.run("send", uncached.people.operator, agent="Agent-1", message="hi")
    await uncached.final(sent, "delivered via gui")
    assert uncached.screen.received("Agent-1") == ["hi"]


async def test_a_stranger_is_still_refused_in_a_guild_not_cached(uncached: Swarm) -> None:
    sent = await uncached.run("send", uncached.people.stranger, agent="Agent-1", message="hi")
    answer = await uncached.double.callback(sent)
    assert answer.ephemeral and "not allowed to command the swarm" in answer.content

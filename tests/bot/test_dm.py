"""Global commands used in a direct message with the bot: no guild, no roles. Operators
named by user id are served there; those who are operators by a role are told to use the
server, where their roles are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import Home
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot
from tests.discord_double import DiscordDouble, NotClickable


@pytest.fixture
async def global_swarm(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    settings = bot_settings(home, double, people, guild_id=None)  # global commands
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)
        screen.gate.set()
    assert [t.token for t in double.ledger.failed()] == []


async def test_an_admin_by_user_id_sends_from_a_dm(global_swarm: Swarm) -> None:
    swarm = global_swarm
    sent = await swarm.double.slash_in_dm(
        "send", swarm.people.admin, agent="Agent-1", message="from my phone"
    )
    await swarm.final(sent, "delivered via gui")
    assert swarm.screen.received("Agent-1") == ["from my phone"]
    assert (await swarm.audited("/send"))["actor"].startswith(f"discord:{swarm.people.admin.id}")


async def test_an_operator_by_role_is_told_to_use_the_server(global_swarm: Swarm) -> None:
    swarm = global_swarm
    sent = await swarm.double.slash_in_dm(
        "send", swarm.people.operator, agent="Agent-1", message="hi"
    )
    answer = await swarm.double.callback(sent)
    assert answer.ephemeral
    assert answer.content == (
        "⛔ in a direct message you have no server roles, so your role does not count here: "
        "run the command in the server, or an admin can add your user id "
        f"({swarm.people.operator.id}) to discord.allowed_user_ids"
    )
    assert swarm.screen.received("Agent-1") == []


async def test_status_answers_in_a_dm(global_swarm: Swarm) -> None:
    sent = await global_swarm.double.slash_in_dm("status", global_swarm.people.admin)
    answer = await global_swarm.final(sent, "**desk**")
    assert "**coordinates**" in answer.content


async def test_with_a_home_server_commands_are_not_offered_in_dms(swarm: Swarm) -> None:
    with pytest.raises(NotClickable, match="not a global command"):
        await swarm.double.slash_in_dm("send", swarm.people.admin, agent="Agent-1", message="x")


async def test_the_bot_s_commands_are_not_offered_in_other_people_s_dms(
    global_swarm: Swarm,
) -> None:
    """The bot is installed to a server, not to users: Discord offers its commands in a
    DM with the bot, never in a DM between people."""
    with pytest.raises(NotClickable, match="not user-installable"):
        await global_swarm.double.slash_in_dm(
            "status", global_swarm.people.admin, private_channel=True
        )

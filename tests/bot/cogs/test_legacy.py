"""``!message`` and ``!broadcast``: the chat commands of the previous bot."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from discord import Intents

from bot.cogs.legacy import CHAT_COMMANDS_OFF
from config import Home
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot, until
from tests.discord_double import DiscordDouble


@pytest.fixture
async def chat_swarm(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    settings = bot_settings(home, double, people, message_content_intent=True)
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)


async def test_message_command_sends_and_reports_in_place(chat_swarm: Swarm) -> None:
    swarm = chat_swarm
    assert swarm.double.gateway.intents is not None
    assert swarm.double.gateway.intents & Intents(message_content=True).value

    command = await swarm.double.post_message(
        "!message Agent-3 please rebase @here", swarm.people.operator
    )
    posted = await swarm.double.wait_call(
        lambda c: c.method == "POST" and c.path.endswith("/messages") and "queued" in c.content
    )
    assert str(posted.json["message_reference"]["message_id"]) == command["id"]
    assert posted.allowed_mentions is not None and posted.allowed_mentions["parse"] == []
    edited = await swarm.double.wait_call(
        lambda c: c.method == "PATCH" and "delivered via gui" in c.content
    )
    assert "Agent-3" in edited.content
    assert swarm.screen.received("Agent-3") == ["please rebase @here"]
    assert (await swarm.audited("!message"))["outcome"].endswith("1 delivered")


async def test_chat_commands_keep_the_same_permissions(chat_swarm: Swarm) -> None:
    swarm = chat_swarm
    await swarm.double.post_message("!message Agent-1 hi", swarm.people.stranger)
    await swarm.double.wait_call(lambda c: "not allowed" in c.content)
    await swarm.double.post_message("!broadcast all stop", swarm.people.operator)
    await swarm.double.wait_call(lambda c: "needs an admin" in c.content)
    await swarm.double.post_message("!message Agent-42 hi", swarm.people.operator)
    await swarm.double.wait_call(lambda c: "unknown agent 'Agent-42'" in c.content)
    assert await swarm.rt.service.history() == []
    rows = await until(lambda: len(swarm.audit_rows()) == 3 and swarm.audit_rows())
    assert [r["outcome"].split(":")[0] for r in rows] == ["refused", "refused", "error"]


async def test_broadcast_by_an_admin_reaches_every_active_agent(chat_swarm: Swarm) -> None:
    swarm = chat_swarm
    await swarm.double.post_message("!broadcast stand up", swarm.people.admin)
    edited = await swarm.double.wait_call(
        lambda c: c.method == "PATCH" and c.content.count("delivered via gui") == 8, timeout=15
    )
    assert "broadcast" in edited.content
    assert all(swarm.screen.received(f"Agent-{n}") == ["stand up"] for n in range(1, 9))
    assert (await swarm.audited("!broadcast"))["outcome"].endswith("8 delivered")


async def test_without_the_intent_chat_commands_are_not_loaded(swarm: Swarm) -> None:
    assert "Legacy" not in swarm.bot.cogs
    assert swarm.double.gateway.intents is not None
    assert not swarm.double.gateway.intents & Intents(message_content=True).value


@pytest.fixture
async def slash_only(
    home: Home, double: DiscordDouble, people: People, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Swarm]:
    caplog.set_level(logging.INFO, logger="bot.cogs.legacy")
    settings = bot_settings(home, double, people)  # discord.message_content_intent off
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)


async def test_without_the_intent_chat_commands_are_said_to_be_off(
    slash_only: Swarm, caplog: pytest.LogCaptureFixture
) -> None:
    swarm = slash_only
    setup = caplog.get_records("setup")  # the bot started in the fixture
    started = [r.getMessage() for r in setup if r.name == "bot.cogs.legacy"]
    assert started == [CHAT_COMMANDS_OFF]
    assert "Developer Portal" in CHAT_COMMANDS_OFF
    assert "discord.message_content_intent" in CHAT_COMMANDS_OFF

    await swarm.double.post_message("!message Agent-1 hi", swarm.people.operator)  # no text
    bot = swarm.double.bot_user.id
    asked = await swarm.double.post_message(f"<@{bot}> message Agent-1 hi", swarm.people.operator)
    told = await swarm.double.wait_call(lambda c: c.content == CHAT_COMMANDS_OFF)
    assert str(told.json["message_reference"]["message_id"]) == asked["id"]
    replies = [c for c in swarm.double.calls if c.method == "POST" and "/messages" in c.path]
    assert replies == [told]  # one answer, to the message whose text the bot could read
    assert await swarm.rt.service.history() == []


async def test_a_command_deleted_before_its_reply_is_answered_without_the_reference(
    chat_swarm: Swarm,
) -> None:
    swarm = chat_swarm
    command = await swarm.double.post_message("!message Agent-3 hi", swarm.people.operator)
    await swarm.double.delete_message(command)  # before the bot could answer it
    await swarm.double.wait_call(lambda c: c.method == "PATCH" and "delivered via gui" in c.content)
    [answer] = [m for m in swarm.double.messages.values() if "Agent-3" in m["content"]]
    assert "delivered via gui" in answer["content"]
    assert "message_reference" not in answer  # posted as a plain message of the channel
    assert swarm.double.refused == []
    assert swarm.screen.received("Agent-3") == ["hi"]

"""The double sends message text as Discord does under the Message Content intent: empty
without it, unless the message mentions the app. Driven with aiohttp."""

from __future__ import annotations

import aiohttp

from tests.discord_double import DiscordDouble

GUILD_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 15


async def received(double: DiscordDouble, intents: int, text: str) -> dict:
    """The MESSAGE_CREATE a client identified with ``intents`` gets for ``text``."""
    async with aiohttp.ClientSession() as http, http.ws_connect(double.gateway_url) as ws:
        assert (await ws.receive_json(timeout=5))["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "raw", "intents": intents, "properties": {}}})
        for expected in ("READY", "GUILD_CREATE"):
            assert (await ws.receive_json(timeout=5))["t"] == expected
        await double.post_message(text, double.person("captain"))
        frame = await ws.receive_json(timeout=5)
        assert frame["t"] == "MESSAGE_CREATE"
        return frame["d"]


async def test_without_the_intent_message_text_comes_empty() -> None:
    async with DiscordDouble() as double:
        message = await received(double, GUILD_MESSAGES, "!message Agent-1 hi")
        assert (message["content"], message["embeds"], message["attachments"]) == ("", [], [])
        assert double.messages[int(message["id"])]["content"] == "!message Agent-1 hi"


async def test_with_the_intent_message_text_comes_whole() -> None:
    async with DiscordDouble() as double:
        message = await received(double, GUILD_MESSAGES | MESSAGE_CONTENT, "!message Agent-1 hi")
        assert message["content"] == "!message Agent-1 hi"


async def test_a_message_mentioning_the_app_comes_whole_without_the_intent() -> None:
    async with DiscordDouble() as double:
        text = f"<@{double.bot_user.id}> message Agent-1 hi"
        message = await received(double, GUILD_MESSAGES, text)
        assert message["content"] == text
        assert [m["id"] for m in message["mentions"]] == [str(double.bot_user.id)]

"""Starting the bot: the token, and what a refused one looks like."""

from __future__ import annotations

import asyncio

import pytest
import typer
from typer.testing import CliRunner

from bot.app import run_bot
from bot.cli import register
from config import ConfigError, Home
from tests.bot.conftest import People, bot_settings, until
from tests.discord_double import DiscordDouble, DiscordError


async def test_missing_token_is_one_clear_line(
    home: Home, double: DiscordDouble, people: People
) -> None:
    settings = bot_settings(home, double, people)
    with pytest.raises(
        ConfigError, match=r"DISCORD_TOKEN is not set; put DISCORD_TOKEN="
    ) as caught:
        await run_bot(home, settings)
    assert "\n" not in str(caught.value)


async def test_refused_token_is_one_clear_line(
    home: Home, double: DiscordDouble, people: People
) -> None:
    double.token = "the-real-token"
    settings = bot_settings(home, double, people).replaced(discord_token="a-stale-token")
    with pytest.raises(ConfigError, match="Discord refused the bot token"):
        await asyncio.wait_for(run_bot(home, settings), 10)
    assert [c.path for c in double.calls] == ["/users/@me"]


async def test_commands_refused_by_discord_is_one_clear_line(
    home: Home, double: DiscordDouble, people: People
) -> None:
    double.commands_scope = False  # the bot was invited without applications.commands
    settings = bot_settings(home, double, people).replaced(discord_token="a-token")
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(run_bot(home, settings), 10)
    assert str(caught.value) == (
        f"Discord refused to register the slash commands in server {double.guild.id} "
        "(discord.guild_id): Missing Access; check discord.guild_id and invite the bot with "
        "the applications.commands scope"
    )


async def test_good_token_logs_in_and_serves(
    home: Home, double: DiscordDouble, people: People
) -> None:
    double.token = "the-real-token"
    settings = bot_settings(home, double, people).replaced(discord_token="the-real-token")
    running = asyncio.create_task(run_bot(home, settings))
    try:
        await double.wait_ready()
        sent = await double.slash("send", people.operator, agent="Agent-1", message="hi")
        await double.reply(sent, lambda c: "delivered via inbox" in c.content)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert list((home.workspaces_dir / "Agent-1" / "inbox").glob("*.md"))


def test_cli_command_reports_a_missing_token(home: Home) -> None:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["--home", str(home.root)], env={"DISCORD_TOKEN": ""})
    assert isinstance(result.exception, ConfigError)


async def test_guild_commands_replace_global_ones_left_from_before(
    home: Home, double: DiscordDouble, people: People
) -> None:
    stale = {"name": "send", "description": "old global /send", "type": 1}
    double.scopes[None] = {"send": stale}  # synced globally by an earlier setup
    settings = bot_settings(home, double, people).replaced(discord_token="a-token")
    running = asyncio.create_task(run_bot(home, settings))
    try:
        await double.wait_ready()
        await double.wait_call(lambda c: c.method == "PUT" and c.path.endswith("/commands"))
        await until(lambda: double.scopes.get(None) == {})
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert "send" in double.scopes[double.guild.id]


BAD_NAME = {"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "bad name"}]}


async def test_commands_refused_as_invalid_is_one_clear_line(
    home: Home, double: DiscordDouble, people: People
) -> None:
    double.refuse(
        lambda c: c.method == "PUT",
        DiscordError(400, 50035, "Invalid Form Body", errors={"0": {"name": BAD_NAME}}),
    )
    settings = bot_settings(home, double, people).replaced(discord_token="a-token")
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(run_bot(home, settings), 10)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(
        f"Discord refused the slash commands of this bot in server {double.guild.id} "
        "(discord.guild_id) (400, code 50035): "
    )


async def test_a_privileged_intent_not_enabled_is_one_clear_line(
    home: Home, double: DiscordDouble, people: People
) -> None:
    double.privileged_intents = 0  # Message Content not enabled in the Developer Portal
    settings = bot_settings(home, double, people, message_content_intent=True).replaced(
        discord_token="a-token"
    )
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(run_bot(home, settings), 15)
    assert double.gateway.refusals == [4014]
    assert "\n" not in str(caught.value)
    assert "Message Content intent" in str(caught.value)
    assert "Developer Portal" in str(caught.value)


async def test_a_token_refused_by_the_gateway_is_one_clear_line(
    home: Home, double: DiscordDouble, people: People
) -> None:
    double.gateway.close_next_identify(4004)  # reset in the Developer Portal meanwhile
    settings = bot_settings(home, double, people).replaced(discord_token="a-token")
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(run_bot(home, settings), 15)
    assert double.gateway.refusals == [4004]
    assert str(caught.value) == (
        "Discord's gateway refused the bot token (DISCORD_TOKEN, close code 4004); it may "
        "have been reset: copy it again from the Developer Portal, Bot page"
    )

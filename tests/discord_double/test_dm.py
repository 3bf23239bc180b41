"""Commands used in a direct message with the bot, as Discord sends them: only global
commands allowed in DMs, and the interaction carries the user, no guild or member.
Driven with aiohttp."""

from __future__ import annotations

import pytest

from tests.discord_double import NotClickable
from tests.discord_double.conftest import Raw

ECHO = {"name": "echo", "description": "Says it back.", "type": 1}


async def test_a_global_command_in_a_dm_comes_without_guild_or_member(raw: Raw) -> None:
    sent = await raw.double.slash_in_dm("ping", raw.user)
    payload = sent.payload
    assert "guild_id" not in payload and "member" not in payload
    assert payload["user"]["id"] == str(raw.user.id)
    assert (payload["context"], payload["channel"]["type"]) == (1, 1)
    answer = await raw.callback(sent, 4, content="pong")
    assert answer.status == 200
    posted = await raw.call(
        "POST", f"/channels/{payload['channel_id']}/messages", {"content": "hi"}
    )
    assert posted.status == 200  # the bot may write in its own DM with the user


async def test_guild_commands_and_commands_kept_out_of_dms_cannot_be_used_there(
    raw: Raw,
) -> None:
    app, guild = raw.double.application_id, raw.double.guild.id
    assert (await raw.call("PUT", f"/applications/{app}/guilds/{guild}/commands", [ECHO])).status
    with pytest.raises(NotClickable, match="not a global command"):
        await raw.double.slash_in_dm("echo", raw.user)
    guild_only = {**ECHO, "contexts": [0]}
    assert (await raw.call("PUT", f"/applications/{app}/commands", [guild_only])).status == 200
    with pytest.raises(NotClickable, match="not allowed in DMs"):
        await raw.double.slash_in_dm("echo", raw.user)


async def test_only_user_installed_commands_are_offered_in_other_dms(raw: Raw) -> None:
    with pytest.raises(NotClickable, match="not user-installable"):
        await raw.double.slash_in_dm("ping", raw.user, private_channel=True)
    app = raw.double.application_id
    installed = {**ECHO, "integration_types": [0, 1], "contexts": [0, 1, 2]}
    assert (await raw.call("PUT", f"/applications/{app}/commands", [installed])).status == 200
    sent = await raw.double.slash_in_dm("echo", raw.user, private_channel=True)
    assert sent.payload["context"] == 2
    assert sent.payload["authorizing_integration_owners"] == {"1": str(raw.user.id)}
    assert (await raw.callback(sent, 4, content="echo")).status == 200
    channel = f"/channels/{sent.payload['channel_id']}/messages"
    refused = await raw.call("POST", channel, {"content": "hi"})  # not the bot's own DM
    assert (refused.status, refused.code) == (403, 50001)

"""An app added to a guild with the applications.commands scope only has no bot user
there: READY lists no guild and no GUILD_CREATE follows, yet its commands can be used, and
each interaction carries the member's role ids itself. Driven with aiohttp."""

from __future__ import annotations

import aiohttp

from tests.discord_double import DiscordDouble
from tests.discord_double.conftest import PING_COMMAND


async def test_without_the_bot_user_no_guild_comes_but_interactions_carry_the_roles() -> None:
    async with DiscordDouble(bot_in_guild=False) as double, aiohttp.ClientSession() as http:
        operators = double.add_role("operators")
        captain = double.person("captain", operators)
        ws = await http.ws_connect(double.gateway_url)
        assert (await ws.receive_json(timeout=5))["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "raw", "intents": 1, "properties": {}}})
        ready = await ws.receive_json(timeout=5)
        assert (ready["t"], ready["d"]["guilds"]) == ("READY", [])
        path = f"{double.api_base}/applications/{double.application_id}/commands"
        async with http.put(path, json=[PING_COMMAND]) as synced:
            assert synced.status == 200

        await double.slash("ping", captain)
        frame = await ws.receive_json(timeout=5)  # the next frame: no GUILD_CREATE came
        assert frame["t"] == "INTERACTION_CREATE"
        assert frame["d"]["guild_id"] == str(double.guild.id)
        assert frame["d"]["member"]["roles"] == [str(operators.id)]
        await ws.close()

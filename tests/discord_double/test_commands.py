"""The double registers commands as Discord's bulk overwrite does: per scope, the whole
list at once, refusing invalid lists with 400 / 50035. Driven with aiohttp."""

from __future__ import annotations

from tests.discord_double.conftest import PING_COMMAND, Raw

ECHO = {"name": "echo", "description": "Says it back.", "type": 1}


async def test_an_overwrite_replaces_the_list_of_its_scope_only(raw: Raw) -> None:
    app, guild = raw.double.application_id, raw.double.guild.id
    answer = await raw.call("PUT", f"/applications/{app}/guilds/{guild}/commands", [ECHO])
    assert answer.status == 200 and answer.body[0]["guild_id"] == str(guild)
    assert set(raw.double.scopes[None]) == {"ping"}  # the global list stays
    assert set(raw.double.scopes[guild]) == {"echo"}

    assert (await raw.call("PUT", f"/applications/{app}/commands", [])).status == 200
    assert raw.double.scopes[None] == {}
    assert set(raw.double.commands) == {"echo"}


async def test_invalid_lists_are_refused_naming_the_field(raw: Raw) -> None:
    path = f"/applications/{raw.double.application_id}/commands"
    for commands, field in (
        ([{**ECHO, "name": "Echo"}], "name"),
        ([{**ECHO, "name": "x" * 33}], "name"),
        ([{**ECHO, "description": ""}], "description"),
        ([{**ECHO, "description": "d" * 101}], "description"),
        ([ECHO, ECHO], "name"),
        (
            [
                {
                    **ECHO,
                    "options": [
                        {"name": f"o{n}", "description": "o", "type": 3} for n in range(26)
                    ],
                }
            ],
            "options",
        ),
    ):
        answer = await raw.call("PUT", path, commands)
        assert (answer.status, answer.code) == (400, 50035), commands
        assert field in str(answer.body["errors"])
    assert set(raw.double.scopes[None]) == {PING_COMMAND["name"]}  # nothing replaced

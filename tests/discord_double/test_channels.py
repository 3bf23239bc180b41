"""The double answers for channels as Discord does: 10003 for a channel that is not
there, 50001 for one the bot cannot see, 50013 for a post it may not make. Driven with
aiohttp, not discord.py."""

from __future__ import annotations

import json

import aiohttp

from tests.discord_double.conftest import Raw


def messages(channel_id: int) -> str:
    return f"/channels/{channel_id}/messages"


async def test_an_unknown_channel_is_10003(raw: Raw) -> None:
    for method, path, body in (
        ("GET", "/channels/123", None),
        ("POST", messages(123), {"content": "hi"}),
    ):
        answer = await raw.call(method, path, body)
        assert (answer.status, answer.code) == (404, 10003), method


async def test_a_channel_the_bot_cannot_see_is_missing_access(raw: Raw) -> None:
    hidden = raw.double.add_channel("staff", view=False)
    for method, path, body in (
        ("GET", f"/channels/{hidden.id}", None),
        ("POST", messages(hidden.id), {"content": "hi"}),
    ):
        answer = await raw.call(method, path, body)
        assert (answer.status, answer.code) == (403, 50001), method


async def test_a_post_without_send_messages_is_missing_permissions(raw: Raw) -> None:
    announcements = raw.double.add_channel("announcements", send=False)
    seen = await raw.call("GET", f"/channels/{announcements.id}")
    assert seen.status == 200 and seen.body["name"] == "announcements"
    [overwrite] = seen.body["permission_overwrites"]
    assert overwrite["id"] == str(raw.double.bot_user.id) and int(overwrite["deny"]) & (1 << 11)
    refused = await raw.call("POST", messages(announcements.id), {"content": "hi"})
    assert (refused.status, refused.code) == (403, 50013)


async def test_a_file_without_attach_files_is_missing_permissions(raw: Raw) -> None:
    chat = raw.double.add_channel("chat", attach=False)
    assert (await raw.call("POST", messages(chat.id), {"content": "text"})).status == 200
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps({"content": "file"}))
    form.add_field("files[0]", b"x", filename="a.md")
    async with raw.http.post(raw.double.api_base + messages(chat.id), data=form) as response:
        assert response.status == 403
        assert (await response.json())["code"] == 50013


async def test_a_post_lands_in_its_channel(raw: Raw) -> None:
    devlogs = raw.double.add_channel("devlogs")
    posted = await raw.call("POST", messages(devlogs.id), {"content": "hi"})
    assert posted.status == 200 and posted.body["channel_id"] == str(devlogs.id)

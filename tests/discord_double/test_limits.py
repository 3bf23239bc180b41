"""The double refuses what Discord refuses for size: content over 2,000 characters
(400 / 50035) and files over the upload limit (413 / 40005). Driven with aiohttp."""

from __future__ import annotations

import json

import aiohttp

from tests.discord_double.conftest import Raw
from tests.discord_double.payloads import ATTACHMENT_SIZE_LIMIT


async def test_content_over_two_thousand_characters_is_refused(raw: Raw) -> None:
    channel = f"/channels/{raw.double.guild.channel_id}/messages"
    assert (await raw.call("POST", channel, {"content": "x" * 2000})).status == 200
    refused = await raw.call("POST", channel, {"content": "x" * 2001})
    assert (refused.status, refused.code) == (400, 50035)
    assert "content" in refused.body["errors"]


async def test_a_file_over_the_upload_limit_is_refused(raw: Raw) -> None:
    url = f"{raw.double.api_base}/channels/{raw.double.guild.channel_id}/messages"
    for size, status in ((ATTACHMENT_SIZE_LIMIT, 200), (ATTACHMENT_SIZE_LIMIT + 1, 413)):
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps({"content": "file"}))
        form.add_field("files[0]", b"x" * size, filename="big.bin")
        async with raw.http.post(url, data=form) as response:
            assert response.status == status, size
            if status == 413:
                assert (await response.json())["code"] == 40005


async def test_an_answer_carries_files_up_to_the_interaction_s_own_limit(raw: Raw) -> None:
    raw.double.upload_limit = 1000  # Discord sends each interaction's attachment_size_limit
    sent = await raw.double.slash("ping", raw.user)
    assert sent.payload["attachment_size_limit"] == 1000
    assert (await raw.callback(sent, 5)).status == 200
    url = raw.double.api_base + raw.hook(sent, "/messages/@original")
    for size, status in ((1000, 200), (1001, 413)):
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps({"content": "picture"}))
        form.add_field("files[0]", b"x" * size, filename="layout.png")
        async with raw.http.patch(url, data=form) as response:
            assert response.status == status, size
            if status == 413:
                assert (await response.json())["code"] == 40005

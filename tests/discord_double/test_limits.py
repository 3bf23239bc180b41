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


async def test_embeds_over_their_limits_are_refused_naming_the_field(raw: Raw) -> None:
    channel = f"/channels/{raw.double.guild.channel_id}/messages"
    fine = {"title": "t" * 256, "description": "d" * 4096, "footer": {"text": "f" * 100}}
    assert (await raw.call("POST", channel, {"embeds": [fine]})).status == 200
    for embeds, where in (
        ([{"title": "t" * 257}], "title"),
        ([{"description": "d" * 4097}], "description"),
        ([{"footer": {"text": "f" * 2049}}], "footer"),
        ([{"fields": [{"name": "n", "value": "v" * 1025}]}], "fields"),
        ([{"description": "d" * 4000}, {"description": "d" * 2001}], "embeds"),
        ([{"title": "t"}] * 11, "embeds"),
    ):
        refused = await raw.call("POST", channel, {"embeds": embeds})
        assert (refused.status, refused.code) == (400, 50035), where
        assert where in str(refused.body["errors"])


MODAL_ROW = {
    "type": 1,
    "components": [{"type": 4, "custom_id": "body", "label": "Message", "style": 2}],
}


async def test_modals_over_their_limits_are_refused_and_leave_the_interaction_open(
    raw: Raw,
) -> None:
    sent = await raw.double.slash("ping", raw.user)
    for data, where in (
        ({"title": "x" * 46, "custom_id": "f", "components": [MODAL_ROW]}, "title"),
        ({"title": "Form", "custom_id": "f", "components": [MODAL_ROW] * 6}, "components"),
        (
            {
                "title": "Form",
                "custom_id": "f",
                "components": [
                    {"type": 1, "components": [{**MODAL_ROW["components"][0], "label": "l" * 46}]}
                ],
            },
            "label",
        ),
    ):
        refused = await raw.callback(sent, 9, **data)
        assert (refused.status, refused.code) == (400, 50035), where
        assert where in str(refused.body["errors"])
    opened = await raw.callback(sent, 9, title="Form", custom_id="f", components=[MODAL_ROW])
    assert opened.status == 200  # a refused body did not answer the interaction

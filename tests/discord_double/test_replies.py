"""The double answers replies as Discord does: a reply to a message that is gone is
refused with 400 / 50035, or posted without the reference when ``fail_if_not_exists`` is
false. Driven with aiohttp."""

from __future__ import annotations

from tests.discord_double.conftest import Raw


async def test_a_reply_to_a_deleted_message_is_refused_or_posted_without_reference(
    raw: Raw,
) -> None:
    channel = raw.double.guild.channel_id
    path = f"/channels/{channel}/messages"
    asked = await raw.double.post_message("!message Agent-1 hi", raw.user)
    reference = {"message_id": asked["id"], "channel_id": str(channel)}
    answered = await raw.call("POST", path, {"content": "queued", "message_reference": reference})
    assert answered.status == 200
    assert answered.body["message_reference"]["message_id"] == asked["id"]

    await raw.double.delete_message(asked)
    refused = await raw.call("POST", path, {"content": "again", "message_reference": reference})
    assert (refused.status, refused.code) == (400, 50035)
    assert "message_reference" in refused.body["errors"]

    lenient = {**reference, "fail_if_not_exists": False}
    posted = await raw.call("POST", path, {"content": "anyway", "message_reference": lenient})
    assert posted.status == 200 and "message_reference" not in posted.body

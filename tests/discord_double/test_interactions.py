"""The double answers interactions as Discord's documentation says it does: one initial
response within 3 s, tokens for 15 minutes, the first follow-up after a deferral, and
updates of the message a component is on. Driven with aiohttp, not discord.py."""

from __future__ import annotations

import pytest

from tests.discord_double import NotClickable
from tests.discord_double.conftest import Raw

MESSAGE, DEFERRED, DEFERRED_UPDATE, UPDATE = 4, 5, 6, 7
EPHEMERAL = 64
BUTTON = {"type": 2, "style": 1, "label": "Go", "custom_id": "go"}


async def posted_with_button(raw: Raw) -> int:
    channel = raw.double.guild.channel_id
    answer = await raw.call(
        "POST",
        f"/channels/{channel}/messages",
        {"content": "pick", "components": [{"type": 1, "components": [BUTTON]}]},
    )
    assert answer.status == 200
    return int(answer.body["id"])


async def test_one_answer_within_three_seconds(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    first = await raw.callback(sent, MESSAGE, content="pong")
    assert first.status == 200 and first.body["resource"]["message"]["content"] == "pong"
    again = await raw.callback(sent, MESSAGE, content="pong again")
    assert (again.status, again.code) == (400, 40060)
    assert raw.double.failed(sent) is False


async def test_an_answer_after_three_seconds_is_an_unknown_interaction(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    raw.double.clock.advance(3.01)
    late = await raw.callback(sent, DEFERRED)
    assert (late.status, late.code) == (404, 10062)
    assert raw.double.failed(sent) is True


async def test_an_unanswered_interaction_failed_once_three_seconds_passed(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    assert raw.double.failed(sent) is False
    raw.double.clock.advance(3.01)
    assert raw.double.failed(sent) is True


async def test_the_token_works_for_fifteen_minutes(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    assert (await raw.callback(sent, DEFERRED)).status == 200
    raw.double.clock.advance(14 * 60)
    edited = await raw.call("PATCH", raw.hook(sent, "/messages/@original"), {"content": "1"})
    assert edited.status == 200 and edited.body["content"] == "1"
    raw.double.clock.advance(61)
    for method, tail, body in (
        ("PATCH", "/messages/@original", {"content": "2"}),
        ("POST", "", {"content": "3"}),
        ("DELETE", "/messages/@original", None),
    ):
        refused = await raw.call(method, raw.hook(sent, tail), body)
        assert (refused.status, refused.code) == (401, 50027), method


async def test_first_follow_up_after_a_deferral_replaces_it_and_ignores_its_flags(
    raw: Raw,
) -> None:
    sent = await raw.double.slash("ping", raw.user)
    deferred = await raw.callback(sent, DEFERRED)  # public "thinking…"
    loading = deferred.body["resource"]["message"]
    assert deferred.body["interaction"]["response_message_loading"] is True

    first = await raw.call("POST", raw.hook(sent), {"content": "secret", "flags": EPHEMERAL})
    assert first.body["id"] == loading["id"]  # the loading message, edited
    assert not first.body["flags"] & EPHEMERAL  # public, as the deferral was
    second = await raw.call("POST", raw.hook(sent), {"content": "private", "flags": EPHEMERAL})
    assert second.body["id"] != loading["id"] and second.body["flags"] & EPHEMERAL


async def test_a_private_deferral_stays_private_whatever_the_follow_up_asks(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    await raw.callback(sent, DEFERRED, flags=EPHEMERAL)
    first = await raw.call("POST", raw.hook(sent), {"content": "for you"})
    assert first.body["flags"] & EPHEMERAL


async def test_a_follow_up_after_the_loading_message_went_is_a_new_message(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    loading = (await raw.callback(sent, DEFERRED)).body["resource"]["message"]
    assert (await raw.call("DELETE", raw.hook(sent, "/messages/@original"))).status == 204
    told = await raw.call("POST", raw.hook(sent), {"content": "why", "flags": EPHEMERAL})
    assert told.body["id"] != loading["id"] and told.body["flags"] & EPHEMERAL


async def test_an_update_edits_the_message_of_the_component(raw: Raw) -> None:
    message_id = await posted_with_button(raw)
    clicked = await raw.double.click(message_id, "go", raw.user)
    answer = await raw.callback(clicked, UPDATE, content="done", components=[])
    assert answer.status == 200
    assert answer.body["resource"]["message"]["id"] == str(message_id)
    assert raw.double.messages[message_id]["content"] == "done"
    with pytest.raises(NotClickable):  # the button is gone for everyone
        await raw.double.click(message_id, "go", raw.user)


async def test_a_deferred_update_makes_the_component_message_the_original(raw: Raw) -> None:
    message_id = await posted_with_button(raw)
    clicked = await raw.double.click(message_id, "go", raw.user)
    assert (await raw.callback(clicked, DEFERRED_UPDATE)).status == 200
    assert raw.double.messages[message_id]["content"] == "pick"  # unchanged until edited
    disabled = [{"type": 1, "components": [{**BUTTON, "disabled": True}]}]
    edit = {"content": "working", "components": disabled}
    edited = await raw.call("PATCH", raw.hook(clicked, "/messages/@original"), edit)
    assert edited.body["id"] == str(message_id)
    with pytest.raises(NotClickable, match="disabled"):
        await raw.double.click(message_id, "go", raw.user)


async def test_updates_are_for_components_only(raw: Raw) -> None:
    sent = await raw.double.slash("ping", raw.user)
    refused = await raw.callback(sent, UPDATE, content="x")
    assert (refused.status, refused.code) == (400, 50035)
    assert (await raw.callback(sent, MESSAGE, content="pong")).status == 200  # still open

"""Long answers: split at line ends into a few messages, or attached when longer still;
answers after the interaction's token expired, and errors after a public deferral."""

from __future__ import annotations

import asyncio

from bot.present import pieces
from bot.reply import KEPT_PRIVATE, MAX_PIECES, layout
from tests.bot.conftest import Swarm, until
from tests.discord_double import DiscordError, RestCall

EPHEMERAL = 64


def test_pieces_respect_the_limit_and_drop_nothing() -> None:
    lines = [f"line {n} " + "x" * (n % 90) for n in range(400)]
    text = "\n".join(lines)
    parts = pieces(text)
    assert all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text


def test_a_line_longer_than_a_message_is_cut_inside() -> None:
    parts = pieces("y" * 4500)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_short_text_is_one_message() -> None:
    assert layout("hello") == (["hello"], None)


def test_very_long_text_is_attached_whole() -> None:
    text = "header\n" + "z" * (2000 * MAX_PIECES + 1)
    parts, file = layout(text)
    assert file is not None and file.filename == "reply.md"
    assert file.fp.read().decode() == text
    assert len(parts) == 1 and "attached as reply.md" in parts[0]


async def test_an_outcome_after_fifteen_minutes_goes_on_in_the_channel(swarm: Swarm) -> None:
    swarm.screen.gate.clear()
    sent = await swarm.run("send", agent="Agent-2", message="a long job")
    await swarm.final(sent, "queued")
    await asyncio.wait_for(swarm.screen.typing.wait(), 5)
    swarm.double.clock.advance(15 * 60 + 1)  # the desk took longer than the token lives
    swarm.screen.gate.set()

    channel = f"/channels/{swarm.double.guild.channel_id}/messages"
    posted = await swarm.double.wait_call(lambda c: c.method == "POST" and c.path == channel)
    assert posted.content.startswith(f"<@{swarm.people.operator.id}> /send: ")
    assert "Agent-2: delivered via gui" in posted.content
    assert posted.allowed_mentions == {"parse": []}
    refused = [error.code for _, error in swarm.double.refused]
    assert refused == [50027]  # one try through the expired token, then the channel


async def test_an_error_after_a_deferral_stays_private_when_thinking_cannot_go(
    swarm: Swarm,
) -> None:
    swarm.double.refuse(
        lambda c: c.method == "DELETE" and c.path.endswith("/messages/@original"),
        DiscordError(403, 50013, "Missing Permissions"),
    )
    sent = await swarm.run("send", agent="Agent-99", message="hi")
    await swarm.double.reply(sent, lambda c: "unknown agent" in c.content)
    told = [m for m in swarm.double.messages.values() if "unknown agent" in m["content"]]
    assert told and all(m["flags"] & EPHEMERAL for m in told)
    assert swarm.double.original(sent)["content"] == KEPT_PRIVATE  # the public line


def test_text_too_long_even_for_a_file_says_so_instead() -> None:
    text = "header\n" + "z" * (2000 * MAX_PIECES + 1)
    parts, file = layout(text, upload_limit=4096)
    assert file is None
    assert parts == [
        f"header\n(the whole reply is {len(text):,} characters: reply.md (7.8 KiB) is over "
        "Discord's upload limit here (4.0 KiB): not attached)"
    ]


async def test_replies_go_through_rate_limits_of_their_routes(swarm: Swarm) -> None:
    hook = f"/webhooks/{swarm.double.application_id}/"
    swarm.double.rate_limit(
        lambda c: c.method == "PATCH" and c.path.startswith(hook), retry_after=0.3, times=2
    )
    sent = await swarm.run("send", agent="Agent-2", message="under a rate limit")
    await swarm.final(sent, "delivered via gui")
    assert [is_global for _, is_global in swarm.double.rate_limited] == [False, False]
    assert "Agent-2: delivered via gui" in swarm.double.original(sent)["content"]


async def test_a_reply_in_the_channel_goes_through_a_global_rate_limit(swarm: Swarm) -> None:
    swarm.screen.gate.clear()
    sent = await swarm.run("send", agent="Agent-2", message="a long job")
    await swarm.final(sent, "queued")
    await asyncio.wait_for(swarm.screen.typing.wait(), 5)
    swarm.double.clock.advance(15 * 60 + 1)  # the outcome goes to the channel
    swarm.double.global_rate_limit(retry_after=0.3, times=2)
    swarm.screen.gate.set()

    channel = f"/channels/{swarm.double.guild.channel_id}/messages"
    posts = await until(
        lambda: [
            c
            for c in swarm.double.calls
            if c.method == "POST" and c.path == channel and c not in limited(swarm)
        ]
    )
    assert len(limited(swarm)) == 2 and all(c.path == channel for c in limited(swarm))
    assert "Agent-2: delivered via gui" in posts[0].content
    stored = [m for m in swarm.double.messages.values() if "delivered via gui" in m["content"]]
    assert len(stored) == 1  # posted once, not once per try


def limited(swarm: Swarm) -> list[RestCall]:
    return [call for call, _ in swarm.double.rate_limited]

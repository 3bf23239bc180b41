"""/send, /broadcast, /retry and /history, driven through the Discord double."""

from __future__ import annotations

import asyncio
import json

from tests.bot.conftest import Swarm
from tests.discord_double import Upload

DEFERRED = 5  # "thinking…": the acknowledgement
MESSAGE = 4
MODAL = 9
AUTOCOMPLETE = 8


async def test_send_acknowledges_then_shows_the_outcome(swarm: Swarm) -> None:
    sent = await swarm.run("send", agent="Agent-2", message="hello @everyone")
    ack = await swarm.double.callback(sent)
    assert ack.json["type"] == DEFERRED
    final = await swarm.final(sent, "delivered via gui")
    assert "Agent-2" in final.content
    assert final.allowed_mentions == {"parse": []}
    assert swarm.screen.received("Agent-2") == ["hello @everyone"]
    row = await swarm.audited("/send")
    assert row["actor"].startswith(f"discord:{swarm.people.operator.id}")
    assert "1 delivered" in row["outcome"]


async def test_unauthorized_user_is_refused_privately_and_logged(swarm: Swarm) -> None:
    sent = await swarm.run("send", swarm.people.stranger, agent="Agent-1", message="hi")
    refusal = await swarm.double.callback(sent)
    assert refusal.json["type"] == MESSAGE
    assert refusal.ephemeral
    assert "not allowed" in refusal.content
    assert await swarm.rt.store.pending() == 0
    assert await swarm.rt.service.history() == []
    row = await swarm.audited("/send")
    assert row["outcome"].startswith("refused")


async def test_broadcast_needs_an_admin(swarm: Swarm) -> None:
    sent = await swarm.run("broadcast", message="everyone stop")
    refusal = await swarm.double.callback(sent)
    assert refusal.ephemeral and "needs an admin" in refusal.content
    assert await swarm.rt.service.history() == []


async def test_unknown_agent_answer_lists_the_known_ones(swarm: Swarm) -> None:
    sent = await swarm.run("send", agent="Agent-99", message="hi")
    assert (await swarm.double.callback(sent)).json["type"] == DEFERRED
    answer = await swarm.double.reply(sent, lambda c: c.ephemeral)
    assert "unknown agent 'Agent-99'" in answer.content
    assert "Agent-1, Agent-2" in answer.content
    # the public "thinking…" is taken away, the reason is private
    assert any(c.method == "DELETE" for c in swarm.double.calls_for(sent))


async def test_agent_autocomplete_offers_ids_with_roles(swarm: Swarm) -> None:
    sent = await swarm.double.autocomplete("send", swarm.people.operator, "agent", agent="agent-1")
    answer = await swarm.double.callback(sent)
    assert answer.json["type"] == AUTOCOMPLETE
    choices = answer.json["data"]["choices"]
    assert choices and choices[0]["value"] == "Agent-1"
    assert choices[0]["name"].startswith("Agent-1 — ")

    stranger = await swarm.double.autocomplete(
        "send", swarm.people.stranger, "agent", agent="Agent"
    )
    assert (await swarm.double.callback(stranger)).json["data"]["choices"] == []


async def test_broadcast_while_the_desk_is_busy_is_acknowledged_at_once(swarm: Swarm) -> None:
    swarm.screen.gate.clear()
    busy = await swarm.run("send", agent="Agent-1", message="a long job")
    await asyncio.wait_for(swarm.screen.typing.wait(), 5)

    sent = await swarm.run("broadcast", swarm.people.admin, message="status report, please")
    ack = await swarm.double.callback(sent, timeout=1.0)
    assert ack.json["type"] == DEFERRED
    assert ack.at - sent.sent_at < 0.5
    queued = await swarm.final(sent, "queued", timeout=2.0)
    assert "8 agents" in queued.content
    assert swarm.screen.jobs == []

    swarm.screen.gate.set()
    final = await swarm.final(sent, "Agent-8: delivered via gui", timeout=15)
    assert final.content.count("delivered via gui") == 8
    await swarm.final(busy, "delivered via gui")


async def test_send_without_text_opens_a_form(swarm: Swarm) -> None:
    sent = await swarm.run("send", agent="Agent-3", priority="urgent")
    opened = await swarm.double.callback(sent)
    assert opened.json["type"] == MODAL
    body_field = opened.json["data"]["components"][0]["components"][0]["custom_id"]
    submitted = await swarm.double.submit_modal(
        opened, swarm.people.operator, **{body_field: "a long brief\n" * 200}
    )
    assert (await swarm.double.callback(submitted)).json["type"] == DEFERRED
    final = await swarm.final(submitted, "delivered via gui")
    assert "(urgent)" in final.content
    assert swarm.screen.received("Agent-3") == ["a long brief\n" * 200]
    arguments = json.loads((await swarm.audited("/send form"))["arguments"])
    assert arguments["message"].endswith("… (2,600 chars)") and len(arguments["message"]) < 100


async def test_text_can_come_as_an_attached_file(swarm: Swarm) -> None:
    brief = "# Plan\n" + "step\n" * 3000
    sent = await swarm.run("send", agent="Agent-4", file=Upload("plan.md", brief.encode()))
    await swarm.final(sent, "delivered via gui")
    assert swarm.screen.received("Agent-4") == [brief]
    arguments = json.loads((await swarm.audited("/send"))["arguments"])
    assert arguments["file"] == f"file plan.md ({len(brief):,} bytes)"

    wrong = await swarm.run("send", agent="Agent-4", file=Upload("plan.pdf", b"%PDF"))
    answer = await swarm.double.reply(wrong, lambda c: c.ephemeral)
    assert "not a .md or .txt file" in answer.content


async def test_long_history_is_split_into_several_messages(swarm: Swarm) -> None:
    for n in range(20):
        await swarm.rt.service.send(["Agent-1"], f"message {n} " + "word " * 40)
    sent = await swarm.run("history", limit=20)
    await swarm.double.callback(sent)
    first = await swarm.double.reply(sent, lambda c: c.method == "PATCH")
    rest = await swarm.double.reply(sent, lambda c: c.method == "POST")
    assert first.ephemeral is False  # edits carry no flags; the deferral was ephemeral
    assert len(first.content) <= 2000 and len(rest.content) <= 2000
    assert rest.ephemeral
    assert "message 19" in first.content


async def test_retry_queues_again_what_fell_back(swarm: Swarm) -> None:
    sub = await swarm.rt.service.send(["Agent-5"], "first try")
    await swarm.rt.desk.wait_for(sub.message.id, 10)
    sent = await swarm.run("retry", message_id=sub.message.id)
    answer = await swarm.final(sent, "nothing to retry")
    assert sub.message.id in answer.content

    missing = await swarm.run("retry", message_id="0123456789abcdef")
    error = await swarm.double.reply(missing, lambda c: c.ephemeral)
    assert "no message with id '0123456789abcdef'" in error.content


async def test_retrying_a_broadcast_needs_an_admin(swarm: Swarm) -> None:
    sub = await swarm.rt.service.broadcast("everyone: stop")
    await swarm.rt.desk.wait_for(sub.message.id, 10)
    by_operator = await swarm.run("retry", message_id=sub.message.id)
    refusal = await swarm.double.reply(by_operator, lambda c: c.ephemeral)
    assert "this command needs an admin" in refusal.content
    by_admin = await swarm.run("retry", swarm.people.admin, message_id=sub.message.id)
    await swarm.final(by_admin, "nothing to retry")


async def test_an_error_longer_than_a_message_is_told_whole(swarm: Swarm) -> None:
    agent = "Agent-" + "9" * 4_500  # Discord passes options of up to 6,000 characters
    sent = await swarm.run("send", agent=agent, message="hi")
    await swarm.double.callback(sent)
    first = await swarm.double.reply(sent, lambda c: "unknown agent" in c.content)
    await swarm.double.reply(sent, lambda c: "known agents: Agent-1" in c.content)  # the last
    told = [c for c in swarm.double.calls_for(sent) if c.method == "POST" and c.ephemeral]
    assert first in told and len(told) >= 3
    assert all(len(c.content) <= 2_000 for c in told)
    assert "9" * 4_500 in "".join(c.content for c in told).replace("\n", "")

"""The message forms: what a user typed is never lost, and permissions hold at submit."""

from __future__ import annotations

from bot.cogs.panel import AGENT_SELECT
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, Swarm, bot_settings, running_bot
from tests.discord_double import RestCall

MODAL, DEFERRED, MESSAGE = 9, 5, 4
BRIEF = "A carefully typed brief: move the parser behind the new interface. " * 40


def field_ids(opened: RestCall) -> list[str]:
    return [row["components"][0]["custom_id"] for row in opened.json["data"]["components"]]


def attached(call: RestCall) -> str:
    [(name, content)] = call.files.values()
    assert name == "your-message.md"
    return content.decode("utf-8")


async def test_a_wrong_priority_is_explained_and_the_text_given_back(swarm: Swarm) -> None:
    sent = await swarm.run("panel")
    await swarm.double.callback(sent)
    panel = int(swarm.double.original(sent)["id"])
    picked = await swarm.double.click(panel, AGENT_SELECT, swarm.people.operator, ["Agent-2"])
    opened = await swarm.double.callback(picked)
    body_id, priority_id = field_ids(opened)
    submitted = await swarm.double.submit_modal(
        opened, swarm.people.operator, **{body_id: BRIEF, priority_id: "high"}
    )
    refusal = await swarm.double.callback(submitted)
    assert refusal.ephemeral
    assert "unknown priority 'high'; use one of: normal, urgent, critical" in refusal.content
    kept = await swarm.double.reply(submitted, lambda c: bool(c.files))
    assert kept.ephemeral and attached(kept) == BRIEF
    assert await swarm.rt.service.history() == []
    row = await swarm.audited("panel send")
    assert "Agent-2" in row["arguments"] and "'high'" in row["outcome"]
    assert "A carefully typed brief" in row["arguments"] and BRIEF not in row["arguments"]


async def test_permission_is_checked_again_when_the_form_comes_back(swarm: Swarm) -> None:
    sent = await swarm.run("send", agent="Agent-3")
    opened = await swarm.double.callback(sent)
    assert opened.json["type"] == MODAL
    [body_id] = field_ids(opened)
    swarm.bot.access.settings.allowed_role_ids.clear()  # the operator lost the role meanwhile
    submitted = await swarm.double.submit_modal(opened, swarm.people.operator, **{body_id: BRIEF})
    refusal = await swarm.double.callback(submitted)
    assert refusal.ephemeral and "not allowed to command the swarm" in refusal.content
    assert attached(await swarm.double.reply(submitted, lambda c: bool(c.files))) == BRIEF
    assert await swarm.rt.service.history() == []
    assert swarm.screen.received("Agent-3") == []


async def test_a_form_open_across_a_restart_gives_the_text_back(swarm: Swarm) -> None:
    sent = await swarm.run("send", agent="Agent-3", priority="urgent")
    opened = await swarm.double.callback(sent)
    [body_id] = field_ids(opened)
    await swarm.bot.close()
    home, double = swarm.rt.home, swarm.double
    settings = bot_settings(home, double, swarm.people)
    await swarm.rt.desk.stop()  # the next runtime takes the desk over
    async with (
        open_runtime(home, settings, GatedScreen()) as rt,
        running_bot(rt, settings, double),
    ):
        submitted = await double.submit_modal(opened, swarm.people.operator, **{body_id: BRIEF})
        answer = await double.callback(submitted)
        assert answer.json["type"] == MESSAGE and answer.ephemeral
        assert "this form had expired" in answer.content and "nothing was sent" in answer.content
        assert attached(answer) == BRIEF
        assert await rt.service.history() == []
    row = await swarm.audited("expired form")
    assert row["outcome"] == "refused: the form had expired"

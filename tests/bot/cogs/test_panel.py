"""/panel: the persistent control panel, its message form and its buttons."""

from __future__ import annotations

from bot.cogs.panel import AGENT_SELECT, BROADCAST_BUTTON, STATUS_BUTTON
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, Swarm, bot_settings, running_bot

MODAL, DEFERRED = 9, 5


async def post_panel(swarm: Swarm) -> int:
    sent = await swarm.run("panel")
    posted = await swarm.double.callback(sent)
    assert posted.json["type"] == 4
    assert not posted.ephemeral
    return int(swarm.double.original(sent)["id"])


async def test_picking_an_agent_opens_a_form_that_sends(swarm: Swarm) -> None:
    panel = await post_panel(swarm)
    options = swarm.double.messages[panel]["components"][0]["components"][0]["options"]
    assert [o["value"] for o in options][:2] == ["Agent-1", "Agent-2"]

    picked = await swarm.double.click(panel, AGENT_SELECT, swarm.people.operator, ["Agent-6"])
    opened = await swarm.double.callback(picked)
    assert opened.json["type"] == MODAL
    body_id, priority_id = (
        row["components"][0]["custom_id"] for row in opened.json["data"]["components"]
    )
    submitted = await swarm.double.submit_modal(
        opened, swarm.people.operator, **{body_id: "take the parser", priority_id: "critical"}
    )
    assert (await swarm.double.callback(submitted)).json["type"] == DEFERRED
    final = await swarm.final(submitted, "delivered via gui")
    assert "(critical)" in final.content
    assert swarm.screen.received("Agent-6") == ["take the parser"]
    row = await swarm.audited("panel send")
    assert "1 delivered" in row["outcome"]


async def test_panel_refuses_strangers_and_keeps_broadcast_for_admins(swarm: Swarm) -> None:
    panel = await post_panel(swarm)
    stranger = await swarm.double.click(panel, STATUS_BUTTON, swarm.people.stranger)
    refusal = await swarm.double.callback(stranger)
    assert refusal.ephemeral and "not allowed" in refusal.content

    operator = await swarm.double.click(panel, BROADCAST_BUTTON, swarm.people.operator)
    refusal = await swarm.double.callback(operator)
    assert refusal.ephemeral and "needs an admin" in refusal.content

    admin = await swarm.double.click(panel, BROADCAST_BUTTON, swarm.people.admin)
    opened = await swarm.double.callback(admin)
    assert opened.json["type"] == MODAL


async def test_panel_answers_after_the_bot_restarts(swarm: Swarm) -> None:
    panel = await post_panel(swarm)
    await swarm.bot.close()
    home, double = swarm.rt.home, swarm.double
    settings = bot_settings(home, double, swarm.people)
    await swarm.rt.desk.stop()  # the next runtime takes the desk over

    async with (
        open_runtime(home, settings, GatedScreen()) as rt,
        running_bot(rt, settings, double),
    ):
        clicked = await double.click(panel, STATUS_BUTTON, swarm.people.operator)
        assert (await double.callback(clicked)).json["type"] == DEFERRED
        status = await swarm.final(clicked, "**desk**")
        assert "running in the bot" in status.content
        assert "Agent-8" in status.content

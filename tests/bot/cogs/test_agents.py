"""/agents, /role and /onboard."""

from __future__ import annotations

from coordinates import load_coordinates
from tests.bot.conftest import Swarm


async def test_role_is_saved_in_the_coordinates_file_and_shown(swarm: Swarm) -> None:
    sent = await swarm.run("role", swarm.people.admin, agent="Agent-2", role="parser & tests")
    await swarm.final(sent, "Agent-2` role")
    document = load_coordinates(swarm.rt.home.coordinates_file)
    assert document.agents["Agent-2"].description == "parser & tests"

    listed = await swarm.run("agents")
    table = await swarm.final(listed, "**agents**")
    assert "`Agent-2` · parser & tests · active" in table.content

    typed = await swarm.double.autocomplete("send", swarm.people.operator, "agent", agent="parser")
    [choice] = (await swarm.double.callback(typed)).json["data"]["choices"]
    assert choice == {"name": "Agent-2 — parser & tests", "value": "Agent-2"}


async def test_role_needs_an_admin(swarm: Swarm) -> None:
    sent = await swarm.run("role", agent="Agent-2", role="anything")
    refusal = await swarm.double.callback(sent)
    assert refusal.ephemeral and "needs an admin" in refusal.content


async def test_onboard_all_types_into_every_active_agent(swarm: Swarm) -> None:
    sent = await swarm.run("onboard", swarm.people.admin, target="all")
    final = await swarm.final(sent, "Agent-8: delivered via gui", timeout=15)
    assert final.content.count("delivered via gui") == 8
    [job] = [j for j in swarm.screen.jobs if j.agent.agent_id == "Agent-5"]
    assert job.onboarding and job.message.body.startswith("You are Agent-5, one of 8")
    assert (await swarm.audited("/onboard"))["outcome"] == "onboarding: 8 delivered"


async def test_a_broken_onboarding_template_is_explained(swarm: Swarm) -> None:
    swarm.rt.home.onboarding_template.write_text("Hello ${name}", encoding="utf-8")
    sent = await swarm.run("onboard", swarm.people.admin, target="Agent-1")
    answer = await swarm.double.reply(sent, lambda c: c.ephemeral)
    assert "unknown placeholder ${name}" in answer.content
    assert swarm.screen.jobs == []

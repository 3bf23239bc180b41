"""/pause, /resume and /status."""

from __future__ import annotations

from tests.bot.conftest import Swarm


async def test_pause_holds_screen_deliveries_until_resume(swarm: Swarm) -> None:
    paused = await swarm.run("pause", reason="moving windows")
    await swarm.final(paused, "desk paused: moving windows")
    assert swarm.rt.desk.paused

    sent = await swarm.run("send", agent="Agent-1", message="after the pause")
    await swarm.final(sent, "queued")
    status = await swarm.run("status")
    shown = await swarm.final(status, "**desk**")
    assert "paused: moving windows" in shown.content
    assert "`Agent-1` queued 1" in shown.content
    assert swarm.screen.jobs == []

    resumed = await swarm.run("resume")
    await swarm.final(resumed, "was paused: moving windows")
    await swarm.final(sent, "delivered via gui")

"""/pause, /resume and /status."""

from __future__ import annotations

from bot.status import status_text
from coordinates.errors import NoDisplayError
from coordinates.layout import Layout, Monitor
from tests.bot.conftest import Swarm, until


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


async def test_status_names_agents_whose_point_is_on_no_monitor(swarm: Swarm) -> None:
    only_left = Layout((Monitor("left", 0, 0, 1920, 1080, primary=True),))
    text = await status_text(swarm.rt, read=lambda: only_left)
    assert "**layout**: 1 monitor; ⚠️ chat point on no monitor: Agent-5 (2400, 480)" in text
    assert "Agent-1 (" not in text.split("**layout**")[1].split("\n")[0]

    def no_display() -> Layout:
        raise NoDisplayError("no display: DISPLAY is not set")

    assert "**layout**: ⚠️ no display: DISPLAY is not set" in await status_text(
        swarm.rt, read=no_display
    )


async def test_status_says_the_desk_waits_for_the_operator(swarm: Swarm) -> None:
    swarm.screen.operator_idle = 0.1  # mouse or keyboard used a moment ago
    sent = await swarm.run("send", agent="Agent-1", message="when your hands rest")
    await until(lambda: swarm.rt.desk.waiting)
    status = await swarm.run("status")
    shown = await swarm.final(status, "**desk**")
    assert "⏳ running in the bot, waiting for the operator: mouse or keyboard used 0.1 s" in (
        shown.content
    )
    assert swarm.screen.jobs == []
    swarm.screen.operator_idle = 60.0  # the operator's hands rest
    await swarm.final(sent, "delivered via gui")
    assert swarm.screen.received("Agent-1") == ["when your hands rest"]

"""The gateway connection breaks; the bot reconnects and nothing queued is lost."""

from __future__ import annotations

import pytest

from tests.bot.conftest import Swarm

REIDENTIFY_TIMEOUT = 20.0  # discord.py waits 5 s before identifying again


async def queue_three(swarm: Swarm) -> list:
    swarm.rt.desk.pause("the test holds deliveries back")
    sent = [await swarm.run("send", agent=f"Agent-{n}", message=f"task {n}") for n in (1, 2, 3)]
    for one in sent:
        await swarm.final(one, "queued")
    assert await swarm.rt.store.pending() == 3
    return sent


async def test_dropped_socket_resumes_and_replays_what_was_missed(swarm: Swarm) -> None:
    double = swarm.double
    sent = await queue_three(swarm)

    await double.gateway.drop(code=4000)
    missed = await swarm.run("send", agent="Agent-4", message="sent while the bot was away")
    await double.gateway.wait(lambda: double.gateway.resumes >= 1, timeout=10)
    assert double.gateway.identifies == 1  # resumed, not a new session
    assert double.gateway.replayed >= 1

    assert (await double.callback(missed)).json["type"] == 5
    await swarm.final(missed, "queued")
    swarm.rt.desk.resume()
    for one in [*sent, missed]:
        await swarm.final(one, "delivered via gui")
    assert [swarm.screen.received(f"Agent-{n}") for n in (1, 2, 3)] == [
        ["task 1"],
        ["task 2"],
        ["task 3"],
    ]
    assert swarm.screen.received("Agent-4") == ["sent while the bot was away"]


@pytest.mark.slow
async def test_invalidated_session_identifies_again_and_keeps_the_queue(swarm: Swarm) -> None:
    double = swarm.double
    sent = await queue_three(swarm)

    await double.gateway.invalidate()
    await double.wait_ready(identifies=2, timeout=REIDENTIFY_TIMEOUT)

    resume = await swarm.run("resume")
    await swarm.final(resume, "desk running")
    for one in sent:
        await swarm.final(one, "delivered via gui")
    assert len(swarm.screen.jobs) == 3
    assert await swarm.rt.store.pending() == 0


async def test_reconnect_op_resumes_and_answers_what_came_meanwhile(swarm: Swarm) -> None:
    double = swarm.double
    await double.gateway.reconnect()
    missed = await swarm.run("send", agent="Agent-5", message="during the reconnect")
    await double.gateway.wait(lambda: double.gateway.resumes >= 1, timeout=10)
    assert double.gateway.identifies == 1  # resumed, not a new session
    assert double.gateway.compressed == 2  # both connections read as a zlib stream
    await swarm.final(missed, "delivered via gui")
    assert swarm.screen.received("Agent-5") == ["during the reconnect"]


async def test_resumable_invalid_session_resumes(swarm: Swarm) -> None:
    double = swarm.double
    await double.gateway.invalidate(resumable=True)
    await double.gateway.wait(lambda: double.gateway.resumes >= 1, timeout=10)
    assert double.gateway.identifies == 1
    sent = await swarm.run("send", agent="Agent-6", message="after the resume")
    await swarm.final(sent, "delivered via gui")

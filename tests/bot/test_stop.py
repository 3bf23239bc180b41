"""Stopping the bot while replies still wait on outcomes, against the Discord double: the
replies say where the outcome will show, nothing is logged as an error, nothing is lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from messaging.model import DeliveryState, Outcome
from tests.bot.conftest import Swarm


async def test_stopping_leaves_each_waiting_reply_pointing_to_history(
    swarm: Swarm, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    swarm.screen.gate.clear()  # the desk is busy typing: no outcome comes
    busy = await swarm.run("send", agent="Agent-1", message="a long job")
    await asyncio.wait_for(swarm.screen.typing.wait(), 5)
    waiting = [
        await swarm.run("send", agent="Agent-2", message="behind the long job"),
        await swarm.run("broadcast", swarm.people.admin, message="everyone, after that"),
    ]
    for sent in [busy, *waiting]:
        await swarm.final(sent, "queued; waiting for the desk")

    await asyncio.wait_for(swarm.bot.close(), 15)

    for sent in [busy, *waiting]:
        last = [c for c in swarm.double.calls_for(sent) if c.method == "PATCH"][-1]
        assert "`/history` shows the outcome" in last.content, last.content
        assert ("delivering" if sent is busy else "still queued") in last.content
        assert "internal error" not in last.content.lower()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    rows = [d for e in await swarm.rt.service.history() for d in e.deliveries]
    assert len(rows) == 1 + 1 + 8 and all(d.state is not DeliveryState.FAILED for d in rows)
    swarm.screen.gate.set()


async def test_stopping_cancels_no_wait_on_the_desk(
    swarm: Swarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wait on the desk holds its condition; Python 3.11's wait_for, cancelled twice
    (on stop, then when stop() cuts a late command short), left its inner wait behind to
    take that condition after everyone was gone, and the desk's stop waited for ever. So
    stopping ends the waits between their steps, and cancels none."""
    desk = swarm.rt.desk
    wait_for = desk.wait_for
    cancelled: list[str] = []

    async def watched(message_id: str, timeout: float) -> dict[str, Outcome]:
        try:
            return await wait_for(message_id, timeout)
        except asyncio.CancelledError:
            cancelled.append(message_id)
            raise

    monkeypatch.setattr(desk, "wait_for", watched)
    desk.pause("the test holds deliveries back")
    sent = [await swarm.run("send", agent=f"Agent-{n}", message="x") for n in range(1, 9)]
    for one in sent:
        await swarm.final(one, "queued; waiting for the desk")
    await asyncio.wait_for(swarm.bot.close(), 15)
    for one in sent:
        last = [c for c in swarm.double.calls_for(one) if c.method == "PATCH"][-1]
        assert "`/history` shows the outcome" in last.content
    assert cancelled == []

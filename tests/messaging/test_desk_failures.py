"""A desk batch that fails for a reason nobody foresaw: its deliveries go back to the queue
with the error (none stays "delivering"), and a desk run to the end of its queue ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import messaging.desk
from config import Home, Settings
from messaging.inbox import InboxLetter
from messaging.model import DeliveryState
from messaging.runtime import open_runtime
from tests.conftest import inbox_files


def broken_writer(letters: list[InboxLetter], pool: object = None) -> list[Path | OSError]:
    """Stands in for a bug in writing letters (no real failure raises this): the one way
    to reach the desk's handling of the unforeseen."""
    raise RuntimeError("a bug in writing letters")


async def test_a_batch_that_fails_goes_back_to_the_queue_and_the_desk_ends(
    home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_runtime(home, settings, start_desk=False) as rt:
        sub = await rt.service.send(["Agent-1", "Agent-2"], "hello")
    monkeypatch.setattr(messaging.desk, "write_letters", broken_writer)
    async with open_runtime(home, settings) as rt:
        await asyncio.wait_for(rt.desk.until_idle(), 10)  # `cellphone deliver` ends
        rows = await rt.store.deliveries(sub.message.id)
    assert {r.state for r in rows} == {DeliveryState.QUEUED}
    assert all("RuntimeError: a bug in writing letters" in (r.last_error or "") for r in rows)
    monkeypatch.undo()
    async with open_runtime(home, settings) as rt:
        assert sorted(await rt.service.retry(sub.message.id)) == ["Agent-1", "Agent-2"]
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert len(inbox_files(home, "Agent-1")) == len(inbox_files(home, "Agent-2")) == 1

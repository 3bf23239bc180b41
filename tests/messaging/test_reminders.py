"""Reminders of unacknowledged messages, on a real home: nudged once, then reported overdue
once, never again after a restart; an acknowledged message is left alone."""

from __future__ import annotations

from datetime import timedelta

from config import Home, load_settings
from messaging.model import MessageType, utc_now
from messaging.notices import Notices
from messaging.reminders import Reminders
from messaging.runtime import open_runtime
from tests.conftest import inbox_files


async def test_an_unacknowledged_message_is_nudged_once_then_reported_overdue(
    home: Home,
) -> None:
    settings = load_settings(home, watch={"ack_timeout_s": 60})
    async with open_runtime(home, settings) as rt:
        asked = (
            await rt.service.send(["Agent-1", "Agent-2"], "Ship it?", ack_required=True)
        ).message
        plain = (await rt.service.send(["Agent-1"], "no ack needed")).message
        await rt.desk.wait_for(asked.id, 10)
        await rt.desk.wait_for(plain.id, 10)
        await rt.service.acknowledge("Agent-2", [asked.id])
        reminders = Reminders(rt.service, Notices(rt.store), settings.watch.ack_timeout_s)
        assert await reminders.check() == (0, 0)  # not due yet
        later = utc_now() + timedelta(seconds=61)
        assert await reminders.check(later) == (1, 0)
        assert await reminders.check(later) == (0, 0)  # a nudge is sent once
        await rt.desk.until_idle()
        even_later = later + timedelta(seconds=61)
        assert await reminders.check(even_later) == (0, 1)
        assert await reminders.check(even_later + timedelta(hours=1)) == (0, 0)
        notes = await Notices(rt.store).unposted()
        queues = {q.agent_id: q for q in await rt.service.status()}
        thread = await rt.service.thread(asked.id)
    async with open_runtime(home, settings) as rt:  # a restart repeats nothing
        again = Reminders(rt.service, Notices(rt.store), 60)
        assert await again.check(even_later + timedelta(hours=2)) == (0, 0)
    letters = [p.read_text() for p in inbox_files(home, "Agent-1")]
    assert len(letters) == 3 and "Reminder: message " + asked.id in letters[-1]
    assert len(inbox_files(home, "Agent-2")) == 1  # acknowledged: never reminded
    [nudge] = [e.message for e in thread if e.message.type is MessageType.SYSTEM]
    assert nudge.reply_to == asked.id and nudge.recipients == ("Agent-1",)
    [note] = notes
    assert note.text.startswith(f"overdue: Agent-1 has not acknowledged message {asked.id}")
    assert (queues["Agent-1"].overdue, queues["Agent-2"].overdue) == (1, 0)

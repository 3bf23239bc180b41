"""Reminders of unacknowledged messages: a message sent with ``ack_required`` that an
agent leaves unacknowledged past ``watch.ack_timeout_s`` is delivered to it once more as
a reminder (a nudge); unacknowledged as long again after that, it is reported overdue to
the operator, once. Both are kept per delivery in the store, so a restart repeats neither.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from messaging.model import MessageType, utc_now
from messaging.notices import Channel, Notices
from messaging.periodic import Periodic
from messaging.service import MessageService
from messaging.store import Unacknowledged

log = logging.getLogger(__name__)
PREVIEW = 120


class Reminders(Periodic):
    what = "checking acknowledgements"

    def __init__(self, service: MessageService, notices: Notices, ack_timeout_s: float) -> None:
        super().__init__()
        self.service = service
        self.notices = notices
        self.ack_timeout_s = ack_timeout_s

    async def check(self, now: datetime | None = None) -> tuple[int, int]:
        """Nudge and report what is due now. Returns (nudged, reported overdue)."""
        now = now or utc_now()
        cutoff = now - timedelta(seconds=self.ack_timeout_s)
        nudged = overdue = 0
        for waiting in await self.service.store.unacknowledged(cutoff):
            if waiting.nudged_at is None:
                nudged += await self._nudge(waiting, now)
            elif waiting.nudged_at < cutoff:
                overdue += await self._report(waiting, now)
        return nudged, overdue

    async def tick(self) -> None:
        await self.check()

    async def _nudge(self, waiting: Unacknowledged, now: datetime) -> int:
        message, agent_id = waiting.message, waiting.agent_id
        body = (
            f"Reminder: message {message.id} from {message.sender} waits for your "
            f"acknowledgement. Write an outbox file with `ack: {message.id}`, or run "
            f"`cellphone ack {message.id} --agent {agent_id}`.\n\n{message.body}"
        )
        await self.service.send(
            [agent_id],
            body,
            sender="System",
            type=MessageType.SYSTEM,
            priority=message.priority,
            key=f"nudge:{message.id}:{agent_id}",
            reply_to=message.id,
        )
        return int(await self.service.store.stamp("nudged_at", message.id, agent_id, now))

    async def _report(self, waiting: Unacknowledged, now: datetime) -> int:
        message, agent_id = waiting.message, waiting.agent_id
        preview = " ".join(message.body.split())[:PREVIEW]
        await self.notices.add(
            Channel.OPERATOR,
            f"overdue: {agent_id} has not acknowledged message {message.id} from "
            f"{message.sender}, even after a reminder: {preview}",
            agent_id=agent_id,
            key=f"overdue:{message.id}:{agent_id}",
        )
        return int(await self.service.store.stamp("overdue_at", message.id, agent_id, now))

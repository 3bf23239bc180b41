"""Sending what users write and following it to the end: the reply shows the message
queued at once, then every recipient's outcome once the desk has tried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from bot import present
from bot.reply import Reply
from messaging.model import Priority
from messaging.runtime import Runtime
from messaging.service import Submission


class Courier:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def max_chars(self) -> int:
        return self.rt.settings.messaging.max_message_length

    async def send(
        self,
        reply: Reply,
        recipients: Sequence[str],
        body: str,
        *,
        priority: Priority | str = Priority.NORMAL,
        key: str | None = None,
    ) -> str:
        """Send ``body`` and report; returns the outcome line for the audit log."""
        return await self.follow(
            reply, lambda: self.rt.service.send(recipients, body, priority=priority, key=key)
        )

    async def broadcast(
        self,
        reply: Reply,
        body: str,
        *,
        exclude: Iterable[str] = (),
        priority: Priority | str = Priority.NORMAL,
        key: str | None = None,
    ) -> str:
        return await self.follow(
            reply,
            lambda: self.rt.service.broadcast(body, exclude=exclude, priority=priority, key=key),
        )

    async def follow(self, reply: Reply, submit: Callable[[], Awaitable[Submission]]) -> str:
        submission = await submit()
        message = submission.message
        await reply.show(present.queued(submission))
        outcomes = await self.rt.desk.wait_for(
            message.id, self.rt.settings.messaging.wait_timeout_s
        )
        await reply.show(present.delivered(message, outcomes))
        return f"message {message.id}: {present.tally(outcomes)}"

"""Sending what users write and following it to the end: the reply shows the message
queued at once, then every recipient's outcome once the desk has tried."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence

from bot import present
from bot.reply import Reply
from messaging.model import Outcome, Priority
from messaging.runtime import Runtime
from messaging.service import Submission

REPLY_WINDOW_S = 14 * 60  # Discord takes edits of a reply for 15 minutes after the command
STOP_GRACE_S = 10.0  # how long stop() lets the replies be edited before it cuts them short
WAIT_STEP_S = 0.5  # a wait on outcomes notices stop() this often


class Courier:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._waiting: set[asyncio.Task[object]] = set()
        self._stopping = asyncio.Event()

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
        submission = await submit()  # outside the tracking: stop() never cuts a write short
        message = submission.message
        async with self._tracked():
            await reply.show(present.queued(submission))
            [outcomes] = await self.outcomes([message.id])
            await reply.show(present.delivered(message, outcomes))
            return f"message {message.id}: {present.tally(outcomes)}"

    async def outcomes(self, message_ids: Sequence[str]) -> list[dict[str, Outcome]]:
        """Each message's outcomes once every recipient has had an attempt (or the wait
        setting runs out). Stopping the bot ends these waits with what is known by then:
        the messages stay queued, and the replies say /history will show the rest."""
        timeout = min(self.rt.settings.messaging.wait_timeout_s, REPLY_WINDOW_S)
        async with self._tracked():
            waits = (self._outcome(message_id, timeout) for message_id in message_ids)
            return list(await asyncio.gather(*waits))

    async def _outcome(self, message_id: str, timeout: float) -> dict[str, Outcome]:
        """Wait on the desk in steps of :data:`WAIT_STEP_S` until the message settled,
        ``timeout`` ran out or the bot stops. Stopping is noticed between steps, never
        by cancelling a wait on the desk: its wait holds the desk's condition, and one
        cancelled twice (Python 3.11's ``asyncio.wait_for`` leaves its inner wait behind
        on a second cancel) leaves that condition locked, and the desk's stop waits on
        it for ever (bench/bot.py hung so at times)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            step = 0.0 if self._stopping.is_set() else max(0.0, min(WAIT_STEP_S, left))
            started = time.monotonic()
            outcomes = await self.rt.desk.wait_for(message_id, step)
            if step == 0.0 or time.monotonic() - started < step:  # settled within the step
                return outcomes

    @contextlib.asynccontextmanager
    async def _tracked(self) -> AsyncIterator[None]:
        """Let :meth:`stop` end the current task (a command following a delivery)."""
        task = asyncio.current_task()
        assert task is not None
        if task in self._waiting:
            yield
            return
        self._waiting.add(task)
        try:
            yield
        finally:
            self._waiting.discard(task)

    async def stop(self) -> None:
        """Stop following outcomes, before the connection and the store close: each command
        still waiting shows what is known and that /history will show the rest (within
        :data:`STOP_GRACE_S`, after which it is cut short). The messages stay queued."""
        self._stopping.set()
        tasks = list(self._waiting)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

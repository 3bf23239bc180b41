"""A job done every few seconds beside the desk (reminders, activity checks): run until
asked to stop, between two rounds, with each failure logged and the next round tried."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from messaging.errors import StoreError

log = logging.getLogger(__name__)


class Periodic:
    """Subclasses do their round in :meth:`tick`."""

    what = "the periodic check"  # for the log

    def __init__(self) -> None:
        self._stop = asyncio.Event()

    async def tick(self) -> None:
        raise NotImplementedError

    def stop_soon(self) -> None:
        """Let :meth:`run` return after the round in progress."""
        self._stop.set()

    async def run(self, interval_s: float) -> None:
        """A round every ``interval_s`` until :meth:`stop_soon`."""
        self._stop.clear()
        while not self._stop.is_set():
            try:
                await self.tick()
            except StoreError as exc:
                log.warning("%s waits: %s", self.what, exc)
            except Exception:
                log.exception("%s failed; trying again", self.what)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval_s)

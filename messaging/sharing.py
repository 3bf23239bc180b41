"""Sharing the screen with the person at it: before each typed message the screen worker
waits for the operator's hands to rest, and a delivery whose chat input holds a draft is
held and tried again, then written to the inbox once the hold has lasted too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from config import GuiSettings
from messaging.model import Priority
from messaging.pause import WaitNote

log = logging.getLogger(__name__)

LOOK_AGAIN_MAX_S = 0.5  # while waiting, the operator's idle time is read at least this often


@dataclass(frozen=True)
class Go:
    """Type now."""


@dataclass(frozen=True)
class StepAside:
    """Do not type this one now: a message that does not wait (critical) is due; this one
    goes back to the queue, due at once."""


@dataclass(frozen=True)
class GiveUp:
    """Do not type: write to the inbox, saying ``reason``."""

    reason: str


class Hands:
    """Waits until mouse and keyboard have rested ``gui.operator_idle_s`` seconds (the
    desk's own input aside), at most ``gui.operator_wait_max_s``; then types anyway or gives
    up, as ``gui.when_operator_busy`` says. While it waits, :attr:`waiting` says so, and so
    does the home's wait note for other processes."""

    def __init__(
        self,
        settings: GuiSettings,
        idle_s: Callable[[], float | None],
        stopped: asyncio.Event,
        note: WaitNote | None = None,
    ) -> None:
        self.settings = settings
        self._idle_s = idle_s
        self._stopped = stopped
        self._note = note
        self.waiting: str | None = None

    async def rested(
        self,
        priority: Priority,
        outranked: Callable[[], Awaitable[bool]],
        before_waiting: Callable[[], Awaitable[None]] | None = None,
    ) -> Go | GiveUp | StepAside | None:
        """:class:`Go` once the operator rests; :class:`GiveUp` after the longest wait when
        the settings say so; :class:`StepAside` when, meanwhile, a message that does not wait
        is due (``outranked``); None when the desk stops meanwhile. ``before_waiting`` is
        awaited once, when the operator is found busy, before any wait."""
        rest = self.settings.operator_idle_s
        skips = self.settings.critical_skips_operator_wait
        if rest <= 0 or (priority is Priority.CRITICAL and skips):
            return Go()
        deadline = time.monotonic() + self.settings.operator_wait_max_s
        try:
            while not self._stopped.is_set():
                idle = await asyncio.to_thread(self._idle_s)
                if idle is None or idle >= rest:
                    return Go()
                if before_waiting is not None:
                    await before_waiting()
                    before_waiting = None
                left = deadline - time.monotonic()
                if left <= 0:
                    return self._after_longest_wait()
                if skips and await outranked():
                    return StepAside()
                self._show(
                    f"waiting for the operator: mouse or keyboard used {idle:.1f} s ago; "
                    f"typing goes on after {rest:g} s without"
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopped.wait(), min(rest - idle, left, LOOK_AGAIN_MAX_S)
                    )
            return None
        finally:
            self._show(None)

    def noted(self) -> str | None:
        """What the note of the home says the screen worker waits on (in whichever process
        runs the desk)."""
        return self._note.reason() if self._note is not None else None

    def clear(self) -> None:
        """Forget a note a stopped desk left behind."""
        if self._note is not None:
            self._note.clear()

    def _after_longest_wait(self) -> Go | GiveUp:
        waited = self.settings.operator_wait_max_s
        if self.settings.when_operator_busy == "deliver":
            log.warning("the operator kept using the screen for %g s; typing anyway", waited)
            return Go()
        return GiveUp(
            f"the operator kept using mouse or keyboard for {waited:g} s "
            "(gui.operator_wait_max_s); written to the inbox instead of typing over them"
        )

    def _show(self, waiting: str | None) -> None:
        if waiting == self.waiting:
            return
        if waiting is not None and self.waiting is None:
            log.info("%s", waiting)
        self.waiting = waiting
        if self._note is None:
            return
        try:
            if waiting is None:
                self._note.clear()
            else:
                self._note.set(waiting)
        except OSError as exc:
            log.warning("cannot write the wait note %s: %s", self._note.path, exc)

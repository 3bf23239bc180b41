"""What the desk hands a deliverer, and how a deliverer says it cannot deliver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from agents import Agent
from messaging.model import Message


class NotDeliverable(Exception):
    """The screen (or the agent's tmux pane) cannot take this delivery now; the desk writes
    it to the inbox instead and records ``reason``. With ``pause_desk`` the desk also pauses
    its screen worker (the operator flung the mouse into a corner: pyautogui's fail-safe)."""

    def __init__(self, reason: str, *, pause_desk: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pause_desk = pause_desk


class DraftPresent(NotDeliverable):
    """The chat input holds text the desk did not type (the operator's draft): nothing was
    typed; the desk holds the delivery and tries again later."""


class AgentBusy(NotDeliverable):
    """The agent shows it is working on something: nothing was typed; the desk holds the
    delivery and tries again later."""


@dataclass(frozen=True)
class Typed:
    """The text was pasted and submitted. ``verified``: the chat input was seen to show the
    text and then change back after the submit keys; False when the agent's app is typed
    into without looking (``verify: false`` in the coordinates file)."""

    verified: bool


class Pressed:
    """The text was pasted and the submit keys pressed; whether the input let go of it is
    seen later (:meth:`ScreenDeliverer.confirm`), while the desk types into the next window.
    Each deliverer keeps in it what it needs to tell."""


@dataclass(frozen=True)
class Job:
    """One delivery as a deliverer sees it: the message, the agent, the exact text to send."""

    message: Message
    agent: Agent
    text: str
    possible_repeat: bool = False
    onboarding: bool = False  # type at the onboarding point (new chat) instead of the chat input


class PaneDeliverer(Protocol):
    """Pastes a job into the agent's terminal pane (the tmux lane). Called for one pane at a
    time; several panes may be typed into side by side."""

    async def deliver(self, job: Job, before_keys: Callable[[], Awaitable[None]]) -> Typed:
        """Paste, submit, and say whether the pane showed it. Awaits ``before_keys`` before
        the first key reaches the pane. Raise :class:`DraftPresent` or :class:`AgentBusy`
        (nothing typed: held) or :class:`NotDeliverable` (to the inbox, with the reason)."""
        ...

    async def close(self) -> None:
        """Let go of what it holds open (connections to the panes' servers)."""
        ...


class ScreenDeliverer(Protocol):
    """Types a job into the agent's chat pane. Exactly one desk worker calls it at a time."""

    def unavailable_reason(self) -> str | None:
        """Why the screen cannot be used at all right now (e.g. "no display"), or None."""
        ...

    async def deliver(self, job: Job) -> Typed:
        """Click, paste, submit, and say whether that was seen on screen. Raise
        :class:`NotDeliverable` when it must not type or the text was not submitted."""
        ...

    async def deliver_going_on(self, job: Job) -> Typed | Pressed:
        """As :meth:`deliver`, but the submission may be left to watch while the next job is
        typed into another window: then :class:`Pressed`, for :meth:`confirm`."""
        ...

    async def confirm(self, pressed: Sequence[Pressed]) -> list[Typed | NotDeliverable]:
        """Whether each submission left its input, in order (watched together)."""
        ...

    def draft(self, job: Job) -> DraftPresent | None:
        """The draft in the job's chat input (text the deliverer did not type), if any."""
        ...

    def draft_outlasted(self, agent_id: str, onboarding: bool) -> None:
        """A draft held a delivery to that input past the limit: a look of the input that no
        verified delivery confirmed is dropped (it may have been taken with text in it)."""
        ...

    def operator_idle_s(self) -> float | None:
        """Seconds since the operator last used mouse or keyboard (the deliverer's own input
        does not count); None when it cannot be told."""
        ...

    def give_back(self) -> None:
        """Put the pointer and the keyboard focus back where they were before the deliveries
        since the last give-back, unless the operator moved them meanwhile."""
        ...

    def remember_looks_in(self, folder: Path) -> None:
        """Keep what the deliverer learns of the chat inputs in ``folder`` (it outlives the
        process)."""
        ...


class AloneAtTheScreen:
    """The screen-sharing part of :class:`ScreenDeliverer` for a deliverer that shares its
    screen with nobody (one that types into a window of its own, or none)."""

    async def deliver_going_on(self, job: Job) -> Typed | Pressed:
        return await cast("ScreenDeliverer", self).deliver(job)

    async def confirm(self, pressed: Sequence[Pressed]) -> list[Typed | NotDeliverable]:
        raise TypeError(f"{type(self).__name__} leaves no submission to watch: {pressed!r}")

    def draft(self, job: Job) -> DraftPresent | None:
        return None

    def draft_outlasted(self, agent_id: str, onboarding: bool) -> None:
        return None

    def operator_idle_s(self) -> float | None:
        return None

    def give_back(self) -> None:
        return None

    def remember_looks_in(self, folder: Path) -> None:
        return None

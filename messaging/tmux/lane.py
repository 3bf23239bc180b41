"""Delivering into a terminal agent's tmux pane, with what the pane shows as evidence.

One delivery: read the pane (gone? scrolled by someone? the agent working? a draft in its
input?), paste the text from a tmux buffer as a bracketed paste, wait until the input shows
it (or the CLI's placeholder for a long paste), press the submit keys, and wait until the
input no longer holds it. Only then is it "delivered via tmux, verified". Text the desk
left in an input (typed, not submitted) is remembered in the home, so the next delivery,
from any process, clears it with the agent's ``clear_keys`` instead of taking it for a
draft. Each verified delivery logs the time of its steps (``read``, ``paste``,
``shown``, ``wait``, ``submit``; :class:`~messaging.steps.Steps`) at debug level.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from config import TmuxSettings
from coordinates.tmux import TmuxTarget, clear_keys_in_tmux
from messaging.deliver import AgentBusy, DraftPresent, Job, NotDeliverable, Typed
from messaging.model import Priority
from messaging.steps import Steps
from messaging.tmux.client import Snapshot, TmuxClient, TmuxError
from messaging.tmux.keys import KeyNotForTmux, tmux_key
from messaging.tmux.notes import PaneNotes
from messaging.tmux.reading import Reading, read_pane, shows

log = logging.getLogger(__name__)

# While waiting for a pane to change, the lane reads it every POLL_S, and less often while
# it waits on several panes at once: the reads of all of them together stay near
# READS_PER_S (at most POLL_MAX_S apart), so eight CLIs typed into side by side on two cores
# keep the CPU for their own redrawing. Read every 1 ms, Claude Code let go of its input
# 45 ms after Enter (median of 12); read every 5 ms, then less often, the lane saw it at 54.
POLL_S = 0.002
READS_PER_S = 400
POLL_MAX_S = 0.025
SUBMIT_TRIES = 3  # submit keys pressed at most this often when taken for a new line
# the wait after the paste showed before the submit keys of an agent whose CLI took an Enter
# for a new line. Gemini CLI with 0.05 s: 106.4 ms a message (154.4 with 0.1 s), 50 of 50 sent
# at the first Enter but the very first (before the wait was learnt); eight panes typed into
# at once on two cores: about 2 Enters in 3 taken for a new line and pressed again, none a
# third time, and the broadcast as long as with 0.1 s.
SLOW_ENTER_WAIT_S = 0.05
CLEAR_TIMEOUT_S = 1.0  # how long the input may take to empty after the clear keys
# the input must look let go of the text on reads this far apart: a pane read while the CLI
# redraws its screen (Gemini CLI, after an answer) shows its cursor, and so its input,
# somewhere else for a moment
RELEASED_STILL_S = 0.01
SETTLE_S = 0.3  # an agent seen working this lately must show no work this long before a paste
SETTLE_TIMEOUT_S = 1.0


class TmuxLane:
    """The :class:`~messaging.deliver.PaneDeliverer` of agents with a tmux target."""

    def __init__(self, settings: TmuxSettings, state_dir: Path) -> None:
        self.settings = settings
        self.notes = PaneNotes(state_dir)
        self.tmux = TmuxClient()
        self._working: dict[str, float] = {}  # when each agent was last seen working
        self._waiting = 0  # panes being waited on (read over and over) right now

    async def close(self) -> None:
        """Close the connections to the tmux servers."""
        await self.tmux.close()

    async def deliver(self, job: Job, before_keys: Callable[[], Awaitable[None]]) -> Typed:
        agent = job.agent
        pane = agent.tmux
        if pane is None:
            raise NotDeliverable(f"{agent.agent_id} has no tmux target")
        try:
            submit = [tmux_key(agent.typing.submit_keys)]
            clear = [tmux_key(combo) for combo in clear_keys_in_tmux(agent.typing)]
        except KeyNotForTmux as exc:
            raise NotDeliverable(f"{agent.agent_id}: {exc}") from None
        try:
            return await self._deliver(job, pane, submit, clear, before_keys)
        except TmuxError as exc:
            raise NotDeliverable(f"tmux pane of {agent.agent_id}: {exc}") from None

    async def _deliver(
        self,
        job: Job,
        pane: TmuxTarget,
        submit: list[str],
        clear: list[str],
        before_keys: Callable[[], Awaitable[None]],
    ) -> Typed:
        agent_id = job.agent.agent_id
        steps = Steps(log)  # logged once verified
        before = await self._usable(pane, agent_id)
        reading = read_pane(before)
        if not reading.busy and self._worked_lately(agent_id):
            reading = await self._settled(pane, reading)
        if reading.busy or reading.input is None:
            self._working[agent_id] = time.monotonic()
        if reading.input:
            reading = await self._clear_leftover(pane, agent_id, reading, clear, before_keys)
        if reading.input is None:  # Aider while it works: what is typed waits, line by line
            shows_now = f"shows {reading.busy!r} and " if reading.busy else ""
            raise AgentBusy(f"{agent_id} is busy (its pane {shows_now}has no input to paste into)")
        if reading.busy and not self._goes_while_busy(job):
            raise AgentBusy(f"{agent_id} is busy (its pane shows {reading.busy!r})")
        if reading.input:
            raise DraftPresent(
                f"the input of {agent_id} in tmux pane {pane} holds text the desk did not put "
                f"there ({_shorten(reading.input)!r})"
            )
        await before_keys()
        steps.mark("read")
        # noted before the paste: a desk killed before it knows the outcome leaves the text
        # in the input, and the next process clears it instead of taking it for a draft
        self.notes.remember_leftover(agent_id, job.text)
        await self.tmux.paste(pane, f"cellphone-{job.message.id}-{agent_id}", job.text)
        steps.mark("paste")
        shown = await self._until(pane, lambda r: shows(r, job.text), self.settings.show_timeout_s)
        if shown is None:  # it may show later: not a draft (noted above)
            raise NotDeliverable(
                f"the pasted text did not show in the input of {agent_id} in tmux pane {pane} "
                f"within {self.settings.show_timeout_s:g} s (tmux.show_timeout_s); nothing "
                "was submitted"
            )
        steps.mark("shown")
        left = await self._submit(pane, job, submit, steps, time.monotonic())
        if left is None:  # noted before the paste, and cleared before the next one
            raise NotDeliverable(
                f"typed but not submitted: the text stayed in the input of {agent_id} in tmux "
                f"pane {pane} after {job.agent.typing.submit} "
                f"(tmux.submit_timeout_s {self.settings.submit_timeout_s:g} s); it is cleared "
                "before the next message"
            )
        self.notes.forget_leftover(agent_id)
        steps.mark("submit")
        steps.log(agent_id)
        return Typed(verified=True)

    async def _submit(
        self, pane: TmuxTarget, job: Job, submit: list[str], steps: Steps, shown_at: float
    ) -> Reading | None:
        """Press the submit keys until the input lets go of ``text``: the reading after, or
        None when it still holds it. An Enter the CLI took for a new line (the input grew by
        an empty row under the cursor: Gemini CLI does so with an Enter it reads within 30 ms
        of another key, or 40 ms of a paste) is taken back with Backspace and pressed again, at most
        :data:`SUBMIT_TRIES` times in all; from then on that agent's messages wait
        :data:`SLOW_ENTER_WAIT_S` before the submit keys (or its own ``submit_after_s``, or
        ``tmux.submit_after_s``, whichever is longest). The waits count from when the paste
        showed (``shown_at``): an Enter pressed again after the CLI drew the new line and
        took it back, which on a busy machine comes after that wait, is not held back
        further."""
        agent_id, text = job.agent.agent_id, job.text
        for attempt in range(SUBMIT_TRIES):
            wait = max(self.settings.submit_after_s, job.agent.typing.submit_after_s)
            if attempt or self.notes.slow_enter(agent_id):
                wait = max(wait, SLOW_ENTER_WAIT_S)
            wait -= time.monotonic() - shown_at
            if wait > 0:
                await asyncio.sleep(wait)
                steps.mark("wait")
            before = read_pane(await self.tmux.snapshot(pane))
            await self.tmux.press(pane, *submit)
            after = await self._until(
                pane, _Steadily(partial(_released, text, before)), self.settings.submit_timeout_s
            )
            if after is None or not shows(after, text):
                return after
            log.debug("%s took the submit keys for a new line (try %d)", agent_id, attempt + 1)
            self.notes.note_slow_enter(agent_id)
            await self.tmux.press(pane, "BSpace")
            back = await self._until(pane, partial(_as_tall_as, before), CLEAR_TIMEOUT_S)
            if back is None or not shows(back, text):
                return None
        return None

    async def _usable(self, pane: TmuxTarget, agent_id: str) -> Snapshot:
        before = await self.tmux.snapshot(pane)
        if before.dead:
            raise NotDeliverable(f"the program in tmux pane {pane} of {agent_id} has exited")
        if before.in_mode:
            raise DraftPresent(
                f"tmux pane {pane} of {agent_id} is in copy mode (someone is scrolling it)"
            )
        return before

    def _worked_lately(self, agent_id: str) -> bool:
        seen = self._working.get(agent_id)
        return seen is not None and time.monotonic() - seen < SETTLE_S

    async def _settled(self, pane: TmuxTarget, reading: Reading) -> Reading:
        """The pane once it showed no work for :data:`SETTLE_S` (a CLI that just answered
        may take up a prompt it queued, or draw its input anew, a moment later), or the
        first reading showing work again, within :data:`SETTLE_TIMEOUT_S`."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < SETTLE_S and time.monotonic() < deadline:
            await asyncio.sleep(POLL_MAX_S)
            reading = read_pane(await self.tmux.snapshot(pane))
            if reading.busy or reading.input is None:
                return reading
        return reading

    def _goes_while_busy(self, job: Job) -> bool:
        return job.message.priority is Priority.CRITICAL and self.settings.critical_skips_busy_wait

    async def _clear_leftover(
        self,
        pane: TmuxTarget,
        agent_id: str,
        reading: Reading,
        clear: list[str],
        before_keys: Callable[[], Awaitable[None]],
    ) -> Reading:
        """Clear text an earlier delivery left in the input (typed, not submitted); other
        text is left as it is (a draft)."""
        leftover = self.notes.leftover(agent_id)
        if leftover is None or not shows(reading, leftover):
            return reading
        await before_keys()
        await self.tmux.press(pane, *clear)
        cleared = await self._until(pane, lambda r: not r.input, CLEAR_TIMEOUT_S)
        if cleared is None:
            raise NotDeliverable(
                f"the input of {agent_id} in tmux pane {pane} still holds the text of an "
                f"earlier message after its clear keys ({', '.join(clear)}); set clear_keys "
                "in the coordinates file to the keys that empty this CLI's input"
            )
        self.notes.forget_leftover(agent_id)
        return cleared

    async def _until(
        self, pane: TmuxTarget, condition: Callable[[Reading], bool], timeout: float
    ) -> Reading | None:
        """The first reading of the pane that meets ``condition`` within ``timeout``. The
        pane is read every :data:`POLL_S`, or less often while other panes are waited on
        too (:data:`READS_PER_S` in all, at most :data:`POLL_MAX_S` apart): CLIs slow to
        redraw (several typed into at once on a busy machine) are not slowed further by the
        reading."""
        deadline = time.monotonic() + timeout
        self._waiting += 1
        try:
            while True:
                reading = read_pane(await self.tmux.snapshot(pane))
                if condition(reading):
                    return reading
                if time.monotonic() >= deadline:
                    return None
                await asyncio.sleep(_interval(self._waiting))
        finally:
            self._waiting -= 1


def _interval(waiting: int) -> float:
    """Seconds between two reads of a pane while ``waiting`` panes are waited on."""
    return min(POLL_MAX_S, max(POLL_S, waiting / READS_PER_S))


class _Steadily:
    """A condition on readings that holds only once it held on every read for
    :data:`RELEASED_STILL_S`."""

    def __init__(self, condition: Callable[[Reading], bool]) -> None:
        self.condition = condition
        self.since: float | None = None

    def __call__(self, reading: Reading) -> bool:
        if not self.condition(reading):
            self.since = None
            return False
        now = time.monotonic()
        if self.since is None:
            self.since = now
        return now - self.since >= RELEASED_STILL_S


def _released(text: str, before: Reading, reading: Reading) -> bool:
    """The input let go of ``text``, or the submit keys made a new empty row in it instead
    of sending it."""
    new_line = reading.caret_on_blank_row and reading.rows == before.rows + 1
    return not shows(reading, text) or new_line


def _as_tall_as(before: Reading, reading: Reading) -> bool:
    return reading.rows == before.rows


def _shorten(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

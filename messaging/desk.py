"""The desk: the workers that deliver what the store holds.

One screen worker owns mouse and keyboard and takes screen deliveries one at a time in
priority order; inbox deliveries are written in batches beside it. Only one desk runs per
home (a lock file): another process that opens the home leaves delivery to the desk
already running and only watches the store for outcomes. A pause holds the screen worker
only (inbox deliveries go on) and is kept in the home, so any process can make or lift it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from agents import Agent, Registry, UnknownAgentError, Workspace
from agents.source import RegistrySource
from config import Settings
from messaging.deliver import (
    AgentBusy,
    DraftPresent,
    Job,
    NotDeliverable,
    PaneDeliverer,
    Pressed,
    ScreenDeliverer,
    Typed,
)
from messaging.errors import StoreError, UnknownMessageError
from messaging.inbox import InboxLetter, remove_stale_temp_files, write_letters
from messaging.lockfile import ProcessLock, holder
from messaging.model import (
    Delivery,
    DeliveryMethod,
    DeliveryState,
    Lane,
    MessageType,
    Outcome,
    Priority,
    held_error,
    hold_reason,
    verification,
)
from messaging.pause import PauseFlag, WaitNote
from messaging.render import render
from messaging.sharing import GiveUp, Hands, StepAside
from messaging.store import Attempt, Claimed, Store

log = logging.getLogger(__name__)

OutcomeCallback = Callable[[Outcome], Awaitable[None] | None]


class RemoteLane(Protocol):
    """Hands deliveries of agents on other machines to their desks (``messaging.cluster``).
    They stay "delivering" here until the outcome comes back through :meth:`Desk.settle`."""

    async def hand_over(self, claimed: list[Claimed]) -> None: ...


INBOX_BATCH = 500
TMUX_BATCH = 64  # deliveries the tmux worker takes at once: panes are typed into side by side
# deliveries the screen worker takes at once: each window's submission is watched while the
# next window is typed into (a broadcast to eight panes is one batch)
SCREEN_BATCH = 8
INBOX_WRITERS = 4  # files flushed side by side within one batch
NOT_YET = "not delivered yet"  # the reason of an outcome the desk has not tried yet
REPEAT_REASON = "typing was interrupted by a restart; the text may already be in the chat"
UNRECORDED = "the desk could not record this delivery; it is tried again"
STEPPED_ASIDE = "waiting for the operator's hands when a critical message came, which went first"
# How long stop() lets a delivery in progress finish and be recorded before cancelling it:
# a few seconds over the GUI's paste timeout (messaging.screen.gui.PASTE_TIMEOUT_S, 2 s) and its
# pacing, so a `send` that ran the desk never leaves a typed message unrecorded.
STOP_GRACE_S = 8.0
RETRY_FIRST_S = 0.5  # wait after the first failed attempt; it doubles with each one after
RETRY_MAX_DOUBLINGS = 30  # keeps 2 ** n a small float however many attempts were made


class Desk:
    def __init__(
        self,
        store: Store,
        registry: RegistrySource,
        workspaces_dir: Path,
        settings: Settings,
        screen: ScreenDeliverer | None = None,
        lock_path: Path | None = None,
        pause_flag: PauseFlag | None = None,
        wait_note: WaitNote | None = None,
        panes: PaneDeliverer | None = None,
        remote: RemoteLane | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.workspaces_dir = workspaces_dir
        self.settings = settings
        self.screen = screen
        self.panes = panes
        self.remote = remote
        self._lock = ProcessLock(lock_path) if lock_path is not None else None
        self._pause_flag = pause_flag
        self._wake = {lane: asyncio.Event() for lane in Lane}
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._writers = ThreadPoolExecutor(INBOX_WRITERS, thread_name_prefix="inbox")
        self._subscribers: list[OutcomeCallback] = []
        self._pause_reason: str | None = None
        self.running = False
        self._stopping = False
        self._stopped = asyncio.Event()
        # per lane: nothing to do now (no delivery due, or held by a pause), and the
        # deliveries its worker has claimed and not yet recorded
        self._idle = {lane: lane is Lane.REMOTE and remote is None for lane in Lane}
        self._quiet = asyncio.Event()
        self._in_hand: dict[Lane, list[Claimed]] = {lane: [] for lane in Lane}
        self.recovered: tuple[int, int] = (0, 0)
        self.hands = Hands(settings.gui, self._operator_idle_s, self._stopped, wait_note)
        self._lent = False  # the screen was used since pointer and focus were given back

    # -- control -----------------------------------------------------------------------

    async def start(self) -> bool:
        """Recover and start the workers. Returns False, running nothing, when another
        process already runs the desk of this home."""
        if self._lock is not None and not self._lock.acquire():
            log.info("another process runs the desk of this home; watching the store only")
            return False
        self.recovered = await self.store.recover()
        self.hands.clear()
        remove_stale_temp_files(self.workspaces_dir)
        if any(self.recovered):
            log.info("recovered %d deliveries (%d possible repeats)", *self.recovered)
        self.running = True
        self._tasks = [
            asyncio.create_task(self._work(Lane.INBOX), name="desk-inbox"),
            asyncio.create_task(self._work(Lane.SCREEN), name="desk-screen"),
            asyncio.create_task(self._work(Lane.TMUX), name="desk-tmux"),
        ]
        if self.remote is not None:
            self._tasks.append(asyncio.create_task(self._work(Lane.REMOTE), name="desk-remote"))
        return True

    async def stop(self) -> None:
        """Stop the workers. A delivery in progress may finish and is recorded (for up to
        :data:`STOP_GRACE_S`); what a worker still holds after that goes back to the queue
        (to the inbox as a possible repeat if it was being typed)."""
        self.running = False
        self._stopping = True
        self._stopped.set()
        self._resumed.set()
        self.wake()
        try:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=STOP_GRACE_S)
        finally:
            for task in self._tasks:
                if not task.done():
                    log.warning(
                        "%s did not finish in %g s; cancelling it", task.get_name(), STOP_GRACE_S
                    )
                    task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
            await self._put_back_all()
            await self._give_back()
            if self.panes is not None:
                await self.panes.close()
            self._writers.shutdown(wait=True)
            if self._lock is not None:
                self._lock.release()

    @property
    def idle(self) -> bool:
        """True when this desk has nothing it may do now: each worker found no delivery due
        (or the screen worker is held by a pause), or the workers do not run."""
        workers_gone = not self._tasks or any(task.done() for task in self._tasks)
        return workers_gone or all(self._idle.values())

    async def until_idle(self) -> None:
        """Return once :attr:`idle` holds."""
        while not self.idle:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), self.settings.messaging.poll_interval_s)

    def _set_idle(self, lane: Lane, idle: bool) -> None:
        self._idle[lane] = idle
        if all(self._idle.values()):
            self._quiet.set()
        else:
            self._quiet.clear()

    @property
    def pause_reason(self) -> str | None:
        """Why the desk is paused (here or by another process), or None."""
        self._follow_pause_flag()
        return self._pause_reason

    @property
    def paused(self) -> bool:
        return self.pause_reason is not None

    def pause(self, reason: str = "paused by the operator") -> None:
        """Stop typing; queued screen deliveries wait. Inbox deliveries go on."""
        self._hold(reason)
        if self._pause_flag is not None:
            try:
                self._pause_flag.set(reason)
            except OSError as exc:
                log.warning("the pause holds in this process only: %s", exc)

    def resume(self) -> None:
        if self._pause_flag is not None:
            self._pause_flag.clear()
        self._release()

    def _hold(self, reason: str) -> None:
        if self._pause_reason != reason:
            log.warning("desk paused: %s", reason)
        self._pause_reason = reason
        self._resumed.clear()

    def _release(self) -> None:
        if self._pause_reason is not None:
            log.warning("desk resumed")
            for lane in TYPING_LANES:
                self._set_idle(lane, False)
        self._pause_reason = None
        self._resumed.set()
        self.wake()

    def _follow_pause_flag(self) -> None:
        """Take up a pause made or lifted by another process."""
        if self._pause_flag is None:
            return
        reason = self._pause_flag.reason()
        if reason is not None:
            self._hold(reason)
        elif self._pause_reason is not None:
            self._release()

    async def _until_resumed(self, lane: Lane) -> None:
        self._follow_pause_flag()
        while not self._resumed.is_set() and not self._stopping:
            self._set_idle(lane, True)  # held: nothing it may do
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._resumed.wait(), self.settings.messaging.poll_interval_s
                )
            self._follow_pause_flag()

    @property
    def waiting(self) -> str | None:
        """What the screen worker waits on now (the operator's hands): in this process when
        it runs the desk, else as the process that does noted it."""
        return self.hands.waiting if self.running else self.hands.noted()

    def _operator_idle_s(self) -> float | None:
        return self.screen.operator_idle_s() if self.screen is not None else None

    async def _give_back(self) -> None:
        """Pointer and focus back to the operator once a run of typed messages ends."""
        if not self._lent or self.screen is None:
            return
        self._lent = False
        try:
            await asyncio.to_thread(self.screen.give_back)
        except Exception:
            log.exception("giving pointer and focus back failed")

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    def subscribe(self, callback: OutcomeCallback) -> Callable[[], None]:
        """Call ``callback`` with every outcome this desk produces. Returns an unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def wait_for(self, message_id: str, timeout: float) -> dict[str, Outcome]:
        """Outcomes of every recipient of a message once each has had an attempt, or what
        is known when ``timeout`` runs out (unsettled ones are queued or delivering)."""
        deadline = time.monotonic() + timeout
        while True:
            deliveries = await self.store.deliveries(message_id)
            if not deliveries:
                raise UnknownMessageError(message_id)
            remaining = deadline - time.monotonic()
            if all(settled(d) for d in deliveries) or remaining <= 0:
                return {d.agent_id: outcome_of(d) for d in deliveries}
            # asyncio.timeout, not wait_for: a wait_for cancelled twice (its caller's own
            # shutdown) can leave its inner Condition.wait behind on Python 3.11, which then
            # takes the condition's lock after everyone has gone
            with contextlib.suppress(TimeoutError):
                async with (
                    asyncio.timeout(min(remaining, self.settings.messaging.poll_interval_s)),
                    self._changed,
                ):
                    await self._changed.wait()

    # -- workers -----------------------------------------------------------------------

    async def _work(self, lane: Lane) -> None:
        wake = self._wake[lane]
        while not self._stopping:
            if lane in TYPING_LANES:
                await self._until_resumed(lane)
                if self._stopping:
                    return
            wake.clear()
            try:
                worked = await self._turn(lane)
            except Exception:
                log.exception("desk %s worker failed; trying again", lane)
                worked = False
            if not worked:
                if lane is Lane.SCREEN:
                    await self._give_back()
                self._set_idle(lane, True)
                await self._idle_wait(lane, wake)

    async def _turn(self, lane: Lane) -> bool:
        """Claim and deliver one batch of ``lane``. False when there was nothing to do.

        A batch that fails as a whole goes back to the queue with the error and a backoff;
        if even that fails, the worker keeps it in hand and tries again next turn."""
        if self._in_hand[lane] and not await self._put_back(lane):
            return False
        claimed = await self.store.claim(lane, _BATCH[lane])
        if not claimed:
            return False
        self._set_idle(lane, False)
        self._in_hand[lane] = claimed
        if lane in TYPING_LANES and self.paused:  # paused while the claim waited on the store
            await self._put_back(lane, None, retry_at=time.time())
            return True
        try:
            if lane is Lane.INBOX:
                await self._inbox(claimed)
            elif lane is Lane.TMUX:
                await self._paste_all(claimed)
            elif lane is Lane.REMOTE:
                assert self.remote is not None
                await self.remote.hand_over(claimed)
            else:
                await self._type_all(claimed)
        except Exception as exc:
            log.exception("desk %s worker failed on %d deliveries", lane, len(claimed))
            await self._put_back(lane, f"the desk failed while delivering: {_name(exc)}")
        else:
            self._in_hand[lane] = []
        return True

    async def _put_back(
        self, lane: Lane, error: str | None = UNRECORDED, retry_at: float | None = None
    ) -> bool:
        """Return the deliveries ``lane``'s worker holds to the queue, each waiting on a
        retry, or due at ``retry_at`` (then ``error`` None: nothing was tried). False,
        keeping them, when the store cannot take them now."""
        held = self._in_hand[lane]
        attempts = [
            self._later(item, error or UNRECORDED)
            if retry_at is None
            else Attempt(
                item.seq,
                item.delivery.agent_id,
                DeliveryState.QUEUED,
                error=error,
                retry_at=retry_at,
            )
            for item in held
        ]
        try:
            put_back = await self.store.release(attempts)
        except StoreError as exc:
            log.warning("%d claimed deliveries stay in hand: %s", len(held), exc)
            return False
        self._in_hand[lane] = []
        await self._announce(
            [
                _outcome(item.delivery, attempt, possible_repeat=put_back[key])
                for item, attempt in zip(held, attempts, strict=True)
                if (key := (item.seq, item.delivery.agent_id)) in put_back
            ]
        )
        return True

    async def _put_back_all(self) -> None:
        for lane in Lane:
            if self._in_hand[lane] and not await self._put_back(
                lane, "the desk stopped before this delivery was recorded"
            ):
                log.warning("the next desk start recovers what %s still holds", lane)

    async def _idle_wait(self, lane: Lane, wake: asyncio.Event) -> None:
        timeout = self.settings.messaging.poll_interval_s
        try:
            next_retry = await self.store.next_retry_at(lane)
        except StoreError as exc:
            log.warning("cannot read when the next retry is due: %s", exc)
            next_retry = None
        if next_retry:
            timeout = max(0.0, min(timeout, next_retry - time.time()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

    async def _inbox(self, claimed: list[Claimed]) -> None:
        registry = self.registry.current()
        attempts: list[Attempt] = []
        letters: list[tuple[Claimed, InboxLetter]] = []
        for item in claimed:
            prepared = self._prepare(item, registry)
            if isinstance(prepared, Attempt):
                attempts.append(prepared)
            else:
                letters.append((item, prepared))
        results = await asyncio.to_thread(
            write_letters, [letter for _, letter in letters], self._writers
        )
        attempts += [
            self._written(item, letter, result)
            for (item, letter), result in zip(letters, results, strict=True)
        ]
        await self._finish(attempts, claimed)

    def _prepare(self, item: Claimed, registry: Registry) -> InboxLetter | Attempt:
        """The letter of an inbox delivery, or the attempt's result when there is none."""
        try:
            agent = registry.get(item.delivery.agent_id)
        except UnknownAgentError as exc:
            return _failed(item, str(exc))
        reason = REPEAT_REASON if item.delivery.possible_repeat else None
        return self._letter_or_result(item, agent, reason)

    def _letter_or_result(
        self, item: Claimed, agent: Agent, reason: str | None
    ) -> InboxLetter | Attempt:
        """The letter, or, when it cannot be made, a retry later (a folder error) or a
        failure (anything else: retrying would not help; `cellphone retry` can)."""
        prefix = f"{reason}; then " if reason else ""
        try:
            return self._letter(item.delivery, agent, reason)
        except OSError as exc:
            return self._retry_later(item, f"{prefix}cannot prepare the inbox letter: {exc}")
        except Exception as exc:
            log.exception("cannot prepare the letter of %s", item.delivery.message.id)
            return _failed(item, f"{prefix}cannot prepare the inbox letter: {_name(exc)}")

    async def _type_all(self, claimed: list[Claimed]) -> None:
        """Type a batch of the screen lane in order. In a batch of several, each submission
        may be left to watch while the next window is typed into; all are watched to the end
        together, and recorded, before the batch ends (or the rest of it goes back to the
        queue). A batch of one is watched as it is typed."""
        pressed: list[tuple[Claimed, Agent, Pressed]] = []
        going_on = len(claimed) > 1 and not self.settings.gui.pause_between_recipients_s
        try:
            for item in claimed:
                stop: tuple[str | None, float | None] | None = (
                    (None, time.time())  # paused meanwhile: the rest waits for the resume
                    if self.paused
                    else await self._type(item, pressed if going_on else None)
                )
                if stop is not None:
                    await self._confirm(pressed)
                    await self._put_back(Lane.SCREEN, *stop)
                    return
        finally:
            await self._confirm(pressed)

    async def _confirm(self, pressed: list[tuple[Claimed, Agent, Pressed]]) -> None:
        """Watch the submissions left to watch, and record each."""
        if not pressed:
            return
        watched, pressed[:] = list(pressed), []
        assert self.screen is not None
        results = await self.screen.confirm([p for _, _, p in watched])
        await self._conclude_all(
            [
                (item, agent, result if isinstance(result, Typed) else result.reason)
                for (item, agent, _), result in zip(watched, results, strict=True)
            ],
            DeliveryMethod.GUI,
        )

    async def _type(
        self, item: Claimed, pressed: list[tuple[Claimed, Agent, Pressed]] | None = None
    ) -> tuple[str, float | None] | None:
        """Type one delivery and record it; with ``pressed``, its submission may be left
        there to watch. The error and due time for the deliveries in hand when the worker
        must stop here (the desk stops, or a critical message goes first)."""
        delivery = item.delivery
        try:
            agent = self.registry.current().get(delivery.agent_id)
        except UnknownAgentError as exc:
            await self._finish([_failed(item, str(exc))], [item])
            return None
        onboarding = delivery.message.type is MessageType.ONBOARDING
        joined = await self._joins_hold(item, agent, Lane.SCREEN)
        if isinstance(joined, Attempt):
            await self._finish([joined], [item])
            return None
        reason: str | Typed | Pressed | DraftPresent | StepAside | None
        reason = joined if joined is not None else self._screen_unusable(agent, onboarding)
        if reason is None:
            reason = await self._screen_turn(item, agent, onboarding, pressed)
            if reason is None:  # the desk stops: nothing was typed
                return ("the desk stopped before typing this", None)
            if isinstance(reason, StepAside):  # due again at once, after the critical one
                return (STEPPED_ASIDE, time.time())
        if isinstance(reason, Pressed):
            assert pressed is not None
            pressed.append((item, agent, reason))
            return None
        if isinstance(reason, DraftPresent):
            held = self._held(item, reason.reason, Lane.SCREEN)
            if isinstance(held, Attempt):
                await self._finish([held], [item])
                return None
            if self.screen is not None:
                await asyncio.to_thread(self.screen.draft_outlasted, agent.agent_id, onboarding)
            reason = held
        attempt = await self._conclude(item, agent, reason, DeliveryMethod.GUI)
        pause = self.settings.gui.pause_between_recipients_s
        if pause and attempt.method is DeliveryMethod.GUI:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), pause)
        return None

    def _held(self, item: Claimed, reason: str, lane: Lane) -> Attempt | str:
        """A delivery held by a draft or a busy agent stays queued until the hold limit of
        its lane (``gui.draft_hold_max_s``, ``tmux.hold_max_s``) after its message was sent,
        whichever process tries it; after that, why it goes to the inbox. It is tried again
        on a grid of the lane's retry interval: deliveries held for one agent come due
        together and go in order, after the deliveries to other agents of their rank."""
        if lane is Lane.TMUX:
            limit, every = self.settings.tmux.hold_max_s, self.settings.tmux.hold_retry_s
            name = "tmux.hold_max_s"
        else:
            limit, every = self.settings.gui.draft_hold_max_s, self.settings.gui.draft_retry_s
            name = "gui.draft_hold_max_s"
        waited = time.time() - item.delivery.message.created_at.timestamp()
        if waited >= limit:
            return f"{reason}, for {limit:g} s ({name}); written to the inbox instead"
        retry_at = (math.floor(time.time() / every) + 1) * every
        return Attempt(
            item.seq,
            item.delivery.agent_id,
            DeliveryState.QUEUED,
            error=held_error(reason, every),
            retry_at=retry_at,
        )

    async def _joins_hold(self, item: Claimed, agent: Agent, lane: Lane) -> Attempt | str | None:
        """When an earlier delivery to the agent is held, this one is held with it (never
        typed before it), without a look at the screen or the pane: the hold's result."""
        rank = item.delivery.message.priority.rank
        earlier = await self.store.held_before(lane, agent.agent_id, item.seq, rank)
        reason = None if earlier is None else hold_reason(earlier)
        return None if reason is None else self._held(item, reason, lane)

    async def _paste_all(self, claimed: list[Claimed]) -> None:
        """Deliver a batch of the tmux lane: each agent's deliveries in order, the agents'
        panes side by side. Raises the first error that kept a delivery unrecorded."""
        by_agent: dict[str, list[Claimed]] = {}
        for item in claimed:
            by_agent.setdefault(item.delivery.agent_id, []).append(item)
        results = await asyncio.gather(
            *(self._paste_in_turn(items) for items in by_agent.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _paste_in_turn(self, items: list[Claimed]) -> None:
        for item in items:
            await self._paste(item)

    async def _paste(self, item: Claimed) -> None:
        try:
            agent = self.registry.current().get(item.delivery.agent_id)
        except UnknownAgentError as exc:
            await self._finish([_failed(item, str(exc))], [item])
            return
        joined = await self._joins_hold(item, agent, Lane.TMUX)
        if isinstance(joined, Attempt):
            await self._finish([joined], [item])
            return
        result = joined if joined is not None else await self._paste_result(item, agent)
        if isinstance(result, DraftPresent | AgentBusy):
            held = self._held(item, result.reason, Lane.TMUX)
            if isinstance(held, Attempt):
                await self._finish([held], [item])
                return
            result = held
        await self._conclude(item, agent, result, DeliveryMethod.TMUX)

    async def _conclude(
        self, item: Claimed, agent: Agent, result: str | Typed, method: DeliveryMethod
    ) -> Attempt:
        """Record what typing did (delivered ``method``, with the inbox copy) or why it did
        not (to the inbox, with the reason). The copy is written before the delivery is
        recorded: a process killed in between leaves the copy and a delivery marked typing
        (reported a possible repeat when taken up again), never a recorded delivery whose
        copy is missing."""
        [attempt] = await self._conclude_all([(item, agent, result)], method)
        return attempt

    async def _conclude_all(
        self, results: list[tuple[Claimed, Agent, str | Typed]], method: DeliveryMethod
    ) -> list[Attempt]:
        """:meth:`_conclude` for several deliveries: their inbox copies written side by
        side, then all recorded at once."""
        await self._keep_copies(
            [(item, agent, result) for item, agent, result in results if isinstance(result, Typed)],
            method,
        )
        attempts = [
            Attempt(
                item.seq, agent.agent_id, DeliveryState.DELIVERED, method, verified=result.verified
            )
            if isinstance(result, Typed)
            else await self._fall_back(item, agent, result)
            for item, agent, result in results
        ]
        await self._finish(attempts, [item for item, _, _ in results])
        return attempts

    async def _paste_result(
        self, item: Claimed, agent: Agent
    ) -> str | Typed | DraftPresent | AgentBusy:
        """What pasting into the agent's pane did, or why it did not deliver."""
        if self.panes is None:
            return "tmux delivery is off in this process (messaging.delivery_mode = inbox)"
        if agent.tmux is None:
            return f"{agent.agent_id} has no tmux target in the coordinates file any more"
        onboarding = item.delivery.message.type is MessageType.ONBOARDING
        job = self._job(item, agent, onboarding)

        async def before_keys() -> None:
            await self.store.mark_typing(item.seq, agent.agent_id, DeliveryMethod.TMUX)

        try:
            return await self.panes.deliver(job, before_keys)
        except (DraftPresent, AgentBusy) as exc:
            return exc
        except NotDeliverable as exc:
            return exc.reason
        except StoreError:
            raise
        except Exception as exc:
            log.exception("tmux delivery to %s failed", agent.agent_id)
            return f"tmux delivery failed: {_name(exc)}"

    async def _fall_back(self, item: Claimed, agent: Agent, reason: str) -> Attempt:
        letter = self._letter_or_result(item, agent, reason)
        if isinstance(letter, Attempt):
            return letter
        [result] = await asyncio.to_thread(write_letters, [letter])
        return self._written(item, letter, result, fallback=True)

    async def _keep_copies(
        self, typed: list[tuple[Claimed, Agent, Typed]], method: DeliveryMethod
    ) -> None:
        """Write the inbox copy of each message typed into the chat, so the agent can read
        it again after its context was reset. A copy that cannot be written is logged, never
        a failed delivery."""
        copies = []
        for item, agent, done in typed:
            letter = self._letter_or_result(item, agent, None)
            if isinstance(letter, Attempt):
                log.warning("no inbox copy of %s for %s", item.delivery.message.id, agent.agent_id)
                continue
            copies.append(replace(letter, via=method.value + verification(done.verified, method)))
        if not copies:
            return
        pool = self._writers if len(copies) > 1 else None
        written = await asyncio.to_thread(write_letters, copies, pool)
        for copy, result in zip(copies, written, strict=True):
            if isinstance(result, OSError):
                log.warning("cannot write the inbox copy of %s: %s", copy.message.id, result)

    def _screen_unusable(self, agent: Agent, onboarding: bool) -> str | None:
        if self.screen is None:
            return "screen delivery is off in this process (no display or delivery_mode=inbox)"
        point = agent.onboarding_point if onboarding else agent.chat_point
        if point is None:
            field = "onboarding_coordinates" if onboarding else "chat_input_coordinates"
            return f"{agent.agent_id} has no {field} in the coordinates file"
        kind = "onboarding" if onboarding else "chat"
        if kind in agent.uncalibrated:
            flag = "--onboarding " if onboarding else ""
            return (
                f"the {kind} point of {agent.agent_id} is a placeholder, not calibrated: run "
                f"`cellphone coords calibrate {flag}{agent.agent_id}` (or remove {kind!r} from "
                'its "uncalibrated" list in config/coordinates.json once the point is right)'
            )
        return self.screen.unavailable_reason()

    async def _screen_turn(
        self,
        item: Claimed,
        agent: Agent,
        onboarding: bool,
        pressed: list[tuple[Claimed, Agent, Pressed]] | None = None,
    ) -> str | Typed | Pressed | DraftPresent | StepAside | None:
        """Wait for the operator's hands to rest, then type: what typing did, or why it did
        not deliver; the draft that holds the delivery; None when the desk stops first. With
        ``pressed`` (the run's submissions left to watch), the submission may be left to
        watch too; those are watched and recorded before any wait for the operator (who may
        use the windows meanwhile)."""
        assert self.screen is not None
        critical = Priority.CRITICAL.rank

        async def outranked() -> bool:
            return await self.store.due_above(Lane.SCREEN, critical - 1)

        async def watch_first() -> None:
            if pressed:
                await self._confirm(pressed)

        ready = await self.hands.rested(item.delivery.message.priority, outranked, watch_first)
        if ready is None or isinstance(ready, StepAside):
            return ready
        if isinstance(ready, GiveUp):
            return ready.reason
        job = self._job(item, agent, onboarding)
        draft = await asyncio.to_thread(self.screen.draft, job)
        if draft is not None:
            return draft
        return await self._try_screen(item, job, pressed is not None)

    async def _try_screen(
        self, item: Claimed, job: Job, going_on: bool
    ) -> str | Typed | Pressed | DraftPresent:
        """What typing did (the submission left to watch, when ``going_on`` allows it), or
        why it did not deliver."""
        assert self.screen is not None
        await self.store.mark_typing(item.seq, job.agent.agent_id)
        self._lent = True
        try:
            if going_on:
                return await self.screen.deliver_going_on(job)
            return await self.screen.deliver(job)
        except DraftPresent as exc:
            return exc
        except NotDeliverable as exc:
            if exc.pause_desk:
                self.pause(exc.reason)
            return exc.reason
        except Exception as exc:
            log.exception("screen delivery to %s failed", job.agent.agent_id)
            return f"screen delivery failed: {type(exc).__name__}: {exc}"

    def _job(self, item: Claimed, agent: Agent, onboarding: bool) -> Job:
        message = item.delivery.message
        text = render(message, agent.agent_id, self.settings.messaging.footer)
        return Job(message=message, agent=agent, text=text, onboarding=onboarding)

    def _letter(self, delivery: Delivery, agent: Agent, reason: str | None) -> InboxLetter:
        return InboxLetter(
            inbox=Workspace.of(self.workspaces_dir, agent).inbox,
            message=delivery.message,
            agent_id=agent.agent_id,
            text=render(delivery.message, agent.agent_id, self.settings.messaging.footer),
            possible_repeat=delivery.possible_repeat,
            reason=reason,
        )

    def _written(
        self, item: Claimed, letter: InboxLetter, result: Path | OSError, *, fallback: bool = False
    ) -> Attempt:
        agent_id = item.delivery.agent_id
        if isinstance(result, OSError):
            error = f"cannot write inbox {letter.inbox}: {result.strerror or result}"
            if letter.reason:
                error = f"{letter.reason}; then {error}"
            return self._retry_later(item, error)
        if fallback or letter.possible_repeat or letter.reason:
            return Attempt(
                item.seq,
                agent_id,
                DeliveryState.FALLBACK,
                DeliveryMethod.INBOX,
                error=letter.reason,
            )
        return Attempt(item.seq, agent_id, DeliveryState.DELIVERED, DeliveryMethod.INBOX)

    def _retry_later(self, item: Claimed, error: str) -> Attempt:
        """:meth:`_later`, logged."""
        log.warning(
            "delivery of %s to %s stays queued: %s",
            item.delivery.message.id,
            item.delivery.agent_id,
            error,
        )
        return self._later(item, error)

    def _later(self, item: Claimed, error: str) -> Attempt:
        """The delivery stays queued with ``error`` and is tried again after a backoff."""
        delay = retry_delay(item.delivery.attempts, self.settings.messaging.retry_backoff_max_s)
        return Attempt(
            item.seq,
            item.delivery.agent_id,
            DeliveryState.QUEUED,
            error=error,
            retry_at=time.time() + delay,
        )

    async def settle(self, attempts: list[Attempt], outcomes: list[Outcome]) -> None:
        """Record outcomes that came back from the desk of another machine."""
        await self.store.record(attempts)
        await self._announce(outcomes)

    async def _finish(self, attempts: list[Attempt], claimed: list[Claimed]) -> None:
        await self.store.record(attempts)
        recorded = {id(item) for item in claimed}
        for lane, held in self._in_hand.items():  # what goes back on an error is the rest
            if held:
                self._in_hand[lane] = [item for item in held if id(item) not in recorded]
        by_key = {(c.seq, c.delivery.agent_id): c.delivery for c in claimed}
        await self._announce([_outcome(by_key[(a.seq, a.agent_id)], a) for a in attempts])

    async def _announce(self, outcomes: list[Outcome]) -> None:
        """Wake whoever waits on the store, then tell the subscribers."""
        async with self._changed:
            self._changed.notify_all()
        for outcome in outcomes:
            await self._emit(outcome)

    async def _emit(self, outcome: Outcome) -> None:
        for callback in list(self._subscribers):
            try:
                result = callback(outcome)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("outcome subscriber %r failed", callback)


TYPING_LANES = (Lane.SCREEN, Lane.TMUX)  # the lanes a pause holds
_BATCH = {
    Lane.SCREEN: SCREEN_BATCH,
    Lane.TMUX: TMUX_BATCH,
    Lane.INBOX: INBOX_BATCH,
    Lane.REMOTE: INBOX_BATCH,
}


def desk_holder(lock_path: Path) -> int | None:
    """The process id of the desk running for this lock file, or None if none runs."""
    return holder(lock_path)


def settled(delivery: Delivery) -> bool:
    """Final, or back in the queue after a failed attempt (its error is the news)."""
    return delivery.state.is_final or (
        delivery.state is DeliveryState.QUEUED
        and delivery.attempts > 0
        and delivery.last_error is not None
    )


def outcome_of(delivery: Delivery) -> Outcome:
    reason = delivery.last_error
    if not settled(delivery):
        reason = NOT_YET
    return Outcome(
        message_id=delivery.message.id,
        agent_id=delivery.agent_id,
        state=delivery.state,
        method=delivery.method,
        reason=reason,
        possible_repeat=delivery.possible_repeat,
        attempts=delivery.attempts,
        verified=delivery.verified,
    )


def retry_delay(attempts: int, maximum: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts: 0.5, 1, 2, ... at most
    ``maximum`` (the exponent is capped, so any number of attempts is fine)."""
    doublings = min(max(attempts - 1, 0), RETRY_MAX_DOUBLINGS)
    return min(maximum, RETRY_FIRST_S * 2.0**doublings)


def _outcome(delivery: Delivery, attempt: Attempt, possible_repeat: bool | None = None) -> Outcome:
    if possible_repeat is None:
        possible_repeat = delivery.possible_repeat
    return Outcome(
        message_id=delivery.message.id,
        agent_id=attempt.agent_id,
        state=attempt.state,
        method=attempt.method,
        reason=attempt.error,
        possible_repeat=possible_repeat,
        attempts=delivery.attempts,
        verified=attempt.verified,
    )


def _failed(item: Claimed, reason: str) -> Attempt:
    return Attempt(item.seq, item.delivery.agent_id, DeliveryState.FAILED, error=reason)


def _name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"

"""The coordinator's side: hands deliveries to the desks of other machines over their
streams, records the outcomes they send back, and adds their agents to the registry.

Deliveries handed over stay "delivering" in the store until their outcome comes back. One
whose outcome does not come within ``cluster.resend_after_s`` while its desk lives is handed
over again, and so is every one after a restart of the coordinator (the store's recovery
queues them again): the desk's own journal knows what it already took, so nothing is typed
twice, and an entry Redis lost (its last second of writes, when it dies) is replayed from the
store that way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from agents.registry import Agent, Registry
from agents.source import RegistrySource
from config.settings import ClusterSettings
from messaging.cluster.desks import Desks
from messaging.cluster.fallback import fall_back_here
from messaging.cluster.files import files_stream, place, write_in_place
from messaging.cluster.presence import Presence
from messaging.cluster.wire import (
    COORDINATOR_GROUP,
    DESKS_GROUP,
    PREFIX,
    ClusterError,
    Handed,
    RedisError,
    Reported,
    ResponseError,
    aioredis,
    cancelled,
    connect,
    desk_stream,
    outcome_stream,
    shown_url,
)
from messaging.desk import Desk
from messaging.model import DeliveryState, Lane, Message, Outcome, utc_now
from messaging.store import Attempt, Claimed

log = logging.getLogger(__name__)
Taker = Callable[[str, list[tuple[str, dict[str, str]]]], Awaitable[None]]
READ_BLOCK_MS = 500
READ_COUNT = 500
UNOWNED = "no desk announces this agent any more; add it to a desk's coordinates file"


class UnionSource(RegistrySource):
    """The coordinator's own agents and those the live and away desks announce."""

    def __init__(self, local: RegistrySource, cluster: Coordinator) -> None:
        super().__init__(local.path)
        self._local = local
        self._cluster = cluster

    def current(self) -> Registry:
        local = self._local.current()
        remote = [
            Agent(
                agent_id=agent_id,
                description=self._cluster.described(agent_id, description),
                active=active,
                chat_point=None,
                onboarding_point=None,
            )
            for agent_id, (description, active) in self._cluster.remote_agents().items()
            if agent_id not in local
        ]
        return Registry([*local, *remote])


class Coordinator:
    """The :class:`~messaging.desk.RemoteLane` of the coordinator."""

    def __init__(self, settings: ClusterSettings, url: str) -> None:
        self.settings = settings
        self.url = url
        self.redis: aioredis.Redis = connect(url, settings)
        self.followed = Desks(settings.away_after_s)
        self._desk: Desk | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._resent: dict[tuple[int, str], float] = {}
        self._groups: set[str] = set()
        self._reachable = True
        self._local_source: RegistrySource | None = None
        self._stopping = False

    # -- registry ----------------------------------------------------------------------

    def union(self, local: RegistrySource) -> UnionSource:
        self._local_source = local
        return UnionSource(local, self)

    def owns(self, agent_id: str) -> bool:
        """Whether ``agent_id`` is reached through another machine's desk."""
        return agent_id in self.followed.owner

    def desk_of(self, agent_id: str) -> str | None:
        return self.followed.owner.get(agent_id)

    def remote_agents(self) -> dict[str, tuple[str, bool]]:
        return self.followed.remote_agents()

    def described(self, agent_id: str, description: str) -> str:
        return self.followed.described(agent_id, description)

    def desks(self) -> dict[str, bool]:
        """Each desk seen, with whether it is away (silent past ``away_after_s``, or gone)."""
        return self.followed.away()

    def presence(self, desk: str) -> Presence | None:
        return self.followed.presence(desk)

    # -- life --------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the desks' heartbeats once (so their agents can be named at once) and keep
        following them."""
        try:
            await self._look()
        except (RedisError, OSError) as exc:
            await self.redis.aclose()
            raise ClusterError(
                f"cannot reach Redis at {shown_url(self.url)} (cluster.redis_url): {exc}; start "
                "it, or check the address and this coordinator's user and password"
            ) from None
        self._tasks.append(asyncio.create_task(self._watch(), name="cluster-watch"))

    def serve(self, desk: Desk) -> None:
        """Take in the outcomes the desks send back, for ``desk`` (this process runs it)."""
        self._desk = desk
        self._tasks += [
            asyncio.create_task(self._take(outcome_stream, self._record), name="cluster-outcomes"),
            asyncio.create_task(self._take(files_stream, self._write), name="cluster-files"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        await cancelled(self._tasks)
        self._tasks = []
        await self.redis.aclose()

    # -- hand-over ---------------------------------------------------------------------

    async def hand_over(self, claimed: list[Claimed]) -> None:
        """Add each claimed delivery to its desk's stream, one entry per message and desk.
        Raises :class:`RedisError` when Redis cannot take them (the desk puts them back)."""
        entries: dict[tuple[str, int], list[Claimed]] = {}
        unowned: list[Claimed] = []
        gone: dict[str, list[Claimed]] = {}
        for item in claimed:
            desk = self.desk_of(item.delivery.agent_id)
            if desk is None:
                unowned.append(item)
            elif self.followed.seen[desk].gone:
                gone.setdefault(desk, []).append(item)
            else:
                entries.setdefault((desk, item.seq), []).append(item)
        if unowned:
            await self._fail(unowned, UNOWNED)
        if gone:
            await self._abandon(gone)
        if entries:
            await self._add(entries)

    async def _abandon(self, gone: dict[str, list[Claimed]]) -> None:
        """Deliveries for agents of gone desks: none is left in its stream (a desk back
        later types nothing the operator was told went to the inbox here), each is
        written to the inbox here, saying so."""
        assert self._desk is not None
        for desk, items in gone.items():
            await self.redis.xtrim(desk_stream(desk), maxlen=0, approximate=False)
            log.warning(
                "%d deliveries for the agents of desk %s, which stopped answering, go to the "
                "inbox here",
                len(items),
                desk,
            )
            await fall_back_here(self._desk, items, desk, self.followed.seen[desk].gone_after_s)

    async def _add(self, entries: dict[tuple[str, int], list[Claimed]]) -> None:
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for (desk, seq), items in entries.items():
                message = items[0].delivery.message
                mine = tuple(a for a in message.recipients if self.desk_of(a) == desk)
                handed = Handed(
                    seq,
                    _with_recipients(message, mine),
                    tuple(i.delivery.agent_id for i in items),
                    now,
                    {i.delivery.agent_id: i.delivery.attempts for i in items},
                )
                pipe.xadd(
                    desk_stream(desk),
                    handed.fields(),  # type: ignore[arg-type]
                    maxlen=self.settings.stream_max_len,
                    approximate=True,
                )
            await pipe.execute()

    async def _fail(self, items: list[Claimed], reason: str) -> None:
        assert self._desk is not None
        attempts = [
            Attempt(i.seq, i.delivery.agent_id, DeliveryState.FAILED, error=reason) for i in items
        ]
        outcomes = [
            Outcome(
                i.delivery.message.id,
                i.delivery.agent_id,
                DeliveryState.FAILED,
                None,
                reason,
                attempts=i.delivery.attempts,
            )
            for i in items
        ]
        await self._desk.settle(attempts, outcomes)

    # -- heartbeats and replay ---------------------------------------------------------

    async def _watch(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                await self._look()
                if self._desk is not None:
                    await self._resend()
                self._reached(True)
            except (RedisError, OSError) as exc:
                self._reached(False, exc)
            except Exception:
                log.exception("following the desks failed; trying again")

    def _reached(self, reachable: bool, exc: BaseException | None = None) -> None:
        if reachable and not self._reachable:
            log.warning("Redis at %s answers again", shown_url(self.url))
        elif not reachable and self._reachable:
            log.warning("cannot reach Redis at %s: %s", shown_url(self.url), exc)
        self._reachable = reachable

    async def _look(self) -> None:
        local = set(self._local_source.current().ids) if self._local_source else set()
        await self.followed.look(self.redis, local)
        await self._groups_for(self.followed.live())

    async def _groups_for(self, desks: list[str]) -> None:
        for name in desks:
            if name in self._groups:
                continue
            for stream, group in (
                (desk_stream(name), DESKS_GROUP),
                (outcome_stream(name), COORDINATOR_GROUP),
                (files_stream(name), COORDINATOR_GROUP),
            ):
                with contextlib.suppress(ResponseError):  # BUSYGROUP: made before
                    await self.redis.xgroup_create(stream, group, id="0", mkstream=True)
            self._groups.add(name)

    async def _resend(self) -> None:
        """Hand over again what a live desk has not answered within ``resend_after_s``; what
        waits for a gone desk goes to the inbox here."""
        assert self._desk is not None
        every = self.settings.resend_after_s
        before = utc_now() - timedelta(seconds=every)
        any_gone = any(seen.gone for seen in self.followed.seen.values())
        waiting = await self._desk.store.handed_over(Lane.REMOTE, utc_now() if any_gone else before)
        now = time.monotonic()
        entries: dict[tuple[str, int], list[Claimed]] = {}
        gone: dict[str, list[Claimed]] = {}
        for item in waiting:
            key = (item.seq, item.delivery.agent_id)
            desk = self.desk_of(item.delivery.agent_id)
            if desk is not None and self.followed.seen[desk].gone:
                gone.setdefault(desk, []).append(item)
                continue
            updated = item.delivery.updated_at
            if (
                desk is None
                or self.followed.seen[desk].away(self.settings.away_after_s)
                or (updated is not None and updated >= before)
            ):
                continue
            if now - self._resent.get(key, -every) < every:
                continue
            self._resent[key] = now
            entries.setdefault((desk, item.seq), []).append(item)
        if gone:
            await self._abandon(gone)
        if entries:
            log.info("handing %d deliveries over again", sum(map(len, entries.values())))
            await self._add(entries)

    # -- outcomes ----------------------------------------------------------------------

    async def _take(self, stream_of: Callable[[str], str], handle: Taker) -> None:
        """Read the stream ``stream_of`` names for each desk and ``handle`` its entries."""
        backlog = True  # first what was read before and not acknowledged
        while not self._stopping:
            try:
                streams = {stream_of(name): "0" if backlog else ">" for name in self.followed.seen}
                if not streams:
                    await asyncio.sleep(self.settings.heartbeat_s)
                    continue
                await self._groups_for(list(self.followed.seen))
                read: Any = await self.redis.xreadgroup(
                    COORDINATOR_GROUP,
                    "coordinator",
                    streams,  # type: ignore[arg-type]
                    count=READ_COUNT,
                    block=None if backlog else READ_BLOCK_MS,
                )
                taken = sum(len(entries) for _, entries in read)
                for stream, entries in read:
                    await handle(stream, entries)
                if backlog and taken == 0:
                    backlog = False
                self._reached(True)
            except (RedisError, OSError) as exc:
                self._reached(False, exc)
                self._groups.clear()
                await asyncio.sleep(self.settings.heartbeat_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the desks' streams failed; trying again")
                await asyncio.sleep(self.settings.heartbeat_s)

    async def _write(self, stream: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Write the files a desk forwarded into this home's workspaces, where the watchers
        of this home route and post them."""
        if not entries:
            return
        assert self._desk is not None
        desk = stream.removeprefix(f"{PREFIX}:files:")
        for _, fields in entries:
            agent_id = fields["agent"]
            target = place(self._desk.workspaces_dir, agent_id, fields["folder"], fields["name"])
            if self.desk_of(agent_id) != desk or target is None:
                log.warning("desk %s forwarded a file that is not its agents'; ignored", desk)
                continue
            await asyncio.to_thread(write_in_place, target, fields["text"])
        await self.redis.xack(stream, COORDINATOR_GROUP, *[entry_id for entry_id, _ in entries])

    async def _record(self, stream: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        if not entries:
            return
        assert self._desk is not None
        desk = stream.removeprefix(f"{PREFIX}:outcomes:")
        attempts: list[Attempt] = []
        outcomes: list[Outcome] = []
        repeats: list[tuple[int, str]] = []
        for _, fields in entries:
            reported = Reported.parse(fields)
            o = reported.outcome
            if self.desk_of(o.agent_id) != desk:  # a desk answers for its own agents only
                log.warning(
                    "desk %s reported on %s, which it does not own; ignored", desk, o.agent_id
                )
                continue
            attempts.append(
                Attempt(reported.seq, o.agent_id, o.state, o.method, o.reason, verified=o.verified)
            )
            outcomes.append(o)
            if o.possible_repeat:
                repeats.append((reported.seq, o.agent_id))
            self._resent.pop((reported.seq, o.agent_id), None)
        if repeats:  # first, so no one reads the outcome without it
            async with self._desk.store.writing() as tx:
                await tx.executemany(
                    "UPDATE deliveries SET possible_repeat = 1 WHERE message_seq = ? AND agent = ?",
                    repeats,
                )
        if attempts:
            await self._desk.settle(attempts, outcomes)
        await self.redis.xack(stream, COORDINATOR_GROUP, *[entry_id for entry_id, _ in entries])


def _with_recipients(message: Message, recipients: tuple[str, ...]) -> Message:
    return replace(message, recipients=recipients)

"""A desk on another machine: joins the coordinator's Redis, announces the agents of its
home with a heartbeat, takes the deliveries of its stream and types them through its own
lanes, and sends each outcome back.

The home's own store is the desk's journal: an entry is stored there (once: its key names
the coordinator's message) before it is acknowledged in Redis, and the local desk marks a
delivery before its first key, as on one machine. An entry that comes again (Redis gave it
twice, or the coordinator handed it over again) is not delivered again: its outcome is sent
again if it has one. An entry whose coordinator attempt is above the one this desk served
is a retry (``cellphone retry`` at the coordinator): what of it did not reach the agent is
queued again here, as a local retry does. A desk killed mid-typing reports that delivery
as a possible repeat.
Cut off from Redis, the desk goes on with what it holds and sends the outcomes once back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from agents.registry import Agent, Registry
from config.settings import ClusterSettings
from messaging.cluster.files import Forwarder
from messaging.cluster.presence import gone_after_s
from messaging.cluster.wire import (
    DESKS_GROUP,
    ClusterError,
    Handed,
    Heartbeat,
    RedisError,
    RemoteAgent,
    Reported,
    ResponseError,
    aioredis,
    cancelled,
    desk_stream,
    heartbeat_key,
    outcome_stream,
    shown_url,
)
from messaging.desk import outcome_of
from messaging.model import Lane, Message, MessageType, Outcome
from messaging.runtime import Runtime

log = logging.getLogger(__name__)
KEY_PREFIX = "cluster:"  # the local idempotency key: cluster:<coordinator seq>
# the coordinator's attempt served last for each delivery, kept beside the journal
SERVED_TABLE = """CREATE TABLE IF NOT EXISTS cluster_served (
    message_key TEXT NOT NULL, agent TEXT NOT NULL, attempt INTEGER NOT NULL,
    PRIMARY KEY (message_key, agent)) WITHOUT ROWID"""
Served = dict[tuple[str, str], int]  # (message key, agent) -> the coordinator's attempt
READ_BLOCK_MS = 500
READ_COUNT = 256
RETRY_MIN_S = 0.2
RETRY_MAX_S = 2.0


@dataclass
class _Link:
    """Whether Redis answered last time, to log the change once."""

    url: str
    up: bool = True

    def went(self, up: bool, exc: BaseException | None = None) -> None:
        if up and not self.up:
            log.warning("Redis at %s answers again", shown_url(self.url))
        elif not up and self.up:
            log.warning("cut off from Redis at %s: %s", shown_url(self.url), exc)
        self.up = up


class Member:
    def __init__(
        self,
        name: str,
        redis: aioredis.Redis,
        runtime: Runtime,
        settings: ClusterSettings,
        url: str,
    ) -> None:
        self.name = name
        self.redis = redis
        self.rt = runtime
        self.settings = settings
        self.consumer = f"{name}-{os.getpid()}-{int(time.time() * 1000)}"
        self.since = time.time()
        self.beat = 0
        self.link = _Link(url)
        self._seqs: dict[str, int] = {}  # message id -> the coordinator's seq
        self._unsent: asyncio.Queue[Reported] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def run(self, stopped: asyncio.Event) -> None:
        """Serve until ``stopped`` is set."""
        async with self.rt.store.writing() as tx:
            await tx.execute(SERVED_TABLE)
        unsubscribe = self.rt.desk.subscribe(self._on_outcome)
        if not await self.rt.desk.start():
            unsubscribe()
            raise ClusterError(
                f"another process runs the desk of this home ({self.rt.home.root}); stop it "
                "before joining"
            )
        forwarder = Forwarder(
            self.name,
            self.redis,
            self.rt.home.workspaces_dir,
            self.rt.registry,
            self.settings,
            self.rt.settings.watch,
        )
        await forwarder.watcher.start()
        self._tasks = [
            asyncio.create_task(self._heartbeats(), name="desk-heartbeat"),
            asyncio.create_task(self._take(), name="desk-take"),
            asyncio.create_task(self._send(), name="desk-send"),
        ]
        try:
            await stopped.wait()
        finally:
            unsubscribe()
            self._stopping = True
            await cancelled(self._tasks)
            await forwarder.watcher.stop()

    # -- heartbeat ---------------------------------------------------------------------

    def heartbeat(self) -> Heartbeat:
        """The next beat; Redis keeps it :func:`gone_after_s` (then the desk is gone)."""
        self.beat += 1
        agents = tuple(
            RemoteAgent(a.agent_id, a.description, a.active) for a in self.rt.registry.current()
        )
        ttl_ms = int(gone_after_s(self.settings) * 1000)
        return Heartbeat(self.name, self.since, self.beat, agents, ttl_ms)

    async def _heartbeats(self) -> None:
        while not self._stopping:
            try:
                beat = self.heartbeat()
                await self.redis.set(heartbeat_key(self.name), beat.dumps(), px=beat.ttl_ms)
                self.link.went(True)
            except (RedisError, OSError) as exc:
                self.link.went(False, exc)
            await asyncio.sleep(self.settings.heartbeat_s)

    # -- taking deliveries -------------------------------------------------------------

    async def _take(self) -> None:
        stream = desk_stream(self.name)
        backlog = True
        pause = RETRY_MIN_S
        while not self._stopping:
            try:
                if backlog:
                    await self._adopt(stream)
                read: Any = await self.redis.xreadgroup(
                    DESKS_GROUP,
                    self.consumer,
                    {stream: ">"},
                    count=READ_COUNT,
                    block=READ_BLOCK_MS,
                )
                backlog = False
                for _, entries in read:
                    await self._store(stream, entries)
                pause = RETRY_MIN_S
                self.link.went(True)
            except (RedisError, OSError) as exc:
                self.link.went(False, exc)
                backlog = True  # Redis may have restarted: the group and the pending again
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_S)

    async def _adopt(self, stream: str) -> None:
        """Make the group if it is missing, then take over the entries a consumer before
        this one read and did not acknowledge (a desk killed before storing them)."""
        with contextlib.suppress(ResponseError):  # BUSYGROUP: there already
            await self.redis.xgroup_create(stream, DESKS_GROUP, id="0", mkstream=True)
        start = "0-0"
        while True:
            start, entries, *_ = await self.redis.xautoclaim(
                stream,
                DESKS_GROUP,
                self.consumer,
                min_idle_time=0,
                start_id=start,
                count=READ_COUNT,
            )
            if entries:
                log.info("took over %d entries an earlier desk process left", len(entries))
                await self._store(stream, entries)
            if start == "0-0":
                break
        for consumer in await self.redis.xinfo_consumers(stream, DESKS_GROUP):
            if consumer["name"] != self.consumer and consumer["pending"] == 0:
                await self.redis.xgroup_delconsumer(stream, DESKS_GROUP, consumer["name"])

    async def _store(self, stream: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Journal ``entries``, note the attempts they serve (one synced write for them
        all), then acknowledge them."""
        if not entries:
            return
        registry = self.rt.registry.current()
        served: Served = {}
        for _, fields in entries:
            await self._journal(Handed.parse(fields), registry, served)
        await self._note(served)
        await self.redis.xack(stream, DESKS_GROUP, *[entry_id for entry_id, _ in entries])

    async def _journal(self, handed: Handed, registry: Registry, served: Served) -> None:
        message = handed.message
        self._seqs[message.id] = handed.seq
        away = time.time() - handed.sent_at > self.settings.away_after_s
        inbox = away and self.settings.when_desk_away == "inbox"
        lanes = {
            agent_id: Lane.INBOX if inbox else self._lane(registry, agent_id, message.type)
            for agent_id in message.recipients
        }
        keyed = Message(
            sender=message.sender,
            recipients=message.recipients,
            body=message.body,
            type=message.type,
            priority=message.priority,
            tags=message.tags,
            id=message.id,
            created_at=message.created_at,
            key=f"{KEY_PREFIX}{handed.seq}",
            reply_to=message.reply_to,
            ack_required=message.ack_required,
        )
        _, created = await self.rt.store.insert(keyed, lanes)
        key = str(keyed.key)
        if not created and await self._retried(key, handed, served):
            log.info("the coordinator retries %s: queued again here", message.id)
            await self.rt.service.retry(message.id)  # before the attempt is noted: see _note
        for agent in handed.agents:
            attempt = handed.attempts.get(agent, 0)
            served[(key, agent)] = max(attempt, served.get((key, agent), attempt))
        if created:
            self.rt.desk.wake()
            return
        for delivery in await self.rt.store.deliveries(message.id):  # handed over again
            if delivery.agent_id in handed.agents and delivery.state.is_final:
                await self._unsent.put(Reported(handed.seq, outcome_of(delivery)))

    async def _retried(self, key: str, handed: Handed, served: Served) -> bool:
        """Whether ``handed`` is a retry: an agent's attempt at the coordinator is above
        the one served here (an entry handed over again keeps its attempt). ``served``:
        the attempts of the entries before it in this batch, not yet noted."""
        rows = await self.rt.store.rows(
            "SELECT agent, attempt FROM cluster_served WHERE message_key = ?", (key,)
        )
        before = {str(row[0]): int(row[1]) for row in rows}
        for (message_key, agent), attempt in served.items():
            if message_key == key:
                before[agent] = max(attempt, before.get(agent, attempt))
        return any(
            agent in before and handed.attempts.get(agent, 0) > before[agent]
            for agent in handed.agents
        )

    async def _note(self, served: Served) -> None:
        """Keep the attempts served, after the retries they asked for were queued: a desk
        killed between the two queues such a retry again when the entry comes again (one
        more try of what did not reach the agent), never loses it."""
        async with self.rt.store.writing() as tx:
            await tx.executemany(
                "INSERT INTO cluster_served (message_key, agent, attempt) VALUES (?, ?, ?)"
                " ON CONFLICT DO UPDATE SET attempt = max(attempt, excluded.attempt)",
                [(key, agent, attempt) for (key, agent), attempt in served.items()],
            )

    def _lane(self, registry: Registry, agent_id: str, type: MessageType) -> Lane:
        if agent_id not in registry:
            return Lane.INBOX  # the desk fails it, naming the agents it has
        agent: Agent = registry.get(agent_id)
        if agent.tmux is not None:
            return Lane.TMUX if self.rt.service.tmux_enabled else Lane.INBOX
        point = agent.onboarding_point if type is MessageType.ONBOARDING else agent.chat_point
        return Lane.SCREEN if self.rt.service.screen_enabled and point is not None else Lane.INBOX

    # -- outcomes ----------------------------------------------------------------------

    async def _on_outcome(self, outcome: Outcome) -> None:
        if not outcome.state.is_final:
            return
        seq = self._seqs.get(outcome.message_id)
        if seq is None:
            entry = await self.rt.store.message(outcome.message_id)
            key = entry.message.key if entry is not None else None
            if key is None or not key.startswith(KEY_PREFIX):
                return  # not the coordinator's
            seq = int(key.removeprefix(KEY_PREFIX))
        await self._unsent.put(Reported(seq, outcome))

    async def _send(self) -> None:
        stream = outcome_stream(self.name)
        pause = RETRY_MIN_S
        while not self._stopping:
            batch = [await self._unsent.get()]
            while not self._unsent.empty() and len(batch) < READ_COUNT:
                batch.append(self._unsent.get_nowait())
            while not self._stopping:
                try:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for reported in batch:
                            pipe.xadd(
                                stream,
                                reported.fields(),  # type: ignore[arg-type]
                                maxlen=self.settings.stream_max_len,
                                approximate=True,
                            )
                        await pipe.execute()
                    self.link.went(True)
                    pause = RETRY_MIN_S
                    break
                except (RedisError, OSError) as exc:  # kept, and sent once Redis answers
                    self.link.went(False, exc)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_MAX_S)

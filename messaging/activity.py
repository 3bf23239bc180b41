"""What agents report in ``status.json`` and when each last showed life.

Every readable status is kept (state, task, progress); a change of state or task is
posted to the status channel, at most once per ``watch.status_debounce_s`` per agent
(the latest change wins). An agent silent (no status, outbox file or devlog) for longer
than ``watch.stall_after_s`` is flagged stalled and reported once; its next sign of life
clears the flag.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agents.watch import Arrival
from messaging.model import utc_now
from messaging.notices import Channel, Notices
from messaging.periodic import Periodic
from messaging.store import Store

log = logging.getLogger(__name__)

FIELDS = ("state", "task", "progress")
MAX_FIELD = 300
MAX_STATUS_BYTES = 65_536


@dataclass(frozen=True)
class Status:
    state: str | None
    task: str | None
    progress: str | None


def read_status(path: Path) -> Status:
    """The status an agent wrote; ValueError when it is not a JSON object."""
    data = path.read_bytes()[:MAX_STATUS_BYTES]
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} holds {type(document).__name__}, not a JSON object")
    values = [document.get(name) for name in FIELDS]
    return Status(*(None if v is None else " ".join(str(v).split())[:MAX_FIELD] for v in values))


class Activity(Periodic):
    what = "checking agents' activity"

    def __init__(
        self, store: Store, notices: Notices, *, debounce_s: float, stall_after_s: float
    ) -> None:
        super().__init__()
        self.store = store
        self.notices = notices
        self.debounce_s = debounce_s
        self.stall_after_s = stall_after_s
        self._pending: dict[str, str] = {}  # agent → the change not posted yet
        self._posted_at: dict[str, float] = {}

    async def seen(self, agent_id: str) -> None:
        """A sign of life: now is when ``agent_id`` was last heard of."""
        async with self.store.writing() as tx:
            await tx.execute(
                "INSERT INTO agent_status (agent, last_seen_at) VALUES (?, ?)"
                " ON CONFLICT (agent) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
                " stalled_at = NULL",
                (agent_id, utc_now().isoformat()),
            )

    async def status_arrived(self, arrival: Arrival) -> None:
        """The handler of ``status.json`` arrivals."""
        agent_id = arrival.agent.agent_id
        try:
            status = await asyncio.to_thread(read_status, arrival.path)
        except FileNotFoundError:
            return
        except ValueError as exc:
            log.warning("status of %s ignored: %s", agent_id, exc)
            await self.seen(agent_id)
            return
        before = await self.store.rows(
            "SELECT state, task FROM agent_status WHERE agent = ?", (agent_id,)
        )
        now = utc_now().isoformat()
        async with self.store.writing() as tx:
            await tx.execute(
                "INSERT INTO agent_status (agent, state, task, progress, changed_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent) DO UPDATE SET"
                " state = excluded.state, task = excluded.task, progress = excluded.progress,"
                " changed_at = excluded.changed_at, last_seen_at = excluded.last_seen_at,"
                " stalled_at = NULL",
                (agent_id, status.state, status.task, status.progress, now, now),
            )
        old = (before[0]["state"], before[0]["task"]) if before else (None, None)
        if (status.state, status.task) != old:
            self._pending[agent_id] = _describe(agent_id, status)
            await self.flush()

    async def flush(self) -> int:
        """Post the pending changes whose agent was not posted about within the debounce."""
        posted = 0
        now = time.monotonic()
        for agent_id, text in list(self._pending.items()):
            if now - self._posted_at.get(agent_id, -1e9) < self.debounce_s:
                continue
            del self._pending[agent_id]
            self._posted_at[agent_id] = now
            await self.notices.add(Channel.STATUS, text, agent_id=agent_id)
            posted += 1
        return posted

    async def check_stalls(self, now: datetime | None = None) -> list[str]:
        """Flag and report, once, the agents silent longer than ``stall_after_s``."""
        now = now or utc_now()
        cutoff = (now - timedelta(seconds=self.stall_after_s)).isoformat()
        async with self.store.writing() as tx:
            rows = await tx.execute_fetchall(
                "UPDATE agent_status SET stalled_at = ? WHERE stalled_at IS NULL"
                " AND last_seen_at < ? RETURNING agent, last_seen_at",
                (now.isoformat(), cutoff),
            )
        stalled = []
        for agent_id, last_seen in rows:
            minutes = (now - datetime.fromisoformat(last_seen)).total_seconds() / 60
            await self.notices.add(
                Channel.STATUS,
                f"⚠️ {agent_id} looks stalled: no status, outbox file or devlog for "
                f"{minutes:.0f} min",
                agent_id=agent_id,
                key=f"stalled:{agent_id}:{last_seen}",
            )
            stalled.append(agent_id)
        return stalled

    async def tick(self) -> None:
        await self.flush()
        await self.check_stalls()


def _describe(agent_id: str, status: Status) -> str:
    parts = [f"**{agent_id}** is {status.state or 'without a state'}"]
    if status.task:
        parts.append(f"on {status.task}")
    if status.progress:
        parts.append(f"({status.progress})")
    return " ".join(parts)

"""Following what agents write back, for one home: the workspace watcher (outbox and
devlog files, inbox reads), acknowledgement reminders, and the posting of devlogs and
notices. One process of a home does it at a time (the bot, or `cellphone deliver
--watch`); both compose it from here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from agents.watch import STATUS_FILE, Arrival, Handler, WorkspaceWatcher
from devlogs.files import DevlogFiles
from devlogs.journal import Journal
from devlogs.post import Poster
from devlogs.publisher import PosterLock, Publisher
from devlogs.summary import Summarizer, providers_of
from messaging.activity import Activity
from messaging.filed import Ledger
from messaging.notices import Notices
from messaging.outbox import InboxReads, OutboxRouter
from messaging.reminders import Reminders
from messaging.runtime import Runtime

log = logging.getLogger(__name__)

LOCK_FILE = "watch.lock"
BACKUP_LOCK = ".create.lock"  # held in the backups folder while a backup is being made
STOP_GRACE_S = 10.0  # how long stop() lets the post in flight finish
STANDBY_POLL_S = 1.0  # how often a process standing by tries to take over


def publisher_for(rt: Runtime, poster: Poster | None, notices: Notices) -> Publisher:
    settings = rt.settings
    summarizer = Summarizer(
        providers_of(settings.openai, settings.devlogs.summary_providers),
        settings.devlogs.summary_timeout_s,
    )
    return Publisher(
        Journal(rt.store),
        notices,
        summarizer,
        poster,
        summarize_all=settings.openai.summaries,
        poll_s=settings.messaging.poll_interval_s,
        archive=rt.home.devlogs_dir,
    )


class Watchers:
    def __init__(self, rt: Runtime, poster: Poster | None) -> None:
        watch = rt.settings.watch
        self.notices = Notices(rt.store)
        self.publisher = publisher_for(rt, poster, self.notices)
        self.notices.listeners.append(self.publisher.wake)
        ledger = Ledger(rt.store, self.notices)
        self.reminders = Reminders(rt.service, self.notices, watch.ack_timeout_s)
        self.activity = Activity(
            rt.store,
            self.notices,
            debounce_s=watch.status_debounce_s,
            stall_after_s=watch.stall_after_s,
        )
        self.watcher = WorkspaceWatcher(
            rt.home.workspaces_dir,
            rt.registry,
            {
                "outbox": self._alive(OutboxRouter(rt.service, ledger, watch.max_file_bytes)),
                "devlogs": self._alive(DevlogFiles(self.publisher, ledger, watch.max_file_bytes)),
                STATUS_FILE: self.activity.status_arrived,
            },
            on_read=InboxReads(rt.service),
            settle_s=watch.settle_s,
            rescan_s=watch.rescan_s,
            quiet_opens=rt.home.backups_dir / BACKUP_LOCK,
        )
        self.lock = PosterLock(rt.home.var_dir / LOCK_FILE)
        self._reminder_interval = min(watch.rescan_s, watch.ack_timeout_s / 4)
        self._tasks: list[asyncio.Task[None]] = []
        self.running = False

    async def start(self) -> bool:
        """Start watching. When another process of the home watches, stand by and take
        over once it stops; False then."""
        if not self.lock.acquire():
            log.info("another process watches this home's workspaces; standing by")
            self._tasks = [asyncio.create_task(self._stand_by(), name="watch-standby")]
            return False
        await self._begin()
        return True

    async def _begin(self) -> None:
        await self.watcher.start()
        self._tasks.append(
            asyncio.create_task(self.reminders.run(self._reminder_interval), name="reminders")
        )
        self._tasks.append(asyncio.create_task(self.publisher.run(), name="publisher"))
        self._tasks.append(
            asyncio.create_task(self.activity.run(self._reminder_interval), name="activity")
        )
        self.running = True

    def _alive(self, handler: Handler) -> Handler:
        """``handler``, noting first that the file's agent showed life."""

        async def handle(arrival: Arrival) -> None:
            await self.activity.seen(arrival.agent.agent_id)
            await handler(arrival)

        return handle

    async def _stand_by(self) -> None:
        while not self.lock.acquire():
            await asyncio.sleep(STANDBY_POLL_S)
        log.info("taking over watching this home's workspaces")
        await self._begin()

    async def stop(self) -> None:
        self.publisher.stop_soon()
        self.reminders.stop_soon()
        self.activity.stop_soon()
        standby = [t for t in self._tasks if t.get_name() == "watch-standby"]
        for task in standby:
            task.cancel()
        if self.running:
            await self.watcher.stop(STOP_GRACE_S)
        working = [t for t in self._tasks if t not in standby]
        if working:
            await asyncio.wait(working, timeout=STOP_GRACE_S)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.lock.release()
        self.running = False

    async def __aenter__(self) -> Watchers:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

"""Backups on a schedule, in whichever process runs the coordinator (the bot, or
``cellphone deliver --watch``): every ``backups.interval_minutes`` a backup is made and
verified, and old ones are pruned by the retention settings; a failure is logged and
reported (to Discord where a bot runs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from backups.doctor import ready_to_start
from backups.errors import BackupError
from backups.manifest import Manifest
from backups.service import Backups
from config import BackupKind, Home, Settings

log = logging.getLogger(__name__)

Report = Callable[[str], Awaitable[None]]


async def log_only(text: str) -> None:
    log.error("%s", text)


class BackupSchedule:
    def __init__(self, backups: Backups, report: Report = log_only) -> None:
        self.backups = backups
        self.settings = backups.settings
        self.report = report

    @property
    def interval(self) -> timedelta | None:
        minutes = self.settings.interval_minutes
        return timedelta(minutes=minutes) if minutes > 0 else None

    def due_in(self, now: datetime) -> float:
        """Seconds until the next backup is due (0: now)."""
        newest = self.backups.catalog.newest()
        if newest is None or self.interval is None:
            return 0.0
        return max(0.0, (newest.created_at + self.interval - now).total_seconds())

    def next_kind(self) -> BackupKind:
        """A full backup after ``full_every`` others (or when there is none), else the
        scheduled kind."""
        newest_first = list(reversed(self.backups.catalog.manifests()))
        for since_full, manifest in enumerate(newest_first):
            if manifest.kind is BackupKind.FULL:
                if since_full < self.settings.full_every:
                    return self.settings.scheduled_kind
                break
        return BackupKind.FULL

    async def run_once(self) -> Manifest | None:
        """Make and verify one backup, then prune by ``keep_last`` and ``keep_daily``; a
        failure is reported, and None returned."""
        kind = self.next_kind()
        try:
            manifest = await asyncio.to_thread(self.backups.create, kind)
            await asyncio.to_thread(self.backups.verify, manifest.id)
        except (BackupError, OSError) as exc:
            await self.report(f"⚠️ scheduled {kind} backup failed: {exc}")
            return None
        log.info("scheduled backup %s (%s) made and verified", manifest.id, kind)
        try:
            await asyncio.to_thread(
                self.backups.prune, self.settings.keep_last, self.settings.keep_daily
            )
        except (BackupError, OSError) as exc:
            await self.report(f"⚠️ pruning old backups failed: {exc}")
        return manifest

    async def run(self) -> None:
        """Back up whenever due, until cancelled."""
        if self.interval is None:
            return
        while True:
            await asyncio.sleep(self.due_in(self.backups.clock()))
            if await self.run_once() is None:
                # try again after an interval, not in a tight loop against a full disk
                await asyncio.sleep(self.interval.total_seconds())


@contextlib.asynccontextmanager
async def alongside_desk(
    home: Home, settings: Settings, report: Report = log_only
) -> AsyncIterator[None]:
    """What a coordinator runs beside its desk: a damaged store or an unreadable backup key
    stops it at once (saying what to do); the backup schedule runs until it stops."""
    ready_to_start(home, settings)
    schedule = BackupSchedule(Backups(home, settings.backups), report)
    task = asyncio.create_task(schedule.run(), name="backup-schedule")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

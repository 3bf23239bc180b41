"""The schedule a running coordinator keeps, and what it does on a damaged store."""

from __future__ import annotations

import pytest

from backups.errors import DamagedStoreError
from backups.schedule import BackupSchedule, alongside_desk
from backups.service import Backups
from config import BackupKind, Home, Settings
from tests.backups.conftest import Clock, damage_store, settings_with, write_devlog


async def test_a_scheduled_backup_is_made_and_verified_full_first(
    busy_home: Home, clock: Clock
) -> None:
    settings = settings_with(busy_home, interval_minutes=30, full_every=2)
    backups = Backups(busy_home, settings.backups, clock)
    schedule = BackupSchedule(backups)
    assert schedule.due_in(clock.now) == 0

    kinds = []
    for _ in range(4):
        made = await schedule.run_once()
        assert made is not None
        check = backups.catalog.verified(made.id)
        assert check is not None and check.ok
        kinds.append(made.kind)
        assert schedule.due_in(clock.now) == 30 * 60
        clock.advance(minutes=30)
        write_devlog(busy_home, "Agent-1", "log.md", str(clock.now))
    assert kinds == [
        BackupKind.FULL,
        BackupKind.INCREMENTAL,
        BackupKind.INCREMENTAL,
        BackupKind.FULL,
    ]


async def test_a_failed_scheduled_backup_is_reported(
    busy_home: Home, settings: Settings, clock: Clock
) -> None:
    reports: list[str] = []

    async def report(text: str) -> None:
        reports.append(text)

    backups = Backups(busy_home, settings.backups, clock)
    busy_home.backups_dir.parent.mkdir(parents=True, exist_ok=True)
    busy_home.backups_dir.write_text("a file where the backups folder should be")
    assert await BackupSchedule(backups, report).run_once() is None
    assert len(reports) == 1
    assert reports[0].startswith("⚠️ scheduled full backup failed:")
    assert str(busy_home.backups_dir) in reports[0]


async def test_a_damaged_store_stops_the_coordinator_pointing_to_restore(
    busy_home: Home, settings: Settings
) -> None:
    damage_store(busy_home.database)
    with pytest.raises(DamagedStoreError, match=r"damaged .*; not starting\. .*backup restore"):
        async with alongside_desk(busy_home, settings):
            pytest.fail("the coordinator started on a damaged store")


async def test_the_schedule_prunes_by_the_retention_settings(busy_home: Home, clock: Clock) -> None:
    settings = settings_with(busy_home, full_every=1, keep_last=2, keep_daily=0)
    backups = Backups(busy_home, settings.backups, clock)
    schedule = BackupSchedule(backups)
    made = []
    for _ in range(4):
        manifest = await schedule.run_once()
        assert manifest is not None
        made.append(manifest.id)
        clock.advance(hours=1)
    assert sorted(backups.catalog.ids()) == made[-2:]

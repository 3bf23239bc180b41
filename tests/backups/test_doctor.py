"""The doctor's checks on a real home; the display is a fixed layout (the live X display is
covered by the GUI tests), everything else is real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backups.doctor import Status, run_checks, summary
from backups.errors import BackupError
from backups.service import Backups
from config import BackupKind, Home, Settings
from coordinates.errors import NoDisplayError
from coordinates.layout import Layout, Monitor
from messaging.runtime import open_runtime
from tests.backups.conftest import Clock, settings_with

BOTH = Layout(
    (Monitor("left", 0, 0, 1920, 1080, primary=True), Monitor("right", 1920, 0, 1920, 1080))
)
LEFT_ONLY = Layout((Monitor("left", 0, 0, 1920, 1080, primary=True),))


def by_name(home: Home, settings: Settings, layout: Layout, **options: object) -> dict:
    checks = run_checks(home, settings, lambda: layout, **options)  # type: ignore[arg-type]
    return {c.name: c for c in checks}


async def test_points_queue_backups_and_disk(home: Home, settings: Settings) -> None:
    checks = by_name(home, settings, BOTH)
    assert checks["display"].status is Status.OK and checks["display"].detail == "2 monitors"
    assert checks["agent points"].status is Status.OK
    assert checks["backups"].status is Status.FAIL

    off = by_name(home, settings, LEFT_ONLY)["agent points"]
    assert off.status is Status.FAIL and "Agent-5" in off.detail and "Agent-1 " not in off.detail
    assert "calibrate" in off.fix

    async with open_runtime(home, settings, start_desk=False) as rt:
        await rt.service.send(["Agent-2"], "waits: no desk runs")
    now = datetime.now(UTC)
    assert by_name(home, settings, BOTH, now=now)["queue"].status is Status.OK
    later = by_name(home, settings, BOTH, now=now + timedelta(hours=1))["queue"]
    assert later.status is Status.WARN and "waits 60 min" in later.detail

    backups = Backups(home, settings.backups)
    backups.verify(backups.create().id)
    assert by_name(home, settings, BOTH, now=now)["backups"].status is Status.OK
    stale = by_name(home, settings, BOTH, now=now + timedelta(hours=3))["backups"]
    assert stale.status is Status.FAIL and "recovery point 2 h" in stale.detail

    full_disk = settings_with(home, min_free_disk_mb=10**12)
    disk = by_name(home, full_disk, BOTH)["free disk"]
    assert disk.status is Status.FAIL and "need 1,000,000,000,000" in disk.detail


def test_no_display_warns_and_summary_names_what_is_wrong(home: Home, settings: Settings) -> None:
    def no_display() -> Layout:
        raise NoDisplayError("no display: DISPLAY is not set")

    checks = run_checks(home, settings, no_display)
    named = {c.name: c for c in checks}
    assert named["display"].status is Status.WARN
    assert named["agent points"].detail == "not checked: no display"
    line = summary(checks)
    assert "⚠️ display: no display: DISPLAY is not set" in line
    assert "❌ backups: no verified backup" in line
    assert line.endswith("(`cellphone doctor` says how to fix)")


def test_the_backup_age_reads_only_the_newest_verified_manifest(
    backups: Backups, clock: Clock
) -> None:
    # status asks this every time; reading every manifest of a home's dozens of backups
    # (each lists every file) took a second or more
    made = []
    for _ in range(3):
        made.append(backups.create(BackupKind.FULL))
        backups.verify(made[-1].id)
        clock.advance(hours=1)
    catalog = backups.catalog
    catalog.mark_verified(made[2].id, made[2].created_at, ["sha256 mismatch: a file"])
    for old in made[:1]:
        (catalog.folder / f"{old.id}.json").write_text("no manifest any more")
    fresh = Backups(backups.home, backups.settings)  # nothing read yet
    assert fresh.last_verified() == made[1].created_at
    with pytest.raises(BackupError):  # the list does read them all, and says what is wrong
        fresh.rows()

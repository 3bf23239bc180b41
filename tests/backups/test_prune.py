"""Retention keeps exactly the newest N, the newest of each of the last D days, and what
those are restored from."""

from __future__ import annotations

from datetime import datetime

from backups.service import Backups
from config import BackupKind, Home
from tests.backups.conftest import Clock, write_devlog


def made_at(backups: Backups, clock: Clock, when: datetime, kind: BackupKind) -> str:
    clock.now = when
    return backups.create(kind).id


def test_prune_keeps_exactly_what_the_policy_says(
    backups: Backups, busy_home: Home, clock: Clock
) -> None:
    day = clock.now
    ids = {}
    for name, (days, hours, kind) in {
        "d1-full": (0, 0, BackupKind.FULL),
        "d1-late": (0, 5, BackupKind.INCREMENTAL),
        "d2-full": (1, 0, BackupKind.FULL),
        "d2-late": (1, 6, BackupKind.FULL),
        "d3-full": (2, 0, BackupKind.FULL),
        "d3-incr": (2, 1, BackupKind.INCREMENTAL),
        "d3-incr2": (2, 2, BackupKind.INCREMENTAL),
    }.items():
        write_devlog(busy_home, "Agent-1", f"{name}.md", name)
        when = day.replace(day=day.day + days, hour=day.hour + hours)
        ids[name] = made_at(backups, clock, when, kind)

    plan = backups.prune(keep_last=1, keep_daily=2)

    # newest 1: d3-incr2; newest of the last 2 days: d3-incr2, d2-late; d3-incr2 is
    # restored from d3-full and d3-incr
    names = {v: k for k, v in ids.items()}
    assert sorted(names[i] for i in plan.keep) == ["d2-late", "d3-full", "d3-incr", "d3-incr2"]
    assert sorted(names[i] for i in plan.needed) == ["d3-full", "d3-incr"]
    assert sorted(names[i] for i in plan.remove) == ["d1-full", "d1-late", "d2-full"]
    assert {m.id for m in backups.catalog.manifests()} == set(plan.keep)
    assert sorted(p.name for p in backups.catalog.folder.glob("*.tar")) == sorted(
        f"{i}.tar" for i in plan.keep
    )
    backups.verify(ids["d3-incr2"])


def test_prune_dry_run_removes_nothing(backups: Backups, clock: Clock) -> None:
    for _ in range(3):
        clock.advance(hours=1)
        backups.create(BackupKind.FULL)
    plan = backups.prune(keep_last=1, keep_daily=0, dry_run=True)
    assert len(plan.remove) == 2
    assert len(backups.catalog.manifests()) == 3

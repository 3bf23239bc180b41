"""Backup, restore and incremental speed on a generated home, against plain ``tar``.

Prints one table. Run: ``.venv/bin/python bench/backup.py [--mb 500] [--rounds 3]``. Each
timed step starts after ``sync``, so none pays for the writeback of another.

The home: a store of many delivered messages, agents' inbox letters, devlogs of mixed
sizes and large incompressible files in their outboxes. Timed, median of the rounds:
- tar: ``tar -cf`` of the same folders to the same disk (the reference; no fsync), and
  the same followed by an fsync of its archive (what a durable copy costs);
- full backup: ``Backups.create`` (snapshot of the store, every file read, hashed,
  archived, the archive fsynced, manifest written);
- incremental: after about 1% of the home changed (new messages and letters, edited
  devlogs, one big file replaced);
- verify: every hash of the full backup recomputed;
- restore: the full backup into a new folder, every file checked and the folders swapped in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agents.home import prepare_home
from backups.manifest import Manifest
from backups.service import Backups
from backups.sources import home_files
from config import BackupKind, Home, load_settings
from messaging.store import Store

AGENTS = [f"Agent-{n}" for n in range(1, 9)]
BODY = "Please run the test suite and report failures in your outbox. " * 4
MB = 1_000_000


class Clock:
    """Backups made in a quick loop still get ids a second apart."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def fill_store(database: Path, count: int, start: int = 0) -> None:
    """Bulk-load ``count`` delivered messages straight into the schema."""
    rng = random.Random(start)
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO messages (id, sender, type, priority, body, tags, created_at, routing)"
            " VALUES (?, 'Captain', 'operator-to-agent', 'normal', ?, '[]', ?, ?)",
            (
                (
                    f"{n:016x}",
                    f"{rng.getrandbits(64):x} {BODY}",
                    f"2026-01-01T00:00:{n % 60:02d}+00:00",
                    json.dumps({AGENTS[n % 8]: "inbox"}),
                )
                for n in range(start, start + count)
            ),
        )
        db.execute(
            "UPDATE deliveries SET state = 'delivered', method = 'inbox', attempts = 1,"
            " delivered_at = updated_at WHERE state = 'queued'"
        )
    db.close()


def text_file(path: Path, size: int, rng: random.Random) -> None:
    words = [f"word{n}" for n in range(300)]
    line = " ".join(rng.choices(words, k=12)) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(line * max(1, size // len(line)))


def binary_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))


def generate(root: Path, total_mb: int) -> tuple[Home, int]:
    """A home of about ``total_mb``: 10% store, 10% letters, 20% devlogs, 60% big files."""
    home = Home(root)
    prepare_home(home)
    asyncio.run(_create_store(home))
    messages = total_mb * MB // 10 // 700  # about 700 bytes a message with its rows
    fill_store(home.database, messages)
    rng = random.Random(11)
    letters = total_mb * MB // 10 // 3000
    for n in range(letters):
        agent = AGENTS[n % 8]
        text_file(
            home.workspaces_dir / agent / "inbox" / f"{n:08d}.md", rng.randint(500, 5500), rng
        )
    devlog_bytes = 0
    n = 0
    while devlog_bytes < total_mb * MB // 5:
        size = rng.choice([4_000, 40_000, 400_000, 2_000_000])
        folder = home.devlogs_dir if n % 5 == 0 else home.workspaces_dir / AGENTS[n % 8] / "devlogs"
        text_file(folder / f"devlog-{n:05d}.md", size, rng)
        devlog_bytes += size
        n += 1
    big = 0
    n = 0
    while big < total_mb * MB * 6 // 10:
        size = rng.choice([1, 4, 16, 32]) * MB
        binary_file(home.workspaces_dir / AGENTS[n % 8] / "outbox" / f"artifact-{n:03d}.bin", size)
        big += size
        n += 1
    return home, messages


async def _create_store(home: Home) -> None:
    store = await Store.open(home.database)
    await store.close()


def home_size(home: Home) -> int:
    return sum(s.size for s in home_files(home)) + home.database.stat().st_size


def change_one_percent(home: Home, round_: int, messages: int, total: int) -> int:
    """Change about 1% of the home; returns the bytes changed."""
    rng = random.Random(100 + round_)
    budget = total // 100
    fill_store(home.database, messages // 100, start=messages * (round_ + 2))
    changed = messages // 100 * 700
    big = sorted((home.workspaces_dir / AGENTS[round_ % 8] / "outbox").glob("artifact-*.bin"))
    small_big = min(big, key=lambda p: p.stat().st_size)
    binary_file(small_big, small_big.stat().st_size)
    changed += small_big.stat().st_size
    n = 0
    while changed < budget:
        agent = AGENTS[n % 8]
        text_file(home.workspaces_dir / agent / "inbox" / f"new-{round_}-{n:05d}.md", 3000, rng)
        changed += 3000
        n += 1
    return changed


def timed(action: Callable[[], object], cpu: list[float]) -> float:
    """Wall seconds of ``action``; its CPU seconds (this process's threads and its children,
    user and system) are appended to ``cpu``: a figure the machine's other load moves less."""
    os.sync()  # what earlier steps wrote is on disk: no step pays for another's writeback
    before = _cpu()
    start = time.perf_counter()
    action()
    wall = time.perf_counter() - start
    cpu.append(_cpu() - before)
    return wall


def _cpu() -> float:
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def tar_of(home: Home, out: Path) -> None:
    items = ["config", "agent_workspaces", "var/devlogs", "var/cellphone.db"]
    subprocess.run(["tar", "-cf", str(out), "-C", str(home.root), *items], check=True)


def tar_synced(home: Home, out: Path) -> None:
    """tar, then its archive synced to disk, as a backup must be."""
    tar_of(home, out)
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=500, help="size of the generated home")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    out = Console()
    with tempfile.TemporaryDirectory(prefix="bench-backup-", dir="/var/tmp") as work:
        root = Path(work)
        home, messages = generate(root / "home", args.mb)
        settings = load_settings(home)
        backups = Backups(home, settings.backups, Clock())
        total = home_size(home)
        files = sum(1 for _ in home_files(home)) + 1
        tar_of(home, Path(os.devnull))  # the same warm page cache for everyone

        names = ("tar", "synced", "full", "verify", "restore", "incremental")
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        changed: list[int] = []

        def run(name: str, action: Callable[[], object]) -> None:
            wall[name].append(timed(action, cpu[name]))

        for round_ in range(args.rounds):
            target = root / f"ref-{round_}.tar"
            run("tar", lambda target=target: tar_of(home, target))
            target.unlink()
            run("synced", lambda target=target: tar_synced(home, target))
            target.unlink()
            made_now: list[Manifest] = []
            run("full", lambda got=made_now: got.append(backups.create(BackupKind.FULL)))
            made = made_now[0]
            run("verify", lambda made=made: backups.verify(made.id))
            back = root / f"restored-{round_}"
            run("restore", lambda m=made, b=back: backups.restore(m.id, to=b))
            shutil.rmtree(back)
            changed.append(change_one_percent(home, round_, messages, total))
            run("incremental", lambda: backups.create(BackupKind.INCREMENTAL))

        median = {name: statistics.median(values) for name, values in wall.items()}
        tar_s, full_s = median["tar"], median["full"]
        table = Table(
            title=f"backup of a generated home: {total / MB:,.0f} MB, {files:,} files "
            f"(store {home.database.stat().st_size / MB:,.0f} MB, {messages:,} messages), "
            f"median of {args.rounds}"
        )
        columns = ("operation", "seconds", "MB/s", "speed vs tar", "time vs full", "CPU s")
        for column in columns:
            table.add_column(column, justify="left" if column == "operation" else "right")
        labels = {
            "tar": "tar -cf (reference)",
            "synced": "tar -cf, then fsync of the archive",
            "full": "full backup",
            "verify": "verify (full)",
            "restore": "restore (full, new folder)",
            "incremental": f"incremental after {statistics.median(changed) / total:.1%} changed",
        }
        for name, label in labels.items():
            seconds = median[name]
            table.add_row(
                label,
                f"{seconds:.3f}",
                f"{total / MB / seconds:,.0f}",
                f"{tar_s / seconds:.2f}",
                f"{seconds / full_s:.1%}",
                f"{statistics.median(cpu[name]):.2f}",
            )
        out.print(table)
        out.print(
            f"targets: full backup >= 0.70 of tar's speed: {tar_s / full_s:.2f}; "
            f"incremental <= 10% of the full backup's time: {median['incremental'] / full_s:.1%}"
            f"; load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )


if __name__ == "__main__":
    main()

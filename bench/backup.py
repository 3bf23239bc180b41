"""Backup, verify, restore and incremental speed on a generated home, against restic and borg.

Prints one table. Run: ``.venv/bin/python bench/backup.py [--mb 500] [--rounds 3]``.

The home: a store of many delivered messages, agents' inbox letters, devlogs of mixed
sizes and large incompressible files in their outboxes. Each round, every step is run by
each tool in turn (the first tool changes from round to round), on the same home, and the
median of the rounds is shown:
- full backup: ours (``Backups.create``: snapshot of the store, every file read, hashed,
  archived, the archive fsynced, manifest written); ``restic backup`` and ``borg create``
  into a new repository of each (restic as Debian ships it: encrypted and compressed; borg
  without encryption or compression);
- verify every byte: ours recomputes every hash of the full backup; ``restic check
  --read-data``; ``borg check --verify-data``;
- restore the full backup into a new folder: ours checks every file and swaps the folders
  in; ``restic restore``; ``borg extract``;
- incremental after about 1% of the home changed (new messages and letters, one big file
  replaced), into the same repositories.

restic and borg are Debian's ``restic`` and ``borgbackup``, installed with apt-get when
missing; a tool that cannot be installed is left out with a note. Their repositories,
caches and settings live in the run's temporary folder, their passwords come through
``RESTIC_PASSWORD`` and ``BORG_PASSPHRASE``, and nothing goes over the network.

Every timed step starts after ``sync``, so none pays for the writeback of another, and with
what it reads (the home's folders, or the tool's repository or archive) read into the page
cache just before: the cache of this machine does not keep files for long. Restored
folders are kept until the run ends: ext4 without a journal (this machine's) passes over
the inodes freed in the last minutes when it creates files, and a restore made right after
a large deletion took up to twice as long, whichever tool it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
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


def warm(paths: list[Path]) -> None:
    """Read every file under ``paths`` into the page cache (not timed). ``tar -cf /dev/null``
    would not: GNU tar does not read the files it sends to /dev/null. The cache of this
    machine does not keep files for long, so each step starts with what it reads warm."""
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            with open(file, "rb", buffering=0) as handle:
                while handle.read(1 << 20):
                    pass


def _cpu() -> float:
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


FOLDERS = ["config", "agent_workspaces", "var/devlogs", "var/cellphone.db"]  # what a backup holds
STEPS = ("full", "verify", "restore", "incremental")


class Tool:
    """One backup program driven through the four steps; a round's repository is new."""

    name = ""

    def __init__(self, home: Home, work: Path) -> None:
        self.home = home
        self.work = work
        self.round = 0

    def new_round(self, round_: int) -> None:
        self.round = round_

    def reads(self, step: str) -> list[Path]:
        """What ``step`` reads: the home's folders, or what the backup was stored in."""
        if step in ("full", "incremental"):
            return [self.home.root / folder for folder in FOLDERS]
        return [self.stored()]

    def stored(self) -> Path:
        raise NotImplementedError

    def full(self) -> None: ...

    def verify(self) -> None: ...

    def restore(self, target: Path) -> None: ...

    def incremental(self) -> None: ...


class Ours(Tool):
    name = "agent-cellphone"

    def __init__(self, home: Home, work: Path) -> None:
        super().__init__(home, work)
        self.backups = Backups(home, load_settings(home).backups, Clock())
        self.made: Manifest | None = None

    def stored(self) -> Path:
        assert self.made is not None
        return self.backups.catalog.archive(self.made)

    def full(self) -> None:
        self.made = self.backups.create(BackupKind.FULL)

    def verify(self) -> None:
        assert self.made is not None
        self.backups.verify(self.made.id)

    def restore(self, target: Path) -> None:
        assert self.made is not None
        self.backups.restore(self.made.id, to=target)

    def incremental(self) -> None:
        self.backups.create(BackupKind.INCREMENTAL)


class External(Tool):
    """A command-line tool run in the home, with its settings and caches in ``work``."""

    def __init__(self, home: Home, work: Path) -> None:
        super().__init__(home, work)
        self.env = {
            **os.environ,
            "RESTIC_PASSWORD": secrets.token_hex(16),
            "BORG_PASSPHRASE": secrets.token_hex(16),
            "RESTIC_CACHE_DIR": str(work / "restic-cache"),
            "BORG_BASE_DIR": str(work / "borg-base"),
        }

    @property
    def repository(self) -> Path:
        return self.work / f"{self.name}-{self.round}"

    def stored(self) -> Path:
        return self.repository

    def run(self, *command: str, cwd: Path | None = None) -> None:
        subprocess.run(
            command,
            cwd=cwd or self.home.root,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )


class Restic(External):
    name = "restic"

    def new_round(self, round_: int) -> None:
        super().new_round(round_)
        self.run("restic", "init", "--repo", str(self.repository))

    def full(self) -> None:
        self.run("restic", "backup", "--quiet", "--repo", str(self.repository), *FOLDERS)

    def verify(self) -> None:
        self.run("restic", "check", "--read-data", "--quiet", "--repo", str(self.repository))

    def restore(self, target: Path) -> None:
        self.run(
            "restic", "restore", "latest", "--quiet", "--repo", str(self.repository),
            "--target", str(target),
        )  # fmt: skip

    incremental = full


class Borg(External):
    name = "borg"

    def new_round(self, round_: int) -> None:
        super().new_round(round_)
        self.run("borg", "init", "--encryption", "none", str(self.repository))
        self.archives = 0

    def full(self) -> None:
        self.archives += 1
        archive = f"{self.repository}::a{self.archives}"
        self.run("borg", "create", "--compression", "none", archive, *FOLDERS)

    def verify(self) -> None:
        self.run("borg", "check", "--verify-data", str(self.repository))

    def restore(self, target: Path) -> None:
        target.mkdir()
        self.run("borg", "extract", f"{self.repository}::a1", cwd=target)

    incremental = full


def installed(package: str, command: str, out: Console) -> bool:
    """Whether ``command`` is there, installing Debian's ``package`` when it is not."""
    if shutil.which(command):
        return True
    known = subprocess.run(["dpkg", "-s", package], capture_output=True, text=True)
    if known.returncode != 0 or "Status: install ok installed" not in known.stdout:
        out.print(f"{package} is not installed; installing it with apt-get")
        done = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", package],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            out.print(f"note: {package} could not be installed, left out: {done.stderr.strip()}")
            return False
    if shutil.which(command) is None:
        out.print(f"note: {package} is installed but `{command}` is not on PATH; left out")
        return False
    return True


def version(command: list[str]) -> str:
    words = subprocess.run(command, capture_output=True, text=True).stdout.split()
    return words[1] if len(words) > 1 else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=500, help="size of the generated home")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    out = Console(width=150)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-backup-", dir="/var/tmp") as work:
        root = Path(work)
        home, messages = generate(root / "home", args.mb)
        total = home_size(home)
        files = sum(1 for _ in home_files(home)) + 1
        tools: list[Tool] = [Ours(home, root)]
        versions = {Ours.name: ""}
        if installed("restic", "restic", out):
            tools.append(Restic(home, root))
            versions["restic"] = version(["restic", "version"])
        if installed("borgbackup", "borg", out):
            tools.append(Borg(home, root))
            versions["borg"] = version(["borg", "--version"])
        (root / "restored").mkdir()

        wall = {(tool.name, step): [] for tool in tools for step in STEPS}
        cpu = {(tool.name, step): [] for tool in tools for step in STEPS}
        changed: list[int] = []
        for round_ in range(args.rounds):
            order = tools[round_ % len(tools) :] + tools[: round_ % len(tools)]
            for tool in order:
                tool.new_round(round_)
            for step in STEPS:
                if step == "incremental":
                    changed.append(change_one_percent(home, round_, messages, total))
                for tool in order:
                    target = root / "restored" / f"{tool.name}-{round_}"
                    action = (
                        partial(tool.restore, target) if step == "restore" else getattr(tool, step)
                    )
                    warm(tool.reads(step))
                    wall[tool.name, step].append(timed(action, cpu[tool.name, step]))

        median = {key: statistics.median(values) for key, values in wall.items()}
        cpu_median = {key: statistics.median(values) for key, values in cpu.items()}
        names = [tool.name for tool in tools]
        title = (
            f"a generated home: {total / MB:,.0f} MB, {files:,} files (store "
            f"{home.database.stat().st_size / MB:,.0f} MB, {messages:,} messages); "
            + ", ".join(f"{name} {versions[name]}".strip() for name in names)
            + f"; median of {args.rounds}, seconds (CPU seconds)"
        )
        table = Table(title=title)
        table.add_column("operation")
        for name in names:
            table.add_column(name, justify="right")
        for name in names[1:]:
            table.add_column(f"vs {name}", justify="right")
        labels = {
            "full": "full backup",
            "incremental": f"incremental after {statistics.median(changed) / total:.1%} changed",
            "verify": "verify every byte",
            "restore": "restore into a new folder",
        }
        for step, label in labels.items():
            ours = median[names[0], step]
            table.add_row(
                label,
                *(f"{median[name, step]:.2f} ({cpu_median[name, step]:.2f})" for name in names),
                *(f"{median[name, step] / ours:.1f}x" for name in names[1:]),
            )
        out.print(table)
        for name in names[1:]:
            ratios = {step: median[name, step] / median[names[0], step] for step in STEPS}
            out.print(
                f"vs {name}: restore {ratios['restore']:.1f}x as fast (target 2x); full "
                f"{ratios['full']:.1f}x, incremental {ratios['incremental']:.1f}x, verify "
                f"{ratios['verify']:.1f}x (target 3x)"
            )
        out.print(
            f"load average: {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after, "
            f"on {os.cpu_count()} CPUs"
        )


if __name__ == "__main__":
    main()

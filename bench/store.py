"""Store and inbox delivery throughput, against the bare limit of this disk.

Prints one table. Run: ``.venv/bin/python bench/store.py [--messages N] [--history N]``.

- bare disk limit: a loop of write + fsync + rename of inbox-sized files, alone;
- end to end: N single-recipient messages submitted through the service while the desk
  delivers them into inbox files (SQLite synchronous=FULL, every file fsynced);
- drain: the same N messages already queued, delivered by a desk started afterwards;
- history: p50 / p95 of history queries with the store holding 100,000 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agents.home import prepare_home
from config import Home, load_settings
from messaging.runtime import open_runtime
from messaging.store import Store

AGENTS = [f"Agent-{n}" for n in range(1, 9)]
BODY = "Please run the test suite and report failures in your outbox. " * 4


def new_home(root: Path) -> Home:
    home = Home(root)
    prepare_home(home)
    return home


def bare_disk(folder: Path, count: int) -> tuple[float, float]:
    """Files per second and median ms of write + fsync + rename, nothing else."""
    folder.mkdir(parents=True)
    data = ("x" * 600).encode()
    times = []
    start = time.perf_counter()
    for n in range(count):
        t0 = time.perf_counter()
        temp, final = folder / f".tmp-{n}", folder / f"{n:08d}.md"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.replace(temp, final)
        times.append(time.perf_counter() - t0)
    return count / (time.perf_counter() - start), statistics.median(times) * 1000


async def end_to_end(home: Home, count: int) -> float:
    async with open_runtime(home, load_settings(home)) as rt:
        start = time.perf_counter()
        for n in range(count):
            await rt.service.send([AGENTS[n % 8]], f"{n}: {BODY}")
        while await rt.store.pending():
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
    assert sum(len(list((home.workspaces_dir / a / "inbox").glob("*.md"))) for a in AGENTS) == count
    return count / elapsed


async def drain(home: Home, count: int) -> float:
    settings = load_settings(home)
    async with open_runtime(home, settings, start_desk=False) as rt:
        for n in range(count):
            await rt.service.send([AGENTS[n % 8]], f"{n}: {BODY}")
    async with open_runtime(home, settings, start_desk=False) as rt:
        start = time.perf_counter()
        await rt.desk.start()
        while await rt.store.pending():
            await asyncio.sleep(0.005)
        return count / (time.perf_counter() - start)


def fill(database: Path, count: int) -> None:
    """Bulk-load ``count`` delivered messages straight into the schema."""
    # a working vocabulary: "parser" ends up in about 1 message in 25, "deploy" in 1 in 12
    words = [f"w{n}" for n in range(190)] + ["parser", "release"] + ["deploy"] * 4
    db = sqlite3.connect(database)
    rng = random.Random(7)
    with db:
        db.executemany(
            "INSERT INTO messages (id, sender, type, priority, body, tags, created_at, routing)"
            " VALUES (?, 'Captain', 'operator-to-agent', 'normal', ?, '[]', ?, ?)",
            (
                (
                    f"{n:016x}",
                    f"{' '.join(rng.choices(words, k=8))} {BODY}",
                    f"2026-01-01T00:00:{n % 60:02d}+00:00",
                    json.dumps({AGENTS[n % 8]: "inbox"}),
                )
                for n in range(count)
            ),
        )
        db.execute(
            "UPDATE deliveries SET state = 'delivered', method = 'inbox', attempts = 1,"
            " delivered_at = updated_at"
        )
    db.close()


async def history_latency(database: Path, rounds: int) -> dict[str, tuple[float, float]]:
    store = await Store.open(database)
    queries = {
        "history --agent Agent-3 --limit 20": lambda: store.history(agent="Agent-3", limit=20),
        "history --limit 20": lambda: store.history(limit=20),
        "history --search 'parser release'": lambda: store.history(
            search="parser release", limit=20
        ),
        "history --agent Agent-5 --search deploy": lambda: store.history(
            agent="Agent-5", search="deploy", limit=20
        ),
    }
    result = {}
    for name, query in queries.items():
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            await query()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        result[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
    await store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    out = Console()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        root = Path(scratch)
        bare_rate, bare_ms = bare_disk(root / "bare", args.messages)
        e2e = asyncio.run(end_to_end(new_home(root / "e2e"), args.messages))
        drained = asyncio.run(drain(new_home(root / "drain"), args.messages))
        big = new_home(root / "history")
        asyncio.run(_create(big.database))
        fill(big.database, args.history)
        latency = asyncio.run(history_latency(big.database, args.rounds))

    table = Table(title=f"store and inbox delivery ({args.messages:,} messages, fsync on)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("ratio to bare disk", justify="right")
    table.add_row("bare disk: write+fsync+rename /s", f"{bare_rate:,.0f}", "1.00")
    table.add_row("bare disk: median per file", f"{bare_ms:.3f} ms", "")
    table.add_row("end to end (submit + deliver) /s", f"{e2e:,.0f}", f"{e2e / bare_rate:.2f}")
    table.add_row("drain of a queued backlog /s", f"{drained:,.0f}", f"{drained / bare_rate:.2f}")
    out.print(table)
    hist = Table(
        title=f"history queries, {args.history:,} messages in the store ({args.rounds} runs)"
    )
    hist.add_column("query")
    hist.add_column("p50", justify="right")
    hist.add_column("p95", justify="right")
    for name, (p50, p95) in latency.items():
        hist.add_row(name, f"{p50:.2f} ms", f"{p95:.2f} ms")
    out.print(hist)
    print(
        json.dumps(
            {
                "bare_per_s": bare_rate,
                "e2e_per_s": e2e,
                "drain_per_s": drained,
                "history_ms": latency,
            }
        )
    )


async def _create(database: Path) -> None:
    store = await Store.open(database)
    await store.close()


if __name__ == "__main__":
    main()

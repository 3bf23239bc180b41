"""Agents' files to their destinations: outbox file → delivery in the other agent's inbox,
devlog file → post received by the Discord double, through ``cellphone deliver --watch``
running as its own process (as a user runs it), posting through a webhook URL.

Prints one table. Run: ``.venv/bin/python bench/watch.py [--samples N] [--minutes M]``.

- reference: a bare watchdog observer in this process noticing a renamed file (the floor
  every row stands on); each row's ratio is its p50 against the reference's;
- outbox → inbox and devlog → post: files written one at a time, the clock from the
  rename to the inbox file / the request arriving at the double. A file renamed into
  place is taken at once; one written in place is taken once it stopped changing for
  ``watch.settle_s`` (default 0.1 s), which its row includes;
- sustained: 100 outbox files and 100 devlogs a minute for M minutes; every file must be
  delivered or posted exactly once (counted by its unique text).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.home import prepare_home
from config import Home
from tests.discord_double import DiscordDouble
from tests.discord_double.payloads import snowflake

ROOT = Path(__file__).resolve().parent.parent
SENDER, RECIPIENT = "Agent-1", "Agent-2"
WARM_UP = 5  # rounds before the measured ones


def interruptible() -> None:
    """In the child: take Ctrl-C (SIGINT) as a person's, even when this benchmark was
    started in the background, where the shell makes children ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def drop(folder: Path, name: str, text: str) -> float:
    """Write ``text`` as an agent should; the time of the rename (perf_counter)."""
    temp = folder / f".{name}.tmp"
    temp.write_text(text)
    os.rename(temp, folder / name)
    return time.perf_counter()


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def reference(folder: Path, samples: int) -> list[float]:
    """Milliseconds from a rename to a bare observer's event for it."""
    folder.mkdir(parents=True)
    loop = asyncio.get_running_loop()
    seen: asyncio.Queue[tuple[str, float]] = asyncio.Queue()

    class Relay(FileSystemEventHandler):
        def on_moved(self, event: FileSystemEvent) -> None:
            at = time.perf_counter()
            loop.call_soon_threadsafe(seen.put_nowait, (str(event.dest_path), at))

    observer = Observer()
    observer.schedule(Relay(), str(folder))
    observer.start()
    times = []
    try:
        for n in range(samples):
            written = drop(folder, f"ref-{n}.md", "x")
            _, at = await asyncio.wait_for(seen.get(), 5)
            times.append((at - written) * 1000)
            await asyncio.sleep(0.01)
    finally:
        observer.stop()
        observer.join()
    return times


async def until_inbox_has(inbox: Path, count: int, timeout: float = 30.0) -> float:
    deadline = time.perf_counter() + timeout
    while True:
        if sum(1 for e in os.scandir(inbox) if e.name.endswith(".md")) >= count:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the inbox did not reach {count} files")
        await asyncio.sleep(0.001)


def posts(double: DiscordDouble) -> list[tuple[str, float]]:
    return [(c.json["content"], c.at) for c in double.calls if c.path.startswith("/webhooks/")]


async def until_posts(double: DiscordDouble, count: int, timeout: float = 30.0) -> float:
    deadline = time.perf_counter() + timeout
    while len(found := posts(double)) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {len(found)} of {count} posts arrived")
        await asyncio.sleep(0.001)
    return found[count - 1][1]


async def latencies(
    home: Home, double: DiscordDouble, samples: int, tag: str = ""
) -> tuple[list, list, list]:
    """Per sample: an outbox file renamed into place, one written in place (taken once it
    stopped changing for watch.settle_s), a devlog renamed into place."""
    outbox = home.workspaces_dir / SENDER / "outbox"
    devlogs = home.workspaces_dir / SENDER / "devlogs"
    inbox = home.workspaces_dir / RECIPIENT / "inbox"
    routed, in_place, posted = [], [], []
    letters = len(list(inbox.glob("*.md")))
    before = len(posts(double))
    for n in range(samples):
        written = drop(outbox, f"o-{tag}{n}.md", f"---\nto: {RECIPIENT}\n---\nlatency {n}")
        routed.append((await until_inbox_has(inbox, letters + 2 * n + 1) - written) * 1000)
        (outbox / f"p-{tag}{n}.md").write_text(f"---\nto: {RECIPIENT}\n---\nin place {n}")
        written = time.perf_counter()
        in_place.append((await until_inbox_has(inbox, letters + 2 * n + 2) - written) * 1000)
        written = drop(devlogs, f"d-{tag}{n}.md", f"# latency {tag}{n}\n\nbody")
        posted.append((await until_posts(double, before + n + 1) - written) * 1000)
        await asyncio.sleep(0.02)
    return routed, in_place, posted


async def sustained(
    home: Home, double: DiscordDouble, minutes: float, letters: int, base: int
) -> dict:
    """100 outbox files and 100 devlogs a minute, interleaved; then count what arrived."""
    outbox = home.workspaces_dir / SENDER / "outbox"
    devlogs = home.workspaces_dir / SENDER / "devlogs"
    inbox = home.workspaces_dir / RECIPIENT / "inbox"
    each = int(100 * minutes)
    gap = 60.0 / 200
    start = time.perf_counter()
    for n in range(each):
        drop(outbox, f"s-{n}.md", f"---\nto: {RECIPIENT}\n---\nsustained {n}")
        await asyncio.sleep(max(0.0, start + (2 * n + 1) * gap - time.perf_counter()))
        drop(devlogs, f"s-{n}.md", f"# sustained {n}\n\nbody")
        await asyncio.sleep(max(0.0, start + (2 * n + 2) * gap - time.perf_counter()))
    await until_inbox_has(inbox, letters + each, timeout=60)
    await until_posts(double, base + each, timeout=60)
    await asyncio.sleep(1.0)  # a late double would show now
    letters = [p.read_text() for p in inbox.glob("*.md")]
    delivered = [t for t in letters if "\nsustained " in t]
    titles = [c.split("**")[3] for c, _ in posts(double) if "sustained" in c]
    return {
        "outbox files": each,
        "delivered": len(delivered),
        "distinct delivered": len({t.split("sustained ")[1].split()[0] for t in delivered}),
        "devlogs": each,
        "posted": len(titles),
        "distinct posted": len(set(titles)),
        "left in outbox": len(list(outbox.glob("*.md"))),
        "left in devlogs": len(list(devlogs.glob("*.md"))),
        "seconds": time.perf_counter() - start,
    }


async def run(samples: int, minutes: float) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    home = Home(root / "home")
    prepare_home(home)
    ref = await reference(root / "ref", samples)
    log = (root / "deliver.log").open("wb")  # what the child logs, for a look afterwards
    async with DiscordDouble() as double:
        env = {
            **{k: v for k, v in os.environ.items() if k != "DISPLAY"},
            "CELLPHONE_DEVLOGS__WEBHOOK_URL": f"{double.api_base}/webhooks/{snowflake()}/t",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cellphone",
            "deliver",
            "--watch",
            "--home",
            str(home.root),
            cwd=ROOT,
            env={**env, "CELLPHONE_LOG_LEVEL": "INFO"},
            stderr=log,
            preexec_fn=interruptible,
        )
        try:
            await asyncio.sleep(2.0)  # the child imports and starts watching
            await latencies(home, double, WARM_UP, tag="warm-")  # its first backup, caches
            routed, in_place, posted = await latencies(home, double, samples)
            done = WARM_UP + samples
            totals = await sustained(home, double, minutes, 2 * done, done)
            show(ref, routed, in_place, posted, totals, samples, minutes)
        finally:
            stopping = time.perf_counter()
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                raise
            print(f"deliver --watch stopped {time.perf_counter() - stopping:.1f} s after Ctrl-C")


def show(
    ref: list,
    routed: list,
    in_place: list,
    posted: list,
    totals: dict,
    samples: int,
    minutes: float,
) -> None:
    out = Console(width=110)
    table = Table(title=f"file written → routed ({samples} samples each, deliver --watch)")
    for column in ("", "p50", "p95", "max", "p50 / reference"):
        table.add_column(column, justify="right" if column else "left")
    ref50, _ = quantiles(ref)
    for name, values in (
        ("reference: bare inotify event", ref),
        ("outbox file (renamed in) → inbox delivery", routed),
        ("outbox file (written in place) → inbox", in_place),
        ("devlog file (renamed in) → Discord post", posted),
    ):
        p50, p95 = quantiles(values)
        table.add_row(
            name, f"{p50:.1f} ms", f"{p95:.1f} ms", f"{max(values):.1f} ms", f"{p50 / ref50:.0f}x"
        )
    out.print(table)
    load = Table(title=f"sustained: 100 outbox files + 100 devlogs a minute for {minutes:g} min")
    load.add_column("")
    load.add_column("count", justify="right")
    for key, value in totals.items():
        load.add_row(key, f"{value:.1f}" if isinstance(value, float) else str(value))
    out.print(load)
    lost = (totals["outbox files"] - totals["distinct delivered"]) + (
        totals["devlogs"] - totals["distinct posted"]
    )
    doubled = (totals["delivered"] - totals["distinct delivered"]) + (
        totals["posted"] - totals["distinct posted"]
    )
    out.print(f"lost: {lost}, doubled: {doubled}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(run(args.samples, args.minutes))


if __name__ == "__main__":
    main()

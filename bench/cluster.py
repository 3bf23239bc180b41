"""Benchmark of desks on several machines over Redis Streams, on loopback: a real
redis-server (AOF on, fsync every second) and desk processes (`cellphone desk --join`) with
inbox-only agents, against one machine's desk in the same run.

- fan-out: inbox deliveries a second of broadcasts to 24 agents, from the first send until
  every outcome is recorded at the coordinator; the 24 agents spread over 1, 2, 3, 4 and 8
  desks, each in rounds taken in turn with one machine's (its own home, the same process),
  so that both see the machine as it is then: the median of each, and their ratio;
- latency: a message to one agent, from send to its inbox file in place (where a typing
  lane would start typing), p50 and p95, one machine and through each number of desks.

    python bench/cluster.py [--broadcasts 20] [--rounds 5] [--latency-runs 40] [--desks 1,2,3,4,8]

Prints tables; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.home import prepare_home  # noqa: E402
from config import Home, Settings, load_settings  # noqa: E402
from messaging.runtime import Runtime, open_runtime  # noqa: E402
from tests.cluster.helpers import join_command, redis_command  # noqa: E402

AGENTS = 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_home(root: Path, first: int, count: int, toml: str) -> Home:
    home = Home(root)
    agents = {
        f"Agent-{n}": {"description": f"agent {n}", "active": True}
        for n in range(first, first + count)
    }
    prepare_home(home, json.dumps({"agents": agents}))
    home.settings_file.write_text(toml, encoding="utf-8")
    return home


class Redis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            sys.exit("redis-server is missing: apt-get install redis-server")
        folder.mkdir(parents=True)
        self.process = subprocess.Popen(
            redis_command(binary, self.port, folder),
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("redis-server did not start")
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_desks(
    root: Path, url: str, count: int
) -> tuple[list[subprocess.Popen[bytes]], list[Home]]:
    per = AGENTS // count
    processes, homes = [], []
    for n in range(count):
        home = make_home(
            root / f"pc-{n + 1}",
            per * n + 1,
            per,
            '[messaging]\ndelivery_mode = "inbox"\n[cluster]\nheartbeat_s = 0.2\n',
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("DISPLAY", None)
        processes.append(
            subprocess.Popen(
                join_command(url, f"pc-{n + 1}", home),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        homes.append(home)
    return processes, homes


async def settle(rt: Runtime, ids: list[str]) -> None:
    while True:
        rows = await rt.store.rows(
            "SELECT count(*) FROM deliveries WHERE state NOT IN"
            " ('delivered', 'fallback', 'failed', 'cancelled')"
        )
        if rows[0][0] == 0:
            return
        await asyncio.sleep(0.005)


async def fan_out(rt: Runtime, broadcasts: int) -> float:
    """Inbox deliveries a second of ``broadcasts`` broadcasts to every agent."""
    started = time.perf_counter()
    ids = [(await rt.service.broadcast(f"fan-out {n}")).message.id for n in range(broadcasts)]
    await settle(rt, ids)
    return broadcasts * AGENTS / (time.perf_counter() - started)


async def latency(rt: Runtime, homes: dict[str, Home], runs: int) -> list[float]:
    """Seconds from send to the inbox file seen in place (looked for every 0.5 ms; a
    file's modification time is too coarse here), for one agent after another."""
    seconds = []
    agents = sorted(homes)
    for n in range(runs):
        agent = agents[n % len(agents)]
        inbox = homes[agent].workspaces_dir / agent / "inbox"
        started = time.perf_counter()
        message = (await rt.service.send([agent], f"latency {n}")).message
        while not list(inbox.glob(f"[0-9]*_{message.id}.md")):
            await asyncio.sleep(0.0005)
        seconds.append(time.perf_counter() - started)
        await settle(rt, [message.id])
    return seconds


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_machine(root: Path, runs: int) -> list[float]:
    home = make_home(root, 1, AGENTS, '[messaging]\ndelivery_mode = "inbox"\n')
    async with open_runtime(home, load_settings(home)) as rt:
        await fan_out(rt, 2)  # warm-up
        return await latency(rt, {f"Agent-{n}": home for n in range(1, AGENTS + 1)}, runs)


@dataclass
class Rates:
    """Fan-out rates of rounds taken in turn: one machine's, and through the desks."""

    here: list[float] = field(default_factory=list)
    desks: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.desks) / statistics.median(self.here)


async def through_desks(
    root: Path, url: str, desks: int, broadcasts: int, rounds: int, runs: int
) -> tuple[Rates, list[float]]:
    processes, homes = start_desks(root, url, desks)
    rates = Rates()
    try:
        home = make_home(root / "coordinator", 1, 0, '[messaging]\ndelivery_mode = "inbox"\n')
        settings: Settings = load_settings(home, cluster={"redis_url": url, "heartbeat_s": 0.2})
        alone = make_home(root / "one-machine", 1, AGENTS, '[messaging]\ndelivery_mode = "inbox"\n')
        async with (
            open_runtime(home, settings) as rt,
            open_runtime(alone, load_settings(alone)) as here,
        ):
            deadline = time.monotonic() + 60
            while len(rt.registry.current()) < AGENTS:
                if time.monotonic() > deadline:
                    sys.exit(f"the {desks} desks did not announce {AGENTS} agents")
                await asyncio.sleep(0.05)
            await fan_out(rt, 2)  # warm-up
            await fan_out(here, 2)
            for round_ in range(rounds):  # the one starting alternates
                for first in (here, rt) if round_ % 2 else (rt, here):
                    rate = await fan_out(first, broadcasts)
                    (rates.here if first is here else rates.desks).append(rate)
            per = AGENTS // desks
            owner = {f"Agent-{n}": homes[(n - 1) // per] for n in range(1, AGENTS + 1)}
            lat = await latency(rt, owner, runs)
        return rates, lat
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broadcasts", type=int, default=20, help="per round")
    parser.add_argument("--rounds", type=int, default=5, help="of each setup, in turn")
    parser.add_argument("--latency-runs", type=int, default=40)
    parser.add_argument("--desks", default="1,2,3,4,8")
    args = parser.parse_args()
    counts = [int(c) for c in args.desks.split(",")]
    for count in counts:
        if count < 1 or AGENTS % count:
            sys.exit(f"--desks {count}: use numbers of desks that divide {AGENTS} (1,2,3,4,6,8)")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        root = Path(tmp)
        base_lat = await one_machine(root / "one", args.latency_runs)
        rows: list[tuple[str, Rates | None, list[float]]] = [
            ("one machine (SQLite only)", None, base_lat)
        ]
        for count in counts:
            redis = Redis(root / f"redis-{count}")  # a fresh one: no desks of the run before
            try:
                rates, lat = await through_desks(
                    root / f"desks-{count}",
                    redis.url,
                    count,
                    args.broadcasts,
                    args.rounds,
                    args.latency_runs,
                )
            finally:
                redis.stop()
            rows.append((f"{count} desk{'s' if count > 1 else ''} over Redis", rates, lat))
    print(
        f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores; {AGENTS} agents; "
        f"{args.rounds} rounds of {args.broadcasts} broadcasts per setup, one machine's in turn; "
        f"{args.latency_runs} single messages"
    )
    print()
    print(
        "| setup | inbox deliveries/s (median) | one machine's rounds beside it | vs one machine"
        " | send→inbox p50 ms | p95 ms | p95 over one machine ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    base_p95 = pct(base_lat, 0.95)
    for name, rates, lat in rows:
        p50, p95 = statistics.median(lat) * 1000, pct(lat, 0.95) * 1000
        if rates is None:
            cells = "- | - | 1.00"
        else:
            here, desks = statistics.median(rates.here), statistics.median(rates.desks)
            cells = f"{desks:.0f} | {here:.0f} | {rates.ratio:.2f}"
        print(f"| {name} | {cells} | {p50:.1f} | {p95:.1f} | {p95 - base_p95 * 1000:+.1f} |")


if __name__ == "__main__":
    asyncio.run(main())

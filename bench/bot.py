"""Interaction → acknowledgement latency of the Discord bot, desk idle, desk backlogged,
and desk backlogged over a slow store; and how many interactions Discord would have shown
as "This interaction failed" (the double refuses an acknowledgement after 3 s).

Prints one table. Run: ``.venv/bin/python bench/bot.py [--interactions N] [--backlog N]``.

The real discord.py bot logs into the Discord double of the tests (127.0.0.1, same process
and event loop, so its own work counts against the figures). Each interaction is a
``/send`` from an allowed user, injected over the gateway once the previous one was
acknowledged; latency runs from the INTERACTION_CREATE frame leaving the double to the
bot's callback request arriving at it.

- idle: a screen that takes no time to type, nothing queued; each /send waits for its
  outcome edit before the next one, so the desk is idle whenever one arrives (the outcome
  column is that end-to-end time);
- backlog: a deliberately slow screen (``--type-seconds`` per delivery) with ``--backlog``
  screen deliveries queued before the first interaction; the next /send goes as soon as the
  previous one is acknowledged, so every one of them queues behind the backlog too and its
  command keeps waiting on the desk in the background;
- backlog, slow store: the same over a store whose every operation holds its connection
  ``--store-seconds`` longer (a slow disk), one at a time.

The double enforces Discord's 3 s deadline on its own clock: an acknowledgement that
arrives later is refused (10062), and the "failed" column counts the interactions left
without an acknowledgement in time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.home import example_coordinates, prepare_home
from bot.app import create_bot
from config import Home, Settings, load_settings
from messaging.deliver import AloneAtTheScreen, Job, Typed
from messaging.runtime import open_runtime
from tests.discord_double import DiscordDouble, Person

AGENTS = [f"Agent-{n}" for n in range(1, 9)]


class SlowLock(asyncio.Lock):
    """A store connection's lock that holds ``seconds`` longer each time: every store
    operation waits as on a slow disk, one after the other."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def acquire(self) -> bool:
        await super().acquire()
        try:
            await asyncio.sleep(self.seconds)
        except BaseException:
            # cancelled while holding it (the desk's stop cancels its lanes after a grace):
            # no ``async with`` body will run to release it, so release it here, else
            # the next holder (the desk putting deliveries back at stop) waits for ever
            self.release()
            raise
        return True


class TimedScreen(AloneAtTheScreen):
    """Types nothing; each delivery takes ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.delivered = 0

    def unavailable_reason(self) -> str | None:
        return None

    async def deliver(self, job: Job) -> Typed:
        await asyncio.sleep(self.seconds)
        self.delivered += 1
        return Typed(verified=True)


@dataclass
class Result:
    scenario: str
    screen: str
    queued_at_start: int
    queued_at_end: int
    latencies_ms: list[float]
    outcome_ms: list[float]
    failed: int  # interactions Discord would have shown as "This interaction failed"

    def quantile(self, q: float, outcome: bool = False) -> float:
        ordered = sorted(self.outcome_ms if outcome else self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def settings_for(home: Home, double: DiscordDouble, user: Person) -> Settings:
    return load_settings(
        home,
        discord={
            "guild_id": double.guild.id,
            "allowed_user_ids": [user.id],
            "api_base": double.api_base,
            "gateway_url": double.gateway_url,
        },
        messaging={"wait_timeout_s": 600},
    )


async def scenario(
    root: Path,
    name: str,
    screen: TimedScreen,
    backlog: int,
    interactions: int,
    *,
    follow: bool,
    store_seconds: float = 0.0,
) -> Result:
    home = Home(root / name)
    prepare_home(home, example_coordinates(calibrated=True))  # the screen types anywhere
    async with DiscordDouble() as double:
        user = double.person("captain")
        settings = settings_for(home, double, user)
        async with open_runtime(home, settings, screen) as rt:
            if store_seconds:
                rt.store._lock = SlowLock(store_seconds)  # the bench's slow disk
            for n in range(backlog):
                await rt.service.send([AGENTS[n % len(AGENTS)]], f"backlog item {n}")
            bot = create_bot(rt, settings)
            running = asyncio.create_task(bot.start("bench-token"))
            try:
                await double.wait_ready(timeout=30)
                at_start = await rt.store.pending()
                latencies, outcomes = [], []
                for n in range(interactions):
                    sent = await double.slash(
                        "send", user, agent=AGENTS[n % len(AGENTS)], message=f"task {n}"
                    )
                    ack = await double.callback(sent, timeout=30)
                    latencies.append((ack.at - sent.sent_at) * 1000)
                    if follow:
                        done = await double.reply(sent, lambda c: "delivered" in c.content, 30)
                        outcomes.append((done.at - sent.sent_at) * 1000)
                at_end = await rt.store.pending()
                double.clock.advance(3.01)  # past every deadline: what is unanswered failed
                failed = len(double.ledger.failed())
            finally:
                await bot.close()
                await asyncio.gather(running, return_exceptions=True)
    label = f"{screen.seconds * 1000:.0f} ms per delivery"
    if store_seconds:
        label += f", store +{store_seconds * 1000:.0f} ms per operation"
    return Result(name, label, at_start, at_end, latencies, outcomes, failed)


def report(results: list[Result]) -> None:
    table = Table(title="/send: interaction → acknowledgement (deferred response), ms")
    for column in ("desk", "screen", "queued at start", "queued at end", "n"):
        table.add_column(column)
    for column in ("ack p50", "ack p99", "ack max", "p99 / idle p99", "outcome p50"):
        table.add_column(column, justify="right")
    table.add_column("outcome p99", justify="right")
    table.add_column('"interaction failed"', justify="right")
    reference = results[0].quantile(0.99)  # the idle desk, measured in this run
    for r in results:
        table.add_row(
            r.scenario,
            r.screen,
            str(r.queued_at_start),
            str(r.queued_at_end),
            str(len(r.latencies_ms)),
            f"{r.quantile(0.50):.2f}",
            f"{r.quantile(0.99):.2f}",
            f"{max(r.latencies_ms):.2f}",
            f"{r.quantile(0.99) / reference:.2f}",
            f"{r.quantile(0.50, outcome=True):.1f}" if r.outcome_ms else "-",
            f"{r.quantile(0.99, outcome=True):.1f}" if r.outcome_ms else "-",
            str(r.failed),
        )
    Console(width=160).print(table)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cellphone-bench-bot-") as folder:
        root = Path(folder)
        idle = await scenario(root, "idle", TimedScreen(0.0), 0, args.interactions, follow=True)
        busy = await scenario(
            root,
            "backlog",
            TimedScreen(args.type_seconds),
            args.backlog,
            args.interactions,
            follow=False,
        )
        slow = await scenario(
            root,
            "backlog, slow store",
            TimedScreen(args.type_seconds),
            args.backlog,
            args.interactions,
            follow=False,
            store_seconds=args.store_seconds,
        )
    report([idle, busy, slow])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interactions", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=100)
    parser.add_argument("--type-seconds", type=float, default=1.0)
    parser.add_argument("--store-seconds", type=float, default=0.005)
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(parser.parse_args()))

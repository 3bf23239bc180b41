"""A swarm home, its runtime and the real bot logged into the Discord double.

The screen is a stand-in that records what would be typed and can be held busy (a gate),
so these tests run without a display; typing into real windows is covered in tests/gui.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import create_bot
from bot.client import CellphoneBot
from config import Home, Settings, load_settings
from messaging.deliver import AloneAtTheScreen, Job, Typed
from messaging.runtime import Runtime, open_runtime
from tests.discord_double import DiscordDouble, Person, RestCall, Sent

READY_TIMEOUT = 15.0


async def until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``condition`` until it gives something truthy, for at most ``timeout`` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := condition()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return result


class GatedScreen(AloneAtTheScreen):
    """Records each job; while ``gate`` is clear, the delivery in hand waits (a busy desk)."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.typing = asyncio.Event()
        self.operator_idle: float | None = None  # None: nobody else at this screen

    def unavailable_reason(self) -> str | None:
        return None

    def operator_idle_s(self) -> float | None:
        return self.operator_idle

    async def deliver(self, job: Job) -> Typed:
        self.typing.set()
        await self.gate.wait()
        self.jobs.append(job)
        return Typed(verified=True)

    def received(self, agent_id: str) -> list[str]:
        return [job.message.body for job in self.jobs if job.agent.agent_id == agent_id]


@dataclass
class People:
    admin: Person
    operator: Person
    stranger: Person


@dataclass
class Swarm:
    """What a test drives: the double, the bot's runtime and the people in the guild."""

    double: DiscordDouble
    rt: Runtime
    bot: CellphoneBot
    screen: GatedScreen
    people: People

    async def run(self, name: str, user: Person | None = None, **options: Any) -> Sent:
        return await self.double.slash(name, user or self.people.operator, **options)

    async def final(self, sent: Sent, text: str, timeout: float = 10.0) -> RestCall:
        """The edit or follow-up of ``sent`` whose content contains ``text``."""
        return await self.double.reply(sent, lambda c: text in c.content, timeout=timeout)

    async def audited(self, command: str) -> sqlite3.Row:
        """The audit row of ``command`` (written once the command has answered)."""
        rows = await until(lambda: [r for r in self.audit_rows() if r["command"] == command])
        return rows[-1]

    def audit_rows(self) -> list[sqlite3.Row]:
        with contextlib.closing(sqlite3.connect(self.rt.home.database)) as db:
            db.row_factory = sqlite3.Row
            return list(db.execute("SELECT * FROM audit ORDER BY id"))


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble() as served:
        yield served


@pytest.fixture
def people(double: DiscordDouble) -> People:
    operators = double.add_role("operators")
    return People(
        admin=double.person("admiral"),
        operator=double.person("captain", operators),
        stranger=double.person("passer-by"),
    )


def bot_settings(
    home: Home, double: DiscordDouble, people: People, backups: Any = None, **discord: Any
) -> Settings:
    """The bot's settings against ``double``; scheduled backups off unless ``backups`` says."""
    operators = [r.id for r in double.guild.roles if r.name == "operators"]
    return load_settings(
        home,
        backups=backups or {"interval_minutes": 0},
        discord={
            "guild_id": double.guild.id,
            "allowed_role_ids": operators,
            "admin_user_ids": [people.admin.id],
            "api_base": double.api_base,
            "gateway_url": double.gateway_url,
            **discord,
        },
    )


@contextlib.asynccontextmanager
async def running_bot(
    rt: Runtime, settings: Settings, double: DiscordDouble, **options: Any
) -> AsyncIterator[CellphoneBot]:
    """The bot started and logged into ``double``; closed on the way out."""
    bot = create_bot(rt, settings, **options)
    task = asyncio.create_task(bot.start("test-token"), name="bot")
    ready = asyncio.create_task(double.wait_ready(double.gateway.identifies + 1, READY_TIMEOUT))
    try:
        done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
            raise AssertionError("the bot stopped before it was ready")
        ready.result()
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)


@pytest.fixture
async def swarm(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    settings = bot_settings(home, double, people)
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)
        screen.gate.set()
    # as a Discord user would see it: every interaction answered in time, and once
    assert double.acknowledged_twice() == []
    assert [t.token for t in double.ledger.failed()] == []

"""The one error handler: domain errors give their reason, the unexpected an incident id."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest

from config import Home
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot
from tests.discord_double import DiscordDouble


def broken_picture() -> bytes:
    """Stands in for a layout renderer with a bug."""
    raise KeyError("monitor 3")


@pytest.fixture
async def swarm_with_broken_picture(
    home: Home, double: DiscordDouble, people: People
) -> AsyncIterator[Swarm]:
    settings = bot_settings(home, double, people)
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double, layout_picture=broken_picture) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)


async def test_unexpected_error_gives_an_incident_id_logged_with_its_traceback(
    swarm_with_broken_picture: Swarm, caplog: pytest.LogCaptureFixture
) -> None:
    swarm = swarm_with_broken_picture
    caplog.set_level(logging.ERROR, logger="bot.errors")
    sent = await swarm.run("layout")
    answer = await swarm.double.reply(sent, lambda c: "internal error" in c.content)
    incident = re.search(r"internal error ([0-9a-f]{8})", answer.content)
    assert incident is not None
    assert "KeyError" not in answer.content  # details stay in the log
    [record] = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    row = await swarm.audited("/layout")
    assert row["outcome"] == f"internal error {incident.group(1)}"


async def test_domain_error_gives_the_reason_privately(swarm: Swarm) -> None:
    sent = await swarm.run("send", agent="Agent-1", message="   ")
    answer = await swarm.double.reply(sent, lambda c: c.ephemeral)
    assert "message text is empty" in answer.content
    assert (await swarm.audited("/send"))["outcome"].startswith("error: message text is empty")

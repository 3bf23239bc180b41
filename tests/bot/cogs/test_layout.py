"""/layout: the picture of the monitors and agent points."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import layout_png
from config import Home
from coordinates.errors import NoDisplayError
from coordinates.layout import Layout, Monitor
from messaging.runtime import open_runtime
from tests.bot.conftest import GatedScreen, People, Swarm, bot_settings, running_bot
from tests.discord_double import DiscordDouble

TWO_MONITORS = Layout(
    (
        Monitor("left", -1280, 0, 1280, 1024),
        Monitor("main", 0, 0, 1920, 1080, primary=True),
    )
)


def no_display() -> Layout:
    raise NoDisplayError("no display: DISPLAY is not set")


async def swarm_with(
    home: Home, double: DiscordDouble, people: People, read: Callable[[], Layout]
) -> AsyncIterator[Swarm]:
    settings = bot_settings(home, double, people)
    screen = GatedScreen()
    async with (
        open_runtime(home, settings, screen) as rt,
        running_bot(rt, settings, double, layout_picture=layout_png(home, read)) as bot,
    ):
        yield Swarm(double, rt, bot, screen, people)


@pytest.fixture
async def pictured(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    async for swarm in swarm_with(home, double, people, lambda: TWO_MONITORS):
        yield swarm


@pytest.fixture
async def headless(home: Home, double: DiscordDouble, people: People) -> AsyncIterator[Swarm]:
    async for swarm in swarm_with(home, double, people, no_display):
        yield swarm


async def test_layout_posts_a_png_privately(pictured: Swarm) -> None:
    sent = await pictured.run("layout")
    assert (await pictured.double.callback(sent)).ephemeral
    answer = await pictured.double.reply(sent, lambda c: bool(c.files))
    [(name, data)] = answer.files.values()
    assert name == "layout.png"
    assert data.startswith(b"\x89PNG")


async def test_without_a_display_layout_says_why(headless: Swarm) -> None:
    sent = await headless.run("layout")
    answer = await headless.double.reply(sent, lambda c: "no display" in c.content)
    assert "DISPLAY is not set" in answer.content


async def test_a_picture_over_the_upload_limit_is_a_line_not_a_failed_upload(
    pictured: Swarm,
) -> None:
    pictured.double.upload_limit = 1000  # a picture of two monitors is larger
    sent = await pictured.run("layout")
    answer = await pictured.double.reply(sent, lambda c: "upload limit" in c.content)
    assert "layout.png (" in answer.content
    assert "over Discord's upload limit here (1.0 KiB): not attached" in answer.content
    assert "cellphone coords show" in answer.content
    assert pictured.double.refused == []  # nothing was sent that Discord would refuse

"""A chat page busy with its own work, in Chromium: it draws the click's focus 0.3 s late
(later than the desk waits for a click to change an input it does not know) and shows a
paste 0.25 s after the keys. The focus drawn after the paste keys is no pasted text: taking
it for one pressed Enter on an empty input (the page sent an empty message) before the text
came."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from config import Home, load_settings
from coordinates.virtual_display import VirtualDisplay
from messaging.model import DeliveryMethod, DeliveryState
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.apps import ChromiumPane, ChromiumPanes
from messaging.screen.gui import GuiDeliverer
from messaging.screen.x11 import X11
from tests.conftest import make_home
from tests.gui.test_real_apps import text_of

pytestmark = [pytest.mark.display, pytest.mark.slow]

SLOW = ChromiumPane("Agent-1", 640, 700, kind="slow")  # the 1280x1024 monitor at 0,0
PLAIN = ChromiumPane("Agent-2", 2880, 1500)  # a 1920x1080 one at 1920,1024


@pytest.fixture(scope="module")
def browsers(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChromiumPanes]:
    with ChromiumPanes([SLOW, PLAIN], x_display.name, tmp_path_factory.mktemp("slow")) as apps:
        yield apps


@pytest.fixture
def home(tmp_path: Path, browsers: ChromiumPanes) -> Home:
    agents = {
        agent_id: {"chat_input_coordinates": list(point), "active": True}
        for agent_id, point in browsers.pane_points().items()
    }
    return make_home(tmp_path / "home", {"agents": agents})


@pytest.fixture
async def desk(
    home: Home, browsers: ChromiumPanes, x_display: VirtualDisplay
) -> AsyncIterator[Runtime]:
    # the slow page has the focus, drawn, before the desk first meets it
    x11 = X11(x_display.name)
    try:
        x11.click(*browsers.pane_points()[SLOW.agent_id])
    finally:
        x11.close()
    settings = load_settings(home)
    time.sleep(settings.gui.operator_idle_s)  # that click was no operator's
    browsers.clear()
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(home, settings, screen) as rt:
        yield rt
    screen.close()


async def test_a_page_drawing_the_focus_late_gets_each_message_once_after_its_paste(
    desk: Runtime, browsers: ChromiumPanes
) -> None:
    """Messages to the slow page and another in turn: each click into the slow page meets
    it without its focus drawn (the focus went back to it after the other page's message
    only moments before)."""
    wanted = []
    for index in range(5):
        for pane in (SLOW, PLAIN):
            body = f"message {index} to {pane.agent_id}: {text_of(200, index)}"
            submission = await desk.service.send([pane.agent_id], body)
            outcome = (await desk.desk.wait_for(submission.message.id, 30))[pane.agent_id]
            assert outcome.state is DeliveryState.DELIVERED, (pane.kind, index, outcome.summary)
            assert outcome.method is DeliveryMethod.GUI
            assert outcome.verified is True, (pane.kind, index)
            if pane is SLOW:
                footer = desk.settings.messaging.footer
                wanted.append(render(submission.message, SLOW.agent_id, footer))
    browsers.wait_for(10, timeout=10)
    assert browsers.texts(SLOW.agent_id) == wanted

"""An input the desk has never seen empty (points written by hand or imported, no
calibration, no delivery yet), in real Chromium chat pages: a draft in it is found by
selecting it and reading the primary selection, left exactly as it was and never sent; an
empty one is typed into and its empty look learnt."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import Agent
from config import GuiSettings
from coordinates import Point, Typing
from coordinates.virtual_display import VirtualDisplay
from messaging.deliver import DraftPresent, Job, NotDeliverable
from messaging.model import Message
from messaging.screen.apps import ChromiumPane, ChromiumPanes
from messaging.screen.gui import GuiDeliverer
from messaging.screen.sharing import look_file

pytestmark = [pytest.mark.display, pytest.mark.slow]

PLAIN = ChromiumPane("Agent-1", 2600, 1500, title="Agent-1 — first contact")
RICH = ChromiumPane("Agent-2", 700, 1700, kind="contenteditable")
PANES = (PLAIN, RICH)
DRAFT = "operator draft, half written"


@pytest.fixture(scope="module")
def browsers(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChromiumPanes]:
    with ChromiumPanes(PANES, x_display.name, tmp_path_factory.mktemp("first")) as apps:
        yield apps


def xdotool(display: VirtualDisplay, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=display.env(), check=True, timeout=10)


def write_draft(display: VirtualDisplay, browsers: ChromiumPanes, pane: ChromiumPane) -> None:
    """The operator clicks into the input, empties it and types a draft, then moves away."""
    x, y = browsers.pane_points()[pane.agent_id]
    xdotool(display, "mousemove", str(x), str(y), "click", "1")
    xdotool(display, "key", "ctrl+a", "BackSpace")
    xdotool(display, "type", "--delay", "2", DRAFT)
    browsers.wait_for_draft(pane.agent_id, DRAFT)
    xdotool(display, "mousemove", "20", "20")


def empty_input(display: VirtualDisplay, browsers: ChromiumPanes, pane: ChromiumPane) -> None:
    x, y = browsers.pane_points()[pane.agent_id]
    xdotool(display, "mousemove", str(x), str(y), "click", "1")
    xdotool(display, "key", "ctrl+a", "BackSpace")
    browsers.wait_for_draft(pane.agent_id, "")
    xdotool(display, "mousemove", "20", "20")


def agent_at(browsers: ChromiumPanes, pane: ChromiumPane) -> Agent:
    x, y = browsers.pane_points()[pane.agent_id]
    return Agent(pane.agent_id, "", True, Point(x, y), None, typing=Typing())


def job_for(agent: Agent, text: str) -> Job:
    return Job(Message("Captain", (agent.agent_id,), text), agent, text)


@pytest.mark.parametrize("pane", PANES, ids=lambda p: p.kind)
def test_a_draft_in_an_input_never_seen_empty_is_left_exactly_as_it_was(
    x_display: VirtualDisplay, browsers: ChromiumPanes, pane: ChromiumPane, tmp_path: Path
) -> None:
    browsers.clear()
    write_draft(x_display, browsers, pane)
    screen = GuiDeliverer(GuiSettings())
    screen.remember_looks_in(tmp_path / "looks")  # a home with no look of this input
    agent = agent_at(browsers, pane)
    try:
        for attempt in range(3):  # a held delivery is tried again: each try leaves it too
            # the app offers the selection (its length is told) or shows it selected
            seen = f"holds a draft (of {len(DRAFT)} characters )?the desk did not type"
            with pytest.raises(DraftPresent, match=seen):
                screen.deliver_now(job_for(agent, f"message {attempt} from the desk"))
            browsers.wait_for_draft(pane.agent_id, DRAFT)
        time.sleep(0.3)  # anything the page would still send or change arrives by then
        assert browsers.draft(pane.agent_id) == DRAFT
        assert browsers.texts(pane.agent_id) == []
        assert not look_file(tmp_path / "looks", pane.agent_id, False).exists()

        empty_input(x_display, browsers, pane)  # the operator sends or drops the draft
        text = "now the input is empty: typed, verified ✓"
        assert screen.deliver_now(job_for(agent, text)).verified
        browsers.wait_for(1)
        assert browsers.texts(pane.agent_id) == [text]
    finally:
        screen.close()
    # its empty look is learnt from that verified submission and kept in the home
    assert look_file(tmp_path / "looks", pane.agent_id, False).exists()


def test_the_operators_primary_selection_is_given_back_after_the_probe(
    x_display: VirtualDisplay, browsers: ChromiumPanes, tmp_path: Path
) -> None:
    browsers.clear()
    empty_input(x_display, browsers, PLAIN)
    subprocess.run(
        ["xclip", "-selection", "primary"],
        input=b"what the operator selected",
        env=x_display.env(),
        check=True,
        timeout=10,
    )
    screen = GuiDeliverer(GuiSettings())
    screen.remember_looks_in(tmp_path / "looks")
    try:
        assert screen.deliver_now(job_for(agent_at(browsers, PLAIN), "probe and type")).verified
    finally:
        screen.close()
    primary = subprocess.run(
        ["xclip", "-selection", "primary", "-o"],
        env=x_display.env(),
        capture_output=True,
        timeout=10,
    )
    assert primary.stdout == b"what the operator selected"


def test_a_selection_taken_after_the_probe_gets_nothing_submitted(
    x_display: VirtualDisplay, browsers: ChromiumPanes, tmp_path: Path
) -> None:
    """The probe found the input empty, and before Enter the primary selection went to
    another owner: what a busy app answering select-all late looks like (text was in its
    input after all). Here another X client takes it (xclip) as soon as the page shows the
    pasted text, while the desk waits the agent's submit_after_s: nothing is submitted."""
    browsers.clear()
    empty_input(x_display, browsers, PLAIN)
    screen = GuiDeliverer(GuiSettings())
    screen.remember_looks_in(tmp_path / "looks")
    text = "pasted, then the selection moved: never sent"
    slow = agent_at(browsers, PLAIN)
    slow = Agent(slow.agent_id, "", True, slow.chat_point, None, typing=Typing(submit_after_s=1.0))

    def take_primary_once_pasted() -> None:
        browsers.wait_for_draft(PLAIN.agent_id, text, timeout=10)
        subprocess.run(
            ["xclip", "-selection", "primary"],
            input=b"selected late",
            env=x_display.env(),
            check=True,
            timeout=10,
        )

    taker = threading.Thread(target=take_primary_once_pasted)
    taker.start()
    try:
        with pytest.raises(NotDeliverable, match="seen only after the paste"):
            screen.deliver_now(job_for(slow, text))
    finally:
        taker.join(timeout=15)
        screen.close()
    time.sleep(0.3)
    assert browsers.texts(PLAIN.agent_id) == []
    assert browsers.draft(PLAIN.agent_id) == text  # pasted, not submitted, left as it is
    empty_input(x_display, browsers, PLAIN)

"""End to end on a real X display: the desk types into stand-in chat windows on three
monitors of different sizes, through the GUI deliverer, and falls back to the inbox when
typing is unsafe."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from Xlib import X
from Xlib.display import Display as XDisplay

import cellphone
from agents import Agent
from config import Home, Settings, load_settings
from coordinates import Point, load_coordinates, save_coordinates
from coordinates.virtual_display import VirtualDisplay
from messaging.deliver import Job, NotDeliverable
from messaging.model import DeliveryMethod, DeliveryState, Message
from messaging.render import render
from messaging.runtime import Runtime, open_runtime
from messaging.screen.gui import GuiDeliverer
from tests.conftest import inbox_files, make_home
from tests.fakes.chat_window import ChatWindows, Pane
from tests.gui.display import typed_copies

pytestmark = pytest.mark.display

# Agent: (chat point, onboarding point, window_title); monitors as in tests/gui/display.py.
AGENTS: dict[str, tuple[Point, Point | None, str | None]] = {
    "Agent-1": (Point(480, 1500), None, None),  # DUMMY0
    "Agent-2": (Point(1440, 1500), None, None),  # DUMMY0
    "Agent-3": (Point(2400, 1500), Point(2400, 1900), None),  # DUMMY1
    "Agent-4": (Point(3360, 1500), None, None),  # DUMMY1
    "Agent-5": (Point(640, 500), None, r"^Agent-5 — chat$"),  # DUMMY2, title checked
    "Agent-6": (Point(2500, 300), None, None),  # dead zone right of DUMMY2
    "Agent-7": (Point(480, 1900), None, r"Cursor"),  # a window is there, not Cursor
}
REACHABLE = ["Agent-1", "Agent-2", "Agent-3", "Agent-4", "Agent-5"]
SPARE = Pane("Spare", 3360, 1900)  # where Agent-1 moves to when the file is edited
ONBOARDING = Pane("Agent-3-new-chat", 2400, 1900)
UNICODE = "Grüße, 世界! ✓ 🚀🤖\nsecond line\n\n  indented — «quoted» ∑ ½\ttab\n🧪 end"


def coordinates() -> dict:
    agents = {}
    for agent_id, (chat, onboarding, title) in AGENTS.items():
        entry: dict = {
            "chat_input_coordinates": list(chat),
            "description": f"role of {agent_id}",
            "active": True,
        }
        if onboarding:
            entry["onboarding_coordinates"] = list(onboarding)
        if title:
            entry["window_title"] = title
        agents[agent_id] = entry
    return {"agents": agents, "metadata": {"kept": True}}


@pytest.fixture(scope="module")
def windows(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChatWindows]:
    panes = [
        Pane(agent_id, chat.x, chat.y)
        for agent_id, (chat, _, _) in AGENTS.items()
        if agent_id != "Agent-6"
    ]
    with ChatWindows(
        [*panes, SPARE, ONBOARDING], x_display.name, tmp_path_factory.mktemp("w")
    ) as w:
        yield w


@pytest.fixture
def gui_home(tmp_path: Path) -> Home:
    return make_home(tmp_path / "home", coordinates())


@pytest.fixture
def gui_settings(gui_home: Home) -> Settings:
    return load_settings(gui_home)


@pytest.fixture
async def desk(
    gui_home: Home, gui_settings: Settings, windows: ChatWindows
) -> AsyncIterator[Runtime]:
    windows.clear()
    screen = GuiDeliverer(gui_settings.gui)
    async with open_runtime(gui_home, gui_settings, screen) as rt:
        yield rt
    screen.close()


def rendered(message: Message, agent_id: str, settings: Settings) -> str:
    return render(message, agent_id, settings.messaging.footer)


async def test_every_window_gets_exactly_its_text_once(
    desk: Runtime, windows: ChatWindows, gui_settings: Settings
) -> None:
    long_body = "".join(f"{i:05d} lorem ipsum ✓\n" for i in range(600))[:10_000]
    assert len(long_body) == 10_000
    sent = [
        (await desk.service.send(REACHABLE, UNICODE)).message,
        (await desk.service.send(REACHABLE, long_body)).message,
    ]
    for message in sent:
        outcomes = await desk.desk.wait_for(message.id, 30)
        assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}, outcomes
        assert {o.method for o in outcomes.values()} == {DeliveryMethod.GUI}
    windows.wait_for(len(sent) * len(REACHABLE))
    for agent_id in REACHABLE:
        assert windows.texts(agent_id) == [rendered(m, agent_id, gui_settings) for m in sent]
        # the inbox copy is written right after the outcome is recorded
        await until(lambda a=agent_id: len(typed_copies(desk.home, a)) == len(sent))
        assert typed_copies(desk.home, agent_id) == ["gui, verified on screen"] * len(sent)
    assert windows.texts("Spare") == []


async def test_broadcast_reaches_every_reachable_window(
    desk: Runtime, windows: ChatWindows, gui_settings: Settings
) -> None:
    message = (
        await desk.service.broadcast("hello, swarm 👋", exclude=["Agent-6", "Agent-7"])
    ).message
    outcomes = await desk.desk.wait_for(message.id, 30)
    assert sorted(outcomes) == REACHABLE
    windows.wait_for(len(REACHABLE))
    for agent_id in REACHABLE:
        assert windows.texts(agent_id) == [rendered(message, agent_id, gui_settings)]


async def test_priorities_reorder_a_queued_backlog(desk: Runtime, windows: ChatWindows) -> None:
    # One delivery first, so the screen worker is idle (not mid-claim) when the desk pauses.
    warm_up = (await desk.service.send(["Agent-1"], "warm-up")).message
    await desk.desk.wait_for(warm_up.id, 30)
    windows.wait_for(1)
    windows.clear()
    desk.desk.pause("building a backlog")
    bodies = [("n1", "normal"), ("u1", "urgent"), ("n2", "normal"), ("c1", "critical")]
    ids = [(await desk.service.send(["Agent-2"], b, priority=p)).message.id for b, p in bodies]
    assert windows.received() == []
    desk.desk.resume()
    for message_id in ids:
        await desk.desk.wait_for(message_id, 30)
    windows.wait_for(len(bodies))
    order = [text.split("\n")[-3] for text in windows.texts("Agent-2")]
    assert order == ["c1", "u1", "n1", "n2"]


async def test_dead_zone_point_goes_to_the_inbox_with_the_reason(
    desk: Runtime, windows: ChatWindows
) -> None:
    message = (await desk.service.send(["Agent-6", "Agent-1"], "where am I?")).message
    outcomes = await desk.desk.wait_for(message.id, 30)
    assert outcomes["Agent-1"].state is DeliveryState.DELIVERED
    fallback = outcomes["Agent-6"]
    assert fallback.state is DeliveryState.FALLBACK
    assert fallback.method is DeliveryMethod.INBOX
    assert fallback.reason is not None
    assert fallback.reason.startswith("point (2500, 300) is on no monitor (dead zone between")
    [letter] = inbox_files(desk.home, "Agent-6")
    text = letter.read_text(encoding="utf-8")
    assert "where am I?" in text and "dead zone" in text
    windows.wait_for(1)
    assert [r.agent_id for r in windows.received()] == ["Agent-1"]


async def test_window_title_is_checked_before_typing(
    desk: Runtime, windows: ChatWindows, gui_settings: Settings
) -> None:
    message = (await desk.service.send(["Agent-7", "Agent-5"], "are you Cursor?")).message
    outcomes = await desk.desk.wait_for(message.id, 30)
    assert outcomes["Agent-5"].state is DeliveryState.DELIVERED  # its pattern matches
    mismatch = outcomes["Agent-7"]
    assert mismatch.state is DeliveryState.FALLBACK
    assert mismatch.reason == (
        "the window at (480, 1900) is 'Agent-7 — chat', which does not match "
        "window_title 'Cursor' of Agent-7"
    )
    assert len(inbox_files(desk.home, "Agent-7")) == 1
    windows.wait_for(1)
    assert windows.texts("Agent-7") == []
    assert windows.texts("Agent-5") == [rendered(message, "Agent-5", gui_settings)]


async def test_an_edited_coordinates_file_moves_the_next_delivery(
    desk: Runtime, windows: ChatWindows
) -> None:
    first = (await desk.service.send(["Agent-1"], "before the move")).message
    await desk.desk.wait_for(first.id, 30)
    path = desk.home.coordinates_file
    save_coordinates(load_coordinates(path).with_point("Agent-1", "chat", Point(SPARE.x, SPARE.y)))
    assert json.loads(path.read_text())["metadata"] == {"kept": True}
    second = (await desk.service.send(["Agent-1"], "after the move")).message
    outcomes = await desk.desk.wait_for(second.id, 30)
    assert outcomes["Agent-1"].state is DeliveryState.DELIVERED
    windows.wait_for(2)
    assert [t.split("\n")[2] for t in windows.texts("Agent-1")] == ["before the move"]
    assert [t.split("\n")[2] for t in windows.texts("Spare")] == ["after the move"]


async def test_onboarding_types_at_the_onboarding_point_after_the_new_chat_hotkey(
    gui_home: Home, windows: ChatWindows
) -> None:
    windows.clear()
    settings = load_settings(gui_home, gui={"new_chat_hotkey": "ctrl+n"})
    screen = GuiDeliverer(settings.gui)
    async with open_runtime(gui_home, settings, screen) as rt:
        [submission] = await rt.service.onboard({"Agent-3": "Welcome, Agent-3 🚀\nYour role: …"})
        outcomes = await rt.desk.wait_for(submission.message.id, 30)
    screen.close()
    assert outcomes["Agent-3"].state is DeliveryState.DELIVERED
    got = windows.wait_for(2)
    assert [(r.agent_id, r.kind) for r in got] == [
        (ONBOARDING.agent_id, "new-chat"),
        (ONBOARDING.agent_id, "message"),
    ]
    assert got[1].text == render(submission.message, "Agent-3", settings.messaging.footer)
    assert windows.texts("Agent-3") == []


async def test_fail_safe_pauses_the_desk_and_keeps_the_queue(
    desk: Runtime, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    xdotool(x_display, "mousemove", "0", "0")  # the operator flings the mouse into a corner
    try:
        first = (await desk.service.send(["Agent-4"], "during the fail-safe")).message
        outcomes = await desk.desk.wait_for(first.id, 30)
        assert outcomes["Agent-4"].state is DeliveryState.FALLBACK
        assert outcomes["Agent-4"].reason is not None
        assert "fail-safe" in outcomes["Agent-4"].reason
        assert desk.desk.paused
        second = (await desk.service.send(["Agent-4"], "after the fail-safe")).message
        waiting = await desk.desk.wait_for(second.id, 0.5)
        assert waiting["Agent-4"].state is DeliveryState.QUEUED
    finally:
        xdotool(x_display, "mousemove", "1000", "1500")
    desk.desk.resume()
    outcomes = await desk.desk.wait_for(second.id, 30)
    assert outcomes["Agent-4"].state is DeliveryState.DELIVERED
    windows.wait_for(1)
    assert [t.split("\n")[2] for t in windows.texts("Agent-4")] == ["after the fail-safe"]


def test_the_operators_clipboard_is_given_back(
    gui_home: Home, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    windows.clear()
    copy = subprocess.run(
        ["xclip", "-selection", "clipboard", "-i"],
        input="the operator's snippet ✓".encode(),
        env=x_display.env(),
        check=True,
        timeout=5,
    )
    assert copy.returncode == 0

    screen = GuiDeliverer(load_settings(gui_home).gui)
    agent = Agent("Agent-1", "", True, AGENTS["Agent-1"][0], None)
    message = Message("Captain", ("Agent-1",), "clipboard check")
    screen.deliver_now(Job(message, agent, "pasted text ✓"))
    screen.close()
    assert windows.wait_for(1)[0].text == "pasted text ✓"
    pasted = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"],
        env=x_display.env(),
        capture_output=True,
        check=True,
        timeout=5,
    )
    assert pasted.stdout.decode() == "the operator's snippet ✓"


def xdotool(display: VirtualDisplay, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=display.env(), check=True, timeout=5)


def test_onboard_command_types_the_filled_template(gui_home: Home, windows: ChatWindows) -> None:
    windows.clear()
    result = CliRunner().invoke(
        cellphone.build(), ["onboard", "Agent-3", "--home", str(gui_home.root), "--json"]
    )
    assert result.exit_code == 0, result.output
    [outcome] = json.loads(result.output)[0]["outcomes"]
    assert (outcome["agent"], outcome["state"], outcome["method"]) == (
        "Agent-3",
        "delivered",
        "gui",
    )
    [got] = windows.wait_for(1)
    assert got.agent_id == ONBOARDING.agent_id
    assert got.text.startswith("[ONBOARDING] System → Agent-3\nPriority: URGENT\n\nYou are Agent-3")
    assert str(gui_home.workspaces_dir / "Agent-3" / "inbox") in got.text


def test_send_command_types_when_the_display_is_there(
    gui_home: Home, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    """Through the real entry point, with text on the operator's clipboard: the process
    gives the clipboard back and exits without a background xclip holding its output."""
    windows.clear()
    xclip(x_display, "-i", stdin="operator's text")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cellphone",
            "send",
            "from the command line ✓",
            "--to",
            "Agent-2",
            "--home",
            str(gui_home.root),
            "--json",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **x_display.env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [outcome] = json.loads(result.stdout)["outcomes"]
    assert (outcome["state"], outcome["method"]) == ("delivered", "gui")
    [got] = windows.wait_for(1)
    assert got.agent_id == "Agent-2" and "from the command line ✓" in got.text
    assert typed_copies(gui_home, "Agent-2") == ["gui, verified on screen"]
    assert xclip(x_display, "-o") == "operator's text"


def xclip(display: VirtualDisplay, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["xclip", "-selection", "clipboard", *args],
        input=stdin,
        env=display.env(),
        capture_output=stdin is None,
        text=True,
        check=True,
        timeout=5,
    )
    return done.stdout or ""


@contextlib.contextmanager
def x_program(display: VirtualDisplay, name: str) -> Iterator[None]:
    """One of tests/fakes/x_programs.py running on ``display`` until the block ends."""
    program = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.x_programs", name],
        cwd=Path(__file__).resolve().parents[2],
        env=display.env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert program.stdout is not None and program.stdout.readline().strip() == "ready"
        yield
    finally:
        program.kill()
        program.wait(timeout=5)


def focus_window_at(display: VirtualDisplay, point: Point) -> None:
    screen = XDisplay(display.name)
    root = screen.screen().root
    root.translate_coords(root, *point).child.set_input_focus(X.RevertToParent, X.CurrentTime)
    screen.sync()
    screen.close()


def deliver_directly(
    screen: GuiDeliverer, agent_id: str, text: str, title: str | None = None
) -> None:
    agent = Agent(agent_id, "", True, AGENTS[agent_id][0], None, window_title=title)
    screen.deliver_now(Job(Message("Captain", (agent_id,), text), agent, text))


def test_a_clipboard_manager_asking_first_is_not_taken_for_the_paste(
    gui_home: Home, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    windows.clear()
    screen = GuiDeliverer(load_settings(gui_home).gui)
    texts = ["first message", "second message ✓", "third message"]
    with x_program(x_display, "clipboard-manager"):
        for text in texts:
            deliver_directly(screen, "Agent-1", text)
        got = windows.wait_for(3)
    screen.close()
    assert [(r.agent_id, r.text) for r in got] == [("Agent-1", t) for t in texts]


def test_keys_never_go_to_a_window_other_than_the_one_clicked(
    gui_home: Home, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    windows.clear()
    screen = GuiDeliverer(load_settings(gui_home).gui)
    deliver_directly(screen, "Agent-1", "for Agent-1")
    windows.wait_for(1)
    focus_window_at(x_display, AGENTS["Agent-1"][0])  # as a window manager does on a click
    with (
        x_program(x_display, "pointer-grab"),  # an open menu swallows the next click
        pytest.raises(NotDeliverable) as refused,
    ):
        deliver_directly(screen, "Agent-5", "for Agent-5 only", r"^Agent-5 — chat$")
    screen.close()
    assert "the keyboard focus is on window" in refused.value.reason
    assert refused.value.reason.endswith("nothing was typed")
    assert windows.texts("Agent-1") == ["for Agent-1"]
    assert windows.texts("Agent-5") == []


def test_text_left_in_an_input_by_a_failed_attempt_is_cleared_first(
    gui_home: Home, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    windows.clear()
    screen = GuiDeliverer(load_settings(gui_home).gui)
    x11 = screen._xlib()
    serve = x11.serve_until_quiet

    def taken_then_flung(quiet: float, timeout: float) -> bool:
        # The one step made to order: right after the window took the paste, the operator
        # flings the mouse into a corner (a real pointer move), so Enter is never pressed.
        x11.serve_until_quiet = serve  # type: ignore[method-assign]
        taken = serve(quiet, timeout)
        xdotool(x_display, "mousemove", "0", "0")
        return taken

    x11.serve_until_quiet = taken_then_flung  # type: ignore[method-assign]
    try:
        with pytest.raises(NotDeliverable, match="fail-safe"):
            deliver_directly(screen, "Agent-2", "stale text")
    finally:
        xdotool(x_display, "mousemove", "1000", "1500")
    assert windows.received() == []  # the stale text sits in the input, not submitted
    deliver_directly(screen, "Agent-2", "fresh text")
    screen.close()
    assert [r.text for r in windows.wait_for(1)] == ["fresh text"]


def test_every_monitor_corner_is_a_fail_safe_corner(
    gui_home: Home, windows: ChatWindows, x_display: VirtualDisplay
) -> None:
    windows.clear()
    screen = GuiDeliverer(load_settings(gui_home).gui)
    # top right of DUMMY1: a corner of a monitor, not of the bounding box (a dead zone)
    xdotool(x_display, "mousemove", "3839", "1024")
    try:
        with pytest.raises(NotDeliverable, match="fail-safe") as refused:
            deliver_directly(screen, "Agent-3", "not now")
    finally:
        xdotool(x_display, "mousemove", "1000", "1500")
    screen.close()
    assert refused.value.pause_desk
    assert windows.texts("Agent-3") == []


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``check`` until it is true (a bounded wait for a condition)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)

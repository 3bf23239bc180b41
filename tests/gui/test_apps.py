"""The real chat apps of the display tests, proved on their own: Chromium chat pages and a
terminal line reader on the shared three-monitor display under openbox get an exact
multi-line unicode text through a click, the clipboard and Enter, as a person would
deliver it with xdotool and xclip; a busy pane takes nothing."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coordinates.virtual_display import VirtualDisplay
from messaging.screen.apps import (
    ChatAppError,
    ChromiumPane,
    ChromiumPanes,
    TerminalPane,
    TerminalPanes,
    WindowManager,
    WindowManagerError,
    running_in_group,
)
from messaging.screen.linereader import PASTE_END, PASTE_START, LineEditor
from messaging.screen.pageserver import ChatServer, render_page
from messaging.screen.wm import managing_wm

TEXT = "Grüße, 世界! ✓ «quoted» ∑ ½\nsecond line\n\n  indented\ttab\nend — ok"
TRAILING = "one line and a new line at the end\n"
LEADING = "\n\nafter two empty lines\n\n\nand three"
CLICK_PACE_S = 0.6  # clicks on one point closer than this would count as a double click

# One pane per kind; monitors as in tests/gui/display.py.
TEXTAREA = ChromiumPane("Page-plain", 640, 600, title="Plain chat")  # 1280x1024 at 0,0
RICH = ChromiumPane("Page-rich", 2880, 1700, kind="contenteditable")  # 1920x1080 at 1920,1024
BUSY = ChromiumPane("Page-busy", 700, 1800, kind="ignores-enter")  # 1920x1080 at 0,1024
TERMINAL = TerminalPane("Term-1", 1440, 1400, columns=72, rows=14)  # 1920x1080 at 0,1024
EDGE = ChromiumPane("Page-edge", 60, 250, kind="contenteditable")  # sticks out left of 0,0


@pytest.fixture(scope="module")
def pages(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChromiumPanes]:
    with ChromiumPanes(
        [TEXTAREA, RICH, BUSY, EDGE], x_display.name, tmp_path_factory.mktemp("pages")
    ) as panes:
        yield panes


@pytest.fixture(scope="module")
def terminals(
    x_display: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TerminalPanes]:
    with TerminalPanes([TERMINAL], x_display.name, tmp_path_factory.mktemp("terms")) as panes:
        yield panes


@contextmanager
def clipboard(text: str, display: VirtualDisplay, folder: Path) -> Iterator[None]:
    """``text`` on the clipboard, held by an xclip with detached stdio, for the block."""
    source = folder / "clipboard.txt"
    source.write_bytes(text.encode("utf-8"))
    owner = subprocess.Popen(
        ["xclip", "-selection", "clipboard", "-i", str(source)],
        env=display.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 5
        while read_clipboard(display) != text:
            assert time.monotonic() < deadline, "xclip did not take the clipboard"
            time.sleep(0.01)
        yield
    finally:
        owner.terminate()
        owner.wait(5)


def read_clipboard(display: VirtualDisplay) -> str | None:
    result = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"],
        env=display.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=5,
        check=False,
    )
    return result.stdout.decode("utf-8") if result.returncode == 0 else None


_last_click: dict[tuple[int, int], float] = {}


def click(display: VirtualDisplay, point: tuple[int, int]) -> None:
    """One single click at ``point`` (paced, so two never make a double click)."""
    wait = _last_click.get(point, 0.0) + CLICK_PACE_S - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    xdotool(display, "mousemove", *map(str, point), "click", "1")
    _last_click[point] = time.monotonic()


def xdotool(display: VirtualDisplay, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=display.env(), check=True, timeout=10)


def focused_window_name(display: VirtualDisplay) -> str:
    result = subprocess.run(
        ["xdotool", "getwindowfocus", "getwindowname"],
        env=display.env(),
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return result.stdout.strip()


# -- on the display ---------------------------------------------------------------------


@pytest.mark.display
def test_the_display_has_a_window_manager_and_refuses_a_second(x_display: VirtualDisplay) -> None:
    assert managing_wm(x_display.name) == "Openbox"
    with pytest.raises(WindowManagerError, match="already has a window manager: Openbox"):
        WindowManager(x_display.name).start()


@pytest.mark.display
def test_each_input_lies_centred_on_its_point(
    pages: ChromiumPanes, terminals: TerminalPanes
) -> None:
    for apps, panes in ((pages, (TEXTAREA, RICH, BUSY, EDGE)), (terminals, (TERMINAL,))):
        points = apps.pane_points()
        for pane in panes:
            x, y = points[pane.agent_id]
            assert abs(x - pane.x) <= 2 and abs(y - pane.y) <= 2, (pane, points)
            assert apps.contains(pane.agent_id, x, y)
            rect = apps.input_rect(pane.agent_id)
            assert not apps.contains(pane.agent_id, rect.x - 1, y)
            assert not apps.contains(pane.agent_id, x, rect.y + rect.height)
    assert pages.input_rect(TEXTAREA.agent_id).height > 60  # a chat box, not a line
    assert pages.input_rect(EDGE.agent_id).x < 0  # the window was moved partly off screen
    assert terminals.input_rect(TERMINAL.agent_id).height < 40  # one terminal row


@pytest.mark.display
def test_a_textarea_page_submits_exactly_the_pasted_text(
    pages: ChromiumPanes, x_display: VirtualDisplay, tmp_path: Path
) -> None:
    pages.clear()
    click(x_display, pages.pane_points()[TEXTAREA.agent_id])
    assert focused_window_name(x_display) == "Plain chat"
    for text in (TEXT, TRAILING):
        with clipboard(text, x_display, tmp_path):
            xdotool(x_display, "key", "ctrl+v")
            pages.wait_for_draft(TEXTAREA.agent_id, text)
            xdotool(x_display, "key", "Return")
            pages.wait_for_draft(TEXTAREA.agent_id, "")
    pages.wait_for(2)
    assert pages.texts(TEXTAREA.agent_id) == [TEXT, TRAILING]
    records = [json.loads(line) for line in pages.record.read_text("utf-8").splitlines()]
    assert [(r["agent_id"], r["text"], r["kind"]) for r in records] == [
        (TEXTAREA.agent_id, TEXT, "message"),
        (TEXTAREA.agent_id, TRAILING, "message"),
    ]


@pytest.mark.display
def test_a_rich_input_submits_exactly_the_pasted_text_new_lines_included(
    pages: ChromiumPanes, x_display: VirtualDisplay, tmp_path: Path
) -> None:
    pages.clear()
    click(x_display, pages.pane_points()[RICH.agent_id])
    for text in (TEXT, TRAILING, LEADING):
        with clipboard(text, x_display, tmp_path):
            xdotool(x_display, "key", "ctrl+v")
            pages.wait_for_draft(RICH.agent_id, text)
            xdotool(x_display, "key", "Return")
            pages.wait_for_draft(RICH.agent_id, "")
    pages.wait_for(3)
    assert pages.texts(RICH.agent_id) == [TEXT, TRAILING, LEADING]


@pytest.mark.display
def test_shift_enter_makes_a_new_line_and_enter_sends(
    pages: ChromiumPanes, x_display: VirtualDisplay
) -> None:
    pages.clear()
    for pane in (TEXTAREA, RICH):
        click(x_display, pages.pane_points()[pane.agent_id])
        xdotool(x_display, "type", "one")
        xdotool(x_display, "key", "shift+Return")
        xdotool(x_display, "type", "two")
        xdotool(x_display, "key", "shift+Return")
        pages.wait_for_draft(pane.agent_id, "one\ntwo\n")
        xdotool(x_display, "key", "Return")
        pages.wait_for_draft(pane.agent_id, "")
    pages.wait_for(2)
    assert pages.texts(TEXTAREA.agent_id) == ["one\ntwo\n"]
    assert pages.texts(RICH.agent_id) == ["one\ntwo\n"]


@pytest.mark.display
def test_a_busy_pane_keeps_the_text_and_records_nothing(
    pages: ChromiumPanes, x_display: VirtualDisplay, tmp_path: Path
) -> None:
    pages.clear()
    click(x_display, pages.pane_points()[BUSY.agent_id])
    with clipboard(TEXT, x_display, tmp_path):
        xdotool(x_display, "key", "ctrl+v")
        pages.wait_for_draft(BUSY.agent_id, TEXT)
        xdotool(x_display, "key", "Return")
    with pytest.raises(TimeoutError, match="received 0 of 1"):
        pages.wait_for(1, timeout=1.0)
    assert pages.draft(BUSY.agent_id) == TEXT
    xdotool(x_display, "key", "ctrl+a", "Delete")
    pages.wait_for_draft(BUSY.agent_id, "")


@pytest.mark.display
def test_a_terminal_line_reader_submits_a_bracketed_paste_as_one_message(
    terminals: TerminalPanes, x_display: VirtualDisplay, tmp_path: Path
) -> None:
    terminals.clear()
    click(x_display, terminals.pane_points()[TERMINAL.agent_id])
    assert focused_window_name(x_display) == TERMINAL.window_title
    for count, text in enumerate((TEXT, TRAILING), start=1):
        with clipboard(text, x_display, tmp_path):
            xdotool(x_display, "key", "ctrl+shift+v")
            terminals.wait_for_draft(TERMINAL.agent_id, text)
            xdotool(x_display, "key", "Return")
            terminals.wait_for(count)
    assert terminals.texts(TERMINAL.agent_id) == [TEXT, TRAILING]


@pytest.mark.display
def test_stopping_ends_every_browser_process_and_removes_the_profiles(
    x_display: VirtualDisplay, tmp_path: Path
) -> None:
    panes = ChromiumPanes([ChromiumPane("Page-short", 2400, 1500)], x_display.name, tmp_path)
    with panes:
        group = panes.process_group("Page-short")
        assert len(running_in_group(group)) > 3  # browser, zygotes, renderer, ...
        assert (tmp_path / "profiles").is_dir()
        assert panes.start_seconds["Page-short"] < 15
    assert running_in_group(group) == []
    assert not (tmp_path / "profiles").exists()


@pytest.mark.display
def test_a_browser_that_dies_at_start_is_a_clear_error(
    x_display: VirtualDisplay, tmp_path: Path
) -> None:
    panes = ChromiumPanes(
        [ChromiumPane("Page-x", 2400, 1500)], x_display.name, tmp_path, browser="false"
    )
    with pytest.raises(ChatAppError, match=r"Page-x: the app exited \(code 1\) before page"):
        panes.start()
    with pytest.raises(ChatAppError, match="not installed"):
        ChromiumPanes([], x_display.name, tmp_path, browser="no-such-browser").start()
    with pytest.raises(ChatAppError, match="not installed"):
        TerminalPanes([], x_display.name, tmp_path, terminal="no-such-terminal").start()


# -- without a display ------------------------------------------------------------------


def test_the_line_editor_takes_a_bracketed_paste_as_one_text() -> None:
    sent: list[str] = []
    pasted: list[str] = []
    editor = LineEditor(sent.append, pasted.append)
    echo = editor.feed(f"ab{PASTE_START}x\ry\r\r{PASTE_END[:3]}")
    editor.feed(f"{PASTE_END[3:]}z\x7f\x1b[A\r")
    assert sent == ["abx\ny\n\n"]
    assert pasted == ["abx\ny\n\n"]
    assert echo == "abx\r\ny\r\n\r\n"


def test_pages_load_nothing_from_elsewhere_and_escape_their_title() -> None:
    page = render_page("Agent-1", "<b>Cursor</b> & co", "contenteditable")
    assert "://" not in page
    assert "default-src 'none'" in page
    assert "<title>&lt;b&gt;Cursor&lt;/b&gt; &amp; co</title>" in page
    assert 'contenteditable="true"' in page
    with pytest.raises(ValueError, match="unknown page kind"):
        render_page("Agent-1", "x", "voice")


def test_the_server_records_what_pages_post(tmp_path: Path) -> None:
    with ChatServer(tmp_path / "received.jsonl") as server:
        server.add_page("Agent-1", "chat", "textarea")
        for event in (
            {"pane": "Agent-1", "kind": "ready", "seq": 1, "rect": [10, 300, 600, 96]},
            {"pane": "Agent-1", "kind": "draft", "seq": 3, "text": "hi"},
            {"pane": "Agent-1", "kind": "draft", "seq": 2, "text": "late, older"},
            {"pane": "Agent-1", "kind": "message", "seq": 4, "text": "hi\nthere ✓"},
        ):
            post(server.base_url, event)
        assert [r.text for r in server.wait_for(1, timeout=2)] == ["hi\nthere ✓"]
        assert server.draft("Agent-1") == "hi"
        layout = server.layout("Agent-1")
        assert layout is not None and layout.on_screen(100, 200).centre == (410, 548)
        with pytest.raises(urllib.error.HTTPError, match="400"):
            post(server.base_url, {"pane": "Agent-9", "kind": "message", "seq": 1, "text": ""})
        with pytest.raises(TimeoutError, match="received 1 of 2 texts"):
            server.wait_for(2, timeout=0.1)
    line = json.loads((tmp_path / "received.jsonl").read_text("utf-8"))
    assert (line["agent_id"], line["text"], line["kind"]) == ("Agent-1", "hi\nthere ✓", "message")


def post(base_url: str, event: dict) -> None:
    request = urllib.request.Request(
        f"{base_url}/event",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204

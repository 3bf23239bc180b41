"""Real chat apps on an X display for tests, the benchmark and ``cellphone demo``.

- :class:`ChromiumPanes`: one Debian ``chromium`` app window per pane showing a chat page
  (a ``textarea``, a ``contenteditable`` rich input, or one that ``ignores-enter`` like an
  agent still at work) served by :class:`~messaging.screen.pageserver.ChatServer`.
- :class:`~messaging.screen.terminals.TerminalPanes`: one ``xfce4-terminal`` per pane
  running the line reader of :mod:`messaging.screen.linereader`, like an agent's CLI.
- :class:`~messaging.screen.wm.WindowManager`: openbox, which they need, as desktops have.

Each pane names the point where its chat input should be. Windows start one at a time
(two browsers started together once left one deaf to keys); once a window shows its page,
it is moved so that the middle of its input lands exactly on that point, and
``pane_points()`` tells where it really is. Both read what was submitted the way
:class:`~messaging.screen.standin.ChatWindows` does (``received``, ``texts``, ``wait_for``,
``clear``), plus ``draft``/``wait_for_draft``: what an input holds before Enter.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from messaging.screen.appwindows import (
    START_TIMEOUT_S,
    AppWindows,
    ChatAppError,
    running_in_group,
    slug,
)
from messaging.screen.look import Rect
from messaging.screen.pageserver import PAGE_KINDS, ChatServer, PageKind
from messaging.screen.standin import Received
from messaging.screen.terminals import TerminalPane, TerminalPanes, terminal_available
from messaging.screen.wm import WindowManager, WindowManagerError

__all__ = [
    "ChatAppError",
    "ChromiumPane",
    "ChromiumPanes",
    "PageKind",
    "Received",
    "Rect",
    "TerminalPane",
    "TerminalPanes",
    "WindowManager",
    "WindowManagerError",
    "chromium_available",
    "running_in_group",
    "terminal_available",
]

CHROMIUM = "chromium"
CHROMIUM_FLAGS = (
    "--no-sandbox",  # root cannot run the sandbox
    "--test-type",  # no "unsupported command-line flag" bar pushing the page down
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--password-store=basic",
    "--noerrdialogs",
    "--hide-crash-restore-bubble",
    "--force-device-scale-factor=1",
)
INPUT_ABOVE_BOTTOM = 85  # the page's input centre above the window's bottom edge (a guess)


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None


@dataclass(frozen=True)
class ChromiumPane:
    """One browser window: the middle of its chat input should be at (``x``, ``y``)."""

    agent_id: str
    x: int
    y: int
    width: int = 640
    height: int = 420
    title: str | None = None  # the page's <title>; default "<agent_id> — chat"
    kind: PageKind = "textarea"

    def __post_init__(self) -> None:
        if self.kind not in PAGE_KINDS:
            raise ValueError(f"unknown page kind {self.kind!r}; one of {', '.join(PAGE_KINDS)}")

    @property
    def window_title(self) -> str:
        return self.title or f"{self.agent_id} — chat"


class ChromiumPanes(AppWindows):
    """Chromium app windows showing chat pages, one per pane, on ``display``; profiles,
    logs and the record of what was submitted (``received.jsonl``) go to ``workdir``."""

    def __init__(
        self,
        panes: Sequence[ChromiumPane],
        display: str,
        workdir: Path,
        *,
        browser: str = CHROMIUM,
        timeout: float = START_TIMEOUT_S,
    ) -> None:
        super().__init__(panes, display, workdir, timeout)
        self.panes = tuple(panes)
        self.browser = browser
        self.record = workdir / "received.jsonl"
        self.server = ChatServer(self.record)

    def start(self) -> None:
        browser = shutil.which(self.browser)
        if browser is None:
            raise ChatAppError(
                f"{self.browser} is not installed; install the Debian package: "
                "apt-get install chromium"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.server.start()
        try:
            for index, pane in enumerate(self.panes):
                self._start_pane(browser, index, pane)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every browser and the page server; remove the browsers' profiles."""
        super().stop()
        self.server.stop()
        shutil.rmtree(self.workdir / "profiles", ignore_errors=True)

    def _start_pane(self, browser: str, index: int, pane: ChromiumPane) -> None:
        started = time.monotonic()
        deadline = started + self.timeout
        name = f"{index}-{slug(pane.agent_id)}"
        url = self.server.add_page(pane.agent_id, pane.window_title, pane.kind)
        x, y = max(pane.x - pane.width // 2, 0), max(pane.y - pane.height + INPUT_ABOVE_BOTTOM, 0)
        argv = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.workdir / 'profiles' / name}",
            f"--window-position={x},{y}",
            f"--window-size={pane.width},{pane.height}",
            f"--app={url}",
        ]
        window = self._launch(pane.agent_id, argv, dict(os.environ), self.workdir / f"{name}.log")
        self._until(window, "page loaded", lambda: self.server.layout(pane.agent_id), deadline)
        self._map(window, pane.window_title, deadline)
        window.input_area = lambda client: self._input_of(pane.agent_id, client)
        self._place(window, pane.x, pane.y)
        self.start_seconds[pane.agent_id] = time.monotonic() - started

    def _input_of(self, agent_id: str, client: Rect) -> Rect:
        """The input on screen, by the latest layout its page reported."""
        layout = self.server.layout(agent_id)
        assert layout is not None  # known before the window is looked for
        return layout.on_screen(client.x, client.y)

    # -- what the pages received ----------------------------------------------------------

    def received(self) -> list[Received]:
        return self.server.received()

    def texts(self, agent_id: str) -> list[str]:
        return self.server.texts(agent_id)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Everything received once at least ``count`` submissions are in (bounded wait)."""
        return self.server.wait_for(count, timeout)

    def clear(self) -> None:
        self.server.clear()

    def draft(self, agent_id: str) -> str | None:
        """What the pane's input holds now (None before it first changed)."""
        return self.server.draft(agent_id)

    def wait_for_draft(self, agent_id: str, text: str, timeout: float = 5.0) -> None:
        """Until the pane's input holds exactly ``text``; ``TimeoutError`` otherwise."""
        self.server.wait_for_draft(agent_id, text, timeout)

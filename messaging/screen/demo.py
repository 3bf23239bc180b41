"""What ``cellphone demo`` runs: a virtual two-monitor display, a chat window per example
agent, a greeting typed into every window, and a screenshot of the whole desktop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ImageGrab
from rich.console import Console

from agents.source import RegistrySource
from config import Home, Settings
from coordinates.virtual_display import MonitorSpec, VirtualDisplay, VirtualDisplayError
from messaging.model import Outcome
from messaging.runtime import open_runtime
from messaging.screen.apps import (
    ChatAppError,
    ChromiumPane,
    ChromiumPanes,
    WindowManager,
    WindowManagerError,
    chromium_available,
)
from messaging.screen.gui import GuiDeliverer
from messaging.screen.standin import ChatWindows, Pane, StandInError

DEMO_MONITORS = (MonitorSpec(1920, 1080, 0, 0), MonitorSpec(1920, 1080, 1920, 0))
"""Where the example home (``cellphone init``) puts its eight agents."""
PANE_SIZE = (900, 460)
DEMO_ERRORS = (VirtualDisplayError, StandInError, ChatAppError, WindowManagerError, TimeoutError)
RENDER_SETTLE_S = 0.3  # lets the windows draw the last text before the screenshot


def run_demo(
    where: Home, settings: Settings, greeting: str, png: Path, out: Console
) -> dict[str, Outcome]:
    """Start the display and the windows, broadcast ``greeting``, save the screenshot to
    ``png``; everything started is stopped again. Raises one of :data:`DEMO_ERRORS`."""
    with _exit_on_termination(), VirtualDisplay(DEMO_MONITORS) as display:
        out.print(f"virtual display {display.name}: {display.describe()}")
        os.environ["DISPLAY"] = display.name
        panes = _panes(where)
        with _chat_apps(panes, display.name, where.var_dir / "demo-windows") as windows:
            out.print(f"chat panes: {windows.describe()}")
            outcomes = asyncio.run(_broadcast(where, settings, display.name, greeting))
            windows.wait_for(len(panes), timeout=settings.messaging.wait_timeout_s)
            time.sleep(RENDER_SETTLE_S)
            _screenshot(display, png)
    return outcomes


@contextlib.contextmanager
def _exit_on_termination() -> Iterator[None]:
    """SIGTERM and SIGHUP end the demo through its ``with`` blocks, so the virtual display
    and the windows it started stop too."""

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, leave) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _broadcast(
    where: Home, settings: Settings, display: str, greeting: str
) -> dict[str, Outcome]:
    screen = GuiDeliverer(settings.gui, display=display)
    try:
        async with open_runtime(where, settings, screen) as rt:
            submission = await rt.service.broadcast(greeting)
            return await rt.desk.wait_for(submission.message.id, settings.messaging.wait_timeout_s)
    finally:
        screen.close()


@contextlib.contextmanager
def _chat_apps(panes: list[Pane], display: str, workdir: Path) -> Iterator[_Described]:
    """Real Chromium chat pages under openbox when Chromium is installed (what Cursor, VS
    Code and Windsurf are built on), else the Tk stand-in windows."""
    if not chromium_available():
        with ChatWindows(panes, display, workdir) as windows:
            yield _Described(windows, "Tk stand-in windows (install chromium for real ones)")
        return
    pages = [ChromiumPane(p.agent_id, p.x, p.y, p.width, p.height, p.title) for p in panes]
    with WindowManager(display), ChromiumPanes(pages, display, workdir) as browsers:
        yield _Described(browsers, f"{len(pages)} Chromium chat pages under openbox")


@dataclass
class _Described:
    apps: Any
    text: str

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        return list(self.apps.wait_for(count, timeout))

    def describe(self) -> str:
        return self.text


def _panes(where: Home) -> list[Pane]:
    registry = RegistrySource(where.coordinates_file).current()
    width, height = PANE_SIZE
    return [
        Pane(
            a.agent_id,
            a.chat_point.x,
            a.chat_point.y,
            width,
            height,
            f"{a.agent_id} — {a.role}" if a.role else None,
        )
        for a in registry.active()
        if a.chat_point is not None
    ]


def _screenshot(display: VirtualDisplay, png: Path) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    ImageGrab.grab(xdisplay=display.name).save(png, format="PNG")

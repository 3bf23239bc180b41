"""``cellphone onboard`` and ``cellphone demo``: the commands that type into chat panes
beyond send and broadcast. Add them to the root CLI with :func:`register`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from PIL import ImageGrab
from rich.console import Console

from agents.home import example_coordinates, prepare_home
from agents.onboarding import onboarding_texts
from agents.source import RegistrySource
from config import Home, Settings, load_settings, resolve_home
from config.cli import HomeOption, JsonOption, error_console, open_home
from coordinates.virtual_display import MonitorSpec, VirtualDisplay, VirtualDisplayError
from messaging.cli import report
from messaging.model import DeliveryState, Outcome
from messaging.runtime import open_runtime
from messaging.screen.apps import (
    ChatAppError,
    ChromiumPane,
    ChromiumPanes,
    WindowManager,
    WindowManagerError,
    chromium_available,
)
from messaging.screen.gui import GuiDeliverer, screen_for
from messaging.screen.standin import ChatWindows, Pane, StandInError
from messaging.service import Submission

DEMO_MONITORS = (MonitorSpec(1920, 1080, 0, 0), MonitorSpec(1920, 1080, 1920, 0))
"""Where the example home (``cellphone init``) puts its eight agents."""
DEMO_GREETING = (
    "Hello, swarm! 👋 This is a broadcast from agent-cellphone.\n"
    "Each of you got this text typed into your chat — unicode ✓, emoji 🚀, two lines."
)
PANE_SIZE = (900, 460)
DEMO_ERRORS = (VirtualDisplayError, StandInError, ChatAppError, WindowManagerError, TimeoutError)
RENDER_SETTLE_S = 0.3  # lets the windows draw the last text before the screenshot


def register(app: typer.Typer) -> None:
    app.command()(onboard)
    app.command()(demo)


def onboard(
    agent: Annotated[str | None, typer.Argument(help="The agent to onboard.")] = None,
    all_agents: Annotated[bool, typer.Option("--all", help="Every active agent.")] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send each agent its onboarding text (template: config/onboarding.md in the home) at
    its onboarding point, after the new-chat hotkey when gui.new_chat_hotkey is set."""
    if all_agents == (agent is not None):
        error_console().print("error: name one AGENT or pass --all")
        raise typer.Exit(2)
    where, settings = open_home(home)
    results, desk_here = asyncio.run(_onboard(where, settings, agent, all_agents))
    if as_json:
        sys.stdout.write(json.dumps([_result_json(s, o) for s, o in results], indent=2) + "\n")
    else:
        for submission, outcomes in results:
            report(submission, outcomes, as_json=False, desk_here=desk_here)
    delivered = all(
        o.state is DeliveryState.DELIVERED for _, outcomes in results for o in outcomes.values()
    )
    raise typer.Exit(0 if delivered else 1)


async def _onboard(
    where: Home, settings: Settings, agent: str | None, all_agents: bool
) -> tuple[list[tuple[Submission, dict[str, Outcome]]], bool]:
    screen = screen_for(settings)
    try:
        async with open_runtime(where, settings, screen) as rt:
            registry = rt.registry.current()
            ids = [a.agent_id for a in registry.active()] if all_agents else [agent or ""]
            texts = onboarding_texts(where, registry, registry.resolve(ids))
            submissions = await rt.service.onboard(texts)
            timeout = settings.messaging.wait_timeout_s
            results = [(s, await rt.desk.wait_for(s.message.id, timeout)) for s in submissions]
            return results, rt.desk_here
    finally:
        if screen is not None:
            screen.close()


def demo(
    png: Annotated[
        Path, typer.Option("--png", help="Where to save the screenshot of the desktop.")
    ] = Path("cellphone-demo.png"),
    greeting: Annotated[str, typer.Option(help="The text to broadcast.")] = DEMO_GREETING,
    home: HomeOption = None,
) -> None:
    """See it work without real agents: a virtual two-monitor X display with a stand-in
    chat window per example agent, a broadcast typed into every window, and a screenshot."""
    where = resolve_home(home or Path(tempfile.mkdtemp(prefix="cellphone-demo-")))
    out = Console(highlight=False)
    prepare_home(where, example_coordinates(calibrated=True))  # the windows stand there
    placeholders = _placeholders(where)
    if placeholders:
        error_console().print(
            f"error: the chat points of {', '.join(placeholders)} in {where.coordinates_file} "
            "are placeholders (cellphone init), so the demo would type nowhere; run "
            "`cellphone demo` without --home (it makes a home of its own) or calibrate them "
            "with `cellphone coords calibrate --all`",
            markup=False,
        )
        raise typer.Exit(2)
    settings = load_settings(where)
    try:
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
    except (
        VirtualDisplayError,
        StandInError,
        ChatAppError,
        WindowManagerError,
        TimeoutError,
    ) as exc:
        error_console().print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    for outcome in outcomes.values():
        out.print(f"{outcome.agent_id}: {outcome.summary}")
    out.print(f"home: {where.root}")
    out.print(f"screenshot of the whole desktop: {png.resolve()}")
    if any(o.state is not DeliveryState.DELIVERED for o in outcomes.values()):
        raise typer.Exit(1)


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


def _placeholders(where: Home) -> list[str]:
    """The active agents whose chat point was never calibrated."""
    registry = RegistrySource(where.coordinates_file).current()
    return [a.agent_id for a in registry.active() if "chat" in a.uncalibrated]


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


def _result_json(submission: Submission, outcomes: dict[str, Outcome]) -> dict[str, Any]:
    return {
        "message_id": submission.message.id,
        "outcomes": [
            {
                "agent": o.agent_id,
                "state": str(o.state),
                "method": str(o.method) if o.method else None,
                "reason": o.reason,
            }
            for o in outcomes.values()
        ],
    }

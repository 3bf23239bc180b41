"""What the real chat apps share: start one window at a time, find it, move it so the
middle of its chat input lands on the pane's point, say where it really is, stop it.

Each app runs in a process group of its own, so stopping ends everything it started (a
browser's zygotes and renderers); its output goes to a log whose end is quoted when it
fails to start. Subclasses (:class:`~messaging.screen.apps.ChromiumPanes`,
:class:`~messaging.screen.terminals.TerminalPanes`) launch their app and say where in its
window the chat input is.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from messaging.screen.look import Rect
from messaging.screen.placement import Screen, wait_for_window
from messaging.screen.x11 import grab_root

START_TIMEOUT_S = 30.0  # per window
MOVE_TIMEOUT_S = 2.0
MOVE_TRIES = 3
STOP_TIMEOUT_S = 5.0
POLL_S = 0.02
STILL_LOOK_S = 0.02  # how often a window is looked at while waiting for it to be still
LOG_NOISE = ("dbus", "D-Bus", "session manager", "Gtk-WARNING", "Fontconfig")

T = TypeVar("T")


class ChatAppError(RuntimeError):
    """A chat app could not be started or placed; the message says why, with the end of
    the app's log."""


class PaneSpec(Protocol):
    @property
    def agent_id(self) -> str: ...

    @property
    def window_title(self) -> str: ...


@dataclass
class AppWindow:
    """A running app: its process (leader of its own group), X window and input area."""

    agent_id: str
    process: subprocess.Popen[bytes]
    log: Path
    window: Any = None
    input_area: Callable[[Rect], Rect] = lambda client: client  # from the client's rect


class AppWindows:
    """Windows of one kind of app on ``display``, started with :meth:`start` or ``with``."""

    def __init__(self, panes: Sequence[PaneSpec], display: str, workdir: Path, timeout: float):
        ids = [p.agent_id for p in panes]
        titles = [p.window_title for p in panes]
        if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
            raise ValueError(f"pane ids and window titles must be unique: {ids}, {titles}")
        self.display = display
        self.workdir = workdir
        self.timeout = timeout
        self.start_seconds: dict[str, float] = {}  # from launch until placed, per pane
        self._windows: dict[str, AppWindow] = {}
        self._screen: Screen | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop every app and what it started; harmless when nothing runs."""
        windows, self._windows = list(self._windows.values()), {}
        for window in windows:
            stop_group(window.process)
        if self._screen is not None:
            self._screen.close()
            self._screen = None

    # -- where the inputs are -----------------------------------------------------------

    def pane_points(self) -> dict[str, tuple[int, int]]:
        """Where each pane's chat point really is: the middle of its input, on screen now."""
        return {agent_id: self.input_rect(agent_id).centre for agent_id in self._windows}

    def input_rect(self, agent_id: str) -> Rect:
        """The pane's chat input on screen, measured now."""
        window = self._window(agent_id)
        return window.input_area(self._x().client_rect(window.window))

    def wait_still(self, agent_id: str, still_s: float, timeout: float) -> bool:
        """Until the pane's window has looked the same for ``still_s`` (its app done
        drawing, as between an operator's messages); False when it still changed after
        ``timeout``."""
        screen = self._x()
        window = self._window(agent_id)
        rect = screen.client_rect(window.window)
        deadline = time.monotonic() + timeout

        def look() -> bytes:
            return grab_root(screen.root, rect.x, rect.y, rect.width, rect.height)

        last, since = look(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(STILL_LOOK_S)
            now = look()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= still_s:
                return True
        return False

    def contains(self, agent_id: str, x: int, y: int) -> bool:
        """Whether (``x``, ``y``) is inside the pane's chat input."""
        return self.input_rect(agent_id).contains(x, y)

    def process_group(self, agent_id: str) -> int:
        """The process group of the pane's app (the app and all it started)."""
        return self._window(agent_id).process.pid

    def _window(self, agent_id: str) -> AppWindow:
        try:
            return self._windows[agent_id]
        except KeyError:
            known = ", ".join(self._windows) or "none"
            raise KeyError(f"no running pane {agent_id!r}; running: {known}") from None

    def _x(self) -> Screen:
        if self._screen is None:
            self._screen = Screen(self.display)
        return self._screen

    # -- starting one window --------------------------------------------------------------

    def _launch(
        self, agent_id: str, argv: Sequence[str], env: dict[str, str], log: Path
    ) -> AppWindow:
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                argv,
                env={**env, "DISPLAY": self.display},
                cwd=project_root(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        window = AppWindow(agent_id, process, log)
        self._windows[agent_id] = window
        return window

    def _until(
        self, window: AppWindow, what: str, ready: Callable[[], T | None], deadline: float
    ) -> T:
        """Poll ``ready`` until it gives a value; a clear error if the app dies or is late."""
        while True:
            value = ready()
            if value is not None:
                return value
            if window.process.poll() is not None:
                raise ChatAppError(
                    f"{window.agent_id}: the app exited (code {window.process.returncode}) "
                    f"before {what}: {log_tail(window.log)}"
                )
            if time.monotonic() > deadline:
                raise ChatAppError(
                    f"{window.agent_id}: no {what} within {self.timeout}s: {log_tail(window.log)}"
                )
            time.sleep(POLL_S)

    def _map(self, window: AppWindow, title: str, deadline: float) -> None:
        """Find the app's window once it is mapped."""
        try:
            window.window = wait_for_window(self._x(), title, window.process.pid, deadline)
        except TimeoutError as exc:
            raise ChatAppError(f"{window.agent_id}: {exc}: {log_tail(window.log)}") from None

    def _place(self, window: AppWindow, x: int, y: int) -> None:
        """Move the window so the middle of its input is at (``x``, ``y``)."""
        screen = self._x()
        client = screen.client_rect(window.window)
        for _ in range(MOVE_TRIES):  # a window still settling its size may move once more
            cx, cy = window.input_area(client).centre
            if (cx, cy) == (x, y):
                break
            client = screen.move_client(
                window.window, client.x + x - cx, client.y + y - cy, MOVE_TIMEOUT_S
            )
            client = screen.client_rect(window.window)
        got = window.input_area(client).centre
        if got != (x, y):
            raise ChatAppError(
                f"{window.agent_id}: its input's middle is at {got}, not at {(x, y)}: the window "
                "manager kept the window elsewhere (is the point on a monitor, with room for "
                "the window around it?)"
            )


def poll(ready: Callable[[], T | None], timeout: float) -> T | None:
    """``ready()`` until it gives a value or ``timeout`` passes (then its last answer)."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value is not None or time.monotonic() > deadline:
            return value
        time.sleep(POLL_S / 2)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the app and everything it started (its process group): politely, then not,
    and return once no process of the group runs any more."""
    _signal_group(process, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT_S)
    _signal_group(process, signal.SIGKILL)  # helpers that outlived the first process
    process.wait(STOP_TIMEOUT_S)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(POLL_S)


def running_in_group(group: int) -> list[int]:
    """The processes of process group ``group`` that still run. Dead ones waiting for
    their reaper do not count: an app's helpers are reparented to PID 1 when the app ends,
    and PID 1 may take a second or two to reap them."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended while we looked
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            running.append(int(stat.parent.name))
    return running


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def slug(agent_id: str) -> str:
    """A file name part for an agent id."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", agent_id)[:40]


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def log_tail(log: Path, lines: int = 8) -> str:
    """The last lines of an app's log, without the noise every start here logs."""
    if not log.exists():
        return "no log"
    kept = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if line.strip() and not any(noise in line for noise in LOG_NOISE)
    ]
    return " | ".join(kept[-lines:]) or f"nothing but noise in {log}"

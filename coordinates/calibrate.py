"""Calibration: the operator clicks an agent's chat input (or onboarding input) and the
point is checked against the live layout and saved to the coordinates file.

pynput connects to the display when imported, so it is imported only where a click is
recorded. Its listener needs the X server's RECORD extension; without it the listener's
thread dies and pynput's own ``wait()`` would never return, so readiness is awaited with a
deadline here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from Xlib import display as xdisplay
from Xlib import error as xerror

from coordinates.errors import (
    CalibrationError,
    ClickListenerError,
    CoordinatesFileError,
    NoDisplayError,
)
from coordinates.file import CLICK_TIMEOUT_S, Point, load_coordinates, save_coordinates
from coordinates.file import POINT_KINDS as KINDS
from coordinates.layout import Layout, Monitor

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 5.0  # pynput's listener is ready within milliseconds when it works
POLL_S = 0.05


class Listener(Protocol):
    """What is used of a started ``pynput.mouse.Listener``."""

    def wait(self) -> None: ...

    def is_alive(self) -> bool: ...


@dataclass(frozen=True)
class Calibrated:
    agent_id: str
    kind: str
    point: Point
    monitor: Monitor
    backup: Path | None  # the file as it was before, kept beside it


def record_click(
    timeout: float = CLICK_TIMEOUT_S, on_ready: Callable[[], None] | None = None
) -> Point:
    """Wait for one left click anywhere on the screen and return where it was.

    ``on_ready`` runs once the listener receives events (the moment to ask for the click).
    Raises :class:`ClickListenerError` when no listener can run on this display and
    :class:`CalibrationError` when no click came within ``timeout`` seconds.
    """
    mouse = _pynput_mouse()
    require_record_extension()
    clicked: list[Point] = []
    done = threading.Event()

    def on_click(x: Any, y: Any, button: Any, pressed: bool) -> bool | None:
        if pressed and button == mouse.Button.left:
            clicked.append(Point(int(x), int(y)))
            done.set()
            return False
        return None

    listener = mouse.Listener(on_click=on_click)
    listener.start()
    wait_until_listening(listener, READY_TIMEOUT_S)
    try:
        if on_ready is not None:
            on_ready()
        if not done.wait(timeout):
            raise CalibrationError(f"no click within {timeout:g}s; run the command again")
    finally:
        listener.stop()  # returns at once: the listener is ready
    return clicked[0]


def require_record_extension() -> None:
    """Raise :class:`ClickListenerError` if the X server of ``DISPLAY`` lacks RECORD, which
    pynput's listener needs."""
    name = os.environ.get("DISPLAY", "")
    try:
        connection = xdisplay.Display()
    except xerror.DisplayError as exc:
        raise NoDisplayError(f"no display: cannot connect to DISPLAY={name!r} ({exc})") from None
    try:
        present = connection.has_extension("RECORD")
    finally:
        connection.close()
    if not present:
        raise ClickListenerError(
            f"the X server on DISPLAY={name} has no RECORD extension; pynput cannot listen for"
            " clicks (start the X server with RECORD enabled, i.e. without '-extension RECORD')"
        )


def wait_until_listening(listener: Listener, within: float) -> None:
    """Return once a started pynput ``listener`` receives events; :class:`ClickListenerError`
    if its thread ends first or ``within`` seconds pass.

    pynput's ``wait()`` has no timeout and blocks forever when the listener's thread died,
    so it runs in a daemon thread while this one watches the listener and the clock.
    """
    ready = threading.Event()

    def wait_for_listener() -> None:
        listener.wait()
        ready.set()

    threading.Thread(target=wait_for_listener, name="click-listener-ready", daemon=True).start()
    deadline = time.monotonic() + within
    while not ready.wait(POLL_S):
        if not listener.is_alive() and not ready.wait(POLL_S):
            raise ClickListenerError(
                "the click listener stopped before it was ready (its error is printed above);"
                " check that DISPLAY is a running X server with the RECORD extension"
            )
        if time.monotonic() > deadline:
            raise ClickListenerError(
                f"the click listener was not ready within {within:g}s; check that DISPLAY is"
                " a responsive X server with the RECORD extension"
            )


def _pynput_mouse() -> ModuleType:
    try:
        from pynput import mouse
    except Exception as exc:  # ImportError or Xlib errors: there is no display to listen to
        raise NoDisplayError(f"no display: pynput cannot listen for clicks ({exc})") from None
    return mouse


def calibrate(
    path: Path,
    agent_id: str,
    kind: str,
    layout: Layout,
    click: Callable[[], Point],
) -> Calibrated:
    """Record a click for ``kind`` ("chat" or "onboarding") of ``agent_id``, validate it on
    ``layout`` and save it. A point on no monitor raises ``InvalidCoordinatesError`` and
    leaves the file as it was."""
    if kind not in KINDS:
        raise ValueError(f"point kind {kind!r} is not one of {', '.join(KINDS)}")
    document = load_coordinates(path)
    if agent_id not in document.agents:
        known = ", ".join(document.agents) or "none"
        raise CoordinatesFileError(f"unknown agent {agent_id!r}; known agents: {known}")
    point = click()
    monitor = layout.check(point)
    updated = load_coordinates(path).with_point(agent_id, kind, point)  # edits since loading
    backup = save_coordinates(updated)
    log.info("calibrated %s %s point at %s on %s", agent_id, kind, point, monitor)
    return Calibrated(agent_id, kind, point, monitor, backup)

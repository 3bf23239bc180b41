"""Calibration: the operator clicks an agent's chat input (or onboarding input) and the
point is checked against the live layout and saved to the coordinates file.

pynput connects to the display when imported, so it is imported only where a click is
recorded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinates.errors import CoordinatesFileError, NoDisplayError
from coordinates.file import POINT_KINDS as KINDS
from coordinates.file import Point, load_coordinates, save_coordinates
from coordinates.layout import Layout, Monitor

log = logging.getLogger(__name__)

CLICK_TIMEOUT_S = 60.0


class CalibrationError(Exception):
    """No usable click was recorded (timed out, or the listener could not start)."""


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
    """
    try:
        from pynput import mouse
    except Exception as exc:  # ImportError or Xlib errors: there is no display to listen to
        raise NoDisplayError(f"no display: pynput cannot listen for clicks ({exc})") from None
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
    try:
        listener.wait()
        if on_ready is not None:
            on_ready()
        if not done.wait(timeout):
            raise CalibrationError(f"no click within {timeout:g}s; run the command again")
    finally:
        listener.stop()
    return clicked[0]


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

"""The live monitor layout and whether a point lies on a monitor.

A point is valid when it is on a monitor, not merely inside the bounding box of all of
them: monitors of different sizes or offsets leave dead zones. Coordinates may be
negative (a monitor left of or above the primary).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

import screeninfo
from Xlib.display import Display
from Xlib.error import DisplayError, XError

from coordinates.errors import InvalidCoordinatesError, NoDisplayError
from coordinates.file import Point

log = logging.getLogger(__name__)

X_ENUMERATORS = (screeninfo.Enumerator.Xrandr, screeninfo.Enumerator.Xinerama)


@dataclass(frozen=True)
class Monitor:
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool = False

    @property
    def right(self) -> int:
        """First x past the monitor."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """First y past the monitor."""
        return self.y + self.height

    def contains(self, point: Point) -> bool:
        return self.x <= point.x < self.right and self.y <= point.y < self.bottom

    def distance(self, point: Point) -> float:
        """Pixels from ``point`` to the nearest pixel of this monitor (0 when on it)."""
        dx = max(self.x - point.x, 0, point.x - (self.right - 1))
        dy = max(self.y - point.y, 0, point.y - (self.bottom - 1))
        return math.hypot(dx, dy)

    def __str__(self) -> str:
        return f"{self.name} {self.width}x{self.height}{self.x:+d}{self.y:+d}"


@dataclass(frozen=True)
class Layout:
    """The monitors of one screen, as they are now."""

    monitors: tuple[Monitor, ...]

    def __post_init__(self) -> None:
        if not self.monitors:
            raise NoDisplayError("the display reports no monitors")

    @classmethod
    def of(cls, monitors: Iterable[Monitor]) -> Layout:
        return cls(tuple(monitors))

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` of all monitors; right and bottom exclusive."""
        return (
            min(m.x for m in self.monitors),
            min(m.y for m in self.monitors),
            max(m.right for m in self.monitors),
            max(m.bottom for m in self.monitors),
        )

    def monitor_at(self, point: Point) -> Monitor | None:
        return next((m for m in self.monitors if m.contains(point)), None)

    def problem(self, point: Point) -> str | None:
        """Why ``point`` is not on a monitor, or None when it is."""
        if self.monitor_at(point) is not None:
            return None
        left, top, right, bottom = self.bounds
        nearest = sorted(self.monitors, key=lambda m: m.distance(point))
        if left <= point.x < right and top <= point.y < bottom:
            between = " and ".join(str(m) for m in nearest[:2])
            where = f"dead zone between {between}" if len(nearest) > 1 else f"near {between}"
            return f"point {point} is on no monitor ({where})"
        return (
            f"point {point} is off every monitor (the screens span x {left}..{right - 1}, "
            f"y {top}..{bottom - 1}; nearest is {nearest[0]})"
        )

    def check(self, point: Point) -> Monitor:
        """The monitor ``point`` lies on; :class:`InvalidCoordinatesError` if none."""
        monitor = self.monitor_at(point)
        if monitor is None:
            raise InvalidCoordinatesError(self.problem(point))
        return monitor

    def describe(self) -> str:
        return ", ".join(str(m) for m in self.monitors)


def read_layout() -> Layout:
    """The monitors of the X server of ``DISPLAY`` (the one pyautogui clicks on): RandR
    1.5's monitors, asked as the desk asks them (:func:`read_layout_on`), so ``coords``
    and the desk never see two layouts. A server without them is asked through screeninfo
    (RandR's outputs, else Xinerama).

    screeninfo's default would also try DRM, which reads the kernel's connectors rather than
    this X server, so the enumerators are named. Raises :class:`NoDisplayError` when there
    is no display to ask or it reports no monitors.
    """
    display = os.environ.get("DISPLAY", "")
    if not display:
        raise NoDisplayError("no display: DISPLAY is not set; start an X server or set DISPLAY")
    try:
        connection = Display(display)
    except (XError, DisplayError, OSError) as exc:
        log.debug("cannot connect to %s with python-xlib: %s", display, exc)
        return _screeninfo_layout()
    try:
        return read_layout_on(connection)
    finally:
        connection.close()


def read_layout_on(connection: Display) -> Layout:
    """The monitors through an open python-xlib connection: RandR 1.5's monitors (about
    0.1 ms). The server's own list, which it changes as soon as a client sets a monitor:
    RandR's outputs as screeninfo reads them were seen to lag on a display whose monitors
    had just been added (one monitor of two). A server without them is asked through
    screeninfo."""
    try:
        reply = connection.screen().root.xrandr_get_monitors()
    except (AttributeError, XError) as exc:  # no RandR, or older than 1.5
        log.debug("RandR monitors unavailable on this connection: %s", exc)
        return _screeninfo_layout()
    monitors = [
        Monitor(
            name=connection.get_atom_name(m.name) or f"monitor-{index}",
            x=m.x,
            y=m.y,
            width=m.width_in_pixels,
            height=m.height_in_pixels,
            primary=bool(m.primary),
        )
        for index, m in enumerate(reply.monitors)
    ]
    if not monitors:
        return _screeninfo_layout()
    layout = Layout.of(monitors)
    log.debug("monitor layout: %s", layout.describe())
    return layout


def _screeninfo_layout() -> Layout:
    """The layout as screeninfo reads it: RandR's outputs, else Xinerama."""
    found = _x_monitors()
    monitors = tuple(
        Monitor(
            name=m.name or f"monitor-{index}",
            x=m.x,
            y=m.y,
            width=m.width,
            height=m.height,
            primary=bool(m.is_primary),
        )
        for index, m in enumerate(found)
    )
    return Layout(monitors)


def _x_monitors() -> list[screeninfo.Monitor]:
    display = os.environ.get("DISPLAY", "")
    if not display:
        raise NoDisplayError("no display: DISPLAY is not set; start an X server or set DISPLAY")
    reasons = []
    for enumerator in X_ENUMERATORS:
        try:
            found = screeninfo.get_monitors(enumerator)
        except (screeninfo.ScreenInfoError, OSError, ValueError) as exc:
            # ValueError: a NULL pointer from an X server without the extension
            reasons.append(f"{enumerator.value}: {str(exc) or type(exc).__name__}")
            continue
        if found:
            return found
        reasons.append(f"{enumerator.value}: no monitors")
    raise NoDisplayError(
        f"no display: the X server at DISPLAY={display} reports no monitors"
        f" ({'; '.join(reasons)}); is it running, with RandR or Xinerama?"
    )

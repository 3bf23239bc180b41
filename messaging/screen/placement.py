"""Where an app's window is on the X display, and moving it so its chat input lands on a
given point.

A window manager frames each window (openbox adds a 20-pixel title bar and 1-pixel
borders) and may keep windows inside a monitor, so where a program asks to be is not where
it ends up. What counts is the client window's origin in root coordinates
(``translate_coords``; ``xdotool getwindowgeometry`` adds the frame once more and reports
(101, 120) for a client at (100, 100)). Moves go through ``_NET_MOVERESIZE_WINDOW`` with
static gravity, which names the client's own origin, so the frame does not matter.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from Xlib import X, Xatom, error
from Xlib.display import Display
from Xlib.protocol import event as xevent

from messaging.screen.look import Rect
from messaging.screen.x11 import window_title

POLL_S = 0.01
RESEND_S = 0.25
STATIC_GRAVITY = 10
MOVE_FLAGS = STATIC_GRAVITY | 1 << 8 | 1 << 9 | 2 << 12  # x, y; asked by a pager-like tool


class Screen:
    """One connection to the display for finding, measuring and moving windows."""

    def __init__(self, display: str) -> None:
        self.conn = Display(display)
        self.root = self.conn.screen().root
        self._pid_atom = self.conn.intern_atom("_NET_WM_PID")
        self._move_atom = self.conn.intern_atom("_NET_MOVERESIZE_WINDOW")

    def close(self) -> None:
        self.conn.close()

    def find_window(self, title: str, process_group: int) -> Any | None:
        """The viewable window titled ``title`` whose program runs in ``process_group``."""
        for window in self._tree(self.root):
            try:
                if (
                    window_title(self.conn, window) == title
                    and window.get_attributes().map_state == X.IsViewable
                    and _group_of(self._pid(window)) == process_group
                ):
                    return window
            except error.BadWindow:  # gone while we looked
                continue
        return None

    def client_rect(self, window: Any) -> Rect:
        """The window's area (without the frame) in root coordinates."""
        geometry = window.get_geometry()
        origin = window.translate_coords(self.root, 0, 0)
        return Rect(-origin.x, -origin.y, geometry.width, geometry.height)

    def move_client(self, window: Any, x: int, y: int, timeout: float) -> Rect:
        """Put the client's origin at (``x``, ``y``); the rect once the move shows (the
        request is repeated: a window manager still placing a new window may undo it)."""
        deadline = time.monotonic() + timeout
        while True:
            self._request_move(window, x, y)
            resend = min(time.monotonic() + RESEND_S, deadline)
            while True:
                rect = self.client_rect(window)
                if (rect.x, rect.y) == (x, y) or time.monotonic() > deadline:
                    return rect
                if time.monotonic() > resend:
                    break
                time.sleep(POLL_S)

    def _request_move(self, window: Any, x: int, y: int) -> None:
        message = xevent.ClientMessage(
            window=window,
            client_type=self._move_atom,
            data=(32, [MOVE_FLAGS, x & 0xFFFFFFFF, y & 0xFFFFFFFF, 0, 0]),  # signed, as sent
        )
        mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
        self.root.send_event(message, event_mask=mask)
        self.conn.flush()

    def _tree(self, window: Any) -> Iterator[Any]:
        try:
            children = window.query_tree().children
        except error.BadWindow:
            return
        for child in children:
            yield child
            yield from self._tree(child)

    def _pid(self, window: Any) -> int | None:
        prop = window.get_full_property(self._pid_atom, Xatom.CARDINAL)
        return int(prop.value[0]) if prop is not None and len(prop.value) else None


def _group_of(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def wait_for_window(screen: Screen, title: str, process_group: int, deadline: float) -> Any:
    """:meth:`Screen.find_window` until the deadline; ``TimeoutError`` then."""
    while True:
        window = screen.find_window(title, process_group)
        if window is not None:
            return window
        if time.monotonic() > deadline:
            raise TimeoutError(f"no window titled {title!r} was mapped in time")
        time.sleep(POLL_S * 5)

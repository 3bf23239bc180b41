"""What the screen deliverer needs from a desktop: its own mouse and keys, and what it reads.

:class:`messaging.screen.x11.X11` implements it for X11; a backend for another desktop
implements the same few calls and the deliverer works unchanged.
"""

from __future__ import annotations

from typing import Protocol

from coordinates.layout import Layout


class Desktop(Protocol):
    """One connection to the desktop; used from one thread at a time."""

    fail_safe_points: list[tuple[int, int]]  # click and hotkey refuse while the pointer is in one

    def click(self, x: int, y: int) -> None:
        """Click the left button at (``x``, ``y``)."""
        ...

    def hotkey(self, *keys: str) -> None:
        """Press ``keys`` in order, release them in reverse."""
        ...

    def close(self) -> None: ...

    def layout(self) -> Layout:
        """The monitors as they are now."""
        ...

    # which window is where
    def window_name_at(self, x: int, y: int) -> str | None:
        """The title of the window under a point, if it has one."""
        ...

    def window_at(self, x: int, y: int) -> int:
        """The innermost window under a point: one of the program that will get the keys."""
        ...

    def toplevel_at(self, x: int, y: int) -> int:
        """The top-level window under a point."""
        ...

    def focus_toplevel(self) -> int | None:
        """The top-level window holding the keyboard focus; None when focus follows the
        pointer."""
        ...

    def windows_mapped(self) -> list[int]:
        """Top-level windows that appeared since the last :meth:`offer`."""
        ...

    def shown(self, window: int) -> bool:
        """Whether ``window`` still exists and is shown."""
        ...

    def title_of(self, window: int) -> str | None:
        """The title of a top-level window (or of the client a window manager framed)."""
        ...

    def class_of(self, window: int) -> str:
        """The WM_CLASS of a top-level window's client, lower case ("" when none)."""
        ...

    def client_of(self, window: int) -> int:
        """Which program (X client) made ``window``."""
        ...

    # the clipboard exchange of one paste
    def read_clipboard(self, *, primary: bool = False) -> str | None: ...

    def offer(self, text: str, for_window: int | None = None, *, primary: bool = False) -> None:
        """Own the clipboard (and with ``primary`` the primary selection) with ``text``, for
        the program owning ``for_window``."""
        ...

    def hold_primary(self) -> None:
        """Own the primary selection with nothing in it: a program that selects text (the
        draft probe's select-all) takes it over."""
        ...

    def owns_clipboard(self, *, primary: bool = False) -> bool:
        """Whether this connection still owns the clipboard (or the primary selection)."""
        ...

    def serve_until_quiet(self, quiet: float, timeout: float) -> bool:
        """Answer requests until the target took the text and went quiet for ``quiet`` s."""
        ...

    def serve_for(self, seconds: float) -> None:
        """Answer every request that comes within ``seconds``."""
        ...

    def serve_until_idle(self, quiet: float, timeout: float) -> None:
        """Answer requests until none came for ``quiet`` s (at most ``timeout`` s)."""
        ...

    def release(self, *, primary: bool = False) -> None:
        """Stop owning the clipboard (or the primary selection)."""
        ...

    # the screen
    def grab(self, x: int, y: int, width: int, height: int) -> bytes:
        """The pixels of a rectangle, 32 bits a pixel (BGRX)."""
        ...

    # sharing the screen with the operator
    def idle_s(self) -> float:
        """Seconds since anyone (this process too) last used an input device."""
        ...

    def pointer(self) -> tuple[int, int]: ...

    def put_pointer(self, x: int, y: int) -> None: ...

    def focus_window(self) -> int:
        """The window holding the keyboard focus."""
        ...

    def give_focus(self, window: int, timeout: float) -> bool:
        """Give the keyboard focus back to ``window``; True once it has it."""
        ...

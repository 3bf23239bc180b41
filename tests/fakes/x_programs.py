"""Other programs on the same X display, which the screen deliverer must not be fooled by.

Run as ``python -m tests.fakes.x_programs clipboard-manager|pointer-grab``; each prints
``ready`` once it is in place and runs until killed.

- clipboard-manager: like the history managers of desktops (Klipper, GPaste, clipit), asks
  every new owner of the clipboard for its text the moment ownership changes;
- pointer-grab: holds an active pointer grab, as an open menu does, so a click reaches it
  instead of the window under the pointer.
"""

from __future__ import annotations

import sys

from Xlib import X, display
from Xlib.ext import xfixes


def clipboard_manager() -> None:
    screen = display.Display()
    screen.xfixes_query_version()
    root = screen.screen().root
    window = root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
    clipboard = screen.intern_atom("CLIPBOARD")
    utf8, history = screen.intern_atom("UTF8_STRING"), screen.intern_atom("HISTORY")
    mask = xfixes.XFixesSetSelectionOwnerNotifyMask
    screen.xfixes_select_selection_input(root, clipboard, mask)
    screen.flush()
    print("ready", flush=True)
    while True:
        event = screen.next_event()
        owner = getattr(event, "owner", X.NONE)
        if event.type != X.SelectionNotify and int(getattr(owner, "id", owner)) != X.NONE:
            window.convert_selection(clipboard, utf8, history, X.CurrentTime)
            screen.flush()


def pointer_grab() -> None:
    screen = display.Display()
    root = screen.screen().root
    window = root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, override_redirect=True)
    window.map()
    screen.sync()
    events = X.ButtonPressMask | X.ButtonReleaseMask
    status = window.grab_pointer(
        False, events, X.GrabModeAsync, X.GrabModeAsync, X.NONE, X.NONE, X.CurrentTime
    )
    if status != X.GrabSuccess:
        sys.exit(f"pointer grab failed: {status}")
    print("ready", flush=True)
    while True:
        screen.next_event()


if __name__ == "__main__":
    {"clipboard-manager": clipboard_manager, "pointer-grab": pointer_grab}[sys.argv[1]]()

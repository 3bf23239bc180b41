"""The X11 pieces screen delivery needs: the desk's own mouse and keys, and what it reads.

- :meth:`X11.click` and :meth:`X11.hotkey`: synthetic input through XTEST on this
  connection (as pyautogui sends it, without its 0.1 s import and a connection of its
  own), refused with :class:`FailSafe` while the pointer rests in a corner of a monitor
  (``fail_safe_points``): the operator flung it there to stop the desk.

- :meth:`X11.window_name_at`: the name of the top-level window under a point, to check
  the target before typing; :meth:`X11.focus_toplevel` and :meth:`X11.toplevel_at`: where
  the keys will go after the click, to check it is that window.
- :meth:`X11.offer` and the ``serve`` methods: this process owns the clipboard while it
  pastes and answers every request itself, so it knows when the target has taken the
  text: Enter is pressed once the target has asked nothing for a short quiet window
  (Chromium asks twice and pastes the later answer), and requests are still answered
  after Enter, so none is left without an answer (an unanswered one breaks a browser's
  paste until it restarts). Only requests of the program that owns the target window
  count as its paste: a clipboard manager asks too, the moment the owner changes. With
  ``primary`` it owns the primary selection too, which xterm's and urxvt's Shift+Insert
  paste.
  A requestor that asked nothing more for :data:`WAKE_AFTER_S` after an answer is woken
  once with a property of its window set and deleted (:meth:`X11._wake_quiet`): Chromium
  (and so Electron: VS Code, Cursor, Windsurf) now and then reads the answer off its
  socket and goes back to waiting on the socket without handling it, until an event
  comes or its one-second clipboard timeout runs out.
- :meth:`X11.windows_mapped`: top-level windows that appeared since the text was offered
  (a terminal asking to confirm the paste in a dialog of its own).
- :meth:`X11.layout`: the monitors, asked on this open connection (a new one costs 5 ms).
- :meth:`X11.grab`: the pixels of a rectangle of the screen, to see the text arrive in
  the chat input and leave it after Enter.
- :meth:`X11.read_clipboard`: the operator's clipboard text, to give it back afterwards,
  and :func:`keep_clipboard`: an owner for that text that outlives this process.
- :meth:`X11.idle_s`, :meth:`X11.pointer`, :meth:`X11.focus_window`, :meth:`X11.put_pointer`
  and :meth:`X11.give_focus`: sharing the screen with the operator (how long since anyone
  used mouse or keyboard, where pointer and focus were, giving them back).

python-xlib connects to ``DISPLAY`` only when an :class:`X11` is created.
"""

from __future__ import annotations

import logging
import os
import selectors
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from Xlib import XK, X, Xatom, error
from Xlib.display import Display
from Xlib.ext import xtest
from Xlib.protocol import event as xevent
from Xlib.protocol import request

from coordinates.layout import Layout, read_layout_on

XlibConnectionClosed = error.ConnectionClosedError

log = logging.getLogger(__name__)

TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "TEXT", "STRING", "text/plain")
CHUNK_BYTES = 64 * 1024  # larger texts go out in INCR pieces (ICCCM 2.7.2)
READ_TIMEOUT_S = 0.5
WAKE_AFTER_S = 0.01  # an answered requestor quiet this long is woken (longer than its
# gaps between the requests of one paste: 1 to 7 ms)
WAKE_PROPERTY = "CELLPHONE_WAKE"


KEYSYMS = {
    "ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L", "super": "Super_L",
    "meta": "Meta_L", "altgr": "ISO_Level3_Shift", "enter": "Return", "return": "Return",
    "insert": "Insert", "tab": "Tab", "space": "space", "backspace": "BackSpace",
    "delete": "Delete", "escape": "Escape", "home": "Home", "end": "End",
    "pageup": "Prior", "pagedown": "Next", "up": "Up", "down": "Down", "left": "Left",
    "right": "Right", **{f"f{n}": f"F{n}" for n in range(1, 13)},
}  # fmt: skip
"""The X keysym of each key name of the coordinates file (``coordinates.typing``); a
single letter or digit is its own keysym."""


class FailSafe(Exception):
    """The pointer rests in a corner of a monitor: nothing is clicked or pressed."""


class X11Error(Exception):
    """The X server cannot be reached or refused a request."""


class ClipboardError(Exception):
    """No program could take over the clipboard."""


@dataclass
class _Transfer:
    """An INCR transfer in flight: where it goes and what is left to send."""

    requestor: Any
    prop: int
    type: int
    data: bytes
    sent: int = 0


class X11:
    """One connection to the X server; use from one thread at a time."""

    def __init__(self, display_name: str | None = None) -> None:
        try:
            self.display = Display(display_name)
        except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
            raise X11Error(f"cannot connect to X display {display_name or ''}: {exc}") from None
        self.root = self.display.screen().root
        self.window = self.root.create_window(
            0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask
        )
        # new top-level windows (MapNotify); a window manager already selects the redirect
        self.root.change_attributes(event_mask=X.SubstructureNotifyMask)
        self._atoms: dict[str, int] = {}
        self.clipboard = self.atom("CLIPBOARD")
        self._selections: tuple[int, ...] = (self.clipboard,)  # CLIPBOARD, maybe PRIMARY
        self._mapped: list[int] = []  # top-level windows mapped since the offer
        self._offered: bytes = b""
        self._taken = False
        self._lost = False
        self._target_client: int | None = None
        self._target_asked_at = 0.0  # monotonic time of the target's last request
        self._active_at = 0.0  # of anyone's last request, or step of a transfer
        self._transfers: list[_Transfer] = []
        self._to_wake: dict[int, float] = {}  # requestor window: when it is woken if quiet
        self._keycodes: dict[str, int] = {}
        if not self.display.has_extension("XTEST"):
            self.display.close()
            raise X11Error(f"the X display {display_name or ''} has no XTEST extension")
        self.fail_safe_points: list[tuple[int, int]] = []

    def close(self) -> None:
        self.display.close()

    # -- the desk's own mouse and keys --------------------------------------------------

    def click(self, x: int, y: int) -> None:
        """Move the pointer to (``x``, ``y``) and click the left button there."""
        self._fail_safe()
        xtest.fake_input(self.display, X.MotionNotify, x=x, y=y)
        xtest.fake_input(self.display, X.ButtonPress, 1)
        xtest.fake_input(self.display, X.ButtonRelease, 1)
        self.display.sync()

    def hotkey(self, *keys: str) -> None:
        """Press ``keys`` in order and release them in reverse (``"ctrl", "v"``)."""
        self._fail_safe()
        codes = [self._keycode(key) for key in keys]
        for code in codes:
            xtest.fake_input(self.display, X.KeyPress, code)
        for code in reversed(codes):
            xtest.fake_input(self.display, X.KeyRelease, code)
        self.display.sync()

    def _fail_safe(self) -> None:
        if self.fail_safe_points and self.pointer() in self.fail_safe_points:
            raise FailSafe(f"the pointer rests in a corner of a monitor, at {self.pointer()}")

    def _keycode(self, key: str) -> int:
        if key not in self._keycodes:
            keysym = XK.string_to_keysym(KEYSYMS.get(key, key))
            code = self.display.keysym_to_keycode(keysym) if keysym else 0
            if not code:
                raise X11Error(f"the key {key!r} is not on the keyboard map of this display")
            self._keycodes[key] = code
        return self._keycodes[key]

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.display.intern_atom(name)
        return self._atoms[name]

    def layout(self) -> Layout:
        """The monitors as they are now, asked on this connection."""
        return read_layout_on(self.display)

    # -- the window under a point -------------------------------------------------------

    def window_name_at(self, x: int, y: int) -> str | None:
        """Name of the innermost named window containing root point (x, y), walking down
        from the root (a window manager's frame holds the named client window)."""
        window, name = self.root, None
        for _ in range(16):
            reply = window.translate_coords(self.root, x, y)
            child = _wid(reply.child)
            if child == X.NONE:
                break
            window = self.display.create_resource_object("window", child)
            name = window_title(self.display, window) or name
        return name

    def window_at(self, x: int, y: int) -> int:
        """The innermost window containing root point (x, y): one of the program's own."""
        window = self.root.id
        for _ in range(16):
            reply = self.display.create_resource_object("window", window).translate_coords(
                self.root, x, y
            )
            child = _wid(reply.child)
            if child == X.NONE:
                break
            window = child
        return window

    def toplevel_at(self, x: int, y: int) -> int:
        """The child of the root window containing root point (x, y) (X.NONE: none)."""
        return _wid(self.root.translate_coords(self.root, x, y).child)

    def focus_toplevel(self) -> int | None:
        """The child of the root window holding the keyboard focus; None when the focus
        follows the pointer (PointerRoot), X.NONE when nothing has it."""
        focus = self.display.get_input_focus().focus
        focus_id = _wid(focus)
        if focus_id == X.PointerRoot:
            return None
        if focus_id in (X.NONE, self.root.id):
            return X.NONE if focus_id == X.NONE else None
        window = self.display.create_resource_object("window", focus_id)
        for _ in range(32):
            parent = _wid(window.query_tree().parent)
            if parent in (self.root.id, X.NONE):
                return _wid(window)
            window = self.display.create_resource_object("window", parent)
        return _wid(window)

    def client_of(self, window: int) -> int:
        """Which X client made ``window`` (the bits of its id the server assigns per client)."""
        return window & ~self.display.display.info.resource_id_mask

    # -- reading the clipboard ----------------------------------------------------------

    def read_clipboard(
        self, timeout: float = READ_TIMEOUT_S, *, primary: bool = False
    ) -> str | None:
        """The clipboard (or the primary selection) as text, or None when it is empty or
        holds no text."""
        selection = Xatom.PRIMARY if primary else self.clipboard
        owner = _wid(self.display.get_selection_owner(selection))
        if owner == X.NONE:
            return None
        if owner == self.window.id:
            return self._offered.decode("utf-8")
        prop = self.atom("CELLPHONE_CLIPBOARD")
        self.window.convert_selection(selection, self.atom("UTF8_STRING"), prop, X.CurrentTime)
        self.display.flush()
        notify = self._next(lambda e: e.type == X.SelectionNotify, time.monotonic() + timeout)
        if notify is None or notify.property == X.NONE:
            return None
        reply = self.window.get_full_property(prop, X.AnyPropertyType, sizehint=CHUNK_BYTES)
        self.window.delete_property(prop)
        if reply is None:
            return None
        if reply.property_type == self.atom("INCR"):
            data = self._read_incr(prop, time.monotonic() + timeout * 4)
        else:
            data = bytes(reply.value)
        return data.decode("utf-8", "replace")

    def _read_incr(self, prop: int, deadline: float) -> bytes:
        self.display.flush()
        parts: list[bytes] = []
        while True:
            notify = self._next(
                lambda e: (
                    e.type == X.PropertyNotify and e.atom == prop and e.state == X.PropertyNewValue
                ),
                deadline,
            )
            if notify is None:
                raise X11Error("the clipboard owner stopped sending in the middle of a transfer")
            reply = self.window.get_full_property(prop, X.AnyPropertyType, sizehint=CHUNK_BYTES)
            self.window.delete_property(prop)
            self.display.flush()
            if reply is None or not reply.value:
                return b"".join(parts)
            parts.append(bytes(reply.value))

    # -- offering text ------------------------------------------------------------------

    def offer(self, text: str, for_window: int | None = None, *, primary: bool = False) -> None:
        """Own the clipboard (and with ``primary`` the primary selection) with ``text``.
        Requests are answered while one of the ``serve`` methods runs; only requests of the
        program owning ``for_window`` (any program when None) count as the paste the
        deliverer waits for."""
        self._drain()  # e.g. the SelectionClear our own last release caused
        self._offered = text.encode("utf-8")
        self._taken = self._lost = False
        self._target_client = None if for_window is None else self.client_of(for_window)
        self._target_asked_at = 0.0
        self._transfers = []
        self._mapped = []
        self._selections = (self.clipboard, Xatom.PRIMARY) if primary else (self.clipboard,)
        for selection in self._selections:
            self.window.set_selection_owner(selection, X.CurrentTime)
        self.display.sync()
        if not self.owns_clipboard() or (primary and not self.owns_clipboard(primary=True)):
            raise X11Error("could not take the clipboard")

    def hold_primary(self) -> None:
        """Own the primary selection with nothing in it: requests for it are refused, and a
        program that selects text takes it over (:meth:`owns_clipboard` tells)."""
        self.window.set_selection_owner(Xatom.PRIMARY, X.CurrentTime)
        self.display.sync()
        if not self.owns_clipboard(primary=True):
            raise X11Error("could not take the primary selection")

    def windows_mapped(self) -> list[int]:
        """Top-level windows (not menus or tooltips) that appeared since :meth:`offer` and
        are still shown, as far as the events read so far tell."""
        self.serve_for(0)
        return [window for window in self._mapped if self._viewable(window)]

    def shown(self, window: int) -> bool:
        """Whether ``window`` still exists and is shown."""
        return self._viewable(window)

    def _viewable(self, window: int) -> bool:
        try:
            found = self.display.create_resource_object("window", window)
            return bool(found.get_attributes().map_state == X.IsViewable)
        except (error.BadWindow, error.BadDrawable):
            return False

    def title_of(self, window: int) -> str | None:
        """The title of ``window`` or of the client window a window manager framed in it."""
        client = self._client_window(window)
        return None if client is None else window_title(self.display, client)

    def class_of(self, window: int) -> str:
        """The WM_CLASS of ``window``'s client (instance and class, lower case), or ""."""
        client = self._client_window(window)
        try:
            names = client.get_wm_class() if client is not None else None
        except (error.BadWindow, error.BadDrawable):
            names = None
        return " ".join(names).lower() if names else ""

    def _client_window(self, window: int) -> Any | None:
        """``window`` when it is a client window (it has WM_STATE, which a window manager
        sets on the windows it manages), else the first such within it (a window manager's
        frame holds the client among its decorations)."""
        wm_state = self.atom("WM_STATE")
        level = [self.display.create_resource_object("window", window)]
        try:
            for _ in range(4):
                for found in level:
                    if found.get_full_property(wm_state, X.AnyPropertyType) is not None:
                        return found
                level = [child for found in level for child in found.query_tree().children]
        except (error.BadWindow, error.BadDrawable):
            return None  # gone meanwhile
        return None

    def serve_until_quiet(self, quiet: float, timeout: float) -> bool:
        """Answer every request until the target has taken the text and then asked nothing
        for ``quiet`` seconds (a browser asks for the text twice, about 7 ms apart, and
        pastes the later answer). False when it did not within ``timeout``, or another
        program took the clipboard."""
        deadline = time.monotonic() + timeout
        while not self._lost:
            now = time.monotonic()
            if self._taken and not self._transfers and now - self._target_asked_at >= quiet:
                self.display.sync()  # the answers are out before any later key
                return True
            until = min(deadline, self._target_asked_at + quiet) if self._taken else deadline
            if now >= deadline:
                return False
            event = self._next(lambda e: True, max(until, now + 0.0005))
            if event is not None:
                self._handle(event)
        return False

    def serve_for(self, seconds: float) -> None:
        """Answer every request that comes within ``seconds`` (0: those already here)."""
        self._next(lambda e: False, time.monotonic() + seconds)  # handles each as it comes

    def serve_until_idle(self, quiet: float, timeout: float) -> None:
        """Answer requests until none has come for ``quiet`` seconds (at most ``timeout``):
        the settle window after Enter, so no late request is left without an answer. Time
        already quiet counts: a window that asked nothing while Enter was checked on screen
        is not waited for again. A large text still being sent in pieces keeps it busy."""
        deadline = time.monotonic() + timeout
        self.serve_for(0)
        while (until := min(deadline, self._active_at + quiet)) > time.monotonic():
            self._next(lambda e: False, until)

    def owns_clipboard(self, *, primary: bool = False) -> bool:
        selection = Xatom.PRIMARY if primary else self.clipboard
        return _wid(self.display.get_selection_owner(selection)) == self.window.id

    def release(self, *, primary: bool = False) -> None:
        """Stop owning the clipboard (or the primary selection): it is left empty, as it was
        before :meth:`offer`."""
        try:
            if self.owns_clipboard(primary=primary):
                request.SetSelectionOwner(
                    display=self.display.display,
                    window=X.NONE,
                    selection=Xatom.PRIMARY if primary else self.clipboard,
                    time=X.CurrentTime,
                )
                self.display.sync()
        except (error.XError, error.ConnectionClosedError, OSError) as exc:
            raise X11Error(f"could not give up the clipboard: {exc}") from None

    def _handle(self, event: Any) -> None:
        if event.type == X.SelectionRequest:
            self._answer(event)
        elif event.type == X.SelectionClear and event.atom == self.clipboard:
            self._lost = True
        elif event.type == X.PropertyNotify and event.state == X.PropertyDelete:
            self._continue_incr(event)
        elif event.type == X.MapNotify and _wid(event.event) == self.root.id and not event.override:
            self._mapped.append(_wid(event.window))

    def _from_target(self, ask: Any) -> bool:
        return self._target_client in (None, self.client_of(_wid(ask.requestor)))

    def _answer(self, ask: Any) -> None:
        self._active_at = time.monotonic()
        self._to_wake.pop(_wid(ask.requestor), None)  # it is awake: it asks
        if self._from_target(ask):
            self._target_asked_at = self._active_at
        requestor = self.display.create_resource_object("window", _wid(ask.requestor))
        prop = ask.property if ask.property != X.NONE else ask.target
        target_name = self.display.get_atom_name(ask.target)
        if ask.selection not in self._selections:
            prop = X.NONE
        elif target_name == "TARGETS":
            atoms = [self.atom(n) for n in ("TARGETS", "TIMESTAMP", *TEXT_TARGETS)]
            requestor.change_property(prop, Xatom.ATOM, 32, atoms)
        elif target_name == "TIMESTAMP":
            requestor.change_property(prop, Xatom.INTEGER, 32, [X.CurrentTime])
        elif target_name in TEXT_TARGETS:
            kind, data = self._encoded(target_name)
            if len(data) > CHUNK_BYTES:
                requestor.change_attributes(event_mask=X.PropertyChangeMask)
                requestor.change_property(prop, self.atom("INCR"), 32, [len(data)])
                self._transfers.append(_Transfer(requestor, prop, kind, data))
            else:
                requestor.change_property(prop, kind, 8, data)
            if self._from_target(ask):
                self._taken = True
            else:
                log.debug("answered window %#x too (a clipboard manager?)", _wid(ask.requestor))
        else:
            prop = X.NONE
        notify = xevent.SelectionNotify(
            time=ask.time,
            requestor=ask.requestor,
            selection=ask.selection,
            target=ask.target,
            property=prop,
        )
        requestor.send_event(notify)
        self.display.flush()
        self._to_wake[requestor.id] = time.monotonic() + WAKE_AFTER_S

    def _encoded(self, target_name: str) -> tuple[int, bytes]:
        if target_name == "STRING":
            text = self._offered.decode("utf-8")
            return Xatom.STRING, text.encode("latin-1", "replace")
        kind = "UTF8_STRING" if target_name == "TEXT" else target_name
        return self.atom(kind), self._offered

    def _continue_incr(self, event: Any) -> None:
        for transfer in list(self._transfers):
            if transfer.requestor.id != _wid(event.window) or transfer.prop != event.atom:
                continue
            self._active_at = time.monotonic()
            piece = transfer.data[transfer.sent : transfer.sent + CHUNK_BYTES]
            transfer.sent += len(piece)
            transfer.requestor.change_property(transfer.prop, transfer.type, 8, piece)
            if not piece:
                self._transfers.remove(transfer)
                transfer.requestor.change_attributes(event_mask=X.NoEventMask)
            self.display.flush()

    # -- sharing the screen with the operator ------------------------------------------

    def idle_s(self) -> float:
        """Seconds since the last input from any device (MIT-SCREEN-SAVER). Synthetic input
        (XTEST: pyautogui, xdotool, remote desktops) counts as well."""
        return float(self.root.screensaver_query_info().idle) / 1000

    def pointer(self) -> tuple[int, int]:
        reply = self.root.query_pointer()
        return int(reply.root_x), int(reply.root_y)

    def put_pointer(self, x: int, y: int) -> None:
        """Move the pointer to root point (x, y) without a click."""
        self.root.warp_pointer(x, y)
        self.display.sync()

    def focus_window(self) -> int:
        """The window holding the keyboard focus (X.NONE: none, X.PointerRoot: the focus
        follows the pointer)."""
        return _wid(self.display.get_input_focus().focus)

    def give_focus(self, window: int, timeout: float) -> bool:
        """Give the keyboard focus to ``window`` straight away (the window manager sees it
        move; no activation through it, which would still be on its way when the next
        delivery clicks and could take the focus from under it). True once it is there;
        False when the window is gone or cannot take it."""
        catch = error.CatchError()
        self.display.set_input_focus(window, X.RevertToParent, X.CurrentTime, onerror=catch)
        self.display.sync()
        if catch.get_error() is not None:
            return False
        deadline = time.monotonic() + timeout
        while self.focus_window() != window:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    # -- the screen --------------------------------------------------------------------

    def grab(self, x: int, y: int, width: int, height: int) -> bytes:
        """The pixels of a rectangle of the root window: :func:`grab_root`."""
        return grab_root(self.root, x, y, width, height)

    # -- events -------------------------------------------------------------------------

    def _drain(self) -> None:
        self.display.sync()
        while self.display.pending_events():
            self._handle(self.display.next_event())

    def _wake_quiet(self) -> float:
        """Wake each requestor that asked nothing since its answer :data:`WAKE_AFTER_S` ago:
        a property set on its window and deleted again sends it two PropertyNotify events
        it ignores, and its event loop handles what it had read meanwhile. Chromium on X11
        now and then reads the SelectionNotify of an answer together with the event before
        it and waits on its socket without handling it; its paste then showed 0.25 to 1 s
        late (traced: the 64 bytes of both events read 0.3 ms after its ConvertSelection,
        then no request until its clipboard timeout). Seconds until the next is due."""
        if not self._to_wake:
            return float("inf")
        now = time.monotonic()
        due = [window for window, at in self._to_wake.items() if at <= now]
        if due:
            wake = self.atom(WAKE_PROPERTY)
            gone = error.CatchError(error.BadWindow)  # a requestor may be gone by now
            for window_id in due:
                del self._to_wake[window_id]
                window = self.display.create_resource_object("window", window_id)
                window.change_property(wake, Xatom.INTEGER, 32, [0], onerror=gone)
                window.delete_property(wake, onerror=gone)
            self.display.flush()
        return min(self._to_wake.values(), default=float("inf")) - now

    def _next(self, wanted: Any, deadline: float) -> Any | None:
        """The next event matching ``wanted``, handling others meanwhile; None at deadline."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.display.fileno(), selectors.EVENT_READ)
            while True:
                while self.display.pending_events():
                    event = self.display.next_event()
                    if wanted(event):
                        return event
                    self._handle(event)
                woken = self._wake_quiet()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                selector.select(min(remaining, woken))


def grab_root(root: Any, x: int, y: int, width: int, height: int) -> bytes:
    """The pixels of a rectangle of the root window ``root`` (32 bits each, as the server
    has them); about 1 ms for 600x160."""
    image = root.get_image(x, y, width, height, X.ZPixmap, 0xFFFFFFFF)
    return bytes(image.data)


def window_title(display: Display, window: Any) -> str | None:
    """A window's title: its ``_NET_WM_NAME`` (UTF-8), else its ``WM_NAME``; None when it
    has neither."""
    for prop, kind in (
        (display.get_atom("_NET_WM_NAME"), display.get_atom("UTF8_STRING")),
        (Xatom.WM_NAME, X.AnyPropertyType),
    ):
        value = window.get_full_property(prop, kind)
        if value is not None and value.value:
            raw = value.value
            return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return None


def keep_clipboard(text: str, display_name: str | None = None, *, primary: bool = False) -> None:
    """Make ``xclip`` own the clipboard (or the primary selection) with ``text``; it serves
    it after this process ends.

    xclip stays in the background until another program takes the clipboard, so it gets
    no standard streams of ours: a child holding our stdout would keep a pipe such as
    ``cellphone send ... | jq`` open after we exit.
    """
    env = {**os.environ, "DISPLAY": display_name} if display_name else None
    try:
        with subprocess.Popen(
            ["xclip", "-selection", "primary" if primary else "clipboard"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        ) as xclip:
            xclip.communicate(text.encode("utf-8"), timeout=READ_TIMEOUT_S * 4)
    except FileNotFoundError:
        raise ClipboardError("xclip is not installed (Debian package xclip)") from None
    except subprocess.TimeoutExpired:
        raise ClipboardError("xclip did not take the text within 2s") from None
    if xclip.returncode != 0:
        raise ClipboardError(f"xclip exited with status {xclip.returncode}")


def _wid(resource: Any) -> int:
    """The id of a window python-xlib gives as an object or as a bare number."""
    return int(getattr(resource, "id", resource))

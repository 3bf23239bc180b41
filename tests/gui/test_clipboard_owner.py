"""The desk's clipboard owner (messaging.screen.x11) against a requestor on its own X
connection, as a pasting app is: every request answered, and a requestor that then asks
nothing more is woken once, so an app that read the answer without handling it (Chromium
on X11, now and then) handles it at once instead of at its clipboard timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from Xlib import X, Xatom
from Xlib.display import Display

from coordinates.virtual_display import VirtualDisplay
from messaging.screen import x11 as x11_module
from messaging.screen.x11 import WAKE_PROPERTY, X11

WAKE_AFTER_S = 0.1  # longer than the desk's, so a slow test machine cannot wake one early


class Requestor:
    """A window of another client asking for the clipboard, and the events it gets."""

    def __init__(self, display_name: str) -> None:
        self.display = Display(display_name)
        root = self.display.screen().root
        self.window = root.create_window(
            0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask
        )
        self.display.flush()
        self.prop = self.display.intern_atom("REQUESTOR_DATA")
        self.events: list[tuple[str, int, int]] = []  # kind, atom, property state

    def ask(self, target: str = "UTF8_STRING") -> None:
        clipboard = self.display.intern_atom("CLIPBOARD")
        target_atom = self.display.intern_atom(target)
        self.window.convert_selection(clipboard, target_atom, self.prop, X.CurrentTime)
        self.display.flush()

    def collect(self) -> None:
        while self.display.pending_events():
            event = self.display.next_event()
            if event.type == X.SelectionNotify:
                self.events.append(("notify", event.property, 0))
            elif event.type == X.PropertyNotify:
                self.events.append(("property", event.atom, event.state))

    def received(self) -> str:
        reply = self.window.get_full_property(self.prop, X.AnyPropertyType)
        assert reply is not None
        self.window.delete_property(self.prop)
        self.display.flush()
        return bytes(reply.value).decode()

    def woken(self) -> list[int]:
        """The states of the wake property's PropertyNotify events: new value, deleted."""
        wake = self.display.intern_atom(WAKE_PROPERTY)
        return [state for kind, atom, state in self.events if kind == "property" and atom == wake]

    def close(self) -> None:
        self.display.close()


@pytest.fixture
def owner(x_display: VirtualDisplay, monkeypatch: pytest.MonkeyPatch) -> Iterator[X11]:
    monkeypatch.setattr(x11_module, "WAKE_AFTER_S", WAKE_AFTER_S)
    x11 = X11(x_display.name)
    yield x11
    x11.release()
    x11.close()


@pytest.fixture
def requestor(x_display: VirtualDisplay) -> Iterator[Requestor]:
    asker = Requestor(x_display.name)
    yield asker
    asker.close()


def serve(owner: X11, requestor: Requestor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        owner.serve_for(0.001)
        requestor.collect()


def test_a_requestor_quiet_after_its_answer_is_woken_once_and_left_as_it_was(
    owner: X11, requestor: Requestor
) -> None:
    owner.offer("the text ✓")
    requestor.ask()
    serve(owner, requestor, WAKE_AFTER_S / 5)
    assert ("notify", requestor.prop, 0) in requestor.events
    assert requestor.received() == "the text ✓"
    assert requestor.woken() == []  # not yet: it may be about to ask again

    serve(owner, requestor, WAKE_AFTER_S * 4)
    assert requestor.woken() == [X.PropertyNewValue, X.PropertyDelete]
    wake = requestor.display.intern_atom(WAKE_PROPERTY)
    assert requestor.window.get_full_property(wake, Xatom.INTEGER) is None


def test_a_requestor_that_keeps_asking_is_woken_only_after_its_last_answer(
    owner: X11, requestor: Requestor
) -> None:
    owner.offer("asked again and again")
    for _ in range(5):
        requestor.ask("TARGETS")
        serve(owner, requestor, WAKE_AFTER_S / 5)
    assert requestor.woken() == []
    requestor.ask()
    serve(owner, requestor, WAKE_AFTER_S * 4)
    assert requestor.woken() == [X.PropertyNewValue, X.PropertyDelete]
    assert requestor.received() == "asked again and again"


def test_a_requestor_gone_before_its_wake_breaks_nothing(
    owner: X11, requestor: Requestor, x_display: VirtualDisplay
) -> None:
    owner.offer("for a window about to close")
    requestor.ask()
    serve(owner, requestor, WAKE_AFTER_S / 3)
    requestor.window.destroy()
    requestor.display.flush()
    owner.serve_for(WAKE_AFTER_S * 3)  # the wake meets a window that is gone: no error

    later = Requestor(x_display.name)
    try:
        owner.offer("still served")
        later.ask()
        serve(owner, later, WAKE_AFTER_S * 3)
        assert later.received() == "still served"
    finally:
        later.close()

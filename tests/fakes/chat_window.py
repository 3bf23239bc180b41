"""Agent chat panes for tests: the stand-in Tk windows of ``messaging.screen.standin`` (the demo
uses them too), each recording what it receives."""

from messaging.screen.standin import ChatWindows, Pane, Received, StandInError

__all__ = ["ChatWindows", "Pane", "Received", "StandInError"]

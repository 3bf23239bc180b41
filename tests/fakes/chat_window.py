"""Agent chat panes for tests: the stand-in Tk windows of ``messaging.standin`` (the demo
uses them too), each recording what it receives."""

from messaging.standin import ChatWindows, Pane, Received, StandInError

__all__ = ["ChatWindows", "Pane", "Received", "StandInError"]

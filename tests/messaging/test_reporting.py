"""How ``send`` and ``broadcast`` print outcomes: aligned plain columns, colored only on a
terminal that wants colors."""

from __future__ import annotations

import io
import os
import pty

import pytest

from messaging.model import DeliveryMethod as Method
from messaging.model import DeliveryState
from messaging.reporting import Cell, _colors_wanted, _columns, _marks


def test_columns_align_and_colors_only_when_asked() -> None:
    rows = [
        [Cell("agent"), Cell("outcome"), Cell("detail")],
        [Cell("Agent-1"), _marks(DeliveryState.DELIVERED, Method.INBOX), Cell("")],
        [Cell("Agent-10"), _marks(DeliveryState.FAILED, None), Cell("disk full [/]")],
    ]
    plain = _columns(rows, colored=False)
    assert plain == [
        "agent     outcome              detail",
        "Agent-1   delivered via inbox",
        "Agent-10  failed               disk full [/]",
    ]
    colored = _columns(rows, colored=True)
    assert colored[1] == "Agent-1   \x1b[32mdelivered\x1b[0m via inbox"
    assert colored[2].startswith("Agent-10  \x1b[31mfailed\x1b[0m               disk")


def test_unverified_deliveries_are_marked_in_words_and_color() -> None:
    mark = _marks(DeliveryState.DELIVERED, Method.GUI, verified=False)
    assert mark.text == "delivered via gui, unverified"
    shown = mark.rich()  # as the history and status tables show it
    assert shown.plain == "delivered via gui, unverified"
    colored = [(shown.plain[span.start : span.end], span.style) for span in shown.spans]
    assert colored == [("delivered", "green"), ("unverified", "yellow")]


def test_colors_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as terminal:
            assert _colors_wanted(terminal)
            monkeypatch.setenv("NO_COLOR", "1")
            assert not _colors_wanted(terminal)
    finally:
        os.close(leader)
        os.close(follower)
    monkeypatch.delenv("NO_COLOR")
    assert not _colors_wanted(io.StringIO())

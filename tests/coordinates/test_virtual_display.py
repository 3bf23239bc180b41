"""The virtual display only ever arranges its own Xorg: a display number that another
server holds (or grabs between our look and our start) is skipped, never rearranged."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from Xlib.display import Display

from coordinates.layout import Layout, read_layout
from coordinates.virtual_display import (
    THREE_MONITORS,
    MonitorSpec,
    VirtualDisplay,
    free_display_number,
)

pytestmark = pytest.mark.display

SMALL = (MonitorSpec(1280, 1024),)


def layout_of(display: VirtualDisplay, monkeypatch: pytest.MonkeyPatch) -> Layout:
    with monkeypatch.context() as env:
        env.setenv("DISPLAY", display.name)
        return read_layout()


@pytest.fixture
def first() -> Iterator[VirtualDisplay]:
    with VirtualDisplay(THREE_MONITORS) as display:
        yield display


def test_a_number_held_by_another_server_is_skipped_and_that_server_left_alone(
    first: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = layout_of(first, monkeypatch)
    assert {m.name for m in before.monitors} == {"DUMMY0", "DUMMY1", "DUMMY2"}
    # Ask for the number the first server holds, as if it had been free when we looked.
    with VirtualDisplay(SMALL, display=first.number) as second:
        assert second.number is not None and second.number != first.number
        assert layout_of(second, monkeypatch).describe() == "DUMMY0 1280x1024+0+0"
        assert layout_of(first, monkeypatch) == before
    assert layout_of(first, monkeypatch) == before


def test_a_number_whose_socket_is_taken_without_files_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = free_display_number()  # no lock file, no socket file...
    with socket.socket(socket.AF_UNIX) as squatter:
        squatter.bind(f"\0/tmp/.X11-unix/X{number}")  # ...but its abstract socket is taken
        with VirtualDisplay(SMALL) as display:
            assert display.number is not None and display.number != number
            assert layout_of(display, monkeypatch).describe() == "DUMMY0 1280x1024+0+0"


def test_extra_xorg_arguments_reach_the_server() -> None:
    with VirtualDisplay(SMALL, xorg_args=("-extension", "RECORD")) as display:
        connection = Display(display.name)
        try:
            assert not connection.has_extension("RECORD")
            assert connection.has_extension("RANDR")
        finally:
            connection.close()

"""Whether a point lies on a monitor, on synthetic layouts (X11 never has negative
coordinates; Windows-style layouts left of or above the primary do)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import screeninfo
import screeninfo.enumerators.drm
import screeninfo.enumerators.xrandr
import Xlib.ext.randr
from Xlib.display import Display
from Xlib.error import BadRequest

from coordinates import InvalidCoordinatesError, Point
from coordinates.errors import NoDisplayError
from coordinates.layout import Layout, Monitor, read_layout, read_layout_on
from coordinates.virtual_display import MonitorSpec, VirtualDisplay
from messaging.screen.x11 import X11

# Two 1920x1080 under a 1280x1024: the measured dummy-driver layout.
STACKED = Layout.of(
    [
        Monitor("DUMMY0", 0, 1024, 1920, 1080, primary=True),
        Monitor("DUMMY1", 1920, 1024, 1920, 1080),
        Monitor("DUMMY2", 0, 0, 1280, 1024),
    ]
)
# A 2560x1440 primary, a 1920x1080 left of it, a 1280x1024 above it.
AROUND_PRIMARY = Layout.of(
    [
        Monitor("primary", 0, 0, 2560, 1440, primary=True),
        Monitor("left", -1920, 360, 1920, 1080),
        Monitor("above", 640, -1024, 1280, 1024),
    ]
)


@pytest.mark.parametrize(
    ("point", "name"),
    [
        (Point(0, 1024), "DUMMY0"),
        (Point(1919, 2103), "DUMMY0"),
        (Point(1920, 1024), "DUMMY1"),
        (Point(3839, 2103), "DUMMY1"),
        (Point(1279, 1023), "DUMMY2"),
    ],
)
def test_points_on_monitors_find_their_monitor(point: Point, name: str) -> None:
    monitor = STACKED.monitor_at(point)
    assert monitor is not None and monitor.name == name
    assert STACKED.check(point).name == name
    assert STACKED.problem(point) is None


def test_dead_zone_inside_the_bounding_box_is_rejected_and_named() -> None:
    point = Point(2500, 300)
    assert STACKED.bounds == (0, 0, 3840, 2104)
    assert STACKED.monitor_at(point) is None
    reason = STACKED.problem(point)
    assert reason is not None
    assert reason.startswith("point (2500, 300) is on no monitor (dead zone between ")
    assert reason.endswith("DUMMY1 1920x1080+1920+1024 and DUMMY0 1920x1080+0+1024)")  # nearest two
    with pytest.raises(InvalidCoordinatesError, match="dead zone"):
        STACKED.check(point)


def test_right_and_bottom_edges_are_exclusive() -> None:
    assert STACKED.monitor_at(Point(1280, 0)) is None  # one past DUMMY2
    assert STACKED.monitor_at(Point(3840, 1500)) is None
    assert STACKED.monitor_at(Point(100, 2104)) is None


def test_point_outside_every_monitor_names_the_span_and_nearest() -> None:
    reason = STACKED.problem(Point(5000, 300))
    assert reason == (
        "point (5000, 300) is off every monitor (the screens span x 0..3839, y 0..2103; "
        "nearest is DUMMY1 1920x1080+1920+1024)"
    )


@pytest.mark.parametrize(
    ("point", "name"),
    [
        (Point(-1269, 481), "left"),  # a V2 file's point on the left monitor
        (Point(-1920, 360), "left"),
        (Point(-1, 1439), "left"),
        (Point(700, -10), "above"),
        (Point(1919, -1024), "above"),
        (Point(0, 0), "primary"),
    ],
)
def test_negative_coordinates_left_of_and_above_the_primary(point: Point, name: str) -> None:
    assert AROUND_PRIMARY.check(point).name == name


@pytest.mark.parametrize("point", [Point(-100, 100), Point(100, -100), Point(-1, -1)])
def test_negative_dead_zones_are_rejected(point: Point) -> None:
    reason = AROUND_PRIMARY.problem(point)
    assert reason is not None and "is on no monitor (dead zone between" in reason


def test_monitor_text_shows_signed_offsets() -> None:
    assert str(AROUND_PRIMARY.monitors[1]) == "left 1920x1080-1920+360"
    assert AROUND_PRIMARY.bounds == (-1920, -1024, 2560, 1440)


def test_empty_layout_is_no_display() -> None:
    with pytest.raises(NoDisplayError):
        Layout.of([])


def test_reading_the_layout_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(NoDisplayError, match="no display"):
        read_layout()


def kernel_monitor() -> list[screeninfo.Monitor]:
    """What DRM would report from /sys/class/drm: not the X server pyautogui clicks on.
    This machine has no DRM devices, hence this stand-in."""
    return [screeninfo.Monitor(0, 0, 2560, 1440, name="card0-HDMI-A-1")]


def test_the_kernel_monitors_are_never_taken_for_the_x_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(screeninfo.enumerators.drm, "enumerate_monitors", kernel_monitor)
    monkeypatch.setenv("DISPLAY", ":1999")  # no server there
    with pytest.raises(NoDisplayError, match="the X server at DISPLAY=:1999 reports no monitors"):
        read_layout()
    monkeypatch.delenv("DISPLAY")
    with pytest.raises(NoDisplayError, match="DISPLAY is not set"):
        read_layout()


@pytest.mark.display
def test_the_live_layout_is_randrs(x_display: VirtualDisplay) -> None:
    assert read_layout().describe() == (
        "DUMMY0 1920x1080+0+1024, DUMMY1 1920x1080+1920+1024, DUMMY2 1280x1024+0+0"
    )
    assert read_layout().monitors[0].primary


@pytest.mark.display
def test_without_randr_answers_xinerama_is_asked(
    x_display: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_randr() -> list[screeninfo.Monitor]:
        # A server with Xinerama but no RandR needs several X screens, which the dummy
        # display here does not have; this stands in for its RandR failing.
        raise screeninfo.ScreenInfoError("no RandR")

    def no_randr_monitors(self: object, is_active: bool = True) -> None:
        raise BadRequest(None, b"\x01\x01" + bytes(30))  # RandR older than 1.5

    monkeypatch.setattr(screeninfo.enumerators.xrandr, "enumerate_monitors", no_randr)
    monkeypatch.setattr(Xlib.ext.randr, "get_monitors", no_randr_monitors)
    layout = read_layout()
    assert {(m.x, m.y, m.width, m.height) for m in layout.monitors} == {
        (0, 1024, 1920, 1080),
        (1920, 1024, 1920, 1080),
        (0, 0, 1280, 1024),
    }
    assert {m.name for m in layout.monitors} == {"monitor-0", "monitor-1", "monitor-2"}


@pytest.mark.display
def test_an_open_connection_reads_the_same_layout_from_randr(x_display: VirtualDisplay) -> None:
    connection = Display(x_display.name)
    try:
        assert read_layout_on(connection) == read_layout()
    finally:
        connection.close()


@pytest.mark.display
def test_an_open_connection_without_randr_monitors_reads_as_read_layout_does(
    x_display: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = Display(x_display.name)
    asked: list[object] = []

    def old_randr(self: object) -> None:
        # RandR before 1.5 has no monitors request; the server answers BadRequest
        asked.append(self)
        raise BadRequest(connection.display, b"\x01\x01" + bytes(30))

    root_class = type(connection.screen().root)  # this connection's, with its extensions
    monkeypatch.setattr(root_class, "xrandr_get_monitors", old_randr)
    try:
        layout = read_layout_on(connection)
    finally:
        connection.close()
    assert asked  # RandR was asked first, and failed
    assert layout.describe() == (
        "DUMMY0 1920x1080+0+1024, DUMMY1 1920x1080+1920+1024, DUMMY2 1280x1024+0+0"
    )


@pytest.mark.display
def test_coords_and_the_desk_read_one_layout_on_a_display_just_started(tmp_path: Path) -> None:
    """The first question a new process asks of a display whose monitors were just added,
    and a monitor added while it runs (``xrandr --setmonitor``, which only RandR's monitor
    list shows): ``coords check`` and the desk see the same monitors, every time."""
    display = VirtualDisplay((MonitorSpec(1920, 1080, 0, 0), MonitorSpec(1280, 1024, 1920, 0)))
    display.start()
    try:
        home = tmp_path / "home"
        (home / "config").mkdir(parents=True)
        agents = {"Agent-1": {"chat_input_coordinates": [2500, 500], "active": True}}
        (home / "config" / "coordinates.json").write_text(json.dumps({"agents": agents}))
        env = {**os.environ, "DISPLAY": display.name}
        check = [sys.executable, "-m", "cellphone", "coords", "check", "--home", str(home)]
        first = subprocess.run([*check, "--json"], env=env, capture_output=True, text=True)
        assert first.returncode == 0, first.stdout + first.stderr
        seen = [
            (m["x"], m["y"], m["width"], m["height"]) for m in json.loads(first.stdout)["monitors"]
        ]
        assert seen == [(0, 0, 1920, 1080), (1920, 0, 1280, 1024)]

        subprocess.run(
            [
                "xrandr",
                "-display",
                display.name,
                "--setmonitor",
                "side",
                "640/170x480/130+3200+0",
                "none",
            ],
            check=True,
        )
        agents["Agent-1"]["chat_input_coordinates"] = [3500, 200]  # on the added monitor only
        (home / "config" / "coordinates.json").write_text(json.dumps({"agents": agents}))
        added = subprocess.run([*check, "--json"], env=env, capture_output=True, text=True)
        assert added.returncode == 0, added.stdout + added.stderr
        desk = X11(display.name)
        try:
            monitors = [(m.x, m.y, m.width, m.height) for m in desk.layout().monitors]
        finally:
            desk.close()
        listed = json.loads(added.stdout)["monitors"]
        assert [(m["x"], m["y"], m["width"], m["height"]) for m in listed] == monitors
        assert (3200, 0, 640, 480) in monitors
    finally:
        display.stop()

"""Calibration on the real display: xdotool clicks where the operator would."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinates import InvalidCoordinatesError, Point
from coordinates.calibrate import (
    ClickListenerError,
    calibrate,
    record_click,
    wait_until_listening,
)
from coordinates.layout import read_layout
from coordinates.virtual_display import MonitorSpec, VirtualDisplay

pytestmark = pytest.mark.display

DOCUMENT = {
    "agents": {
        "Agent-3": {
            "chat_input_coordinates": [10, 10],
            "onboarding_input_coords": [20, 20],
            "description": "Backend services",
            "active": True,
            "x_custom": "kept",
        }
    },
    "metadata": {"written_by": "V2"},
}


def clicker(display: VirtualDisplay, point: Point):  # type: ignore[no-untyped-def]
    """A click source that clicks at ``point`` with xdotool once pynput listens."""

    def click() -> Point:
        ready = threading.Event()

        def press() -> None:
            subprocess.run(
                ["xdotool", "mousemove", str(point.x), str(point.y), "click", "1"],
                env=display.env(),
                check=True,
                timeout=5,
            )

        def on_ready() -> None:
            ready.set()
            threading.Thread(target=press, daemon=True).start()

        got = record_click(timeout=10, on_ready=on_ready)
        assert ready.is_set()
        return got

    return click


@pytest.fixture
def coords(tmp_path: Path) -> Path:
    path = tmp_path / "coordinates.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


def test_click_on_a_monitor_is_saved_with_a_copy_of_the_old_file(
    x_display: VirtualDisplay, coords: Path
) -> None:
    result = calibrate(
        coords, "Agent-3", "chat", read_layout(), clicker(x_display, Point(2345, 1678))
    )
    assert result.point == Point(2345, 1678)
    assert result.monitor.name == "DUMMY1"
    saved = json.loads(coords.read_text(encoding="utf-8"))
    assert saved["agents"]["Agent-3"]["chat_input_coordinates"] == [2345, 1678]
    assert saved["agents"]["Agent-3"]["x_custom"] == "kept"
    assert saved["metadata"] == {"written_by": "V2"}
    assert result.backup is not None
    assert json.loads(result.backup.read_text(encoding="utf-8")) == DOCUMENT


def test_onboarding_point_keeps_the_old_key_name(x_display: VirtualDisplay, coords: Path) -> None:
    calibrate(coords, "Agent-3", "onboarding", read_layout(), clicker(x_display, Point(700, 300)))
    entry = json.loads(coords.read_text(encoding="utf-8"))["agents"]["Agent-3"]
    assert entry["onboarding_input_coords"] == [700, 300]
    assert "onboarding_coordinates" not in entry


def test_click_in_a_dead_zone_is_refused_and_nothing_is_saved(
    x_display: VirtualDisplay, coords: Path
) -> None:
    # The pointer cannot rest in a dead zone on X, so the click is stood in for here.
    with pytest.raises(InvalidCoordinatesError, match=r"point \(2500, 300\) is on no monitor"):
        calibrate(coords, "Agent-3", "chat", read_layout(), lambda: Point(2500, 300))
    assert json.loads(coords.read_text(encoding="utf-8")) == DOCUMENT
    assert list(coords.parent.glob("*.bak")) == []


@pytest.fixture(scope="module")
def no_record() -> Iterator[VirtualDisplay]:
    """A real X server started without the RECORD extension pynput listens through."""
    with VirtualDisplay([MonitorSpec(1280, 1024)], xorg_args=("-extension", "RECORD")) as display:
        yield display


@pytest.mark.timeout(30)  # the listener used to wait for readiness forever here
def test_recording_a_click_without_record_fails_at_once_and_says_why(
    no_record: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", no_record.name)
    asked: list[bool] = []
    started = time.monotonic()
    with pytest.raises(
        ClickListenerError, match=rf"DISPLAY={no_record.name} has no RECORD extension"
    ):
        record_click(timeout=60, on_ready=lambda: asked.append(True))
    assert time.monotonic() - started < 5
    assert asked == []  # nobody was asked to click


@pytest.mark.timeout(30)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_waiting_for_a_listener_whose_thread_died_is_bounded(
    no_record: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", no_record.name)
    from pynput import mouse  # connects to DISPLAY on import: only once one is set

    listener = mouse.Listener(on_click=lambda *event: None)
    listener.start()  # its thread dies: the server has no RECORD
    started = time.monotonic()
    with pytest.raises(ClickListenerError, match="stopped before it was ready"):
        wait_until_listening(listener, within=20)
    assert time.monotonic() - started < 5
    assert not listener.is_alive()


class NeverReady(threading.Thread):
    """A listener stuck before it listens (pynput cannot be made to hang on cue)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.release = threading.Event()

    def run(self) -> None:
        self.release.wait(30)

    def wait(self) -> None:
        self.release.wait(30)


def test_waiting_for_a_listener_that_never_gets_ready_ends_at_the_deadline() -> None:
    stuck = NeverReady()
    stuck.start()
    started = time.monotonic()
    try:
        with pytest.raises(ClickListenerError, match=r"not ready within 0\.3s"):
            wait_until_listening(stuck, within=0.3)
    finally:
        stuck.release.set()
    assert time.monotonic() - started < 2

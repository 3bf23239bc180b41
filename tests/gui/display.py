"""The virtual three-monitor X display every display test shares, started once per run,
with a window manager (openbox) like a real desktop.

Two 1920x1080 monitors side by side under a 1280x1024 one: different sizes and offsets,
and a dead zone right of the small monitor (x 1280..3839, y 0..1023). If the display or
its window manager cannot start, the tests that need them fail with the reason; they are
never skipped.
"""

from __future__ import annotations

import os

import pytest

from config import Home
from coordinates.virtual_display import THREE_MONITORS, VirtualDisplay
from messaging.screen.wm import WindowManager
from tests.conftest import inbox_files

_shared: list[VirtualDisplay] = []


def shared_display(config: pytest.Config) -> VirtualDisplay:
    if not _shared:
        display = VirtualDisplay(THREE_MONITORS)
        display.start()  # VirtualDisplayError fails the test that asked, with the reason
        config.add_cleanup(display.stop)
        window_manager = WindowManager(display.name)
        window_manager.start()  # WindowManagerError likewise
        config.add_cleanup(window_manager.stop)
        os.environ["DISPLAY"] = display.name  # pyautogui and pynput read it on import
        # every screen verification of the run keeps its pictures (before, pasted, after
        # Enter): a failure shows what the desk saw
        pictures = config.rootpath / ".pytest-screen-pictures"
        os.environ.setdefault("CELLPHONE_GUI__PICTURES_DIR", str(pictures))
        _shared.append(display)
    return _shared[0]


@pytest.fixture(scope="session")
def x_display(pytestconfig: pytest.Config) -> VirtualDisplay:
    return shared_display(pytestconfig)


def typed_copies(home: Home, agent_id: str) -> list[str]:
    """How each message in an agent's inbox reached it (``delivered_via``), oldest first:
    a message typed into the chat keeps a copy there too."""
    return [
        line.removeprefix("delivered_via: ")
        for letter in inbox_files(home, agent_id)
        for line in letter.read_text(encoding="utf-8").splitlines()
        if line.startswith("delivered_via: ")
    ]

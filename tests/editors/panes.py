"""The editor panes the display tests and the benchmark open: one chat pane per editor and one
busy pane per editor, without overlap on the three-monitor display (two 1920x1080 side by side
under a 1280x1024), on both kinds of monitor; and a home whose agents' chat points are where
those panes really put their inputs."""

from __future__ import annotations

from tests.editors.pages import EDITORS, EditorPane

# the middle of each input; 640x420 windows: two a row on the small monitor (y 400), three a
# row on each big one (y 1400 and 1900)
CHAT_POINTS = ((320, 400), (2240, 1400), (2880, 1400), (3520, 1400), (960, 1400))
BUSY_POINTS = ((960, 400), (2240, 1900), (2880, 1900), (3520, 1900), (960, 1900))

CHAT = tuple(
    EditorPane(f"Agent-{index + 1}", editor, *point)
    for index, (editor, point) in enumerate(zip(EDITORS, CHAT_POINTS, strict=True))
)
BUSY = tuple(
    EditorPane(f"Agent-{index + 6}", editor, *point, busy=True)
    for index, (editor, point) in enumerate(zip(EDITORS, BUSY_POINTS, strict=True))
)


def coordinates_of(points: dict[str, tuple[int, int]]) -> dict:
    """A coordinates file's content putting each agent's chat point where its input is."""
    return {
        "agents": {
            agent_id: {"chat_input_coordinates": list(point), "active": True}
            for agent_id, point in points.items()
        }
    }

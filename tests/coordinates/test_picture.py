"""The layout picture: the monitors set its size, within MAX_WIDTH x MAX_HEIGHT, whatever
the points; a point off every screen is an arrow at the nearest edge."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from coordinates import AgentEntry, Point
from coordinates.errors import LayoutPictureError
from coordinates.layout import Layout, Monitor
from coordinates.picture import BAD, MARGIN, MAX_HEIGHT, MAX_WIDTH, draw_layout, save_layout_png

# Two 1920x1080 under a 1280x1024 (3840x2104 in all), as on the test display.
STACKED = Layout.of(
    [
        Monitor("DUMMY0", 0, 1024, 1920, 1080, primary=True),
        Monitor("DUMMY1", 1920, 1024, 1920, 1080),
        Monitor("DUMMY2", 0, 0, 1280, 1024),
    ]
)
# Three portrait monitors on top of each other: 1080x5760.
TOWER = Layout.of([Monitor(f"P{i}", 0, 1920 * i, 1080, 1920) for i in range(3)])
RED = Image.new("RGB", (1, 1), BAD).getpixel((0, 0))


def agent(agent_id: str, chat: Point) -> AgentEntry:
    return AgentEntry(agent_id, chat, None, "", True, None)


def red_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    region = image.crop(box)
    colours = region.getcolors(maxcolors=region.width * region.height) or []
    return sum(count for count, colour in colours if colour == RED)


def test_the_monitors_set_the_size_however_far_off_the_points_are() -> None:
    empty = draw_layout(STACKED, [])
    assert empty.size == (MAX_WIDTH, 913)  # 3840x2104 scaled by 1520/3840, plus margins
    points = [
        agent("Agent-1", Point(100, 60_000)),
        agent("Agent-2", Point(-50_000, 500)),
        agent("Agent-3", Point(1000, 1500)),
    ]
    assert draw_layout(STACKED, points).size == empty.size


def test_a_tall_layout_fits_the_height_too() -> None:
    image = draw_layout(TOWER, [agent("Agent-1", Point(500, 5000))])
    assert image.height == MAX_HEIGHT
    assert image.width <= MAX_WIDTH
    assert image.width == 2 * MARGIN + 173  # 1080 * (920 / 5760), rounded up


def test_an_off_screen_point_is_drawn_at_the_nearest_edge() -> None:
    scale = (MAX_WIDTH - 2 * MARGIN) / 3840
    below = draw_layout(STACKED, [agent("Agent-1", Point(100, 60_000))])
    x, y = MARGIN + 100 * scale, MARGIN + 2103 * scale  # clamped to the bottom edge
    assert red_pixels(below, (int(x) - 8, int(y), int(x) + 8, int(y) + 16)) > 20
    assert red_pixels(below, (0, 0, MAX_WIDTH, int(y) - 10)) == 0  # nothing drawn above it
    left = draw_layout(STACKED, [agent("Agent-2", Point(-50_000, 500))])
    x, y = MARGIN, MARGIN + 500 * scale  # clamped to the left edge, arrow pointing left
    assert red_pixels(left, (int(x) - 16, int(y) - 8, int(x), int(y) + 8)) > 20


def test_a_picture_that_cannot_be_written_says_where(tmp_path: Path) -> None:
    with pytest.raises(LayoutPictureError, match=f"cannot write the layout picture to {tmp_path}"):
        save_layout_png(STACKED, [], tmp_path)  # a folder
    png = save_layout_png(STACKED, [], tmp_path / "new" / "layout.png")
    with Image.open(png) as image:
        assert image.size == (MAX_WIDTH, 913)

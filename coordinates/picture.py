"""A picture of the layout: each monitor with its name, size and offset, and each agent's
points with labels; a point on no monitor is drawn in red.

The monitors define the drawn area, scaled to fit ``MAX_WIDTH`` x ``MAX_HEIGHT``. A point
outside it is drawn as an arrow at the nearest edge, pointing its way, labelled off-screen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from coordinates.errors import LayoutPictureError
from coordinates.file import AgentEntry, Point
from coordinates.layout import Layout, Monitor

MAX_WIDTH, MAX_HEIGHT = 1600, 1000
MARGIN = 40
FONT_SIZE = 14
RADIUS = 6
BACKGROUND = "#16181d"
MONITOR_FILL = ("#2b3a55", "#2f4b3c", "#4b3a2f", "#45304f")
OK, BAD, MUTED = "#7cd67c", "#ff5c5c", "#9aa0a6"

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


@dataclass(frozen=True)
class _Mark:
    label: str
    point: Point
    chat: bool
    on_monitor: bool
    off_screen: bool
    active: bool


@dataclass(frozen=True)
class _Frame:
    """Screen coordinates of the monitors' bounding box mapped onto the picture."""

    left: int
    top: int
    right: int
    bottom: int
    scale: float

    @classmethod
    def of(cls, layout: Layout) -> _Frame:
        left, top, right, bottom = layout.bounds
        scale = min(
            1.0,
            (MAX_WIDTH - 2 * MARGIN) / (right - left),
            (MAX_HEIGHT - 2 * MARGIN) / (bottom - top),
        )
        return cls(left, top, right, bottom, scale)

    @property
    def size(self) -> tuple[int, int]:
        return (
            math.ceil((self.right - self.left) * self.scale) + 2 * MARGIN,
            math.ceil((self.bottom - self.top) * self.scale) + 2 * MARGIN,
        )

    def at(self, point: Point) -> tuple[float, float]:
        return (
            MARGIN + (point.x - self.left) * self.scale,
            MARGIN + (point.y - self.top) * self.scale,
        )

    def contains(self, point: Point) -> bool:
        return self.left <= point.x < self.right and self.top <= point.y < self.bottom

    def clamp(self, point: Point) -> Point:
        """The nearest screen point inside the frame."""
        return Point(
            min(max(point.x, self.left), self.right - 1),
            min(max(point.y, self.top), self.bottom - 1),
        )


def draw_layout(layout: Layout, agents: Iterable[AgentEntry]) -> Image.Image:
    """The picture; its size never exceeds ``MAX_WIDTH`` x ``MAX_HEIGHT``."""
    frame = _Frame.of(layout)
    image = Image.new("RGB", frame.size, BACKGROUND)
    pen = ImageDraw.Draw(image)
    font = _font()
    for index, monitor in enumerate(layout.monitors):
        _draw_monitor(pen, frame, monitor, MONITOR_FILL[index % len(MONITOR_FILL)], font)
    for mark in _marks(layout, agents, frame):
        _draw_mark(pen, frame, mark, font)
    return image


def save_layout_png(layout: Layout, agents: Iterable[AgentEntry], path: Path) -> Path:
    """Write the picture to ``path``; :class:`LayoutPictureError` if it cannot be written."""
    image = draw_layout(layout, agents)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format="PNG")
    except OSError as exc:
        raise LayoutPictureError(
            f"cannot write the layout picture to {path}: {exc.strerror or exc};"
            " choose a file in a folder you can write to"
        ) from None
    return path


def _draw_monitor(
    pen: ImageDraw.ImageDraw, frame: _Frame, monitor: Monitor, fill: str, font: Font
) -> None:
    top_left = frame.at(Point(monitor.x, monitor.y))
    bottom_right = frame.at(Point(monitor.right - 1, monitor.bottom - 1))
    pen.rectangle((*top_left, *bottom_right), fill=fill, outline="#d0d4da")
    title = f"{monitor.name}{' (primary)' if monitor.primary else ''}"
    detail = f"{monitor.width}x{monitor.height} at {monitor.x:+d},{monitor.y:+d}"
    position = (top_left[0] + 8, top_left[1] + 6)
    pen.text(position, f"{title}\n{detail}", fill="#ffffff", font=font)


def _draw_mark(pen: ImageDraw.ImageDraw, frame: _Frame, mark: _Mark, font: Font) -> None:
    shown = frame.clamp(mark.point)
    x, y = frame.at(shown)
    colour = (OK if mark.on_monitor else BAD) if mark.active else MUTED
    if mark.off_screen:
        pen.polygon(_arrow(x, y, mark.point.x - shown.x, mark.point.y - shown.y), fill=colour)
    elif mark.chat:
        pen.ellipse((x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS), fill=colour)
    else:
        pen.ellipse((x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS), outline=colour, width=2)
    width = pen.textlength(mark.label, font=font)
    pen.text(_label_at(frame.size, x, y, width), mark.label, fill=colour, font=font)


def _arrow(x: float, y: float, dx: int, dy: int) -> list[tuple[float, float]]:
    """A triangle with its base on (x, y), pointing along (dx, dy)."""
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    tip = (x + ux * RADIUS * 2.5, y + uy * RADIUS * 2.5)
    return [tip, (x - uy * RADIUS, y + ux * RADIUS), (x + uy * RADIUS, y - ux * RADIUS)]


def _label_at(size: tuple[int, int], x: float, y: float, width: float) -> tuple[float, float]:
    """Right of the mark, or left of it when the label would leave the picture."""
    left = x + RADIUS + 4
    if left + width > size[0] - 2:
        left = max(2.0, x - RADIUS - 4 - width)
    top = min(max(y - FONT_SIZE / 2, 2.0), size[1] - FONT_SIZE - 4.0)
    return left, top


def _marks(layout: Layout, agents: Iterable[AgentEntry], frame: _Frame) -> Iterable[_Mark]:
    for agent in agents:
        for point, chat in ((agent.chat_point, True), (agent.onboarding_point, False)):
            if point is None:
                continue
            on = layout.monitor_at(point) is not None
            off_screen = not frame.contains(point)
            label = f"{agent.agent_id}{'' if chat else ' (onboarding)'} {point}"
            if not on:
                label += " off-screen" if off_screen else " on no monitor"
            label += "" if agent.active else " (inactive)"
            yield _Mark(label, point, chat, on, off_screen, agent.active)


def _font() -> Font:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", FONT_SIZE)
    except OSError:
        return ImageFont.load_default(FONT_SIZE)

"""A picture of the layout: each monitor with its name, size and offset, and each agent's
points with labels; a point on no monitor is drawn in red."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from coordinates.file import AgentEntry, Point
from coordinates.layout import Layout

MAX_WIDTH = 1600
MARGIN = 40
FONT_SIZE = 14
BACKGROUND = "#16181d"
MONITOR_FILL = ("#2b3a55", "#2f4b3c", "#4b3a2f", "#45304f")
OK, BAD, MUTED = "#7cd67c", "#ff5c5c", "#9aa0a6"


@dataclass(frozen=True)
class _Mark:
    label: str
    point: Point
    chat: bool
    on_monitor: bool
    active: bool


def draw_layout(layout: Layout, agents: Iterable[AgentEntry]) -> Image.Image:
    marks = list(_marks(layout, agents))
    left, top, right, bottom = _extent(layout, [m.point for m in marks])
    scale = min(1.0, (MAX_WIDTH - 2 * MARGIN) / (right - left))
    size = (int((right - left) * scale) + 2 * MARGIN, int((bottom - top) * scale) + 2 * MARGIN)
    image = Image.new("RGB", size, BACKGROUND)
    pen = ImageDraw.Draw(image)
    font = _font()

    def at(x: float, y: float) -> tuple[float, float]:
        return (MARGIN + (x - left) * scale, MARGIN + (y - top) * scale)

    for index, monitor in enumerate(layout.monitors):
        box = (*at(monitor.x, monitor.y), *at(monitor.right - 1, monitor.bottom - 1))
        pen.rectangle(box, fill=MONITOR_FILL[index % len(MONITOR_FILL)], outline="#d0d4da")
        title = f"{monitor.name}{' (primary)' if monitor.primary else ''}"
        detail = f"{monitor.width}x{monitor.height} at {monitor.x:+d},{monitor.y:+d}"
        pen.text((box[0] + 8, box[1] + 6), f"{title}\n{detail}", fill="#ffffff", font=font)
    for mark in marks:
        x, y = at(*mark.point)
        colour = (OK if mark.on_monitor else BAD) if mark.active else MUTED
        radius = 6
        ellipse = (x - radius, y - radius, x + radius, y + radius)
        if mark.chat:
            pen.ellipse(ellipse, fill=colour)
        else:
            pen.ellipse(ellipse, outline=colour, width=2)
        pen.text((x + radius + 4, y - FONT_SIZE // 2), mark.label, fill=colour, font=font)
    return image


def save_layout_png(layout: Layout, agents: Iterable[AgentEntry], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_layout(layout, agents).save(path, format="PNG")
    return path


def _marks(layout: Layout, agents: Iterable[AgentEntry]) -> Iterable[_Mark]:
    for agent in agents:
        for point, chat in ((agent.chat_point, True), (agent.onboarding_point, False)):
            if point is None:
                continue
            on = layout.monitor_at(point) is not None
            label = f"{agent.agent_id}{'' if chat else ' (onboarding)'} {point}"
            label += "" if on else " on no monitor"
            label += "" if agent.active else " (inactive)"
            yield _Mark(label, point, chat, on, agent.active)


def _extent(layout: Layout, points: list[Point]) -> tuple[int, int, int, int]:
    left, top, right, bottom = layout.bounds
    for p in points:
        left, top = min(left, p.x), min(top, p.y)
        right, bottom = max(right, p.x + 1), max(bottom, p.y + 1)
    return left, top, right + 200, bottom  # room for the label of a point at the far right


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", FONT_SIZE)
    except OSError:
        return ImageFont.load_default(FONT_SIZE)

"""Seeing a message arrive: pictures of the chat input region, compared pixel by pixel.

The deliverer takes one picture before the paste, waits for the text to show after it,
then for the input to change back after Enter. A blinking caret changes a handful of
pixels, so a change counts only when more than :data:`CARET_PIXELS` pixels differ; every
message carries its header line, so a pasted text changes far more than that.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops

from coordinates import Point
from coordinates.layout import Layout

CARET_PIXELS = 80  # a caret 2 px wide and up to 40 px tall, blinking
LEFT_SHARE = 0.2  # of the pixels changed by the paste and again by Enter, the most not back
LEVEL = 32  # a pixel differs when some channel changed by more than this
_THRESHOLD = [0 if v <= LEVEL else 255 for v in range(256)]


@dataclass(frozen=True)
class Rect:
    """A rectangle of the screen, in root coordinates; :attr:`centre` rounds down like
    pixels do."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def around(cls, point: Point, size: tuple[int, int], layout: Layout) -> Rect:
        """``size`` centred on ``point``, cut to the monitor the point lies on."""
        width, height = size
        left, top = point.x - width // 2, point.y - height // 2
        monitor = layout.monitor_at(point)
        if monitor is None:
            return cls(left, top, width, height)
        x0, y0 = max(left, monitor.x), max(top, monitor.y)
        x1 = min(left + width, monitor.x + monitor.width)
        y1 = min(top + height, monitor.y + monitor.height)
        return cls(x0, y0, x1 - x0, y1 - y0)

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass(frozen=True)
class Picture:
    """The pixels of a region as the X server gave them (32 bits a pixel, BGRX)."""

    region: Rect
    data: bytes

    def image(self) -> Image.Image:
        size = (self.region.width, self.region.height)
        return Image.frombytes("RGB", size, self.data, "raw", "BGRX")


def differs(a: Picture, b: Picture) -> bool:
    """More changed between two pictures of the same region than a blinking caret could
    change."""
    return _count(_changes(a, b)) > CARET_PIXELS


class SentCheck:
    """Tells, picture by picture after the submit keys, whether the text left the input:
    of the pixels the paste changed and Enter changed again, nearly all (all but
    :data:`LEFT_SHARE`, or a caret's worth) look again as before the paste.

    What the paste changed that Enter left alone (a focus ring drawn after the first
    picture, a selection the paste replaced) does not count, nor what changed elsewhere
    (the sent message appearing above the input). An app that ignores Enter changes next
    to nothing; one that turns Enter into a new line moves the text, which then matches
    neither the empty look nor the pasted one.

    The input is judged against the fullest look it had since the paste: a browser busy
    with its first frames may draw the pasted text only after the first change (its focus
    ring) was seen."""

    def __init__(self, before: Picture, pasted: Picture) -> None:
        self.before = before
        self._take(pasted, _changes(before, pasted))

    def _take(self, fullest: Picture, by_paste: Image.Image) -> None:
        self._fullest, self._by_paste, self._most = fullest, by_paste, _count(by_paste)

    def sent(self, now: Picture) -> bool:
        from_before = _changes(self.before, now)
        if _count(from_before) > self._most:
            self._take(now, from_before)
        changed_again = ImageChops.multiply(self._by_paste, _changes(self._fullest, now))
        not_back = ImageChops.multiply(changed_again, from_before)
        back = _count(changed_again) - _count(not_back)
        return back > CARET_PIXELS and _count(not_back) <= max(
            CARET_PIXELS, _count(changed_again) * LEFT_SHARE
        )


def _changes(a: Picture, b: Picture) -> Image.Image:
    """A mask, 255 where the pictures differ."""
    return ImageChops.difference(a.image(), b.image()).convert("L").point(_THRESHOLD)


def _count(mask: Image.Image) -> int:
    return mask.histogram()[255]

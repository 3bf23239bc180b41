"""Seeing a message arrive: pictures of the chat input region, compared pixel by pixel.

The deliverer takes one picture before the paste, waits for the text to show after it,
then for the input to change back after Enter. A blinking caret changes a handful of
pixels, so a change counts only when more than :data:`CARET_PIXELS` pixels differ; every
message carries its header line, so a pasted text changes far more than that. Text that
only moved up a row after Enter (:func:`moved_up`) is still in the input: Enter was taken
as a new line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from coordinates import Point
from coordinates.file import write_atomic
from coordinates.layout import Layout

CARET_PIXELS = 80  # a caret 2 px wide and up to 40 px tall, blinking
LEFT_SHARE = 0.2  # of the pixels changed by the paste and again by Enter, the most not back
LEVEL = 32  # a pixel differs when some channel changed by more than this
DRAFT_PIXELS = 30  # in the input's inside: more than a caret 1 px wide, less than a letter
CURSOR_CELL = (14, 28)  # a terminal's cursor fits in a box this size
FILL_TOLERANCE = 24  # sum of the channels' differences still counted as the input's colour
SEED_PX = 10  # the input's colour is the commonest within this many px of the point
NEAR_PX = 8  # around an input's inside: its border and focus ring (Chromium: 1 + 2 px)
EDGE_PX = 2  # kept off the inside's edge (rounded corners, a focus ring's anti-aliasing)
LINE_PX = 8  # a terminal's row around the point: glyphs 12 to 16 px tall fill most of it
ROW_PX = (8, 64)  # the height of a terminal's row, in pixels: how far a new line moves text
OTHER_LOOKS = 3  # other empty looks kept of one input
MOVED_SHARE = 0.02  # of the pixels compared, this many may differ in text moved up (a cursor)
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


def beyond_cursor(a: Picture, b: Picture) -> bool:
    """Changed as :func:`differs` says, and over more than one terminal cell: a terminal
    redrawing its cursor (for the focus it got, or a blink) changes one cell, text more."""
    mask = _changes(a, b)
    if _count(mask) <= CARET_PIXELS:
        return False
    box = mask.getbbox()
    return box is not None and (
        box[2] - box[0] > CURSOR_CELL[0] or box[3] - box[1] > CURSOR_CELL[1]
    )


class SentCheck:
    """Tells, picture by picture after the submit keys, whether the text left the input:
    of the pixels the paste changed and Enter changed again, nearly all (all but
    :data:`LEFT_SHARE`, or a caret's worth) look again as before the paste.

    What the paste changed that Enter left alone (a focus ring drawn after the first
    picture, a selection the paste replaced) does not count, nor what changed elsewhere
    (the sent message appearing above the input). An app that ignores Enter changes next
    to nothing; one that turns Enter into a new line moves the text, which then matches
    neither the empty look nor the pasted one.

    The input is judged against the fullest look it had since the paste, one that still
    shows what the paste changed and more: a browser busy with its first frames may draw
    the pasted text only after the first change (its focus ring) was seen. A look that
    changed more but no longer shows the pasted text (a focus ring a busy page draws only
    after Enter sent it) is no fuller look."""

    def __init__(self, before: Picture, pasted: Picture) -> None:
        self.before = before
        self._take(pasted, _changes(before, pasted))

    def _take(self, fullest: Picture, by_paste: Image.Image) -> None:
        self._fullest, self._by_paste, self._most = fullest, by_paste, _count(by_paste)

    def sent(self, now: Picture) -> bool:
        from_before = _changes(self.before, now)
        if _count(from_before) > self._most:
            still = _count(ImageChops.multiply(self._by_paste, from_before))
            if still >= self._most * (1 - LEFT_SHARE):
                self._take(now, from_before)
        changed_again = ImageChops.multiply(self._by_paste, _changes(self._fullest, now))
        not_back = ImageChops.multiply(changed_again, from_before)
        back = _count(changed_again) - _count(not_back)
        return back > CARET_PIXELS and _count(not_back) <= max(
            CARET_PIXELS, _count(changed_again) * LEFT_SHARE
        )


def moved_up(before: Picture, pasted: Picture, now: Picture) -> bool:
    """Whether ``now`` shows the pasted text moved up by a row over an empty new line: a
    terminal CLI that took Enter as a new line (its input grows by a row, the text stays in
    it). The part of the picture the text moved into must match the pasted picture a row
    lower, but for a cursor, and hold some of what the paste changed; the row below it must
    be empty but for the cursor."""
    if not differs(now, before):
        return False
    width, height = now.region.width, now.region.height
    was, seen = pasted.image(), now.image()
    by_paste = _changes(before, pasted)
    for shift in range(ROW_PX[0], min(ROW_PX[1], height - ROW_PX[0]) + 1):
        kept = (0, shift, width, height)
        if _count(by_paste.crop(kept)) <= CARET_PIXELS:
            continue
        lower, upper = was.crop(kept), seen.crop((0, 0, width, height - shift))
        moved = ImageChops.difference(lower, upper).convert("L").point(_THRESHOLD)
        if _count(moved) <= max(CARET_PIXELS, width * (height - shift) * MOVED_SHARE):
            # and a new line below it, empty but for the cursor (not the CLI's output
            # scrolling the text up: that is a submission)
            return _blank(seen.crop((0, height - shift, width, height)))
    return False


def _blank(image: Image.Image) -> bool:
    """Whether ``image`` is one colour but for a cursor's worth of pixels."""
    colours = image.getcolors(maxcolors=image.width * image.height) or []
    _, commonest = max(colours, key=lambda found: found[0])
    plain = Image.new(image.mode, image.size, commonest)  # type: ignore[arg-type]
    return _count(ImageChops.difference(image, plain).convert("L").point(_THRESHOLD)) <= (
        CURSOR_CELL[0] * CURSOR_CELL[1]
    )


def _changes(a: Picture, b: Picture) -> Image.Image:
    """A mask, 255 where the pictures differ."""
    return ImageChops.difference(a.image(), b.image()).convert("L").point(_THRESHOLD)


def _count(mask: Image.Image) -> int:
    return mask.histogram()[255]


@dataclass(frozen=True)
class EmptyLook:
    """How an agent's chat input looks with nothing in it, and ``inside``: the rectangle of
    the input's own background around the point, where a draft would show. None when the
    input has no frame of its own (a terminal's prompt line): what an agent prints above it
    could not be told from a draft, so nothing is judged."""

    picture: Picture
    inside: Rect | None
    confirmed: bool = True  # learnt from a verified submission; False: from a calibration
    # a select-all found the input empty while it looked so (a look learnt from a submission
    # that was not one, its text still in the input, would pass for empty forever)
    probed: bool = False
    # other looks of the input empty, as a select-all found it: without the keyboard focus
    # (Monaco draws its current line and caret only with it), after a theme's repaint
    others: tuple[Picture, ...] = ()

    @classmethod
    def learn(
        cls,
        picture: Picture,
        point: Point,
        known: EmptyLook | None = None,
        *,
        confirmed: bool = True,
        line: bool = False,
    ) -> EmptyLook:
        """The empty look ``picture`` shows; the inside is found once per region (filling
        the input's colour from the point costs tens of ms) and kept from ``known``. With
        ``line`` the inside is the line at the point, framed or not (a terminal CLI's prompt
        line: it shows the prompt only while the CLI waits for input)."""
        if line:
            return cls(picture, line_at(picture.region, point), confirmed)
        if known is not None and known.picture.region == picture.region:
            return cls(picture, known.inside, confirmed, others=known.others)
        return cls(picture, inside_of(picture, point), confirmed)

    def matches_near(self, now: Picture) -> bool:
        """Whether ``now`` looks as this look's picture in the input and within
        :data:`NEAR_PX` of its inside (the border, a focus ring, a caret), but for a caret's
        worth. What lies farther off in the region is no part of the input (a chat log above
        it, which shows each sent message). Without a known inside, the whole region counts."""
        if now.region != self.picture.region:
            return False
        if self.inside is None:
            return not differs(now, self.picture)
        left, top, right, bottom = _local(self.inside, self.picture.region)
        box = (
            max(0, left - NEAR_PX),
            max(0, top - NEAR_PX),
            min(now.region.width, right + NEAR_PX),
            min(now.region.height, bottom + NEAR_PX),
        )
        return _count(_changes(self.picture, now).crop(box)) <= CARET_PIXELS

    def holds_text(self, now: Picture) -> bool:
        """Whether the input inside looks other than empty (every empty look known of it)
        by more than a caret."""
        if self.inside is None:
            return False
        if now.region != self.picture.region:
            return True
        box = _local(self.inside, self.picture.region)
        seen = now.image().crop(box)
        for empty in (self.picture, *self.others):
            mask = ImageChops.difference(empty.image().crop(box), seen).convert("L")
            if _count(mask.point(_THRESHOLD)) <= DRAFT_PIXELS:
                return False
        return True

    def with_other(self, picture: Picture) -> EmptyLook:
        """This look, knowing ``picture`` too as the input empty (the last
        :data:`OTHER_LOOKS` kept)."""
        if picture.region != self.picture.region:
            return self
        return replace(self, others=(*self.others, picture)[-OTHER_LOOKS:])

    def save(self, path: Path) -> None:
        """Write the look to ``path`` (a JSON line, then the raw pixels) atomically."""
        region, inside = self.picture.region, self.inside
        header = {
            "region": _fields(region),
            "inside": _fields(inside) if inside else None,
            "confirmed": self.confirmed,
            "probed": self.probed,
            "others": len(self.others),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(picture.data for picture in (self.picture, *self.others))
        write_atomic(path, json.dumps(header).encode() + b"\n" + data)

    @classmethod
    def load(cls, path: Path) -> EmptyLook | None:
        """The look saved at ``path``; None when there is none or it does not read back."""
        try:
            raw = path.read_bytes()
            header_line, _, data = raw.partition(b"\n")
            header = json.loads(header_line)
            region = Rect(*header["region"])
            inside = Rect(*header["inside"]) if header["inside"] is not None else None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        size, count = region.width * region.height * 4, 1 + int(header.get("others", 0))
        if len(data) != size * count:
            return None
        pictures = [Picture(region, data[i * size : (i + 1) * size]) for i in range(count)]
        confirmed, probed = bool(header.get("confirmed", True)), bool(header.get("probed"))
        return cls(pictures[0], inside, confirmed, probed, tuple(pictures[1:]))


def line_at(region: Rect, point: Point) -> Rect:
    """The band of ``region`` :data:`LINE_PX` above and below the point: a terminal's row."""
    top = max(region.y, point.y - LINE_PX)
    bottom = min(region.y + region.height, point.y + LINE_PX)
    return Rect(region.x, top, region.width, max(1, bottom - top))


def inside_of(picture: Picture, point: Point) -> Rect | None:
    """The rectangle of the chat input's inside: the area of the input's colour (the
    commonest near the point) connected to the point, a little within its edge. None when
    that colour reaches every edge of the region (an input without a frame of its own)."""
    image = picture.image()
    region = picture.region
    px, py = point.x - region.x, point.y - region.y
    near = image.crop((px - SEED_PX, py - SEED_PX, px + SEED_PX + 1, py + SEED_PX + 1))
    colours = near.getcolors(maxcolors=(2 * SEED_PX + 1) ** 2) or []
    if not colours:
        return None
    _, found = max(colours)
    colour = tuple(found) if isinstance(found, tuple) else (found, found, found)
    seed = _nearest(near, colour)
    if seed is None:
        return None
    filled = image.copy()
    marker = (colour[0] ^ 0xFF, colour[1] ^ 0xA5, colour[2] ^ 0x5A)
    start = (seed[0] + px - SEED_PX, seed[1] + py - SEED_PX)
    ImageDraw.floodfill(filled, start, marker, thresh=FILL_TOLERANCE)
    box = ImageChops.difference(image, filled).convert("L").point(lambda v: 255 if v else 0)
    bounds = box.getbbox()
    if bounds is None:
        return None
    left, top, right, bottom = bounds
    if left == 0 and top == 0 and right == region.width and bottom == region.height:
        return None
    left, top = left + EDGE_PX, top + EDGE_PX
    right, bottom = max(left + 1, right - EDGE_PX), max(top + 1, bottom - EDGE_PX)
    return Rect(region.x + left, region.y + top, right - left, bottom - top)


def _nearest(image: Image.Image, colour: object) -> tuple[int, int] | None:
    """The pixel of ``colour`` nearest the middle of ``image``."""
    middle_x, middle_y = image.width // 2, image.height // 2
    found = [
        (abs(x - middle_x) + abs(y - middle_y), x, y)
        for y in range(image.height)
        for x in range(image.width)
        if image.getpixel((x, y)) == colour
    ]
    if not found:
        return None
    _, x, y = min(found)
    return x, y


def _local(rect: Rect, region: Rect) -> tuple[int, int, int, int]:
    """``rect`` as a crop box of a picture of ``region``."""
    left, top = rect.x - region.x, rect.y - region.y
    return left, top, left + rect.width, top + rect.height


def _fields(rect: Rect) -> list[int]:
    return [rect.x, rect.y, rect.width, rect.height]

"""Telling an empty chat input from one holding a draft, on pictures drawn the way a chat
pane draws its input (a dark pane, a framed input with a placeholder, DejaVu Sans text)."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from coordinates import Point
from messaging.screen.look import (
    LINE_PX,
    EmptyLook,
    Picture,
    Rect,
    SentCheck,
    beyond_cursor,
    differs,
    inside_of,
)
from messaging.screen.sharing import EmptyLooks, look_file

REGION = Rect(100, 200, 600, 160)
POINT = Point(400, 280)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core


def pane(text: str = "", *, framed: bool = True, caret: bool = False, above: str = "") -> Picture:
    image = Image.new("RGB", (REGION.width, REGION.height), (0x25, 0x25, 0x26))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 17)
    if framed:
        draw.rectangle((20, 40, 580, 140), fill=(0x3C, 0x3C, 0x3C), outline=(0x55, 0x55, 0x55))
    if above:  # the agent writing its answer above the input
        draw.text((24, 8), above, fill=(0xCC, 0xCC, 0xCC), font=font)
    if text:
        draw.text((32, 50), text, fill=(0xF0, 0xF0, 0xF0), font=font)
    else:
        draw.text((32, 50), "Message Agent-1…", fill=(0x8A, 0x8A, 0x8A), font=font)
    if caret:
        draw.line((31, 50, 31, 72), fill=(0xF0, 0xF0, 0xF0))
    return Picture(REGION, image.convert("RGBX").tobytes("raw", "BGRX"))


def test_the_inside_is_the_inputs_own_area_within_its_frame() -> None:
    inside = inside_of(pane(), POINT)
    assert inside is not None
    # the frame spans x 20..580, y 40..140 of the region: the inside is within it
    assert REGION.x + 20 < inside.x < REGION.x + 30
    assert REGION.y + 40 < inside.y < REGION.y + 50
    assert 540 < inside.width < 560 and 90 < inside.height < 100


def test_an_input_without_a_frame_of_its_own_is_not_judged() -> None:
    empty = EmptyLook.learn(pane(framed=False), POINT)
    assert empty.inside is None
    assert not empty.holds_text(pane("a draft", framed=False))


def test_drafts_down_to_one_letter_show_and_a_caret_or_the_agents_answer_do_not() -> None:
    empty = EmptyLook.learn(pane(), POINT)
    for draft in ("i", "ok", ".", "half a thought"):
        assert empty.holds_text(pane(draft)), draft
    assert not empty.holds_text(pane())
    assert not empty.holds_text(pane(caret=True))
    assert not empty.holds_text(pane(above="Sure, I will look at the failing test now."))


def test_a_look_kept_in_a_file_reads_back_the_same(tmp_path: Path) -> None:
    framed = EmptyLook.learn(pane(), POINT)
    frameless = EmptyLook.learn(pane(framed=False), POINT)
    for look, name in ((framed, "framed.look"), (frameless, "frameless.look")):
        look.save(tmp_path / name)
        assert EmptyLook.load(tmp_path / name) == look
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_damaged_look_file_is_no_look(tmp_path: Path) -> None:
    EmptyLook.learn(pane(), POINT).save(tmp_path / "a.look")
    raw = (tmp_path / "a.look").read_bytes()
    (tmp_path / "a.look").write_bytes(raw[:-10])
    (tmp_path / "b.look").write_bytes(b"not json\n")
    assert EmptyLook.load(tmp_path / "a.look") is None
    assert EmptyLook.load(tmp_path / "b.look") is None
    assert EmptyLook.load(tmp_path / "missing.look") is None


def test_a_look_after_enter_unlike_the_one_before_the_paste_is_not_learnt() -> None:
    """A terminal CLI may show a passing frame after Enter (its echo, a token line): taken
    for the empty look, it would make every later message look like a draft."""
    looks = EmptyLooks()
    key = ("Agent-1", False)
    looks.learn(key, pane("OK. tokens streaming"), POINT, before=pane())
    assert looks.get(key) is None
    looks.learn(key, pane(), POINT, before=pane())
    assert looks.get(key) is not None
    assert looks.draft(key, pane(), POINT) is None


def test_a_prompt_line_is_learnt_from_before_the_paste_and_holds_while_the_cli_answers() -> None:
    """Aider reads input only at its prompt: while it answers, its prompt line shows its
    output, and after Enter it shows anything for as long as it answers."""
    looks = EmptyLooks()
    key = ("Agent-1", False)
    prompt = Point(400, 258)  # on the input's line of text
    looks.learn(key, pane("OK. tokens streaming"), prompt, before=pane(), line=True)
    look = looks.get(key)
    assert look is not None and not look.confirmed
    assert look.inside is not None and look.inside.height <= 2 * LINE_PX
    assert looks.draft(key, pane("still answering"), prompt) is not None
    looks.learn(key, pane("still answering"), prompt, before=pane(), line=True)
    look = looks.get(key)
    assert look is not None and look.confirmed
    assert looks.draft(key, pane(), prompt) is None


def test_a_look_another_process_recorded_since_is_taken_up(tmp_path: Path) -> None:
    """`coords calibrate` records a new look while the bot's desk runs: the desk uses it."""
    looks = EmptyLooks()
    looks.keep_in(tmp_path)
    key = ("Agent-1", False)
    looks.learn(key, pane(), POINT, before=pane())
    looks.save()
    assert looks.draft(key, pane("my draft"), POINT) is not None
    recalibrated = EmptyLook.learn(pane("my draft"), POINT, confirmed=False)
    path = look_file(tmp_path, *key)
    recalibrated.save(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert looks.get(key) == recalibrated
    assert looks.draft(key, pane("my draft"), POINT) is None
    assert looks.forget_unconfirmed(key) and not path.exists()
    assert looks.get(key) is None


def terminal_line(text: str = "", *, cursor: str = "hollow") -> Picture:
    """A terminal's prompt line: a sign, the text, and the cursor cell after it (9 x 18 px),
    drawn hollow (the window without the focus) or solid."""
    image = Image.new("RGB", (REGION.width, REGION.height), (0, 0, 0))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 15)
    draw.text((10, 70), "> " + text, fill=(0xE0, 0xE0, 0xE0), font=font)
    left = 10 + int(font.getlength("> " + text))
    cell = (left, 70, left + 9, 88)
    if cursor == "solid":
        draw.rectangle(cell, fill=(0xE0, 0xE0, 0xE0))
    else:
        draw.rectangle(cell, outline=(0xE0, 0xE0, 0xE0))
    return Picture(REGION, image.convert("RGBX").tobytes("raw", "BGRX"))


def test_a_terminal_cursor_drawn_for_the_focus_is_no_pasted_text() -> None:
    """The click's focus may make a terminal draw its cursor solid only after the desk took
    the input's look: that change is not taken for the pasted text showing."""
    unfocused, focused = terminal_line(), terminal_line(cursor="solid")
    assert differs(unfocused, focused)  # as much as a caret could change, and more
    assert not beyond_cursor(unfocused, focused)
    assert beyond_cursor(unfocused, terminal_line("[C2A] Captain", cursor="solid"))
    assert beyond_cursor(focused, terminal_line("ok"))  # two letters: two cells and a cursor


def ringed(picture: Picture) -> Picture:
    """The same picture with the input's focus ring drawn: a blue frame around it."""
    image = Image.frombytes("RGB", (REGION.width, REGION.height), picture.data, "raw", "BGRX")
    draw = ImageDraw.Draw(image)
    draw.rectangle((19, 39, 581, 141), outline=(0x00, 0x7A, 0xCC), width=2)
    return Picture(REGION, image.convert("RGBX").tobytes("raw", "BGRX"))


def test_a_focus_ring_drawn_only_after_enter_is_no_text_left_in_the_input() -> None:
    """A busy page drew the input's focus ring after Enter sent the text: more pixels
    changed than the paste changed, but none of the pasted text is left."""
    before, pasted = pane(), pane("the message from the desk, pasted ✓")
    check = SentCheck(before, pasted)
    assert not check.sent(pasted)
    assert check.sent(ringed(before))
    # and text the page drew only after its ring: the fuller look is judged against
    check = SentCheck(before, ringed(before))
    assert not check.sent(ringed(pasted))
    assert check.sent(ringed(before))
    assert not check.sent(ringed(pasted))


def test_an_input_looks_as_learnt_whatever_its_chat_log_above_shows() -> None:
    """The settle after the click ends once the input looks as it did empty with the focus:
    judged in and around the input (its frame and focus ring), not in the chat log above it,
    which shows each message sent since the look was learnt."""
    learnt = EmptyLook.learn(ringed(pane(caret=True)), POINT)
    answered = ringed(pane(caret=True, above="Agent-1: done, the tests pass"))
    assert differs(answered, learnt.picture)  # over the whole region: not the same
    assert learnt.matches_near(answered)
    assert not learnt.matches_near(pane(caret=True))  # the focus ring not drawn yet
    assert not learnt.matches_near(ringed(pane("a draft", caret=True)))
    assert not learnt.matches_near(pane(caret=True, above="Agent-1: done", framed=False))
    # an input without a frame of its own: the whole region counts
    frameless = EmptyLook.learn(pane(framed=False), POINT)
    assert frameless.inside is None
    assert frameless.matches_near(pane(framed=False))
    assert not frameless.matches_near(pane(framed=False, above="Agent-1: done"))

"""Typing into an agent's chat pane: the screen deliverer the desk drives.

For each job: check the point lies on a monitor of the live layout, check the window under
it when the agent names one, check the input holds no draft (someone else's text), click,
optionally clear the input, paste the text through the clipboard, press Enter once the
window has taken the text and shows it (and the agent's ``submit_after_s`` passed since),
watch the input let go of it, and give the operator's clipboard back. A window that
appears after the paste keys (a terminal asking to confirm the paste) or text that only
moved up a row after Enter (Enter taken as a new line) is reported, never passed for a
submission. Anything that makes
typing unsafe raises :class:`NotDeliverable` with the reason, and the desk writes the
message to the inbox instead (or, for a draft, holds it and tries again).

The deliverer shares mouse and keyboard with the person at the screen: it tells their input
from its own (:meth:`GuiDeliverer.operator_idle_s`) and, once a run of deliveries ends,
puts pointer and keyboard focus back where they were (:meth:`GuiDeliverer.give_back`).

Clicks and keys go through XTEST on the deliverer's own X connection (what pyautogui
does on X11, without its import and a second connection in every `cellphone send`); the
connection opens when the first delivery needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from agents import Agent
from config import DeliveryMode, GuiSettings, Settings
from coordinates import Point
from coordinates.errors import NoDisplayError
from coordinates.file import write_atomic
from coordinates.layout import Layout
from messaging.deliver import DraftPresent, Job, NotDeliverable, Pressed, Typed
from messaging.screen.desktop import Desktop
from messaging.screen.look import (
    EmptyLook,
    Picture,
    Rect,
    SentCheck,
    beyond_cursor,
    differs,
    moved_up,
)
from messaging.screen.sharing import (
    LEFT_TEXT_FILE,
    OWN_INPUT_FILE,
    EmptyLooks,
    LeftText,
    Loan,
    OwnInput,
)
from messaging.screen.x11 import (
    X11,
    ClipboardError,
    FailSafe,
    X11Error,
    XlibConnectionClosed,
    keep_clipboard,
)
from messaging.steps import Steps

log = logging.getLogger(__name__)

PASTE_TIMEOUT_S = 2.0  # how long the window may take to ask for the pasted text
SETTLE_TIMEOUT_S = 1.0  # at most this long answering late requests after Enter
LOOK_EVERY_S = 0.002  # how often the input is looked at while waiting on it
STILL_S = 0.02  # an input looks settled once unchanged this long (over a frame at 60 Hz)
FIRST_STILL_S = 0.15  # the same for a window not clicked before (its first frames are slow)
LOOK_CHANGE_S = 0.2  # how long a click (or clearing) may take to change the input's look
# the same for a terminal, where the click changes the cursor at most (Claude Code draws its
# own: nothing), within a frame or two; one drawn later is not taken for the pasted text
TERMINAL_LOOK_CHANGE_S = 0.05
SUBMIT_TRIES = 2  # Enter, and once more when the input did not change back
SENT_STILL_S = 0.03  # the input must look sent this long (two frames at 60 Hz) to count
NEW_LINE_STILL_S = 0.4  # text moved up a row, still this long, never then sent: a new line
# (a CLI redrawing after a submission passes through such frames, in xterm for 0.2 s)
MULTI_CLICK_S = 0.7  # longer than the usual double-click interval (0.4-0.5 s)
MULTI_CLICK_PX = 16  # clicks closer count together (Chromium here: 8 px aside still did)
CLICK_SHIFT_PX = 20  # past that, and small enough to stay in the input
FOCUS_TIMEOUT_S = 0.5  # how long the clicked window may take to get the keyboard focus
FOCUS_POLL_S = 0.001
PROBE_POLL_S = 0.002  # how often the draft probe asks who owns the primary selection
# a terminal's clear keys are never pressed twice within this long: a second Ctrl+C quits
# Gemini CLI 0.61.0 within 3 s of the last one (WARNING_PROMPT_DURATION_MS), Aider within
# 2 s, Claude Code within about 1 s; Codex CLI quits on the first one in an empty input
CLEAR_GAP_S = 3.5
PROMPT_WAIT_S = 1.0  # how long a CLI just answering may take to show its prompt again
CARET_BLINK_S = 0.55  # over a caret's half blink (Chromium, GTK: 0.5 s on, 0.5 s off)
WATCHED_LOG = "the submission to %s, left to watch while the desk went on: %s"
PRIMARY_KEYS = "insert"  # paste keys with it paste the primary selection (xterm, urxvt, VTE)
WINDOWS_FILE = "screen-windows.json"  # windows clicked before, for the next process
WINDOWS_KEPT = 64
TERMINAL_CLASSES = (
    "xfce4-terminal", "xterm", "urxvt", "rxvt", "gnome-terminal", "konsole", "tilix",
    "terminator", "kitty", "alacritty", "wezterm", "foot", "st-256color", "terminology",
    "qterminal", "lxterminal", "mate-terminal", "sakura", "guake", "yakuake",
)  # fmt: skip
XFCE4_TERMINAL_DIALOG = (
    "xfce4-terminal asks to confirm a paste holding line breaks: set "
    "MiscShowUnsafePasteDialog=FALSE in ~/.config/xfce4/terminal/terminalrc (or untick "
    "the question in that dialog)"
)
FAILSAFE_REASON = (
    "fail-safe: the mouse was moved into a screen corner; the desk is paused "
    "(resume it when the screen is free)"
)


class GuiDeliverer:
    """Implements :class:`messaging.deliver.ScreenDeliverer` on X11."""

    def __init__(self, settings: GuiSettings, display: str | None = None) -> None:
        self.settings = settings
        self.display = display  # None: the DISPLAY of this process
        self._x11: Desktop | None = None
        self._lock = threading.Lock()  # one delivery at a time, whoever calls
        # inputs that may hold text of an attempt that failed after the paste: cleared first
        self._dirty = LeftText()
        self._last_sent: dict[tuple[str, bool], str] = {}  # the last text taken for sent
        self._drafts_seen: dict[tuple[str, bool], Picture] = {}  # looks a probe found text in
        self._agent_windows: dict[tuple[str, bool], int] = {}  # where each input's texts went
        self._last_click: tuple[int, int, float] | None = None  # x, y, monotonic time
        self._last_target: int | None = None  # the top-level window clicked last
        # the window a terminal's click gave the keyboard focus to, by top-level window
        self._terminal_focus: dict[int, int] = {}
        self._known: set[int] = set()  # top-level windows clicked before
        self._terminals: dict[int, bool] = {}  # top-level window: a terminal emulator's?
        self._last_layout: Layout | None = None
        self._looks = EmptyLooks()
        self._own = OwnInput()
        self._loan = Loan()
        self._pending: list[_Pressed] = []  # submissions left to watch, oldest first

    # -- ScreenDeliverer ----------------------------------------------------------------

    def unavailable_reason(self) -> str | None:
        if not (self.display or os.environ.get("DISPLAY")):
            return "no display: DISPLAY is not set (start an X session or use the inbox)"
        try:
            self._load()
        except NotDeliverable as exc:
            return exc.reason
        return None

    async def deliver(self, job: Job) -> Typed:
        return await asyncio.to_thread(self.deliver_now, job)

    async def deliver_going_on(self, job: Job) -> Typed | Pressed:
        return await asyncio.to_thread(self.deliver_going_on_now, job)

    async def confirm(self, pressed: Sequence[Pressed]) -> list[Typed | NotDeliverable]:
        return await asyncio.to_thread(self.confirm_now, pressed)

    def draft(self, job: Job) -> DraftPresent | None:
        if not self.settings.check_drafts or job.agent.typing.wait_for_prompt:
            return None  # a prompt line is judged after the click: see _type
        key = _input_key(job)
        with self._lock:
            if key in self._dirty or self.settings.clear_input:
                return None
            try:
                gui = self._load()
                point = self._point(job.agent, job.onboarding)
                # the layout of the last delivery: the delivery itself checks the point
                layout = self._last_layout or self._check_point(gui, point)
                region = Rect.around(point, job.agent.typing.verify_region, layout)
                x11 = self._xlib()
                toplevel = x11.toplevel_at(*point)
                self._confirm_at(key, toplevel, point)
                if self._is_terminal(x11, toplevel):
                    return None  # judged after the click: see _type
                looked = self._look(x11, region)
                draft = self._draft_in(key, x11, region, point, looked)
                if draft is None or not self._draft_known(key, looked, toplevel):
                    return None  # the delivery asks the input itself, after its click
                return draft
            except (NotDeliverable, X11Error, XlibConnectionClosed):
                return None  # the delivery itself meets the problem and says so

    def draft_outlasted(self, agent_id: str, onboarding: bool) -> None:
        with self._lock:
            if self._looks.forget_unconfirmed((agent_id, onboarding)):
                log.warning(
                    "dropped the look of %s's input recorded at calibration: it saw a draft "
                    "for too long, and may have been taken with text in the input",
                    agent_id,
                )

    def operator_idle_s(self) -> float | None:
        with self._lock:
            try:
                return self._own.operator_idle_s(self._xlib())
            except NotDeliverable:
                return None
            except (X11Error, XlibConnectionClosed, AttributeError) as exc:
                # AttributeError: a server without the MIT-SCREEN-SAVER extension
                log.warning("cannot read how long the operator has been idle: %s", exc)
                self.close()
                return None

    def give_back(self) -> None:
        with self._lock:
            self._save()
            if self._x11 is None:
                self._loan.forget()
                return
            try:
                with self._own.typing():
                    self._loan.give_back(self._x11, self._own)
            except (X11Error, XlibConnectionClosed) as exc:
                log.warning("could not give pointer and focus back: %s", exc)
                self.close()

    def remember_looks_in(self, folder: Path) -> None:
        self._looks.keep_in(folder)
        self._dirty.keep_in(folder / LEFT_TEXT_FILE)
        self._own.load(folder / OWN_INPUT_FILE)
        self._load_windows(folder / WINDOWS_FILE)

    def close(self) -> None:
        self._fail_pending("the desk closed its X display connection before it was seen")
        self._save()
        x11, self._x11 = self._x11, None
        if x11 is not None:
            with contextlib.suppress(XlibConnectionClosed, OSError):
                x11.close()

    # -- the steps ----------------------------------------------------------------------

    def deliver_now(self, job: Job) -> Typed:
        """Blocking delivery of one job (the desk calls it in a worker thread)."""
        typed = self._deliver(job, going_on=False)
        assert isinstance(typed, Typed)
        return typed

    def deliver_going_on_now(self, job: Job) -> Typed | Pressed:
        """Blocking :meth:`deliver_going_on`: the caller types into other windows next, so
        the submission may be left to watch (:meth:`confirm_now`) while it does."""
        return self._deliver(job, going_on=True)

    def _deliver(self, job: Job, *, going_on: bool) -> Typed | Pressed:
        with self._lock:
            gui = self._load()
            point = self._point(job.agent, job.onboarding)
            try:
                with self._own.typing():
                    layout = self._check_point(gui, point)
                    self._confirm_at(_input_key(job), None, point)
                    return self._type(gui, point, job, layout, going_on=going_on)
            except FailSafe:
                self._loan.forget()  # the operator took the pointer: it stays theirs
                raise NotDeliverable(FAILSAFE_REASON, pause_desk=True) from None
            except (X11Error, XlibConnectionClosed) as exc:
                self._loan.forget()
                self.close()  # the next delivery connects afresh
                raise NotDeliverable(f"lost the X display connection: {exc}") from None
            finally:
                self._left_as_is()

    def _point(self, agent: Agent, onboarding: bool) -> Point:
        point = agent.onboarding_point if onboarding else agent.chat_point
        if point is None:
            kind = "onboarding_coordinates" if onboarding else "chat_input_coordinates"
            raise NotDeliverable(f"{agent.agent_id} has no {kind} in the coordinates file")
        return point

    def _check_point(self, gui: Any, point: Point) -> Layout:
        try:
            layout = self._layout()
        except NoDisplayError as exc:
            raise NotDeliverable(str(exc)) from None
        problem = layout.problem(point)
        if problem is not None:
            raise NotDeliverable(problem)
        # the corners the pointer can reach are those of the monitors, not of their
        # bounding box, and they change with the layout
        gui.fail_safe_points = _corners(layout)
        return layout

    def _layout(self) -> Layout:
        self._last_layout = self._xlib().layout()
        return self._last_layout

    def _check_window(self, agent: Agent, point: Point) -> None:
        pattern = agent.window_title
        if not pattern or not self.settings.check_window_title:
            return
        name = self._xlib().window_name_at(point.x, point.y)
        if name is None or not re.search(pattern, name):
            shown = repr(name) if name is not None else "a window without a title"
            raise NotDeliverable(
                f"the window at {point} is {shown}, which does not match "
                f"window_title {pattern!r} of {agent.agent_id}"
            )

    def _type(
        self, gui: Any, point: Point, job: Job, layout: Layout, *, going_on: bool = False
    ) -> Typed | Pressed:
        pacing, typing = self.settings, job.agent.typing
        steps, verified = Steps(log), False  # the steps are logged once verified
        pressed: _Pressed | None = None
        x11 = self._xlib()
        # the operator's last input, before the desk's hides it
        untouched = self._own.untouched_since_last(x11)
        primary = PRIMARY_KEYS in typing.paste_keys
        previous = self._read_clipboard(x11)
        previous_primary = self._read_clipboard(x11, primary=True) if primary else None
        self._check_window(job.agent, point)  # just before the click
        target, toplevel = x11.window_at(*point), x11.toplevel_at(*point)
        key = _input_key(job)
        region = Rect.around(point, typing.verify_region, layout)
        offered = False
        cleared = pacing.clear_input or key in self._dirty
        terminal = self._is_terminal(x11, toplevel)
        # the input already had the focus (and drew its focus ring) when the keys went to
        # this window at the last click, still do, and nobody used mouse or keyboard since;
        # else the click changes its look
        kept_focus = (
            untouched and self._last_target == toplevel and x11.focus_toplevel() in (None, toplevel)
        )
        looked = self._look(x11, region)
        # the window shows no focus: how its input looks empty once the focus leaves again
        unfocused = going_on and x11.focus_toplevel() not in (None, toplevel)
        # a terminal CLI draws its input otherwise without the focus (a hollow cursor, a
        # dimmed prompt): it is judged after the click, which changes nothing in it
        at_prompt = pacing.check_drafts and not cleared and (typing.wait_for_prompt or terminal)
        suspect = False  # its look says it holds text: asked after the click to be sure
        if pacing.check_drafts and not cleared and not at_prompt:
            draft = self._draft_in(key, x11, region, point, looked)
            if draft is not None:
                if self._draft_known(key, looked, toplevel):
                    self._keep_held(job, key, looked)
                    raise draft
                suspect = True
        # an input never seen empty: asked whether it holds text once it has the focus
        known = self._looks.get(key)
        probed = (
            pacing.check_drafts
            and not cleared
            and not at_prompt
            and not primary
            and (suspect or not (known and known.probed))
        )
        # a leftover cleared in an input that is no terminal's: asked whether it is gone
        empties = cleared and not primary and not terminal
        if probed or empties:
            previous_primary = self._read_clipboard(x11, primary=True)
        # how the input looks before the click, when the click or the clearing changes it
        unclicked = None if kept_focus and not cleared else looked
        leave: EmptyLook | None = None  # the submission is watched while others are typed
        try:
            if pacing.give_back:
                self._loan.borrow(x11, self._own)
            steps.mark("look")
            self._click(
                gui,
                point,
                x11,
                focused=kept_focus,
                focus_of=self._terminal_focus.get(toplevel) if terminal else None,
            )
            if job.onboarding and pacing.new_chat_hotkey:
                # the keys go where the click went: a busy window takes the focus late
                self._check_focus(x11, toplevel, point)
                gui.hotkey(*_keys(pacing.new_chat_hotkey))
                _pause(pacing.pause_after_new_chat_s)
                self._click(gui, point, x11)
            self._check_focus(x11, toplevel, point)
            self._last_target = toplevel
            if terminal:
                self._terminal_focus[toplevel] = x11.focus_window()
            steps.mark("click")
            # the input as it looks empty, not on its way there: the text being deleted,
            # the focus ring being drawn (it would pass for the pasted text showing)
            first = toplevel not in self._known
            self._known.add(toplevel)
            still = FIRST_STILL_S if first else STILL_S
            if cleared and self._leftover_gone(
                key, x11, region, point, unclicked, terminal=terminal
            ):
                cleared, at_prompt = False, pacing.check_drafts
            if cleared:
                if terminal:
                    self._clear_gap(key, job)
                    self._dirty.note_cleared(key)
                for combo in typing.clear_keys:
                    gui.hotkey(*combo)
            if unclicked is None:
                before = self._look(x11, region)
            else:
                # a terminal's click changes its cursor at most (nothing, when the CLI
                # draws its own), which is no sign of the paste showing (_until_shown)
                change_s = TERMINAL_LOOK_CHANGE_S if terminal else LOOK_CHANGE_S
                empty = None if cleared else self._learnt_look(key, region, terminal=terminal)
                if empty is not None and not terminal and not empty.matches_near(unclicked):
                    # the input looked otherwise with the focus after a submission: the
                    # click's change is coming, however late a busy page draws it (else
                    # the look without the focus would be taken for the empty input, and
                    # the focus drawn after the paste keys for the pasted text)
                    change_s = self.settings.verify_timeout_s
                if (
                    terminal
                    and not typing.wait_for_prompt
                    and empty is not None
                    and empty.confirmed
                    and not beyond_cursor(unclicked, empty.picture)
                ):
                    # the CLI showed its prompt empty as learnt, but for the cursor the
                    # click's focus redraws (VTE: 30 ms later): the paste need not wait
                    before = empty.picture
                else:
                    # a look as the learnt one ends the wait at once, even when the click
                    # changed nothing (a CLI drawing its own cursor has nothing to redraw);
                    # once the click changed the look of a page, so does its input looking
                    # as learnt in and around it (its chat log above shows each message
                    # sent since)
                    before = self._settled(
                        x11,
                        region,
                        still,
                        unlike=unclicked,
                        change_s=change_s,
                        like=None if empty is None else empty.picture,
                        near=None if empty is None or terminal else empty.matches_near,
                    )
                if unfocused and empty is not None and empty.inside is not None:
                    leave = EmptyLook(looked, empty.inside)
            if cleared and self._still_full(key, before, unclicked, point):
                if terminal and self._looks.get(key) is None:
                    # the clear keys of every agent CLI empty its input, which then looks
                    # otherwise: one that looks just as before held nothing of the desk's
                    log.info(
                        "the input of %s looked the same after its clear keys: taken for empty",
                        job.agent.agent_id,
                    )
                elif terminal:
                    # a second Ctrl+C quits most agent CLIs: never pressed twice in a row
                    raise NotDeliverable(
                        f"the chat input of {job.agent.agent_id} at {point} looked the same "
                        f"after {', '.join('+'.join(c) for c in typing.clear_keys)}; they are "
                        "not pressed twice in a row in a terminal (a second Ctrl+C quits "
                        "most agent CLIs); nothing was typed (the next delivery presses them "
                        "first again)"
                    )
                else:
                    before = self._clear_again(gui, x11, region, before, job, point)
            if probed:  # once the input shows the focus: the keys go to it, not the page
                self._probe(gui, x11, job, point, region, looked, suspect=suspect)
                # as its keys left it: a focus ring a busy page drew only at them is no
                # pasted text showing
                before = self._still(x11, region, STILL_S)
            if empties:
                before = self._emptied(gui, x11, region, job, point)
            if (
                cleared
                or probed
                or empties
                or at_prompt
                or suspect
                or terminal
                or not pacing.check_drafts  # the input may have held text before the click
                or (job.onboarding and pacing.new_chat_hotkey)  # the window changed since
            ):
                leave = None  # watched to the end here, with the focus its checks need
            if at_prompt:
                # as it looks with the focus, and the CLI at its prompt: one still answering
                # (Aider), or redrawing its screen (Gemini CLI after a long message) shows
                # none there for a moment, and such a look would pass for the paste showing
                before = self._until_prompt(key, x11, region, point, before)
                draft = self._draft_in(key, x11, region, point, before)
                if draft is not None:
                    self._keep_held(job, key, self._look(x11, region))
                    raise draft
            steps.mark("settle")
            x11.offer(job.text, for_window=target, primary=primary)
            offered = True
            self._dirty.add(key)
            gui.hotkey(*typing.paste_keys)
            if not x11.serve_until_quiet(pacing.paste_quiet_s, PASTE_TIMEOUT_S):
                self._dirty.discard(key)  # the window never asked for the text
                raise NotDeliverable(
                    f"the window at {point} did not take the pasted text within "
                    f"{PASTE_TIMEOUT_S:g}s ({typing.paste} pastes for {job.agent.agent_id}"
                    f"{_PRIMARY_HINT if primary else ''}); nothing was submitted"
                )
            taken_at = time.monotonic()
            steps.mark("paste")
            _pause(pacing.pause_after_paste_s)
            paste = _Paste(
                x11,
                gui,
                job,
                point,
                region,
                target,
                toplevel,
                before,
                probed or empties,
                empties,
                terminal,
            )
            if not typing.verify:
                self._check_no_dialog(paste)
                self._wait_submit_after(paste, taken_at)
                self._check_no_late_draft(paste)
                gui.hotkey(*typing.submit_keys)
                self._dirty.discard(key)
                return Typed(verified=False)
            pasted: Picture | None = None
            try:
                pasted = self._until_shown(paste)
                steps.mark("shown")
                emptied = self._submit(paste, pasted, shown_at=time.monotonic(), leave=leave)
                steps.mark("submit")
            except NotDeliverable:
                self._keep_pictures(job, "not-sent", before, pasted, self._look(x11, region))
                raise
            if isinstance(emptied, _Pressed):
                pressed = emptied
                pressed.steps = steps
                self._pending.append(pressed)
                return pressed
            self._seen_sent(paste, pasted, emptied)
            if pacing.check_drafts:
                self._looks.learn(key, emptied, point, before, line=typing.wait_for_prompt)
            verified = True
            return Typed(verified=True)
        finally:
            if offered:
                x11.serve_until_idle(pacing.paste_quiet_s, SETTLE_TIMEOUT_S)
                self._restore_clipboard(x11, previous)
            if (offered and primary) or probed or empties:
                self._restore_clipboard(x11, previous_primary, primary=True)
            if verified or pressed is not None:
                steps.mark("restore")
            if verified:
                steps.log(job.agent.agent_id)

    def _probe(
        self,
        gui: Any,
        x11: Desktop,
        job: Job,
        point: Point,
        region: Rect,
        looked: Picture,
        *,
        suspect: bool,
    ) -> None:
        """Whether an input the desk never saw empty holds text, asked without changing it:
        the desk owns the primary selection, presses the agent's ``select_all_keys``, and an
        app that selected text takes the primary selection over (a Chromium textarea or
        contenteditable, Monaco, CodeMirror and ProseMirror within 2-10 ms, measured); none
        within ``gui.draft_probe_s`` means empty (and Right is pressed, so that a select-all
        the app carries out late is not replaced by the paste). Text found is a draft: its
        selection is put back as a caret at its end and nothing is typed. A selection of
        white space alone is left selected, for the paste to replace. The desk keeps owning
        the primary selection until the submit keys: an app that takes it later was slower
        than the probe, and nothing is submitted (:meth:`_check_no_late_draft`)."""
        typing = job.agent.typing
        key = _input_key(job)
        selected = self._selected(gui, x11, typing.select_all_keys, region)
        text = selected.text
        if not selected.found:
            # empty; and should the app select late, the paste goes after the text
            gui.hotkey("right")
            self._found_empty(key, looked, suspect=suspect)
            return
        if text and not text.strip():
            self._found_empty(key, looked, suspect=suspect)
            return
        gui.hotkey("right")
        self._drafts_seen[key] = looked
        if not suspect and self._looks.get(key) is not None:
            self._looks.forget(key)  # it showed this text as empty
            log.warning("dropped the empty look of %s's input: it holds text", key[0])
        last = self._last_sent.pop(key, None)
        if text and last is not None and last.strip() and last.strip() in text:
            self._dirty.add(key)
            raise NotDeliverable(
                f"the chat input of {job.agent.agent_id} at {point} still holds the last "
                "message the desk typed into it, which was taken for sent: it was not (the "
                "app did not send it); nothing was typed, the input is cleared before the "
                "next paste and its learnt empty look was dropped"
            )
        size = f"of {len(text)} characters " if text else ""
        raise DraftPresent(
            f"the chat input of {job.agent.agent_id} at {point} holds a draft {size}the "
            f"desk did not type (seen by selecting it with {'+'.join(typing.select_all_keys)};"
            " the caret was put back at its end); nothing was typed"
        )

    def _selected(self, gui: Any, x11: Desktop, keys: tuple[str, ...], region: Rect) -> _Selection:
        """What ``keys`` (select-all) selected: read from the primary selection the app
        took over from the desk, or, when it took nothing within ``gui.draft_probe_s``,
        seen on screen (CodeMirror now and then selects without taking the primary
        selection): the input looks otherwise than before the keys, and otherwise again at
        Right, which takes a selection away. A change Right leaves (a focus ring a busy
        page draws late) is no selection: the keys are pressed once more over it, and a
        second such change counts as text selected. The desk owns the primary selection
        again when the app took nothing or white space alone. (A selection already there
        would tell nothing: select-all over it changes nothing. The desk's clicks never
        make a double or triple click, see :meth:`_click`.)"""
        for pressed in (1, 2):
            x11.hold_primary()
            shown = self._look(x11, region)
            gui.hotkey(*keys)
            started = time.monotonic()
            deadline = started + self.settings.draft_probe_s
            while x11.owns_clipboard(primary=True) and time.monotonic() < deadline:
                x11.serve_for(PROBE_POLL_S)
            if not x11.owns_clipboard(primary=True):
                text = self._read_clipboard(x11, primary=True) or ""
                elapsed = time.monotonic() - started
                log.debug("select-all selected %d characters in %.3f s", len(text), elapsed)
                if not text.strip():
                    x11.hold_primary()
                return _Selection(found=True, text=text)
            selected = self._look(x11, region)
            if not differs(selected, shown):
                log.debug("select-all selected nothing in %g s", self.settings.draft_probe_s)
                return _Selection(found=False, text="")
            gui.hotkey("right")
            collapsed = self._watch(
                x11, region, partial(differs, selected), self.settings.draft_probe_s
            )
            if collapsed is not None:
                log.debug("select-all selected text shown on screen, not offered")
                return _Selection(found=True, text="")
            log.debug("the input changed at select-all (try %d) and not at Right", pressed)
        return _Selection(found=True, text="")

    def _emptied(self, gui: Any, x11: Desktop, region: Rect, job: Job, point: Point) -> Picture:
        """After the clear keys in an input that is no terminal's: asked with select-all
        whether it still holds text (the clear keys once more when it does), and its look
        taken once it answered empty. A busy app draws the emptied input late: a look taken
        before that (the old text, or its selection) passed the pasted text's late drawing
        for the input changing back after Enter, and a busy pane for a submission."""
        typing = job.agent.typing
        for pressed in (1, 2):
            selected = self._selected(gui, x11, typing.select_all_keys, region)
            text = selected.text
            if not selected.found:
                gui.hotkey("right")
                break
            if text and not text.strip():
                break  # selected, for the paste to replace
            if pressed == 2:
                raise NotDeliverable(
                    f"the chat input of {job.agent.agent_id} at {point} still holds "
                    f"{f'{len(text)} characters' if text else 'text'} after "
                    f"{', '.join('+'.join(c) for c in typing.clear_keys)} was pressed twice "
                    "(the app may be busy); nothing was typed (the input is cleared before "
                    "the next paste)"
                )
            for combo in typing.clear_keys:
                gui.hotkey(*combo)
        return self._still(x11, region, STILL_S)

    def _found_empty(self, key: tuple[str, bool], looked: Picture, *, suspect: bool) -> None:
        """The probe found the input empty: its look before the click is an empty look too
        (one that looked like a draft: the input without the focus, say), and the known
        look is vouched for."""
        self._drafts_seen.pop(key, None)
        if suspect:
            log.info("the input of %s is empty though it looked otherwise: look kept", key[0])
            self._looks.add_other(key, looked)
        self._looks.mark_probed(key)

    def _learnt_look(
        self, key: tuple[str, bool], region: Rect, *, terminal: bool = False
    ) -> EmptyLook | None:
        """The input's empty look, when it was read in ``region`` and learnt from a verified
        submission (with the focus: the caret, the focus ring); a terminal's also when
        recorded at calibration (its prompt line looks the same either way)."""
        empty = self._looks.get(key)
        if empty is None or empty.picture.region != region or not (terminal or empty.confirmed):
            return None
        return empty

    def _draft_known(self, key: tuple[str, bool], looked: Picture, toplevel: int) -> bool:
        """Whether a draft its look shows is known for one, without asking the input: a
        select-all found text in it while it looked just so, or the window at the point is
        not the one the agent's messages went to (a window over the input: never clicked)."""
        seen = self._drafts_seen.get(key)
        if seen is not None and not differs(seen, looked):
            return True
        known = self._agent_windows.get(key)
        return known is not None and known != toplevel

    def _check_no_late_draft(self, paste: _Paste) -> None:
        """After a probe that found the input empty: the app has not selected any text
        since (a select-all it carried out late, on text that was there). Else the paste
        went after that text, and nothing is submitted; the input is left as it is (not
        cleared: the text before the paste is not the desk's)."""
        if not paste.probed or paste.x11.owns_clipboard(primary=True):
            return
        job = paste.job
        if paste.leftover:
            raise NotDeliverable(
                f"typed but not submitted: the chat input of {job.agent.agent_id} at "
                f"{paste.point} answered select-all only after the paste (a busy app): the "
                "text an earlier attempt left may still be in it; nothing was submitted (it "
                "is cleared before the next paste)"
            )
        self._dirty.discard(_input_key(job))
        raise NotDeliverable(
            f"the chat input of {job.agent.agent_id} at {paste.point} held text the desk did "
            f"not type, seen only after the paste (the app answered "
            f"{'+'.join(job.agent.typing.select_all_keys)} later than "
            f"{self.settings.draft_probe_s:g}s, gui.draft_probe_s): nothing was submitted; "
            "the pasted message follows that text in the input, remove it by hand"
        )

    def _keep_pictures(
        self, job: Job, outcome: str, before: Picture, pasted: Picture | None, after: Picture
    ) -> None:
        """With ``gui.pictures_dir`` set, the input's pictures of this verification (before
        the paste, once the paste showed, after the submit keys) as PNG files in a folder of
        their own, named by time, agent and outcome: what the desk saw, for a claim doubted
        later."""
        if not self.settings.pictures_dir:
            return
        name = f"{time.time_ns()}-{job.agent.agent_id}-{outcome}"
        folder = Path(self.settings.pictures_dir) / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for label, picture in (("1-before", before), ("2-pasted", pasted), ("3-after", after)):
                if picture is not None:
                    picture.image().save(folder / f"{label}.png")
        except OSError as exc:
            log.warning("cannot keep the pictures of a delivery in %s: %s", folder, exc)

    def _keep_held(self, job: Job, key: tuple[str, bool], now: Picture) -> None:
        """With ``gui.pictures_dir`` set, the pictures of a delivery held for a draft: the
        input's learnt empty look ("1-before") and its look that held it ("3-after")."""
        known = self._looks.get(key)
        if known is not None:
            self._keep_pictures(job, "held", known.picture, None, now)

    def _is_terminal(self, x11: Desktop, toplevel: int) -> bool:
        """Whether ``toplevel`` is a terminal emulator's window (by its WM_CLASS)."""
        if toplevel not in self._terminals:
            names = x11.class_of(toplevel)
            self._terminals[toplevel] = any(name in names for name in TERMINAL_CLASSES)
        return self._terminals[toplevel]

    def _click(
        self,
        gui: Any,
        point: Point,
        x11: Desktop,
        *,
        focused: bool = False,
        focus_of: int | None = None,
    ) -> None:
        """Click at ``point``, a few pixels aside when the last click was at the same place
        moments ago: two clicks there would count as a double click (a triple click next),
        after which a browser's rich input drops the paste. When the input still has the
        focus that click gave it, there is no click at all; when the point aside is in
        another window, the click waits out the double-click interval instead. A terminal
        counts clicks by time alone (xterm selects a word, then a line, wherever the second
        and third click land): ``focus_of``, the window an earlier click into it gave the
        keyboard focus to, gets the focus straight away instead, which is all a click gives
        a terminal."""
        x, y = point
        last = self._last_click
        idle = _idle_s(x11)
        if last is None and idle < MULTI_CLICK_S:
            # someone clicked moments ago, where is not known (another process of the desk,
            # the operator): taken as here, so this click does not make a double click
            last = (x, y, time.monotonic() - idle)
        since = time.monotonic() - last[2] if last is not None else MULTI_CLICK_S
        if (
            last is not None
            and since < MULTI_CLICK_S
            and abs(last[0] - x) <= MULTI_CLICK_PX
            and abs(last[1] - y) <= MULTI_CLICK_PX
        ):
            if focused and last is self._last_click:
                return  # the focus is where this click (of its own, moments ago) put it
            if focus_of is not None and x11.give_focus(focus_of, FOCUS_TIMEOUT_S):
                log.debug(
                    "the terminal at %s clicked %.2f s ago: focused without a click", point, since
                )
                return
            shifted = x + (-CLICK_SHIFT_PX if last[0] > point.x else CLICK_SHIFT_PX)
            if x11.window_at(shifted, y) == x11.window_at(x, y):
                x = shifted
            else:
                time.sleep(MULTI_CLICK_S - since)
        gui.click(x, y)
        self._last_click = (x, y, time.monotonic())
        _pause(self.settings.pause_after_click_s)

    def _draft_in(
        self, key: tuple[str, bool], x11: Desktop, region: Rect, point: Point, now: Picture
    ) -> DraftPresent | None:
        """The draft the input holds, seen twice: a caret drawn in one look and not in the
        other can pass for a letter, and a blink later it has turned."""
        if self._looks.draft(key, now, point) is None:
            return None
        time.sleep(CARET_BLINK_S)
        return self._looks.draft(key, self._look(x11, region), point)

    def _until_prompt(
        self, key: tuple[str, bool], x11: Desktop, region: Rect, point: Point, now: Picture
    ) -> Picture:
        """The input of a terminal CLI once it shows its learnt empty look, within
        :data:`PROMPT_WAIT_S`: one that just answered the message before (Aider) or redraws
        its screen draws its prompt again moments later, and the delivery goes on then
        instead of being held for ``gui.draft_retry_s``. The last look when it does not."""
        if self._looks.draft(key, now, point) is None:
            return now
        back = self._watch(
            x11, region, lambda seen: self._looks.draft(key, seen, point) is None, PROMPT_WAIT_S
        )
        return self._look(x11, region) if back is None else self._still(x11, region, STILL_S)

    def _clear_gap(self, key: tuple[str, bool], job: Job) -> None:
        """Wait until :data:`CLEAR_GAP_S` passed since the clear keys were last pressed into
        this terminal's input (by any process of the desk): the Ctrl+C that empties an agent
        CLI's input quits it when it comes soon after another one."""
        left = CLEAR_GAP_S - self._dirty.cleared_ago(key)
        if left > 0:
            log.info(
                "the clear keys of %s were pressed %.1f s ago: pressed again in %.1f s",
                job.agent.agent_id,
                CLEAR_GAP_S - left,
                left,
            )
            time.sleep(left)

    def _leftover_gone(
        self,
        key: tuple[str, bool],
        x11: Desktop,
        region: Rect,
        point: Point,
        unclicked: Picture | None,
        *,
        terminal: bool,
    ) -> bool:
        """A terminal's input an earlier attempt left text in looks empty now, as its learnt
        empty look (the CLI took the text after all, or someone emptied it): its clear keys
        are not pressed, and it counts as holding nothing of the desk's. Ctrl+C, the clear
        key of the agent CLIs, quits Codex CLI on an empty input and stops an agent at
        work. Not told without a learnt empty look: the keys are pressed then."""
        known = self._looks.get(key)
        if (
            self.settings.clear_input
            or known is None
            or known.picture.region != region
            or not terminal
        ):
            return False
        if unclicked is None:
            now = self._look(x11, region)
        else:
            now = self._settled(
                x11, region, STILL_S, unlike=unclicked, change_s=TERMINAL_LOOK_CHANGE_S
            )
        if self._draft_in(key, x11, region, point, now) is not None:
            return False
        log.info(
            "the input of %s no longer shows what an earlier attempt left in it: not cleared",
            key[0],
        )
        self._dirty.discard(key)
        return True

    def _still_full(
        self, key: tuple[str, bool], now: Picture, unclicked: Picture | None, point: Point
    ) -> bool:
        """After the clear keys, the input still shows text: it does not look empty, or (its
        empty look unknown) it looks just as before the keys."""
        if self._looks.get(key) is not None:
            return self._looks.draft(key, now, point) is not None
        return unclicked is not None and not differs(now, unclicked)

    def _clear_again(
        self, gui: Any, x11: Desktop, region: Rect, before: Picture, job: Job, point: Point
    ) -> Picture:
        """The input still shows text after the clear keys (a busy app missed them): press
        them once more. When its empty look is known and that does not empty it either,
        nothing is typed; else typing goes on once the input changed (or did not, in time)."""
        key = _input_key(job)
        log.info("the input of %s still shows text: clear keys once more", job.agent.agent_id)
        for combo in job.agent.typing.clear_keys:
            gui.hotkey(*combo)
        if self._looks.get(key) is None:
            return self._settled(x11, region, STILL_S, unlike=before)
        emptied = self._watch(x11, region, lambda now: self._looks.draft(key, now, point) is None)
        if emptied is None:
            raise NotDeliverable(
                f"the chat input of {job.agent.agent_id} at {point} still holds text after "
                f"{', '.join('+'.join(c) for c in job.agent.typing.clear_keys)} was pressed "
                "twice; nothing was typed (the input is cleared before the next paste)"
            )
        return self._settled(x11, region, STILL_S, unlike=before)

    def _look(self, x11: Desktop, region: Rect) -> Picture:
        return Picture(region, x11.grab(region.x, region.y, region.width, region.height))

    def _settled(
        self,
        x11: Desktop,
        region: Rect,
        still: float,
        unlike: Picture,
        change_s: float = LOOK_CHANGE_S,
        like: Picture | None = None,
        near: Callable[[Picture], bool] | None = None,
    ) -> Picture:
        """The picture of ``region`` once it no longer looks as ``unlike`` (before the click:
        a busy browser may draw the focus ring well after it) and then stopped changing for
        ``still`` seconds, or looks as ``like`` (as it looked empty with the focus after a
        submission: all the focus draws, a caret, a focus ring, a terminal's solid cursor,
        is there). Once it no longer looks as ``unlike``, ``near`` may tell that instead
        (from the input alone, what lies around it aside). An input whose look the click
        did not change is taken once ``change_s`` passed."""
        same = None if like is None else partial(_same, like)
        self._watch(
            x11,
            region,
            lambda now: differs(now, unlike) or (same is not None and same(now)),
            change_s,
        )
        return self._still(x11, region, still, like=near or same)

    def _still(
        self,
        x11: Desktop,
        region: Rect,
        still: float,
        *,
        like: Callable[[Picture], bool] | None = None,
    ) -> Picture:
        """The picture of ``region`` once it stopped changing for ``still`` seconds, or once
        ``like`` says it looks as expected."""
        last = self._look(x11, region)
        still_since = time.monotonic()
        deadline = still_since + self.settings.verify_timeout_s
        while time.monotonic() < deadline:
            if like is not None and like(last):
                break
            x11.serve_for(LOOK_EVERY_S)
            now = self._look(x11, region)
            if differs(now, last):
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= still:
                break
        return last

    def _until_shown(self, paste: _Paste) -> Picture:
        """The picture of the input once the pasted text shows in it. A window that took the
        focus after the paste keys (a terminal's question whether to paste) is reported."""
        job, point = paste.job, paste.point
        # a terminal may redraw its cursor for the click's focus only now: no text
        changed = beyond_cursor if paste.terminal else differs
        # nor is an input looking as it did empty with the focus (a page that drew the
        # click's focus only after the paste keys)
        empty = None if paste.terminal else self._learnt_look(_input_key(job), paste.region)

        def shown(now: Picture) -> bool:
            if not changed(now, paste.before):
                return False
            return empty is None or not empty.matches_near(now)

        seen = self._watch(
            paste.x11,
            paste.region,
            lambda now: shown(now) or self._dialog(paste) is not None,
        )
        self._check_no_dialog(paste)
        if seen is None:
            raise NotDeliverable(
                f"the pasted text did not show in the chat input of {job.agent.agent_id} at "
                f"{point} within {self.settings.verify_timeout_s:g}s; nothing was submitted "
                "(the input is cleared before the next paste)"
            )
        return seen

    def _submit(
        self, paste: _Paste, pasted: Picture, shown_at: float, leave: EmptyLook | None = None
    ) -> Picture | _Pressed:
        """Press the submit keys (once the agent's ``submit_after_s`` passed since the paste
        showed: the app has taken it in by then, however busy it was) until the input
        changes back (twice at most); the input as it looks then, empty. With ``leave`` (how
        the input looks empty without the focus), the submission is left to watch once the
        keys are pressed (:meth:`confirm_now`). Text that only
        moved up a row over an empty line, and never then looks sent, is still in the
        input: Enter was taken as a new line, and that is reported, never a second Enter
        pressed on top of it (that would send the text with the new line; taking it back
        with BackSpace does not help Gemini CLI, whose input then moves up out of the
        region watched)."""
        gui, x11, region, job = paste.gui, paste.x11, paste.region, paste.job
        typing = job.agent.typing
        check = SentCheck(paste.before, pasted)
        moved: list[float] = []  # since when the text has shown moved up a row, unchanged
        last: list[Picture] = []

        # a CLI that reads input only at its prompt (Aider) submits on Enter, and its echo
        # moves up a row over the line it answers on: that is no new line in its input
        new_lines = not typing.wait_for_prompt

        def sent(now: Picture) -> bool:
            if not new_lines:
                return check.sent(now)
            if check.sent(now) and not moved_up(paste.before, pasted, now):
                return True
            if moved_up(paste.before, pasted, now):
                if not (moved and last and not differs(now, last[0])):
                    moved[:] = [time.monotonic()]
            else:
                moved.clear()
            last[:] = [now]
            return False

        steady: list[float] = []  # since when the input has looked sent, look after look

        def sent_steadily(now: Picture) -> bool:
            """Sent, and still so :data:`SENT_STILL_S` later: a frame an editor draws on its
            way (Monaco laying the pasted text out again) passes for sent only for a moment."""
            if not sent(now):
                steady.clear()
                return False
            steady[:] = steady or [time.monotonic()]
            return time.monotonic() - steady[0] >= SENT_STILL_S

        stayed: list[bool] = []  # the text showed moved up, unchanged, NEW_LINE_STILL_S long

        def done(now: Picture) -> bool:
            """Sent. A text that shows moved up for a while is watched on: Gemini CLI,
            busy, draws the text it sent a row up over a blank input row for over
            :data:`NEW_LINE_STILL_S` before it draws its input anew, as a new line would
            look; a new line never lets the input look sent."""
            if sent_steadily(now):
                return True
            if moved and time.monotonic() - moved[0] >= NEW_LINE_STILL_S:
                stayed[:] = [True]
            return False

        self._wait_submit_after(paste, shown_at)
        self._check_no_late_draft(paste)
        for _ in range(SUBMIT_TRIES):
            self._check_no_dialog(paste)
            gui.hotkey(*typing.submit_keys)
            if leave is not None:
                return _Pressed(paste, check, leave, time.monotonic(), pasted)
            moved.clear()
            stayed.clear()
            seen = self._watch(x11, region, done)
            self._check_still_shown(paste, "whether it was sent is not known")
            if seen is not None:
                return seen
            if not (moved or stayed):
                continue  # nothing seen: the app may be busy, Enter once more
            # never Enter again over a text that moved up: it would send it with the line
            raise NotDeliverable(
                f"typed but not submitted: {job.agent.agent_id} took {typing.submit} as a "
                "new line (its text moved up a row and stayed in the input); set a longer "
                "submit_after_s for this agent in the coordinates file (Gemini CLI takes an "
                "Enter soon after a paste as a new line: 0.1 s); it is cleared before the "
                "next paste"
            )
        raise NotDeliverable(
            f"typed but not submitted: the text stays in the chat input of "
            f"{job.agent.agent_id} after {typing.submit} was pressed {SUBMIT_TRIES} times "
            "(the agent may be busy, or its app sends with other keys: set submit_keys); "
            "it is cleared before the next paste"
        )

    # -- submissions left to watch -------------------------------------------------------

    def confirm_now(self, pressed: Sequence[Pressed]) -> list[Typed | NotDeliverable]:
        """Blocking :meth:`confirm`."""
        with self._lock:
            self._confirm_pending([p for p in self._pending if p in pressed])
        results: list[Typed | NotDeliverable] = []
        for item in pressed:
            assert isinstance(item, _Pressed) and item.result is not None, item
            results.append(item.result)
        return results

    def _confirm_at(self, key: tuple[str, bool], toplevel: int | None, point: Point) -> None:
        """Watch to the end the submissions left in the input ``key`` or in the window
        ``toplevel`` (by default the one at ``point``): no look there is judged, and no click
        goes there, while one of them may still change it."""
        if not self._pending:
            return
        if toplevel is None:
            toplevel = self._xlib().toplevel_at(*point)
        self._confirm_pending(
            [p for p in self._pending if p.key == key or p.paste.toplevel == toplevel]
        )

    def _confirm_pending(self, items: list[_Pressed]) -> None:
        """Watch the inputs of ``items`` together until each looks sent for
        :data:`SENT_STILL_S` on end, or still holds its text ``verify_timeout_s`` after its
        submit keys. Sent means: looking as before the click in and around the input (empty,
        without the focus the next click took), or, while the window still has the focus,
        as :class:`SentCheck` says. A window without the focus shows no focus ring either
        way, so only the input's whole inside looking empty counts then: its text staying
        would not."""
        if not items:
            return
        for item in items:
            self._pending.remove(item)
        left = list(items)
        try:
            x11 = self._xlib()
            while left:
                focus = x11.focus_toplevel()
                for item in list(left):
                    paste = item.paste
                    if not x11.shown(paste.toplevel):
                        item.result = NotDeliverable(
                            f"the window of {paste.job.agent.agent_id}'s chat app at "
                            f"{paste.point} closed after {paste.job.agent.typing.submit} was "
                            "pressed; whether it was sent is not known; start the agent again"
                        )
                        left.remove(item)
                        continue
                    now = self._look(x11, paste.region)
                    at = time.monotonic()
                    if item.sent(now, focused=focus == paste.toplevel):
                        item.steady_since = item.steady_since or at
                        if at - item.steady_since >= SENT_STILL_S:
                            self._confirmed(item, now)
                            left.remove(item)
                    else:
                        item.steady_since = None
                        if at - item.pressed_at >= self.settings.verify_timeout_s:
                            self._not_confirmed(item, now)
                            left.remove(item)
                if left:
                    x11.serve_for(LOOK_EVERY_S)
        except (X11Error, XlibConnectionClosed) as exc:
            for item in left:
                item.result = NotDeliverable(
                    f"lost the X display connection while watching the chat input of "
                    f"{item.paste.job.agent.agent_id} after the submit keys: {exc}; whether "
                    "it was sent is not known"
                )
            self.close()

    def _seen_sent(self, paste: _Paste, pasted: Picture, after: Picture) -> None:
        """Note a submission seen leaving its input: nothing of the desk's left there, the
        text taken for sent, the window its input's texts go to."""
        job, key = paste.job, _input_key(paste.job)
        self._keep_pictures(job, "sent", paste.before, pasted, after)
        self._dirty.discard(key)
        self._last_sent[key] = job.text
        self._agent_windows[key] = paste.toplevel

    def _confirmed(self, item: _Pressed, now: Picture) -> None:
        paste = item.paste
        self._seen_sent(paste, item.pasted, now)
        item.result = Typed(verified=True)
        log.debug(WATCHED_LOG, paste.job.agent.agent_id, "sent")
        if item.steps is not None:
            item.steps.mark("watched")
            item.steps.log(paste.job.agent.agent_id)

    def _not_confirmed(self, item: _Pressed, now: Picture) -> None:
        paste = item.paste
        self._keep_pictures(paste.job, "not-sent", paste.before, item.pasted, now)
        typing = paste.job.agent.typing
        log.debug(WATCHED_LOG, paste.job.agent.agent_id, "its text stayed")
        item.result = NotDeliverable(
            f"typed but not submitted: the text stays in the chat input of "
            f"{paste.job.agent.agent_id} {self.settings.verify_timeout_s:g}s after "
            f"{typing.submit} was pressed (the agent may be busy, or its app sends with other "
            "keys: set submit_keys); it is cleared before the next paste"
        )

    def _fail_pending(self, reason: str) -> None:
        for item in self._pending:
            item.result = NotDeliverable(
                f"{reason}: whether the text to {item.paste.job.agent.agent_id} was sent is "
                "not known"
            )
        self._pending.clear()

    def _wait_submit_after(self, paste: _Paste, since: float) -> None:
        """Until the agent's ``submit_after_s`` passed since ``since``."""
        left = since + paste.job.agent.typing.submit_after_s - time.monotonic()
        if left > 0:
            paste.x11.serve_for(left)

    def _dialog(self, paste: _Paste) -> int | None:
        """A top-level window that took the keyboard focus, or appeared, since the paste
        keys: the target's own question (a terminal confirming the paste) or another's."""
        x11 = paste.x11
        focus = x11.focus_toplevel()
        if focus not in (None, X_NONE, paste.toplevel):
            return focus
        mapped = [w for w in x11.windows_mapped() if w != paste.toplevel]
        return mapped[-1] if mapped else None

    def _check_still_shown(self, paste: _Paste, outcome: str) -> None:
        """Raise when the window clicked into is gone: whatever changed at the point since
        is no sign of the agent taking the text."""
        if not paste.x11.shown(paste.toplevel):
            raise NotDeliverable(
                f"the window of {paste.job.agent.agent_id}'s chat app at {paste.point} closed "
                "while the desk typed into it (a terminal closes when its CLI exits); "
                f"{outcome}; start the agent again"
            )

    def _check_no_dialog(self, paste: _Paste) -> None:
        """Raise when a window came up after the paste keys: nothing is submitted into it
        (an Enter would answer its question). The target's own dialog, holding the keyboard
        focus, is cancelled with Escape, which pastes nothing."""
        self._check_still_shown(paste, "nothing was submitted")
        window = self._dialog(paste)
        if window is None:
            return
        x11, job = paste.x11, paste.job
        title = x11.title_of(window)
        own = x11.client_of(x11.focus_window()) == x11.client_of(paste.target)
        if own and x11.focus_toplevel() == window:
            paste.gui.hotkey("escape")
            self._dirty.discard(_input_key(job))
            answer = "it was cancelled with Escape, nothing was pasted"
        else:
            answer = "it was left as it is"
        name = repr(title) if title else f"{window:#x}"
        terminal = x11.title_of(paste.toplevel) or ""
        hint = (
            XFCE4_TERMINAL_DIALOG
            if _is_xfce4_terminal(x11, paste.toplevel)
            else "turn off the app's confirmation of pastes"
        )
        raise NotDeliverable(
            f"after {job.agent.typing.paste} a window {name} came up over the chat app of "
            f"{job.agent.agent_id} ({terminal!r}), asking something: nothing was submitted "
            f"and {answer}; {hint}"
        )

    def _watch(
        self,
        x11: Desktop,
        region: Rect,
        wanted: Callable[[Picture], bool],
        timeout: float | None = None,
    ) -> Picture | None:
        """Look at ``region`` every few ms, answering the clipboard meanwhile, until a
        picture is ``wanted``; None after ``timeout`` (default ``verify_timeout_s``)."""
        deadline = time.monotonic() + (timeout or self.settings.verify_timeout_s)
        while True:
            now = self._look(x11, region)
            if wanted(now):
                return now
            if time.monotonic() >= deadline:
                return None
            x11.serve_for(LOOK_EVERY_S)

    def _check_focus(self, x11: Desktop, toplevel: int, point: Point) -> None:
        """The keys go where the click went: the keyboard focus is in the window at the point
        (another program's grab, say an open menu, swallows the click)."""
        deadline = time.monotonic() + FOCUS_TIMEOUT_S
        while True:
            focus = x11.focus_toplevel()
            if focus is None or focus == toplevel:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(FOCUS_POLL_S)
        where = "no window" if focus == 0 else f"window {focus:#x}"
        raise NotDeliverable(
            f"after the click at {point} the keyboard focus is on {where}, not on the window "
            f"there ({toplevel:#x}); nothing was typed"
        )

    # -- sharing the screen ---------------------------------------------------------------

    def _left_as_is(self) -> None:
        """Note where the delivery left pointer and focus."""
        if self._x11 is None:
            self._loan.forget()
            return
        try:
            self._loan.left(self._x11)
        except (X11Error, XlibConnectionClosed) as exc:
            log.warning("cannot tell where the delivery left pointer and focus: %s", exc)
            self._loan.forget()

    def _save(self) -> None:
        """Keep the empty looks learnt, and when the desk last typed: the next process to
        type (a `cellphone send` after this one) must not take that for the operator's."""
        self._looks.save()
        if self._looks.folder is not None:
            self._own.save(self._looks.folder / OWN_INPUT_FILE)
            self._save_windows(self._looks.folder / WINDOWS_FILE)

    def _load_windows(self, path: Path) -> None:
        """The windows the last process clicked (its first frames are behind them), and the
        last one: a new process typing into the same input does not wait for a click to
        change a look it does not change."""
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            self._known.update(int(w) for w in saved["known"])
            last = saved["last"]
            self._last_target = None if last is None else int(last)
            for entry in saved.get("agents", []):
                agent_id, onboarding, window = entry
                self._agent_windows[(str(agent_id), bool(onboarding))] = int(window)
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("cannot read the windows the desk clicked (%s): %s", path, exc)

    def _save_windows(self, path: Path) -> None:
        if not self._known:
            return
        known = sorted(self._known)[-WINDOWS_KEPT:]
        agents = [[a, o, w] for (a, o), w in sorted(self._agent_windows.items())]
        text = json.dumps({"known": known, "last": self._last_target, "agents": agents})
        try:
            write_atomic(path, text)
        except OSError as exc:
            log.warning("cannot keep the windows the desk clicked (%s): %s", path, exc)

    # -- clipboard ----------------------------------------------------------------------

    def _read_clipboard(self, x11: Desktop, *, primary: bool = False) -> str | None:
        try:
            return x11.read_clipboard(primary=primary)
        except X11Error as exc:
            log.warning("could not read the clipboard to restore it later: %s", exc)
            return None

    def _restore_clipboard(
        self, x11: Desktop, previous: str | None, *, primary: bool = False
    ) -> None:
        """Hand the operator's text to a clipboard owner that outlives this process."""
        try:
            if previous is None:
                x11.release(primary=primary)
            else:
                keep_clipboard(previous, self.display, primary=primary)
            x11.serve_for(0)  # what was asked of us before the hand-over gets its answer
        except (ClipboardError, X11Error, OSError) as exc:
            log.warning("could not restore the clipboard: %s", exc)

    # -- lazy parts ---------------------------------------------------------------------

    def _load(self) -> Desktop:
        """The desktop's mouse and keys: the same connection that reads the screen."""
        return self._xlib()

    def _xlib(self) -> Desktop:
        if self._x11 is None:
            try:
                self._x11 = X11(self.display)
            except X11Error as exc:
                raise NotDeliverable(f"no display: {exc}") from None
        return self._x11


def screen_for(settings: Settings) -> GuiDeliverer | None:
    """The screen deliverer the settings ask for: None for ``delivery_mode = inbox`` and,
    in ``auto`` mode, when this process has no display."""
    mode = settings.messaging.delivery_mode
    if mode is DeliveryMode.INBOX:
        return None
    if mode is DeliveryMode.AUTO and not os.environ.get("DISPLAY"):
        return None
    return GuiDeliverer(settings.gui)


@dataclass(frozen=True)
class _Paste:
    """One paste in flight: what the steps after the paste keys share."""

    x11: Desktop
    gui: Any
    job: Job
    point: Point
    region: Rect
    target: int  # the window under the point (the app's own)
    toplevel: int
    before: Picture  # the input just before the paste
    probed: bool = False  # the input was asked whether it holds text (see GuiDeliverer._probe)
    leftover: bool = False  # ... after the clear keys emptied what an attempt left in it
    terminal: bool = False  # a terminal emulator's window


@dataclass(eq=False)
class _Pressed(Pressed):
    """A submission left to watch: the paste, how the input looked once it showed, and
    how it looks empty without the focus (before the click)."""

    paste: _Paste
    check: SentCheck
    leave: EmptyLook
    pressed_at: float  # time.monotonic() of the submit keys
    pasted: Picture
    steps: Steps | None = None
    steady_since: float | None = None  # looked sent since then, look after look
    result: Typed | NotDeliverable | None = None

    @property
    def key(self) -> tuple[str, bool]:
        return _input_key(self.paste.job)

    def sent(self, now: Picture, *, focused: bool) -> bool:
        return self.leave.matches_near(now) or (focused and self.check.sent(now))


@dataclass(frozen=True)
class _Selection:
    """What select-all selected: ``found`` anything, ``text`` as the app offered it (empty
    when it was only seen on screen)."""

    found: bool
    text: str


_PRIMARY_HINT = "; the desk offered the text as the primary selection and the clipboard"
X_NONE = 0


def _input_key(job: Job) -> tuple[str, bool]:
    """What the desk knows of a chat input is kept by: the agent's, or its onboarding one."""
    return (job.agent.agent_id, job.onboarding)


def _same(a: Picture, b: Picture) -> bool:
    return not differs(a, b)


def _is_xfce4_terminal(x11: Desktop, toplevel: int) -> bool:
    return "xfce4-terminal" in x11.class_of(toplevel)


def _idle_s(x11: Desktop) -> float:
    """Seconds since anyone's last input; a server that cannot tell counts as idle."""
    try:
        return x11.idle_s()
    except AttributeError:  # no MIT-SCREEN-SAVER extension
        return float("inf")


def _corners(layout: Layout) -> list[tuple[int, int]]:
    return [
        (x, y)
        for m in layout.monitors
        for x in (m.x, m.x + m.width - 1)
        for y in (m.y, m.y + m.height - 1)
    ]


def _keys(hotkey: str) -> list[str]:
    return [key.strip().lower() for key in hotkey.split("+") if key.strip()]


def _pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)

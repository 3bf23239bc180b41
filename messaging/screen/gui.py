"""Typing into an agent's chat pane: the screen deliverer the desk drives.

For each job: check the point lies on a monitor of the live layout, check the window under
it when the agent names one, check the input holds no draft (someone else's text), click,
optionally clear the input, paste the text through the clipboard, press Enter once the
window has taken the text, and give the operator's clipboard back. Anything that makes
typing unsafe raises :class:`NotDeliverable` with the reason, and the desk writes the
message to the inbox instead (or, for a draft, holds it and tries again).

The deliverer shares mouse and keyboard with the person at the screen: it tells their input
from its own (:meth:`GuiDeliverer.operator_idle_s`) and, once a run of deliveries ends,
puts pointer and keyboard focus back where they were (:meth:`GuiDeliverer.give_back`).

pyautogui connects to the display when imported, so it is imported only here, when the
first delivery needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from agents import Agent
from config import DeliveryMode, GuiSettings, Settings
from coordinates import Point
from coordinates.errors import NoDisplayError
from coordinates.layout import Layout
from messaging.deliver import DraftPresent, Job, NotDeliverable, Typed
from messaging.screen.desktop import Desktop
from messaging.screen.look import Picture, Rect, SentCheck, differs
from messaging.screen.sharing import OWN_INPUT_FILE, EmptyLooks, Loan, OwnInput
from messaging.screen.x11 import X11, ClipboardError, X11Error, XlibConnectionClosed, keep_clipboard

log = logging.getLogger(__name__)

PASTE_TIMEOUT_S = 2.0  # how long the window may take to ask for the pasted text
SETTLE_TIMEOUT_S = 1.0  # at most this long answering late requests after Enter
LOOK_EVERY_S = 0.002  # how often the input is looked at while waiting on it
STILL_S = 0.02  # an input looks settled once unchanged this long (over a frame at 60 Hz)
FIRST_STILL_S = 0.15  # the same for a window not clicked before (its first frames are slow)
LOOK_CHANGE_S = 0.2  # how long a click (or clearing) may take to change the input's look
SUBMIT_TRIES = 2  # Enter, and once more when the input did not change back
MULTI_CLICK_S = 0.7  # longer than the usual double-click interval (0.4-0.5 s)
MULTI_CLICK_PX = 4  # clicks closer than this count together (Chromium: 2, GTK: 5 px)
CLICK_SHIFT_PX = 3  # past Chromium's 2 px, and small enough to stay in the input
FOCUS_TIMEOUT_S = 0.5  # how long the clicked window may take to get the keyboard focus
FOCUS_POLL_S = 0.005
CARET_BLINK_S = 0.55  # over a caret's half blink (Chromium, GTK: 0.5 s on, 0.5 s off)
FAILSAFE_REASON = (
    "pyautogui fail-safe: the mouse was moved into a screen corner; the desk is paused "
    "(resume it when the screen is free)"
)


class GuiDeliverer:
    """Implements :class:`messaging.deliver.ScreenDeliverer` with pyautogui on X11."""

    def __init__(self, settings: GuiSettings, display: str | None = None) -> None:
        self.settings = settings
        self.display = display  # None: the DISPLAY of this process
        self._pyautogui: ModuleType | None = None
        self._x11: Desktop | None = None
        self._lock = threading.Lock()  # one delivery at a time, whoever calls
        # inputs that may hold text of an attempt that failed after the paste: cleared first
        self._dirty: set[tuple[str, bool]] = set()
        self._last_click: tuple[int, int, float] | None = None  # x, y, monotonic time
        self._last_target: int | None = None  # the top-level window clicked last
        self._known: set[int] = set()  # top-level windows clicked before
        self._last_layout: Layout | None = None
        self._looks = EmptyLooks()
        self._own = OwnInput()
        self._loan = Loan()

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

    def draft(self, job: Job) -> DraftPresent | None:
        if not self.settings.check_drafts:
            return None
        key = (job.agent.agent_id, job.onboarding)
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
                return self._draft_in(key, x11, region, point, self._look(x11, region))
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
        self._own.load(folder / OWN_INPUT_FILE)

    def close(self) -> None:
        self._save()
        x11, self._x11 = self._x11, None
        if x11 is not None:
            with contextlib.suppress(XlibConnectionClosed, OSError):
                x11.close()

    # -- the steps ----------------------------------------------------------------------

    def deliver_now(self, job: Job) -> Typed:
        """Blocking delivery of one job (the desk calls it in a worker thread)."""
        with self._lock:
            gui = self._load()
            point = self._point(job.agent, job.onboarding)
            try:
                with self._own.typing():
                    layout = self._check_point(gui, point)
                    return self._type(gui, point, job, layout)
            except gui.FailSafeException:
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
        gui.FAILSAFE_POINTS = _corners(layout)
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

    def _type(self, gui: Any, point: Point, job: Job, layout: Layout) -> Typed:
        pacing, typing = self.settings, job.agent.typing
        x11 = self._xlib()
        self._own.operator_idle_s(x11)  # the operator's last input, before the desk's hides it
        previous = self._read_clipboard(x11)
        self._check_window(job.agent, point)  # just before the click
        target, toplevel = x11.window_at(*point), x11.toplevel_at(*point)
        key = (job.agent.agent_id, job.onboarding)
        region = Rect.around(point, typing.verify_region, layout)
        offered = False
        # the input already had the focus (and drew its focus ring) when the keys went to
        # this window at the last click and still do; else the click changes its look
        kept_focus = self._last_target == toplevel and x11.focus_toplevel() in (None, toplevel)
        cleared = pacing.clear_input or key in self._dirty
        looked = self._look(x11, region)
        if pacing.check_drafts and not cleared:
            draft = self._draft_in(key, x11, region, point, looked)
            if draft is not None:
                raise draft
        # how the input looks before the click, when the click or the clearing changes it
        unclicked = None if kept_focus and not cleared else looked
        try:
            if pacing.give_back:
                self._loan.borrow(x11)
            self._click(gui, point, x11)
            if job.onboarding and pacing.new_chat_hotkey:
                gui.hotkey(*_keys(pacing.new_chat_hotkey))
                _pause(pacing.pause_after_new_chat_s)
                self._click(gui, point, x11)
            self._check_focus(x11, toplevel, point)
            self._last_target = toplevel
            if cleared:
                for combo in typing.clear_keys:
                    gui.hotkey(*combo)
            # the input as it looks empty, not on its way there: the text being deleted,
            # the focus ring being drawn (it would pass for the pasted text showing)
            first = toplevel not in self._known
            self._known.add(toplevel)
            still = FIRST_STILL_S if first else STILL_S
            if unclicked is None:
                before = self._look(x11, region)
            else:
                before = self._settled(x11, region, still, unlike=unclicked)
            if cleared and self._still_full(key, before, unclicked, point):
                before = self._clear_again(gui, x11, region, before, job, point)
            x11.offer(job.text, for_window=target)
            offered = True
            self._dirty.add(key)
            gui.hotkey(*typing.paste_keys)
            if not x11.serve_until_quiet(pacing.paste_quiet_s, PASTE_TIMEOUT_S):
                self._dirty.discard(key)  # the window never asked for the text
                raise NotDeliverable(
                    f"the window at {point} did not take the pasted text within "
                    f"{PASTE_TIMEOUT_S:g}s ({typing.paste} pastes for {job.agent.agent_id}); "
                    "nothing was submitted"
                )
            _pause(pacing.pause_after_paste_s)
            if not typing.verify:
                gui.hotkey(*typing.submit_keys)
                self._dirty.discard(key)
                return Typed(verified=False)
            pasted = self._until_shown(x11, region, before, point, job)
            emptied = self._submit(gui, x11, region, before, pasted, job)
            self._dirty.discard(key)
            if pacing.check_drafts:
                self._looks.learn(key, emptied, point)
            return Typed(verified=True)
        finally:
            if offered:
                x11.serve_until_idle(pacing.paste_quiet_s, SETTLE_TIMEOUT_S)
                self._restore_clipboard(x11, previous)

    def _click(self, gui: Any, point: Point, x11: Desktop) -> None:
        """Click at ``point``, a few pixels aside when the last click was at the same place
        moments ago: two clicks there would count as a double click (a triple click next),
        after which a browser's rich input drops the paste. When the point aside is in
        another window, the click waits out the double-click interval instead."""
        x, y = point
        last = self._last_click
        since = time.monotonic() - last[2] if last is not None else MULTI_CLICK_S
        if (
            last is not None
            and since < MULTI_CLICK_S
            and abs(last[0] - x) <= MULTI_CLICK_PX
            and abs(last[1] - y) <= MULTI_CLICK_PX
        ):
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
        key = (job.agent.agent_id, job.onboarding)
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

    def _settled(self, x11: Desktop, region: Rect, still: float, unlike: Picture) -> Picture:
        """The picture of ``region`` once it no longer looks as ``unlike`` (before the click:
        a busy browser may draw the focus ring well after it) and then stopped changing for
        ``still`` seconds. An input whose look the click did not change is taken once
        :data:`LOOK_CHANGE_S` passed."""
        self._watch(x11, region, lambda now: differs(now, unlike), LOOK_CHANGE_S)
        last = self._look(x11, region)
        still_since = time.monotonic()
        deadline = still_since + self.settings.verify_timeout_s
        while time.monotonic() < deadline:
            x11.serve_for(LOOK_EVERY_S)
            now = self._look(x11, region)
            if differs(now, last):
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= still:
                break
        return last

    def _until_shown(
        self, x11: Desktop, region: Rect, before: Picture, point: Point, job: Job
    ) -> Picture:
        """The picture of the input once the pasted text shows in it."""
        seen = self._watch(x11, region, lambda now: differs(now, before))
        if seen is None:
            raise NotDeliverable(
                f"the pasted text did not show in the chat input of {job.agent.agent_id} at "
                f"{point} within {self.settings.verify_timeout_s:g}s; nothing was submitted "
                "(the input is cleared before the next paste)"
            )
        return seen

    def _submit(
        self,
        gui: Any,
        x11: Desktop,
        region: Rect,
        before: Picture,
        pasted: Picture,
        job: Job,
    ) -> Picture:
        """Press the submit keys until the input changes back (twice at most); the input
        as it looks then, empty."""
        typing = job.agent.typing
        check = SentCheck(before, pasted)
        for _ in range(SUBMIT_TRIES):
            gui.hotkey(*typing.submit_keys)
            emptied = self._watch(x11, region, check.sent)
            if emptied is not None:
                return emptied
        raise NotDeliverable(
            f"typed but not submitted: the text stays in the chat input of "
            f"{job.agent.agent_id} after {typing.submit} was pressed {SUBMIT_TRIES} times "
            "(the agent may be busy, or its app sends with other keys: set submit_keys); "
            "it is cleared before the next paste"
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

    # -- clipboard ----------------------------------------------------------------------

    def _read_clipboard(self, x11: Desktop) -> str | None:
        try:
            return x11.read_clipboard()
        except X11Error as exc:
            log.warning("could not read the clipboard to restore it later: %s", exc)
            return None

    def _restore_clipboard(self, x11: Desktop, previous: str | None) -> None:
        """Hand the operator's text to a clipboard owner that outlives this process."""
        try:
            if previous is None:
                x11.release()
            else:
                keep_clipboard(previous, self.display)
            x11.serve_for(0)  # what was asked of us before the hand-over gets its answer
        except (ClipboardError, X11Error, OSError) as exc:
            log.warning("could not restore the clipboard: %s", exc)

    # -- lazy parts ---------------------------------------------------------------------

    def _load(self) -> Any:
        if self._pyautogui is None:
            if self.display:
                os.environ["DISPLAY"] = self.display
            try:
                import pyautogui
            except Exception as exc:  # KeyError('DISPLAY'), Xlib errors: no usable display
                raise NotDeliverable(f"no display: pyautogui cannot start ({exc!r})") from None
            pyautogui.FAILSAFE = True
            pyautogui.PAUSE = 0  # pacing is ours: settings.gui, measured
            self._pyautogui = pyautogui
        return self._pyautogui

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

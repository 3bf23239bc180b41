"""What the screen deliverer keeps to share the screen with the person at it.

- :class:`EmptyLooks`: each chat input's look with nothing in it, learnt from its last
  verified submission and kept in the home, to see a draft before clicking.
- :class:`LeftText`: the inputs the desk left text in (pasted, not submitted), to clear
  them before the next paste, whichever process types next.
- :class:`OwnInput`: when the desk itself typed, to tell the operator's input (the X
  server's idle time counts every device, synthetic ones too) from the desk's by time.
- :class:`Loan`: pointer and keyboard focus as the operator left them before a run of
  deliveries, to give them back after it unless the operator took them back meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from coordinates import Point
from coordinates.file import write_atomic
from messaging.deliver import DraftPresent
from messaging.screen.desktop import Desktop
from messaging.screen.look import EmptyLook, Picture, line_at

log = logging.getLogger(__name__)

OWN_SLACK_S = 0.05  # input the X server saw this soon after the desk's own is the desk's
OWN_KEPT = 16  # how many spans of the desk's own input are remembered
OWN_INPUT_FILE = "own-input.json"  # the last spans, for the next process that types
LEFT_TEXT_FILE = "left-text.json"  # the inputs the desk left text in
CLEARED_KEPT_S = 600.0  # how long the time of an input's last clear keys is kept
FOCUS_TIMEOUT_S = 0.5  # how long the window manager may take to give the focus back

InputKey = tuple[str, bool]  # agent id, and whether the onboarding input


class EmptyLooks:
    """Each chat input's empty look, in memory and (once :meth:`keep_in` names a folder)
    in files that outlive the process."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self._looks: dict[InputKey, EmptyLook] = {}
        self._unsaved: set[InputKey] = set()
        self._stamps: dict[InputKey, int] = {}  # mtime of each file as last read or written

    def keep_in(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: InputKey) -> EmptyLook | None:
        """The input's empty look: the file's when another process (a calibration) wrote
        it since it was read here, else the one in memory."""
        if self.folder is not None and key not in self._unsaved:
            path = self._file(key)
            with contextlib.suppress(OSError):
                stamp = path.stat().st_mtime_ns
                if stamp != self._stamps.get(key):
                    loaded = EmptyLook.load(path)
                    if loaded is not None:
                        self._looks[key], self._stamps[key] = loaded, stamp
        return self._looks.get(key)

    def learn(
        self,
        key: InputKey,
        emptied: Picture,
        point: Point,
        before: Picture,
        *,
        line: bool = False,
    ) -> None:
        """After a verified submission: the input looks as ``emptied`` right after it, and
        looked as ``before`` just before the paste. Only when both agree is it the empty
        look: a terminal CLI may show a passing frame after Enter (its echo, a token line),
        which taken for the empty look would make every later message look like a draft. A
        look that differs from the known one only by a caret's worth is not worth keeping
        again. ``line``: the look that counts is the line at the point (a CLI's prompt,
        :meth:`_learn_line`)."""
        known = self.get(key)
        if line:
            self._learn_line(key, point, before, known)
            return
        same_place = known is not None and known.picture.region == before.region
        if same_place and known is not None and not known.holds_text(before):
            if not known.confirmed:  # seen again before this paste: it is the empty look
                self._looks[key] = replace(known, confirmed=True)
                self._unsaved.add(key)
            if not known.holds_text(emptied):
                return
        look = EmptyLook.learn(emptied, point, known)
        if look.holds_text(before):
            log.debug("the input of %s looked otherwise after Enter: not learnt", key[0])
            return
        self._looks[key] = look
        self._unsaved.add(key)

    def _learn_line(
        self, key: InputKey, point: Point, before: Picture, known: EmptyLook | None
    ) -> None:
        """A prompt line is learnt once, from how it looked before a paste (after Enter a
        CLI may show anything there for as long as it answers), and confirmed when a later
        delivery finds it so again; it is not replaced by what later deliveries see (a CLI
        busy for a while looks the same before a paste and after Enter)."""
        band = line_at(before.region, point)
        if known is None or known.inside != band or known.picture.region != before.region:
            self._looks[key] = EmptyLook.learn(before, point, confirmed=False, line=True)
        elif not known.confirmed and not known.holds_text(before):
            self._looks[key] = EmptyLook(known.picture, known.inside, confirmed=True)
        else:
            return
        self._unsaved.add(key)

    def draft(self, key: InputKey, now: Picture, point: Point) -> DraftPresent | None:
        """The draft the input holds: text the desk did not type. Before the input's first
        verified submission nothing can be told (and nothing is refused)."""
        empty = self.get(key)
        if empty is None or empty.picture.region != now.region or not empty.holds_text(now):
            return None
        return DraftPresent(
            f"the chat input of {key[0]} at {point} holds a draft (text the desk did not "
            "type, a terminal CLI not back at its prompt, or a window over it); nothing was "
            "typed (if it is empty and uncovered, "
            f"`cellphone coords calibrate {key[0]}{' --onboarding' if key[1] else ''}` "
            "records how it looks empty now)"
        )

    def mark_probed(self, key: InputKey) -> None:
        """A select-all found the input empty while it looked as its known look."""
        look = self.get(key)
        if look is not None and not look.probed:
            self._looks[key] = replace(look, probed=True)
            self._unsaved.add(key)

    def add_other(self, key: InputKey, picture: Picture) -> None:
        """``picture`` shows the input empty too (a select-all found it so)."""
        look = self.get(key)
        if look is not None:
            self._looks[key] = look.with_other(picture)
            self._unsaved.add(key)

    def forget(self, key: InputKey) -> None:
        """Drop the input's look, proved wrong: it showed text as if empty."""
        self._looks.pop(key, None)
        self._unsaved.discard(key)
        self._stamps.pop(key, None)
        if self.folder is not None:
            self._file(key).unlink(missing_ok=True)

    def forget_unconfirmed(self, key: InputKey) -> bool:
        """Drop a look recorded at calibration that no verified delivery confirmed: a draft
        it saw for too long may have been in the input when it was recorded. True when one
        was dropped."""
        look = self.get(key)
        if look is None or look.confirmed:
            return False
        self.forget(key)
        return True

    def save(self) -> None:
        if self.folder is None:
            return
        for key in sorted(self._unsaved):
            try:
                self._looks[key].save(self._file(key))
                self._stamps[key] = self._file(key).stat().st_mtime_ns
            except OSError as exc:
                log.warning("cannot keep the empty look of %s: %s", key[0], exc)
        self._unsaved.clear()

    def _file(self, key: InputKey) -> Path:
        assert self.folder is not None
        return look_file(self.folder, *key)


class LeftText:
    """The inputs that may hold text of an attempt that failed after its paste: the next
    delivery clears them first (a desk-typed leftover is no operator's draft); and when
    each input's clear keys were last pressed (a second Ctrl+C soon after one quits most
    agent CLIs, whichever process pressed the first). Kept in a file as soon as it changes,
    and read again when another process changed it."""

    def __init__(self) -> None:
        self._keys: set[InputKey] = set()
        self._cleared: dict[InputKey, float] = {}  # time.time() of the last clear keys
        self._path: Path | None = None
        self._stamp: int | None = None

    def keep_in(self, path: Path) -> None:
        self._path = path
        self._stamp = None
        self._read()

    def __contains__(self, key: InputKey) -> bool:
        self._read()
        return key in self._keys

    def add(self, key: InputKey) -> None:
        self._read()
        if key not in self._keys:
            self._keys.add(key)
            self._write()

    def discard(self, key: InputKey) -> None:
        self._read()
        if key in self._keys:
            self._keys.discard(key)
            self._write()

    def note_cleared(self, key: InputKey) -> None:
        """The input's clear keys are being pressed now."""
        self._read()
        self._cleared[key] = time.time()
        self._write()

    def cleared_ago(self, key: InputKey) -> float:
        """Seconds since the input's clear keys were last pressed (inf: never, as known)."""
        self._read()
        at = self._cleared.get(key)
        return float("inf") if at is None else max(0.0, time.time() - at)

    def _read(self) -> None:
        if self._path is None:
            return
        try:
            stamp = self._path.stat().st_mtime_ns
            if stamp == self._stamp:
                return
            entries = json.loads(self._path.read_text(encoding="utf-8"))
            if isinstance(entries, list):  # as written before the clear keys' times were
                entries = {"left": entries}
            self._keys = {(str(agent), bool(onboarding)) for agent, onboarding in entries["left"]}
            self._cleared = {
                (str(agent), bool(onboarding)): float(at)
                for agent, onboarding, at in entries.get("cleared", [])
            }
            self._stamp = stamp
        except FileNotFoundError:
            self._stamp = None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("cannot read the inputs the desk left text in (%s): %s", self._path, exc)

    def _write(self) -> None:
        if self._path is None:
            return
        # a clear this long ago tells nothing any more
        old = time.time() - CLEARED_KEPT_S
        self._cleared = {key: at for key, at in self._cleared.items() if at > old}
        entries = {
            "left": sorted([a, o] for a, o in self._keys),
            "cleared": sorted([a, o, at] for (a, o), at in self._cleared.items()),
        }
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self._path, json.dumps(entries))
            self._stamp = self._path.stat().st_mtime_ns
        except OSError as exc:
            log.warning("cannot keep the inputs the desk left text in (%s): %s", self._path, exc)


class OwnInput:
    """Spans of time the desk sent input, and the operator's last input seen outside them."""

    def __init__(self) -> None:
        self._spans: deque[tuple[float, float]] = deque(maxlen=OWN_KEPT)  # monotonic
        self._operator_at = float("-inf")

    @contextmanager
    def typing(self) -> Iterator[None]:
        """Whatever input the X server sees meanwhile is the desk's."""
        started = time.monotonic()
        try:
            yield
        finally:
            self._spans.append((started, time.monotonic()))

    def operator_idle_s(self, x11: Desktop) -> float:
        """Seconds since the last input that was not the desk's own. Input the operator
        gave while the desk typed is hidden by the desk's: read this before typing."""
        now = time.monotonic()
        last = now - x11.idle_s()
        spans = self._spans
        if not any(start - OWN_SLACK_S <= last <= end + OWN_SLACK_S for start, end in spans):
            self._operator_at = max(self._operator_at, last)
        return now - self._operator_at

    def untouched_since_last(self, x11: Desktop) -> bool:
        """Whether nobody but the desk used mouse or keyboard since the desk last typed
        (False before it ever typed)."""
        if not self._spans:
            self.operator_idle_s(x11)
            return False
        since = time.monotonic() - self._spans[-1][1]
        return self.operator_idle_s(x11) >= since

    def load(self, path: Path) -> None:
        """Take the spans a desk process saved (the last one to type in this home)."""
        try:
            spans = json.loads(path.read_text(encoding="utf-8"))
            offset = time.monotonic() - time.time()
            self._spans.extend((float(a) + offset, float(b) + offset) for a, b in spans)
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError) as exc:
            log.warning("cannot read when the desk last typed (%s): %s", path, exc)

    def save(self, path: Path) -> None:
        if not self._spans:
            return
        offset = time.time() - time.monotonic()
        text = json.dumps([[a + offset, b + offset] for a, b in self._spans])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
        except OSError as exc:
            log.warning("cannot keep when the desk last typed (%s): %s", path, exc)


@dataclass
class _Taken:
    pointer: tuple[int, int]
    focus: int
    left_pointer: tuple[int, int] | None = None
    left_focus: int | None = None
    left_at: float = 0.0


class Loan:
    """Pointer and focus borrowed from the operator for a run of deliveries."""

    def __init__(self) -> None:
        self._taken: _Taken | None = None

    def borrow(self, x11: Desktop, own: OwnInput) -> None:
        """Note pointer and focus before the first click of a run. An operator who used the
        screen since the last delivery of the run (a run goes on while deliveries keep
        coming) starts it afresh: what is given back at its end is what they left now, not
        what they had before its first delivery."""
        taken = self._taken
        if taken is not None and taken.left_pointer is not None and _used_since(taken, x11, own):
            taken = None
        if taken is None:
            self._taken = _Taken(x11.pointer(), x11.focus_window())

    def left(self, x11: Desktop) -> None:
        """Note where a delivery left pointer and focus."""
        if self._taken is not None:
            self._taken.left_pointer = x11.pointer()
            self._taken.left_focus = x11.focus_window()
            self._taken.left_at = time.monotonic()

    def forget(self) -> None:
        """The operator took the screen back (or it cannot be told): nothing to give."""
        self._taken = None

    def give_back(self, x11: Desktop, own: OwnInput) -> None:
        """Pointer and focus back as they were, unless the operator moved either or used the
        screen since the last delivery. (A pointer resting in a fail-safe corner is never
        taken: the first click of the run stops on it, and the loan is forgotten.)"""
        taken, self._taken = self._taken, None
        if taken is None or taken.left_pointer is None:
            return
        if _used_since(taken, x11, own):
            log.info("the operator used the screen since the last delivery: nothing given back")
            return
        pointer, focus = x11.pointer(), x11.focus_window()
        if pointer != taken.pointer:
            x11.put_pointer(*taken.pointer)
        if focus != taken.focus and not x11.give_focus(taken.focus, FOCUS_TIMEOUT_S):
            log.warning("the keyboard focus did not go back to window %#x", taken.focus)


def _used_since(taken: _Taken, x11: Desktop, own: OwnInput) -> bool:
    """Whether the operator moved pointer or focus, or gave any input, since the delivery
    that left them as ``taken`` notes."""
    return (
        x11.pointer() != taken.left_pointer
        or x11.focus_window() != taken.left_focus
        or own.operator_idle_s(x11) < time.monotonic() - taken.left_at
    )


def look_file(folder: Path, agent_id: str, onboarding: bool) -> Path:
    """Where the empty look of an agent's chat (or onboarding) input is kept."""
    return folder / f"{agent_id}.{'onboarding' if onboarding else 'chat'}.look"

"""The empty look of a chat input, recorded when its point is calibrated: the operator has
just clicked into the input, with nothing in it, so the desk can see a draft there from its
first delivery on. The look stays unconfirmed until a verified delivery replaces it; an
unconfirmed look that holds a delivery back past ``gui.draft_hold_max_s`` is dropped (it may
have been taken with text in the input).
"""

from __future__ import annotations

import time
from pathlib import Path

from coordinates import Point
from messaging.screen.look import EmptyLook, Picture, Rect, differs
from messaging.screen.sharing import look_file
from messaging.screen.x11 import X11

STILL_S = 0.15  # the click's focus ring and caret are drawn once the input is this still
SETTLE_TIMEOUT_S = 1.5
LOOK_EVERY_S = 0.01


def record_empty_look(
    folder: Path,
    agent_id: str,
    onboarding: bool,
    point: Point,
    verify_region: tuple[int, int],
    display: str | None = None,
) -> Path:
    """Look at the input around ``point`` once it has settled and keep that as its empty
    look. Raises :class:`messaging.screen.x11.X11Error` without a display, OSError when the
    file cannot be written."""
    x11 = X11(display)
    try:
        region = Rect.around(point, verify_region, x11.layout())
        picture = _settled(x11, region)
    finally:
        x11.close()
    path = look_file(folder, agent_id, onboarding)
    EmptyLook.learn(picture, point, confirmed=False).save(path)
    return path


def _settled(x11: X11, region: Rect) -> Picture:
    def look() -> Picture:
        return Picture(region, x11.grab(region.x, region.y, region.width, region.height))

    last, still_since = look(), time.monotonic()
    deadline = still_since + SETTLE_TIMEOUT_S
    while time.monotonic() - still_since < STILL_S and time.monotonic() < deadline:
        time.sleep(LOOK_EVERY_S)
        now = look()
        if differs(now, last):
            last, still_since = now, time.monotonic()
    return last


def empty_look_state(folder: Path, agent_id: str, onboarding: bool) -> str:
    """What the desk knows of how the input looks empty: ``unknown`` (the first delivery
    asks the input itself, with select-all), ``calibrated`` (recorded by ``coords
    calibrate``, not yet seen again), ``learnt`` (from a verified submission) or ``probed``
    (and a select-all found the input empty while it looked so)."""
    look = EmptyLook.load(look_file(folder, agent_id, onboarding))
    if look is None:
        return "unknown"
    if look.probed:
        return "probed"
    return "learnt" if look.confirmed else "calibrated"

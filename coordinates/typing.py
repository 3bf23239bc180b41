"""How to type into one agent's chat app: the keys that paste and submit, and how the
deliverer checks on screen that a message was sent.

Kept per agent in the coordinates file beside its points (all optional)::

    "paste_keys": "ctrl+shift+v",   # default "ctrl+v"; terminals: ctrl+shift+v or shift+insert
    "submit_keys": "enter",         # default "enter"; some apps send with "ctrl+enter"
    "clear_keys": ["ctrl+c"],       # default ["ctrl+a", "delete"]: empties a leftover input
    "select_all_keys": "ctrl+a",    # default "ctrl+a": selects the input's text, to see
                                    # whether it holds any before the desk has seen it empty
    "verify": true,                 # default true: read the chat input's pixels
    "verify_region": [600, 160],    # default: the rectangle read, centred on the chat point
    "submit_after_s": 0.2,          # default 0: the least time from the pasted text showing
                                    # to the submit keys (Gemini CLI takes an Enter within
                                    # 40 ms of a paste as a new line, by a timer that runs
                                    # late on a busy machine)
    "wait_for_prompt": true         # default false: type only while the line at the chat
                                    # point looks as it does idle and empty (Aider takes a
                                    # paste line by line while it answers)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MODIFIERS = frozenset({"ctrl", "shift", "alt", "super", "meta", "altgr"})
NAMED_KEYS = frozenset(
    {
        "enter", "return", "insert", "tab", "space", "backspace", "delete", "escape",
        "home", "end", "pageup", "pagedown", "up", "down", "left", "right",
        *(f"f{n}" for n in range(1, 13)),
    }
)  # fmt: skip
_SINGLE = re.compile(r"[a-z0-9]")
DEFAULT_PASTE_KEYS = ("ctrl", "v")
DEFAULT_SUBMIT_KEYS = ("enter",)
DEFAULT_CLEAR_KEYS = (("ctrl", "a"), ("delete",))
DEFAULT_SELECT_ALL_KEYS = ("ctrl", "a")
DEFAULT_REGION = (600, 160)
REGION_LIMITS = ((16, 3000), (8, 2000))  # (min, max) width, then height, in pixels
SUBMIT_AFTER_MAX_S = 5.0
_EXAMPLES = "like 'ctrl+v', 'ctrl+shift+v', 'shift+insert', 'enter' or 'ctrl+enter'"


class KeysError(ValueError):
    """A key combination that cannot be pressed; the message says what would work."""


@dataclass(frozen=True)
class Typing:
    """One agent's way of taking a message (the defaults suit IDE chat panes)."""

    paste_keys: tuple[str, ...] = DEFAULT_PASTE_KEYS
    submit_keys: tuple[str, ...] = DEFAULT_SUBMIT_KEYS
    clear_keys: tuple[tuple[str, ...], ...] = DEFAULT_CLEAR_KEYS  # pressed one after another
    select_all_keys: tuple[str, ...] = DEFAULT_SELECT_ALL_KEYS  # the draft probe's keys
    verify: bool = True
    verify_region: tuple[int, int] = DEFAULT_REGION
    submit_after_s: float = 0.0  # the least time between the paste showing and the submit keys
    wait_for_prompt: bool = False  # the chat point's line must look idle and empty to type

    @property
    def paste(self) -> str:
        return "+".join(self.paste_keys)

    @property
    def submit(self) -> str:
        return "+".join(self.submit_keys)


DEFAULT_TYPING = Typing()


def parse_keys(value: Any) -> tuple[str, ...]:
    """``"ctrl+shift+v"`` as ``("ctrl", "shift", "v")``: modifiers first, then one key."""
    if not isinstance(value, str) or not value.strip():
        raise KeysError(f"{value!r} is not a key combination; write one {_EXAMPLES}")
    keys = tuple(part.strip().lower() for part in value.split("+"))
    *modifiers, key = keys
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown or not key:
        raise KeysError(
            f"{value!r}: {unknown[0] if unknown else 'an empty part'!r} is not a modifier "
            f"({', '.join(sorted(MODIFIERS))}); write {_EXAMPLES}"
        )
    if key not in NAMED_KEYS and not _SINGLE.fullmatch(key):
        raise KeysError(
            f"{value!r}: {key!r} is not a key this tool presses (a letter, a digit or one of "
            f"{', '.join(sorted(NAMED_KEYS))}); write {_EXAMPLES}"
        )
    if len(set(modifiers)) != len(modifiers):
        raise KeysError(f"{value!r} names a modifier twice; write {_EXAMPLES}")
    return keys


def parse_region(value: Any) -> tuple[int, int]:
    """``[width, height]`` of the rectangle read around the chat point."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and all(lo <= v <= hi for v, (lo, hi) in zip(value, REGION_LIMITS, strict=True))
    ):
        return (value[0], value[1])
    (wmin, wmax), (hmin, hmax) = REGION_LIMITS
    raise ValueError(
        f"{value!r} is not [width, height] in pixels (width {wmin}..{wmax}, height "
        f"{hmin}..{hmax}); the default is {list(DEFAULT_REGION)}"
    )


def parse_typing(entry: dict[str, Any]) -> Typing:
    """The typing keys of a coordinates file entry; ValueError naming the bad key."""
    fields: dict[str, Any] = {}
    for name in ("paste_keys", "submit_keys", "select_all_keys"):
        if name in entry:
            try:
                fields[name] = parse_keys(entry[name])
            except KeysError as exc:
                raise ValueError(f"{name} {exc}") from None
    if "clear_keys" in entry:
        fields["clear_keys"] = _parse_sequence(entry["clear_keys"])
    for name in ("verify", "wait_for_prompt"):
        if name in entry:
            if not isinstance(entry[name], bool):
                raise ValueError(f"{name} must be true or false, not {entry[name]!r}")
            fields[name] = entry[name]
    if "verify_region" in entry:
        try:
            fields["verify_region"] = parse_region(entry["verify_region"])
        except ValueError as exc:
            raise ValueError(f"verify_region {exc}") from None
    if "submit_after_s" in entry:
        fields["submit_after_s"] = parse_seconds(entry["submit_after_s"])
    return Typing(**fields)


def parse_seconds(value: Any) -> float:
    """``submit_after_s``: seconds from 0 to :data:`SUBMIT_AFTER_MAX_S`."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 <= value <= SUBMIT_AFTER_MAX_S
    ):
        return float(value)
    raise ValueError(
        f"submit_after_s must be a number of seconds from 0 to {SUBMIT_AFTER_MAX_S:g}, like "
        f"0.2 (Gemini CLI), not {value!r}"
    )


def _parse_sequence(value: Any) -> tuple[tuple[str, ...], ...]:
    """``["ctrl+a", "delete"]``: key combinations pressed one after another."""
    if not isinstance(value, list) or not value:
        raise ValueError(
            f'clear_keys must be a list of key combinations, like ["ctrl+a", "delete"] or '
            f'["ctrl+c"], not {value!r}'
        )
    try:
        return tuple(parse_keys(combo) for combo in value)
    except KeysError as exc:
        raise ValueError(f"clear_keys {exc}") from None

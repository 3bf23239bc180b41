"""Key combinations of the coordinates file (``"ctrl+c"``, ``"enter"``) as tmux names them."""

from __future__ import annotations

_NAMED = {
    "enter": "Enter", "return": "Enter", "insert": "IC", "tab": "Tab", "space": "Space",
    "backspace": "BSpace", "delete": "DC", "escape": "Escape", "home": "Home", "end": "End",
    "pageup": "PPage", "pagedown": "NPage", "up": "Up", "down": "Down", "left": "Left",
    "right": "Right", **{f"f{n}": f"F{n}" for n in range(1, 13)},
}  # fmt: skip
_MODIFIERS = {"ctrl": "C-", "alt": "M-", "meta": "M-", "shift": "S-"}


class KeyNotForTmux(ValueError):
    """A combination tmux cannot send (``super``, ``altgr``)."""


def tmux_key(combo: tuple[str, ...]) -> str:
    """``("ctrl", "c")`` as ``"C-c"``, ``("enter",)`` as ``"Enter"``."""
    *modifiers, key = combo
    prefix = ""
    for modifier in modifiers:
        if modifier not in _MODIFIERS:
            raise KeyNotForTmux(
                f"{'+'.join(combo)!r}: tmux cannot press {modifier!r}; use ctrl, alt or shift"
            )
        prefix += _MODIFIERS[modifier]
    return prefix + _NAMED.get(key, key)

"""Discord's rules for registering application commands: a bulk overwrite replaces the
whole list of its scope (global, or one guild), and a list that breaks the documented
limits is refused with 400 / 50035 Invalid Form Body naming the field.

Sections of docs.discord.com/developers: "Interactions › Application Commands"
(Bulk Overwrite Global / Guild Application Commands; Application Command Naming;
Application Command Object, field limits)."""

from __future__ import annotations

import re
from typing import Any

from tests.discord_double.interactions import DiscordError
from tests.discord_double.payloads import Payload

CHAT_INPUT = 1
# "Application Command Naming": CHAT_INPUT names (and option names) match this, lowercase
NAME = re.compile(r"^[-_'\w]{1,32}$")
DESCRIPTION_MAX = 100  # "Application Command Object": description 1-100 characters
OPTIONS_MAX = 25  # "Application Command Object": up to 25 options
CHOICES_MAX = 25  # "Application Command Option Structure": up to 25 choices
GLOBAL_CHAT_INPUT_MAX = 100  # "Registering a Command": 100 global CHAT_INPUT commands


def invalid(errors: Payload) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors)


def validate(commands: Any) -> None:
    """Raise 400 / 50035 for a list Discord would refuse, naming the first bad field."""
    if not isinstance(commands, list):
        raise invalid({"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Must be a list"}]})
    if len(commands) > GLOBAL_CHAT_INPUT_MAX:
        raise invalid({"_errors": [{"code": "LIST_ITEM_COUNT", "message": "Too many"}]})
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        kind = int(command.get("type", CHAT_INPUT))
        key = (str(command.get("name")), kind)
        if key in seen:
            raise invalid({str(index): {"name": _error("DUPLICATE", "name is used twice")}})
        seen.add(key)
        problem = _problem(command, chat_input=kind == CHAT_INPUT)
        if problem is not None:
            raise invalid({str(index): problem})


def _problem(item: Payload, *, chat_input: bool) -> Payload | None:
    name = str(item.get("name", ""))
    if chat_input and (not NAME.match(name) or name != name.lower()):
        return {"name": _error("APPLICATION_COMMAND_INVALID_NAME", f"invalid name {name!r}")}
    description = str(item.get("description", ""))
    if chat_input and not 1 <= len(description) <= DESCRIPTION_MAX:
        return {"description": _error("BASE_TYPE_BAD_LENGTH", "must be 1-100 long")}
    options = item.get("options") or []
    if len(options) > OPTIONS_MAX:
        return {"options": _error("BASE_TYPE_MAX_LENGTH", "at most 25 options")}
    if len(item.get("choices") or []) > CHOICES_MAX:
        return {"choices": _error("BASE_TYPE_MAX_LENGTH", "at most 25 choices")}
    for index, option in enumerate(options):
        problem = _problem(option, chat_input=True)
        if problem is not None:
            return {"options": {str(index): problem}}
    return None


def _error(code: str, message: str) -> Payload:
    return {"_errors": [{"code": code, "message": message}]}

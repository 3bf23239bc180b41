"""Reading the arguments of a tool call: each value checked for its kind, and an error that
names the argument, the value and what to give instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from messaging.errors import MessagingError, shown


class ToolArgumentError(MessagingError):
    """An argument of a tool call is missing, unknown or of the wrong kind."""


class Arguments:
    """The arguments of one call of ``tool``; :meth:`done` refuses any left unread."""

    def __init__(self, tool: str, values: Mapping[str, Any] | None) -> None:
        self.tool = tool
        self.values = dict(values or {})
        self._read: set[str] = set()

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self._take(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(name, value, "a string")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        assert value is not None
        return value

    def texts(self, name: str, *, required: bool = True) -> list[str]:
        """A list of strings; one string alone is taken as a list of one."""
        value = self._take(name, required)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(name, value, "a list of strings")
        if required and not value:
            raise ToolArgumentError(f"{self.tool}: {name} is empty; name at least one")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._take(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._wrong(name, value, "true or false")
        return value

    def number(self, name: str, default: int, lowest: int, highest: int) -> int:
        value = self._take(name, False)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name, value, f"a whole number from {lowest} to {highest}")
        if not lowest <= value <= highest:
            raise ToolArgumentError(
                f"{self.tool}: {name} {value} is out of range; use {lowest} to {highest}"
            )
        return value

    def done(self) -> None:
        """Every argument given was read: an unknown one is an error naming the known ones."""
        unknown = sorted(set(self.values) - self._read)
        if unknown:
            raise ToolArgumentError(
                f"{self.tool}: unknown argument {unknown[0]!r}; it takes "
                + ", ".join(sorted(self._read))
            )

    def _take(self, name: str, required: bool) -> Any:
        self._read.add(name)
        value = self.values.get(name)
        if value is None and required:
            raise ToolArgumentError(f"{self.tool}: the argument {name!r} is missing; give it")
        return value

    def _wrong(self, name: str, value: Any, kind: str) -> ToolArgumentError:
        text = shown(value) if isinstance(value, str) else shown(repr(value))[1:-1]
        return ToolArgumentError(f"{self.tool}: {name} {text} is not {kind}; give {kind}")

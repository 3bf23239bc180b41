"""Typed groups of settings: read-only objects whose fields are checked and converted when a
group is made.

A group subclasses :class:`Group`; each field's annotation gives its type and
:func:`setting` its default, bounds and description. Making a group, from a TOML table, from
variables or in code, converts what it safely can (``"5"`` from a variable to the number 5,
a table to the nested group) and refuses the rest with :class:`SettingsInvalid`, which names
every bad key, its value and what it must be.

This is the whole of what the settings need, at the cost of a few milliseconds of start-up:
agents run the CLI to message each other, and a general validation library took a quarter
of a second to load.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

PLAIN = {int: "an integer", float: "a number", str: "a text", bool: "true or false"}
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class Secret:
    """A value that is never printed: a token, a key, a webhook address."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One bad key: where it sits, the value given and what is wrong."""

    path: tuple[str, ...]
    value: Any
    message: str
    unknown: bool = False

    def within(self, name: str) -> Problem:
        return dataclasses.replace(self, path=(name, *self.path))


class SettingsInvalid(ValueError):
    """Settings that cannot be taken; ``problems`` lists every bad key, in field order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(f"{'.'.join(first.path)}: {first.message}")


@dataclasses.dataclass(frozen=True)
class Bounds:
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` against these bounds, or None."""
        if isinstance(value, str):
            if self.min_length is not None and len(value) < self.min_length:
                return f"must be at least {_count(self.min_length)} long"
            if self.max_length is not None and len(value) > self.max_length:
                return f"must be at most {_count(self.max_length)} long"
            return None
        if self.ge is not None and value < self.ge:
            return f"must be greater than or equal to {_number(self.ge)}"
        if self.gt is not None and value <= self.gt:
            return f"must be greater than {_number(self.gt)}"
        if self.le is not None and value > self.le:
            return f"must be less than or equal to {_number(self.le)}"
        return None


@dataclasses.dataclass(frozen=True)
class Setting:
    """How a field of a group is declared: its default (or a ``factory`` making it), bounds
    and description."""

    default: Any
    factory: Any
    bounds: Bounds
    description: str

    def initial(self) -> Any:
        return self.factory() if self.factory is not None else self.default


def setting(
    default: Any = None,
    *,
    factory: Any = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    description: str = "",
) -> Any:
    """A field of a group: its default (or ``factory`` making it), bounds and description."""
    return Setting(default, factory, Bounds(ge, gt, le, min_length, max_length), description)


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: Any
    declared: Setting


class Group:
    """Base of every settings group: fields are the class's annotated names, their defaults
    plain values or :func:`setting`. Groups are made with keywords, are immutable, and may
    add ``_check_<field>`` static methods returning a problem or None."""

    _declared: ClassVar[dict[str, Setting]]
    _fields: ClassVar[tuple[Field, ...]]

    def __init_subclass__(cls) -> None:
        declared: dict[str, Setting] = {}
        for name in inspect.get_annotations(cls):
            if name.startswith("_"):
                continue
            value = cls.__dict__.get(name)
            declared[name] = value if isinstance(value, Setting) else setting(value)
        cls._declared = declared

    @classmethod
    def fields(cls) -> tuple[Field, ...]:
        """The fields with their resolved types, worked out once per class."""
        if "_fields" not in cls.__dict__:
            hints = typing.get_type_hints(cls)
            cls._fields = tuple(
                Field(name, hints[name], declared) for name, declared in cls._declared.items()
            )
        return cls._fields

    @classmethod
    def from_mapping(cls, data: typing.Mapping[str, Any]) -> Self:
        """The group made from a table; a key that is no field is a problem naming it."""
        unknown = [
            Problem((str(key),), value, "unknown setting", unknown=True)
            for key, value in data.items()
            if key not in cls._declared
        ]
        try:
            group = cls(**{key: value for key, value in data.items() if key in cls._declared})
        except SettingsInvalid as exc:
            raise SettingsInvalid(unknown + exc.problems) from None
        if unknown:
            raise SettingsInvalid(unknown)
        return group

    def __init__(self, **values: Any) -> None:
        strange = sorted(set(values) - set(self._declared))
        if strange:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(strange)}")
        problems: list[Problem] = []
        for field in self.fields():
            raw = values[field.name] if field.name in values else field.declared.initial()
            try:
                value = convert(raw, field.kind)
            except SettingsInvalid as exc:
                problems.extend(p.within(field.name) for p in exc.problems)
                continue
            wrong = None
            if value is not None:
                wrong = field.declared.bounds.problem(value)
                check = getattr(self, f"_check_{field.name}", None)
                if wrong is None and check is not None:
                    wrong = check(value)
            if wrong is not None:
                problems.append(Problem((field.name,), raw, wrong))
            object.__setattr__(self, field.name, value)
        if problems:
            raise SettingsInvalid(problems)

    def replaced(self, **changes: Any) -> Self:
        """A copy with ``changes`` made, checked like a new group; a table given for a nested
        group makes that group anew from it (its other keys take their defaults)."""
        return type(self)(**{**self.as_dict(shallow=True), **changes})

    def as_dict(self, *, shallow: bool = False) -> dict[str, Any]:
        """The values by name; nested groups as dictionaries too unless ``shallow``."""
        return {
            field.name: value.as_dict() if isinstance(value, Group) and not shallow else value
            for field in self.fields()
            for value in (getattr(self, field.name),)
        }

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are read-only; make a copy with .replaced({name}=...)")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group) or type(other) is not type(self):
            return NotImplemented
        return self.as_dict(shallow=True) == other.as_dict(shallow=True)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self.as_dict(shallow=True).items())
        return f"{type(self).__name__}({inner})"


def convert(value: Any, kind: Any) -> Any:
    """``value`` as ``kind``, converting text from variables and tables to nested groups;
    SettingsInvalid (at the empty path) when it cannot be."""
    origin = typing.get_origin(kind)
    if origin is types.UnionType or origin is typing.Union:
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        (inner,) = (option for option in options if option is not type(None))
        return convert(value, inner)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise _invalid(value, "must be a list")
        (item,) = typing.get_args(kind)
        items: list[Any] = []
        problems: list[Problem] = []
        for index, element in enumerate(value):
            try:
                items.append(convert(element, item))
            except SettingsInvalid as exc:
                problems.extend(p.within(str(index)) for p in exc.problems)
        if problems:
            raise SettingsInvalid(problems)
        return items
    if origin is Literal:
        return _choice(value, typing.get_args(kind))
    if isinstance(kind, type):
        if issubclass(kind, Group):
            if isinstance(value, kind):
                return value
            if isinstance(value, typing.Mapping):
                return kind.from_mapping(value)
            raise _invalid(value, "must be a table of settings")
        if issubclass(kind, Enum):
            choice = _choice(value, tuple(member.value for member in kind))
            return kind(choice)
        return _scalar(value, kind)
    raise TypeError(f"settings of type {kind!r} are not supported")


def _scalar(value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if isinstance(value, str | int) else None
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
    elif kind is float:
        number: Any = value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        real = isinstance(number, int | float) and not isinstance(number, bool)
        if real and math.isfinite(number):
            return float(number)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind is Path:
        if isinstance(value, str | Path):
            return Path(value)
        raise _invalid(value, "must be a path")
    elif kind is Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return Secret(value)
        raise _invalid(value, "must be a text")
    else:
        raise TypeError(f"settings of type {kind!r} are not supported")
    raise _invalid(value, f"must be {PLAIN[kind]}")


def _choice(value: Any, choices: tuple[Any, ...]) -> Any:
    plain = value.value if isinstance(value, Enum) else value
    if plain in choices:
        return plain
    names = [repr(choice) for choice in choices]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    raise _invalid(value, f"must be {listed}")


def _invalid(value: Any, message: str) -> SettingsInvalid:
    return SettingsInvalid([Problem((), value, message)])


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _count(length: int) -> str:
    return "1 character" if length == 1 else f"{length} characters"

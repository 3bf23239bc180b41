"""Where settings come from: the home's TOML file, its ``.env`` and the environment, each read
into nested dictionaries for the settings model to validate.

Only our variables are taken from ``.env`` and the environment: ``DISCORD_TOKEN`` and
``CELLPHONE_<TABLE>__<KEY>`` (``CELLPHONE_MESSAGING__MAX_MESSAGE_LENGTH=500``). Other
programs' variables (``OPENAI_API_KEY``) and ours that are no settings
(``CELLPHONE_LOG_LEVEL``, ``CELLPHONE_HOME``) are left alone; an unknown key of a settings
table is kept, so that validation refuses it by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "CELLPHONE_"
TOKEN_NAMES = ("DISCORD_TOKEN", "CELLPHONE_DISCORD_TOKEN")
NESTED = "__"

IsList = Callable[[tuple[str, ...]], bool]


class SourceError(ValueError):
    """A settings file cannot be read; the message names the file and the problem."""


def read_toml(path: Path) -> dict[str, Any]:
    """The settings file as a dictionary; no file is no settings."""
    import tomllib

    data = _read(path)
    if data is None:
        return {}
    try:
        return tomllib.loads(decode(data, str(path)))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from None


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (``export``, quotes and ``#`` comments as
    shells and python-dotenv read them)."""
    data = _read(path)
    if data is None:
        return {}
    variables: dict[str, str] = {}
    for line in decode(data, str(path)).splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        variables[name.strip()] = _unquote(value.strip())
    return variables


class NotUtf8Error(SourceError):
    """Text read from a file, standard input or the command line is not UTF-8."""

    def __init__(self, where: str, data: bytes, offset: int, fix: str) -> None:
        super().__init__(
            f"{where} is not UTF-8 (byte 0x{data[offset]:02x} at offset {offset}); {fix}"
        )


def decode(data: bytes, where: str, fix: str = "save it as UTF-8") -> str:
    """``data`` as UTF-8 text (a byte order mark is dropped), or an error saying where the
    first byte that is no UTF-8 sits and ``fix``, what to do."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(where, data, exc.start, fix) from None


def check_utf8(text: str, where: str, fix: str) -> str:
    """``text`` Python decoded leniently (command-line arguments: bytes that are no UTF-8
    became lone surrogates), or an error naming the first such byte and its offset."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        data = text.encode("utf-8", "surrogateescape")
        offset = len(text[: exc.start].encode("utf-8", "surrogateescape"))
        raise NotUtf8Error(where, data, offset, fix) from None
    return text


def ours(variables: Mapping[str, str], tables: Iterable[str], is_list: IsList) -> dict[str, Any]:
    """Our settings among ``variables``, nested by ``__``: ``{"messaging": {"footer": ...}}``.
    ``tables`` are the top-level names; ``is_list(path)`` says which values are JSON lists."""
    known = set(tables)
    found: dict[str, Any] = {}
    for name, value in variables.items():
        upper = name.upper()
        if upper in TOKEN_NAMES:
            found["discord_token"] = value
            continue
        if not upper.startswith(ENV_PREFIX):
            continue
        path = tuple(upper.removeprefix(ENV_PREFIX).lower().split(NESTED))
        if path[0] not in known:
            continue
        parsed: Any = _json(name, value) if len(path) == 1 or is_list(path) else value
        _put(found, path, parsed)
    return found


def merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """The layers laid over each other, the later winning; tables merge key by key."""
    result: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(result.get(key), dict):
                result[key] = merged(result[key], value)
            else:
                result[key] = value
    return result


def _read(path: Path) -> bytes | None:
    """The file's bytes; None when there is no file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        branch = tree.get(part)
        if not isinstance(branch, dict):
            branch = tree[part] = {}
        tree = branch
    tree[path[-1]] = value


def _json(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise SourceError(
            f'{name} must be JSON here (like [1, 2] or {{"key": 1}}), not {value!r}'
        ) from None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if value[0] == '"':
            inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        return inner
    comment = value.find(" #")
    return value[:comment].rstrip() if comment >= 0 else value

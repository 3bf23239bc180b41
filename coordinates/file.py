"""The coordinates file, ``config/coordinates.json``, in the V2 format.

``{"agents": {"Agent-1": {"chat_input_coordinates": [x, y],
"onboarding_coordinates": [x, y], "description": "...", "active": true}}}``.
``onboarding_input_coords`` is accepted as the older name of ``onboarding_coordinates``.
Keys this program does not know are kept as they are when the file is saved, and so are the
file's mode and, if it is a symlink, the link. A UTF-8 byte order mark (Windows editors
write one) is accepted.

``"uncalibrated": ["chat", "onboarding"]`` marks points that are placeholders (the examples
of ``cellphone init``): nothing is typed at them until they are calibrated, which removes
them from the list.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from config.sources import NotUtf8Error, decode
from coordinates.errors import CoordinatesFileError
from coordinates.tmux import TMUX_KEY, TmuxTarget, parse_tmux
from coordinates.typing import DEFAULT_TYPING, Typing, parse_typing

CHAT_KEY = "chat_input_coordinates"
ONBOARDING_KEYS = ("onboarding_coordinates", "onboarding_input_coords")
UNCALIBRATED_KEY = "uncalibrated"
POINT_KINDS = ("chat", "onboarding")
CLICK_TIMEOUT_S = 60.0  # how long calibration waits for the click on a point
AGENT_ID_PATTERN = re.compile(r"\A[A-Za-z][A-Za-z0-9_-]{0,63}\Z")  # \Z: no trailing newline


class Point(NamedTuple):
    x: int
    y: int

    def __str__(self) -> str:
        return f"({self.x}, {self.y})"


@dataclass(frozen=True)
class AgentEntry:
    """One agent as the file describes it."""

    agent_id: str
    chat_point: Point | None
    onboarding_point: Point | None
    description: str
    active: bool
    window_title: str | None
    uncalibrated: frozenset[str] = frozenset()
    typing: Typing = DEFAULT_TYPING
    tmux: TmuxTarget | None = None  # reached through this tmux pane, not the screen


@dataclass
class CoordinatesFile:
    """The parsed file plus the raw document, so a save keeps what it did not parse."""

    path: Path
    raw: dict[str, Any]
    agents: dict[str, AgentEntry]

    def with_point(self, agent_id: str, kind: str, point: Point) -> CoordinatesFile:
        """A copy with ``kind`` ("chat" or "onboarding") of ``agent_id`` set to ``point``,
        which counts as calibrated from now on."""
        raw = copy.deepcopy(self.raw)
        entry = raw["agents"][agent_id]
        if kind == "chat":
            key = CHAT_KEY
        else:
            key = next((k for k in ONBOARDING_KEYS if k in entry), ONBOARDING_KEYS[0])
        entry[key] = [point.x, point.y]
        if UNCALIBRATED_KEY in entry:
            left = [k for k in entry[UNCALIBRATED_KEY] if k != kind]
            if left:
                entry[UNCALIBRATED_KEY] = left
            else:
                del entry[UNCALIBRATED_KEY]
        return parse_document(raw, self.path)

    def with_description(self, agent_id: str, description: str) -> CoordinatesFile:
        """A copy with the agent's description (its role): one line of printable text."""
        if not (description.strip() and description.isprintable()) or len(description) > 200:
            shown = description if len(description) <= 60 else description[:60] + "…"
            raise CoordinatesFileError(
                f"role {shown!r} is not allowed; use one line of 1 to 200 printable characters"
            )
        raw = copy.deepcopy(self.raw)
        raw["agents"][agent_id]["description"] = description
        return parse_document(raw, self.path)


def load_coordinates(path: Path) -> CoordinatesFile:
    """Read and validate ``path``; errors name the agent and the field."""
    try:
        text = decode(path.read_bytes(), f"coordinates file {path}")
    except NotUtf8Error as exc:
        raise CoordinatesFileError(str(exc)) from None
    except FileNotFoundError:
        raise CoordinatesFileError(
            f"coordinates file {path} not found; run `cellphone init` to create one"
        ) from None
    except OSError as exc:
        raise CoordinatesFileError(f"cannot read coordinates file {path}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CoordinatesFileError(
            f"coordinates file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}:"
            f" {exc.msg}); fix it or restore a backup"
        ) from None
    return parse_document(document, path)


def parse_document(document: Any, path: Path) -> CoordinatesFile:
    if not isinstance(document, dict) or not isinstance(document.get("agents"), dict):
        raise CoordinatesFileError(
            f'{path}: expected an object with an "agents" object mapping ids to entries'
        )
    agents = {
        agent_id: _parse_entry(agent_id, entry, path)
        for agent_id, entry in document["agents"].items()
    }
    return CoordinatesFile(path=path, raw=document, agents=agents)


def _parse_entry(agent_id: str, entry: Any, path: Path) -> AgentEntry:
    if not AGENT_ID_PATTERN.fullmatch(agent_id):
        raise CoordinatesFileError(
            f"{path}: agent id {agent_id!r} is not allowed; use letters, digits, '-' or '_'"
            " starting with a letter (like Agent-1)"
        )
    if not isinstance(entry, dict):
        raise CoordinatesFileError(f"{path}: {agent_id}: entry must be an object")
    onboarding_key = next((k for k in ONBOARDING_KEYS if k in entry), None)
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise CoordinatesFileError(f"{path}: {agent_id}.description must be a string")
    active = entry.get("active", True)
    if not isinstance(active, bool):
        raise CoordinatesFileError(
            f"{path}: {agent_id}.active must be true or false, not {active!r}"
        )
    title = entry.get("window_title")
    if title is not None and (not isinstance(title, str) or not title):
        raise CoordinatesFileError(
            f"{path}: {agent_id}.window_title must be a non-empty string (a regular expression)"
        )
    if title is not None:
        try:
            re.compile(title)
        except re.error as exc:
            raise CoordinatesFileError(
                f"{path}: {agent_id}.window_title {title!r} is not a valid pattern: {exc}"
            ) from None
    return AgentEntry(
        agent_id=agent_id,
        chat_point=_parse_point(agent_id, CHAT_KEY, entry.get(CHAT_KEY), path),
        onboarding_point=(
            _parse_point(agent_id, onboarding_key, entry[onboarding_key], path)
            if onboarding_key
            else None
        ),
        description=description,
        active=active,
        window_title=title,
        uncalibrated=_parse_uncalibrated(agent_id, entry.get(UNCALIBRATED_KEY), path),
        typing=_parse_typing(agent_id, entry, path),
        tmux=_parse_tmux(agent_id, entry.get(TMUX_KEY), path),
    )


def _parse_tmux(agent_id: str, value: Any, path: Path) -> TmuxTarget | None:
    if value is None:
        return None
    try:
        return parse_tmux(value)
    except ValueError as exc:
        raise CoordinatesFileError(f"{path}: {agent_id}.{TMUX_KEY} {exc}") from None


def _parse_typing(agent_id: str, entry: dict[str, Any], path: Path) -> Typing:
    try:
        return parse_typing(entry)
    except ValueError as exc:
        raise CoordinatesFileError(f"{path}: {agent_id}.{exc}") from None


def _parse_uncalibrated(agent_id: str, value: Any, path: Path) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, list) and all(kind in POINT_KINDS for kind in value):
        return frozenset(value)
    raise CoordinatesFileError(
        f'{path}: {agent_id}.{UNCALIBRATED_KEY} must be a list of "chat" and "onboarding"'
        f" (the points not calibrated yet), not {value!r}"
    )


def _parse_point(agent_id: str, field: str, value: Any, path: Path) -> Point | None:
    if value is None:
        return None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return Point(value[0], value[1])
    raise CoordinatesFileError(
        f"{path}: {agent_id}.{field} must be [x, y] with two integers, not {value!r}"
    )


def save_coordinates(document: CoordinatesFile, *, keep_previous: bool = True) -> Path | None:
    """Write atomically; the file it replaces is kept as a timestamped copy beside it.

    Returns the path of that copy, if one was made.
    """
    path = document.path
    text = json.dumps(document.raw, indent=2, ensure_ascii=False) + "\n"
    previous = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if keep_previous and path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            previous = path.with_name(f"{path.name}.{stamp}.bak")
            shutil.copy2(path, previous)
        write_atomic(path, text)
    except OSError as exc:
        raise CoordinatesFileError(
            f"cannot save coordinates file {path}: {exc.strerror or exc};"
            " check that its folder is writable"
        ) from None
    return previous


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8 when a str) to ``path`` so readers see the old file or the new
    one, never half.

    A symlink stays a symlink: the file it points to is replaced. The replaced file's mode
    (and, when running as root, its owner) carry over; a new file gets 0666 less the umask,
    as with any ``open``.
    """
    target = path.resolve()
    try:
        previous: os.stat_result | None = target.stat()
    except FileNotFoundError:
        previous = None
    fd, tmp = _create_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            if previous is not None:
                _copy_owner_and_mode(fh.fileno(), previous)
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_beside(target: Path, attempts: int = 10) -> tuple[int, Path]:
    """A new hidden temporary file next to ``target``, created with mode 0666 so the umask
    applies (``tempfile.mkstemp`` would make it 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for _ in range(attempts):
        tmp = target.with_name(f".{target.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target} after {attempts} tries")


def _copy_owner_and_mode(fd: int, previous: os.stat_result) -> None:
    if os.geteuid() == 0 and (previous.st_uid, previous.st_gid) != (0, os.getegid()):
        os.fchown(fd, previous.st_uid, previous.st_gid)  # before chmod: chown clears setuid
    os.fchmod(fd, stat.S_IMODE(previous.st_mode))

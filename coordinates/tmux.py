"""Where a terminal agent lives in tmux: a target pane, and the tmux server that has it.

Kept in the coordinates file instead of (or beside) a screen point; an agent with a tmux
target is reached through tmux, display or not::

    "tmux": "swarm:agent-3"                                  # a pane of the default server
    "tmux": {"target": "swarm:agent-3", "socket": "swarm"}   # a server started with -L swarm
    "tmux": {"target": "%7", "socket": "/run/swarm.sock"}    # one started with -S PATH
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from coordinates.typing import DEFAULT_CLEAR_KEYS, Typing

TMUX_KEY = "tmux"
CHECK_TIMEOUT_S = 5.0
# a tmux target: session, session:window, session:window.pane, %pane-id, @window-id, $session
_TARGET = re.compile(r"\A[^\s\-][^\x00-\x1f\x7f]{0,199}\Z")
_SOCKET_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_EXAMPLE = '"tmux": "swarm:agent-3" or "tmux": {"target": "swarm:agent-3", "socket": "swarm"}'


# what empties the input of the agent CLIs (Claude Code, Codex CLI, Gemini CLI, Aider): Ctrl+A
# only moves to the line start there
TMUX_CLEAR_KEYS = (("ctrl", "c"),)


def clear_keys_in_tmux(typing: Typing) -> tuple[tuple[str, ...], ...]:
    """The agent's own ``clear_keys``, or Ctrl+C when it left them at the screen's default."""
    return TMUX_CLEAR_KEYS if typing.clear_keys == DEFAULT_CLEAR_KEYS else typing.clear_keys


@dataclass(frozen=True)
class TmuxTarget:
    """A pane (``target`` in tmux's own syntax) of the tmux server named by ``socket``: a
    name (``tmux -L``), a path (``tmux -S``), or None for the default server."""

    target: str
    socket: str | None = None

    def command(self, *arguments: str) -> list[str]:
        """The tmux command line that runs ``arguments`` against this target's server."""
        if self.socket is None:
            server: list[str] = []
        elif "/" in self.socket:
            server = ["-S", self.socket]
        else:
            server = ["-L", self.socket]
        return ["tmux", *server, *arguments]

    def __str__(self) -> str:
        return self.target if self.socket is None else f"{self.target} (socket {self.socket})"


def parse_tmux(value: Any) -> TmuxTarget:
    """The ``tmux`` value of a coordinates file entry; ValueError saying what to write."""
    if isinstance(value, str):
        target, socket = value, None
    elif isinstance(value, dict) and set(value) <= {"target", "socket"} and "target" in value:
        target, socket = value["target"], value.get("socket")
    else:
        raise ValueError(f"{value!r} is not a tmux target; write {_EXAMPLE}")
    if not isinstance(target, str) or not _TARGET.fullmatch(target):
        raise ValueError(
            f"target {target!r} is not a tmux target (session:window.pane, or %pane-id, one "
            "printable line not starting with '-'); `tmux list-panes -a` lists them"
        )
    if socket is not None and not (
        isinstance(socket, str)
        and (_SOCKET_NAME.fullmatch(socket) or (socket.startswith("/") and socket.isprintable()))
    ):
        raise ValueError(
            f"socket {socket!r} is neither a tmux socket name (letters, digits, '.', '_', '-', "
            "as given to tmux -L) nor an absolute path (tmux -S)"
        )
    return TmuxTarget(target, socket)


def locate(pane: TmuxTarget) -> tuple[str | None, str | None]:
    """(the pane's id and command, None) when ``pane`` names a live pane, else (None, why
    not): no tmux, no server on that socket, no such pane, or its program exited."""
    if shutil.which("tmux") is None:
        return None, "tmux is not installed (Debian package tmux)"
    try:
        done = subprocess.run(
            pane.command(  # capture-pane first: display-message takes any target
                "capture-pane", "-p", "-S", "0", "-E", "0", "-t", pane.target, ";",
                "display-message", "-p", "-t", pane.target,
                "#{pane_id} #{pane_dead} #{pane_current_command}",
            ),
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"tmux did not answer within {CHECK_TIMEOUT_S:g} s"
    if done.returncode != 0:
        return None, describe_tmux_error(pane, done.stderr)
    described = done.stdout.rstrip("\n").rpartition("\n")[2]
    pane_id, dead, command = [*described.split(" ", 2), "", ""][:3]
    if dead == "1":
        return None, f"the program in tmux pane {pane} ({pane_id}) has exited"
    return f"{pane_id} {command}".strip(), None


def describe_tmux_error(pane: TmuxTarget, stderr: str) -> str:
    """tmux's complaint about ``pane`` in words that say what to do."""
    said = " ".join(stderr.split()) or "tmux failed"
    if "no server running" in said or "error connecting" in said:
        where = f"socket {pane.socket}" if pane.socket else "the default socket"
        return f"no tmux server runs on {where} ({said}); start the agent's tmux session"
    if "can't find" in said:
        return f"tmux has no pane {pane.target} ({said}); `tmux list-panes -a` lists them"
    return f"tmux refused target {pane}: {said}"

"""How to start one real agent CLI against a model API double: the program and its
arguments, the environment, and the files that take it past its first-run screens.

The CLIs are installed by ``tests/agent_clis/install.sh`` (``tests/run.sh`` runs it and
exports the folder as ``CELLPHONE_TEST_CLIS``)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CLIS_VARIABLE = "CELLPHONE_TEST_CLIS"
HOME_VARIABLES = (b"HOME", b"CODEX_HOME")


@dataclass(frozen=True)
class Recipe:
    name: str  # "claude", "codex", "gemini", "aider"
    argv: tuple[str, ...]
    cwd: Path  # the project folder the CLI works in (trusted, empty)
    env: dict[str, str] = field(default_factory=dict)  # the whole environment to run it with
    ready: str = ""  # text the pane shows once the CLI waits for a prompt

    def shell_command(self) -> str:
        """One line for a shell (or ``tmux new-session``) that starts the CLI."""
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        program = " ".join(shlex.quote(part) for part in self.argv)
        return f"cd {shlex.quote(str(self.cwd))} && exec env -i {assignments} {program}"


def clis_folder() -> Path:
    """Where install.sh put the CLIs; a clear error (never a skip) when it was not run."""
    value = os.environ.get(CLIS_VARIABLE)
    if not value or not Path(value, ".complete").exists():
        raise RuntimeError(
            f"the agent CLIs are not installed ({CLIS_VARIABLE}={value!r}): run the tests with "
            "`bash tests/run.sh`, or set it to what `bash tests/agent_clis/install.sh` prints"
        )
    return Path(value)


def base_environment(home: Path) -> dict[str, str]:
    """A small environment for a CLI whose home folder is ``home`` (its config lives there)."""
    return {
        "HOME": str(home),
        "PATH": f"{clis_folder() / 'npm' / 'node_modules' / '.bin'}:/usr/local/bin:/usr/bin:/bin",
        "TERM": os.environ.get("TERM", "xterm-256color"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def end_processes(root: Path, timeout: float = 5.0) -> list[int]:
    """End the processes of the CLIs started from recipes under ``root``: those whose HOME
    (or CODEX_HOME) lies there, which outlive their terminal (Gemini CLI ignores the hang-up,
    Codex CLI may leave its app server). SIGTERM, then SIGKILL after ``timeout``; returns
    their ids."""
    pids = [pid for pid in _pids() if _home_under(pid, root)]
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    return pids


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _home_under(pid: int, root: Path) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False  # gone, or not ours to read
    for entry in environ.split(b"\0"):
        name, _, value = entry.partition(b"=")
        if name in HOME_VARIABLES and Path(os.fsdecode(value)).is_relative_to(root):
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _signal(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)

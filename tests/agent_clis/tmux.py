"""A real tmux server of a test's own (its own socket), with windows running programs, read
back as the tests' witness."""

from __future__ import annotations

import dataclasses
import subprocess
import time
import uuid
from pathlib import Path

from tests.agent_clis.recipe import Recipe


def in_tmux(recipe: Recipe) -> Recipe:
    """The recipe for a pane of tmux: its terminal is tmux (as for anyone who runs the CLI in
    tmux), whatever terminal runs the tests."""
    return dataclasses.replace(recipe, env=recipe.env | {"TERM": "tmux-256color"})


class TmuxServer:
    def __init__(self, socket_dir: Path, width: int = 150, height: int = 45) -> None:
        self.socket = str(socket_dir / f"tmux-{uuid.uuid4().hex[:8]}.sock")
        self.width = width
        self.height = height
        self.session: str | None = None

    def tmux(self, *arguments: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *arguments],
            input=stdin,
            capture_output=True,
            timeout=10,
            check=True,
        )
        return done.stdout.decode("utf-8", "replace")

    def window(self, name: str, command: str, session: str = "swarm") -> str:
        """Start ``command`` (a shell line) in a new window ``name``; its target."""
        size = ["-x", str(self.width), "-y", str(self.height)]
        if self.session is None:
            self.tmux("new-session", "-d", "-s", session, "-n", name, *size, command)
            self.session = session
        else:
            self.tmux("new-window", "-d", "-t", f"{self.session}:", "-n", name, command)
            self.tmux("resize-window", "-t", f"{self.session}:{name}", *size)
        return f"{self.session}:{name}"

    def capture(self, target: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", target)

    def wait_for(self, target: str, text: str, timeout: float = 60.0) -> str:
        """The pane's text once it shows ``text``; AssertionError with the pane after
        ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.capture(target)
            if text in shown:
                return shown
            assert time.monotonic() < deadline, f"{target} never showed {text!r}:\n{shown}"
            time.sleep(0.05)

    def settle(self, target: str, quiet_s: float = 0.3, timeout: float = 60.0) -> str:
        """The pane's text once it stayed the same for ``quiet_s`` (the CLI finished
        answering and waits); AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        shown, since = self.capture(target), time.monotonic()
        while time.monotonic() - since < quiet_s:
            assert time.monotonic() < deadline, f"{target} never settled:\n{shown}"
            time.sleep(0.03)
            now = self.capture(target)
            if now != shown:
                shown, since = now, time.monotonic()
        return shown

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=10)
        Path(self.socket).unlink(missing_ok=True)

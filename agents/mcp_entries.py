"""The entry that starts ``cellphone mcp --as Agent-N`` from each agent CLI's own
configuration: Claude Code's ``.mcp.json`` (or ``claude mcp add``), Codex CLI's
``config.toml`` (``[mcp_servers.<name>]``) and Gemini CLI's ``settings.json``
(``mcpServers``). Printed for the operator to paste, or added to the file; trusted, each CLI
runs the tools without asking first (an agent working alone cannot answer), by its own
setting: Claude Code's ``permissions.allow`` in ``.claude/settings.json``, Codex CLI's
``default_tools_approval_mode = "approve"``, Gemini CLI's ``"trust": true``."""

from __future__ import annotations

import json
import os
import shlex
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER = "cellphone"  # the name each CLI knows the server by; its tools are mcp__cellphone__...
CLAUDE_RULE = f"mcp__{SERVER}"  # a permission rule of Claude Code allowing every tool of it
CLIS = ("claude", "codex", "gemini")


class McpEntryError(ValueError):
    """An entry that cannot be made or written; the message says what to do."""


@dataclass(frozen=True)
class Launch:
    """How an agent CLI starts the server: a program and its arguments."""

    command: str
    args: list[str]
    trusted: bool = False  # the CLI runs the tools without asking

    @classmethod
    def of(
        cls, home: Path, agent_id: str, program: str | None = None, *, trusted: bool = False
    ) -> Launch:
        return cls(
            program or cellphone_program(),
            ["mcp", "--home", str(home.resolve()), "--as", agent_id],
            trusted,
        )


def cellphone_program() -> str:
    """The ``cellphone`` this process runs as, by its full path (an agent CLI starts it with
    an environment of its own), else the one on PATH."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "cellphone" and argv0.exists():
        return str(argv0.resolve())
    return "cellphone"


def claude_entry(launch: Launch) -> dict[str, Any]:
    """``.mcp.json`` (project scope) of Claude Code."""
    return {
        "mcpServers": {SERVER: {"type": "stdio", "command": launch.command, "args": launch.args}}
    }


def claude_command(launch: Launch) -> str:
    """The ``claude mcp add`` line writing the same entry."""
    words = ["claude", "mcp", "add", "--scope", "project", SERVER, "--", launch.command]
    return shlex.join(words + launch.args)


def codex_entry(launch: Launch) -> str:
    """The ``[mcp_servers.cellphone]`` table of Codex CLI's ``config.toml``. Required: Codex
    waits for the server before the first turn (else a prompt given at start, as ``codex
    exec`` takes it, goes to the model before the tools are listed)."""
    text = (
        f"[mcp_servers.{SERVER}]\n"
        f"command = {_toml_string(launch.command)}\n"
        f"args = [{', '.join(_toml_string(a) for a in launch.args)}]\n"
        "required = true\n"
    )
    return text + ('default_tools_approval_mode = "approve"\n' if launch.trusted else "")


def _codex_table(launch: Launch) -> dict[str, Any]:
    """The table :func:`codex_entry` writes, as TOML reads it."""
    table: dict[str, Any] = {"command": launch.command, "args": launch.args, "required": True}
    if launch.trusted:
        table["default_tools_approval_mode"] = "approve"
    return table


def gemini_entry(launch: Launch) -> dict[str, Any]:
    """The ``mcpServers`` of Gemini CLI's ``settings.json``."""
    server: dict[str, Any] = {"command": launch.command, "args": launch.args}
    if launch.trusted:
        server["trust"] = True
    return {"mcpServers": {SERVER: server}}


def claude_permissions() -> dict[str, Any]:
    """What allows the server's tools in Claude Code's ``.claude/settings.json``."""
    return {"permissions": {"allow": [CLAUDE_RULE]}}


def config_file(cli: str, project: Path | None, environ: dict[str, str] | None = None) -> Path:
    """The file the entry of ``cli`` goes into: Claude Code's ``.mcp.json`` in the project
    folder, Codex CLI's ``config.toml`` in ``CODEX_HOME`` (``~/.codex``), Gemini CLI's
    ``.gemini/settings.json`` in the project folder, or the user's without one."""
    env = os.environ if environ is None else environ
    user = Path(env.get("HOME") or Path.home())
    if cli == "claude":
        return (project or Path.cwd()) / ".mcp.json"
    if cli == "codex":
        return Path(env.get("CODEX_HOME") or user / ".codex") / "config.toml"
    return (project or user) / ".gemini" / "settings.json"


def show_entry(
    cli: str,
    home: Path,
    agent_id: str,
    *,
    project: str | None = None,
    write: bool = False,
    trusted: bool = False,
    program: str | None = None,
    environ: dict[str, str] | None = None,
) -> str:
    """The entry of ``cli`` as text to paste, or, with ``write``, added to its file (and
    a line saying where)."""
    if cli not in CLIS:
        raise McpEntryError(f"unknown agent CLI {cli!r}; use one of: {', '.join(CLIS)}")
    launch = Launch.of(home, agent_id, program, trusted=trusted)
    folder = Path(project) if project is not None else None
    if folder is not None and not folder.is_dir():
        raise McpEntryError(f"project folder {project!r} does not exist; give the CLI's folder")
    target = config_file(cli, folder, environ)
    allow = target.parent / ".claude" / "settings.json"  # Claude Code's, beside .mcp.json
    if write:
        WRITERS[cli](target, launch)
        if cli == "claude" and trusted:
            _merge_allow(allow)
            return f"{SERVER} ({agent_id}) added to {target}, its tools allowed in {allow}"
        return f"{SERVER} ({agent_id}) added to {target}"
    if cli == "claude":
        text = json.dumps(claude_entry(launch), indent=2)
        shown = f"# {target}\n{text}\n# or: {claude_command(launch)}"
        if trusted:
            shown += f"\n# {allow}\n{json.dumps(claude_permissions(), indent=2)}"
        return shown
    if cli == "codex":
        return f"# {target}\n{codex_entry(launch)}".rstrip("\n")
    return f"# {target}\n{json.dumps(gemini_entry(launch), indent=2)}"


def _merge_json(path: Path, entry: dict[str, Any]) -> None:
    """Add the server to ``mcpServers`` of the JSON file at ``path``, keeping the rest."""
    document: Any = {}
    if path.exists():
        try:
            document = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise McpEntryError(
                f"{path} is not JSON ({exc}); fix it, or add the entry by hand"
            ) from None
        if not isinstance(document, dict) or not isinstance(
            document.setdefault("mcpServers", {}), dict
        ):
            raise McpEntryError(f"{path} holds no JSON object with mcpServers; fix it first")
    document.setdefault("mcpServers", {}).update(entry["mcpServers"])
    _write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _merge_allow(path: Path) -> None:
    """Add the server's rule to ``permissions.allow`` of Claude Code's settings at ``path``."""
    document: Any = {}
    if path.exists():
        try:
            document = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise McpEntryError(f"{path} is not JSON ({exc}); add the rule by hand") from None
    allow = document.setdefault("permissions", {}).setdefault("allow", [])
    if not isinstance(allow, list):
        raise McpEntryError(f"{path}: permissions.allow is no list; fix it first")
    if CLAUDE_RULE not in allow:
        allow.append(CLAUDE_RULE)
    _write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _write_claude(path: Path, launch: Launch) -> None:
    _merge_json(path, claude_entry(launch))


def _write_gemini(path: Path, launch: Launch) -> None:
    _merge_json(path, gemini_entry(launch))


def _write_codex(path: Path, launch: Launch) -> None:
    """Append the table, unless the file has one of that name: the same is left as it is,
    another is an error (the file is the user's to edit)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        servers = tomllib.loads(text).get("mcp_servers", {})
    except tomllib.TOMLDecodeError as exc:
        raise McpEntryError(
            f"{path} is not TOML ({exc}); fix it, or add the entry by hand"
        ) from None
    known = servers.get(SERVER)
    if known == _codex_table(launch):
        return
    if known is not None:
        raise McpEntryError(
            f"{path} already has [mcp_servers.{SERVER}] starting something else; remove it, "
            "then write the entry again"
        )
    joined = text + ("\n" if text and not text.endswith("\n") else "")
    _write(path, joined + ("\n" if joined else "") + codex_entry(launch))


WRITERS: dict[str, Callable[[Path, Launch], None]] = {
    "claude": _write_claude,
    "codex": _write_codex,
    "gemini": _write_gemini,
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.writing")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)

"""The CLI starts without the heavy libraries: ``--help`` and ``send`` to the inbox run in a
fresh interpreter, which then says which of them it imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from tests.test_cli import ROOT, headless

HEAVY = ("discord", "openai", "pyautogui", "pynput", "Xlib", "screeninfo", "PIL", "watchdog")
ALSO_HEAVY = ("aiohttp", "cryptography", "markdown_it")  # through discord, backups, help
# what listing the commands needs none of: the store, the event loop, the tables
NOT_FOR_HELP = ("rich", "asyncio", "aiosqlite", "sqlite3", "pydantic")
OURS = ("config.settings", "messaging.store", "messaging.desk", "agents.registry")
# what makes, restores and checks backups: status reads only the newest verification
BACKUP_WORK = ("backups.create", "backups.archive", "backups.restore", "backups.drill")
# the command modules of the packages that offer no messaging command
OTHER_COMMANDS = (
    "agents.cli",
    "backups.cli",
    "bot.cli",
    "coordinates.cli",
    "devlogs.cli",
    "messaging.screen.cli",
)
PROBE = """
import json, sys
import cellphone
try:
    code = cellphone.main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = set({heavy})
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & heavy)
loaded += sorted(set({ours}) & set(sys.modules))
sys.stderr.write("\\nEXIT " + json.dumps(code) + " LOADED " + json.dumps(loaded) + "\\n")
"""


def loaded_by(*argv: str) -> tuple[object, list[str], str]:
    """The exit code of ``cellphone ARGV``, the heavy modules it imported, and its output."""
    heavy, ours = HEAVY + ALSO_HEAVY + NOT_FOR_HELP, OURS + OTHER_COMMANDS + BACKUP_WORK
    probe = PROBE.format(heavy=json.dumps(heavy), ours=json.dumps(ours))
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**headless(os.environ), "COLUMNS": "200"},
        timeout=120,
    )
    last = result.stderr.rstrip().splitlines()[-1]
    assert last.startswith("EXIT "), result.stderr
    code, loaded = last.removeprefix("EXIT ").split(" LOADED ")
    return json.loads(code), json.loads(loaded), result.stdout


@pytest.fixture
def home(tmp_path: Path) -> Path:
    code, _, _ = loaded_by("init", "--home", str(tmp_path / "swarm"))
    assert code == 0
    return tmp_path / "swarm"


def test_help_imports_none_of_the_heavy_libraries() -> None:
    code, loaded, out = loaded_by("--help")
    assert code == 0 and "send" in out and "bot" in out and "coords" in out
    # nor the store, the desk, the settings model or the registry; every command module
    assert loaded == sorted(OTHER_COMMANDS)


def test_send_to_the_inbox_imports_none_of_the_heavy_libraries(home: Path) -> None:
    code, loaded, out = loaded_by("send", "hello", "--to", "Agent-1", "--home", str(home))
    assert code == 0 and "delivered via inbox" in out
    # the store and the event loop it needs, and nothing else of the list: no command
    # module of another package either
    assert set(loaded) == {"asyncio", "aiosqlite", "sqlite3", *OURS}
    assert len(list((home / "agent_workspaces" / "Agent-1" / "inbox").glob("*.md"))) == 1


def test_status_reads_the_backups_without_their_machinery(home: Path) -> None:
    code, loaded, out = loaded_by("status", "--home", str(home))
    assert code == 0 and "checks:" in out
    assert not set(BACKUP_WORK) & set(loaded), loaded
    code, loaded, _ = loaded_by("backup", "create", "--home", str(home))
    assert code == 0 and {"backups.create", "backups.archive"} <= set(loaded)  # seen when used


def test_a_command_that_needs_one_still_gets_it(home: Path) -> None:
    # the probe sees what a command imports: `coords show` draws with PIL
    code, loaded, _ = loaded_by("coords", "show", "--png", str(home / "l.png"), "--home", str(home))
    assert "PIL" in loaded, (code, loaded)


def test_the_outlined_help_is_the_full_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--help` lists the commands without reading their parameters; what it prints must be
    # what the app with every command built prints
    import cellphone

    monkeypatch.setenv("COLUMNS", "120")
    outlined = cellphone.only_the_command_of(["--help"])
    assert all(c.callback is not None for c in outlined.registered_commands)
    assert {c.callback.__name__ for c in outlined.registered_commands} == {"_no_parameters"}
    for args in (["--help"], ["coords", "--help"], []):
        with pytest.raises(SystemExit):
            cellphone.build()(args=args, prog_name="cellphone")
        full = capsys.readouterr()
        assert cellphone.main(args) in (0, 2)
        assert capsys.readouterr() == full and "Commands:" in full.out + full.err


def every_command() -> list[list[str]]:
    import cellphone

    app = cellphone.build()
    names = [[cellphone._name(c)] for c in app.registered_commands]
    for group in app.registered_groups:
        assert group.name and isinstance(group.typer_instance, typer.Typer)
        names += [
            [group.name, cellphone._name(c)] for c in group.typer_instance.registered_commands
        ]
    return names


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_every_command_builds_from_the_names_its_module_loads(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # command modules load their work lazily; a type named in a signature but imported only
    # for the type checker would break the command, and --help shows it at once
    import cellphone

    assert cellphone.main([*command, "--help"]) == 0
    assert "Usage: cellphone " + " ".join(command) in capsys.readouterr().out


def test_each_command_is_built_from_the_package_said_to_offer_it() -> None:
    # `cellphone send` loads only messaging's commands: COMMANDS must name, for every
    # command, the one package that registers it
    import cellphone

    offered: dict[str, str] = {}
    for package in cellphone.REGISTER:
        app = cellphone.build([package])
        names = [cellphone._name(c) for c in app.registered_commands]
        names += [str(g.name) for g in app.registered_groups]
        assert names, package
        offered.update(dict.fromkeys(names, package))
    assert offered == cellphone.COMMANDS
    full = cellphone.build()
    assert len(full.registered_commands) + len(full.registered_groups) == len(offered)


def test_the_installed_command_ends_with_its_code_and_all_it_wrote(tmp_path: Path) -> None:
    """`cellphone` ends its process without tearing the interpreter down: what it wrote to a
    pipe (a few lines still in its buffer, or more than the pipe holds) and its exit code
    get out first."""
    home = tmp_path / "swarm"
    # buffered as the command runs for a user (whose output goes through a pipe to jq, say)
    env = {k: v for k, v in headless(os.environ).items() if k != "PYTHONUNBUFFERED"}

    def command(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "import cellphone; cellphone.run()", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )

    assert command("init", "--home", str(home)).returncode == 0
    body = "".join(f"line {n:05d} of a long message\n" for n in range(600))  # 17,400 chars
    for _ in range(5):
        sent = command("send", "-", "--to", "Agent-1", "--json", "--home", str(home), stdin=body)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["outcomes"][0]["state"] == "delivered"  # a few lines
    history = command("history", "--json", "--home", str(home), "--limit", "5")
    assert history.returncode == 0, history.stderr
    messages = json.loads(history.stdout)  # all of it, past the 64 KiB a pipe holds
    assert len(history.stdout) > 5 * len(body) > 65536 and len(messages) == 5
    assert all(m["body"] == body for m in messages)
    unknown = command("send", "hi", "--to", "Agent-99", "--home", str(home))
    assert unknown.returncode == 2
    assert unknown.stderr.strip().endswith(
        "known agents: " + ", ".join(f"Agent-{n}" for n in range(1, 9))
    )

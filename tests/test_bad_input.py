"""Bad input to every option of every ``cellphone`` command: one row per input, each giving
exit code 2 and one line on standard error saying what is wrong, with nothing changed: the
store holds the same rows, and the home's files (inbox folders, coordinates, pause flag) are
the same bytes.

The commands run in this process (``cellphone.main``), as the console script runs them;
text that is not UTF-8 is passed as Python hands such argv bytes over (lone surrogates).
Backup, doctor and devlog commands have tables of their own beside their tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import cellphone

LONG = "x" * 20_001  # one over messaging.max_message_length
BAD_UTF8 = os.fsdecode(b"caf\xe9")  # what Python makes of the argv bytes 'caf\xe9'
PATHS = ["../x", "/etc", "Agent-1/../.."]


@dataclass(frozen=True)
class Row:
    """``argv`` (``{home}`` is the home, ``{file}`` a plain file in it), run with ``stdin``,
    must exit ``code`` with one line on standard error matching ``line``."""

    what: str
    argv: tuple[str, ...]
    line: str
    code: int = 2
    stdin: bytes = b""

    def __str__(self) -> str:
        return self.what


def row(what: str, line: str, *argv: str, stdin: bytes = b"", code: int = 2) -> Row:
    return Row(what, argv, line, code, stdin)


def home_rows(*command: str) -> list[Row]:
    """--home that is no usable folder, for ``command``."""
    return [
        row(f"{' '.join(command)}: --home is a file", r"is a file, not a directory", *command,
            "--home", "{file}"),
        row(f"{' '.join(command)}: --home empty", r"'--home': it is empty", *command,
            "--home", ""),
        row(f"{' '.join(command)}: --home blank", r"'--home': it is empty", *command, "--home",
            "  "),
        row(f"{' '.join(command)}: --home with a control character",
            r"'--home': .* holds a control character", *command, "--home", "{home}\x07"),
    ]  # fmt: skip


def agent_rows(what: str, *command: str, option: str | None = None) -> list[Row]:
    """Agent ids that are empty, blank, unknown, path-like, over-long or not UTF-8."""
    flag = (option,) if option else ()
    rows = [
        row(f"{what}: empty agent", r"unknown agent ''.*Agent-1", *command, *flag, ""),
        row(f"{what}: blank agent", r"unknown agent '  '.*Agent-1", *command, *flag, "  "),
        row(f"{what}: unknown agent", r"unknown agent 'Agent-99'.*Agent-1", *command, *flag,
            "Agent-99"),
        row(f"{what}: agent with a new line", r"unknown agent 'Agent-1\\n'", *command, *flag,
            "Agent-1\n"),
        row(f"{what}: over-long agent", r"unknown agent 'AAAA", *command, *flag, "A" * 300),
        row(f"{what}: agent not UTF-8", r"argument \d+ is not UTF-8 \(byte 0xe9 at offset 3\)",
            *command, *flag, BAD_UTF8),
    ]  # fmt: skip
    rows += [
        row(f"{what}: path-like agent {p!r}", rf"unknown agent '{re.escape(p)}'", *command, *flag,
            p)
        for p in PATHS
    ]  # fmt: skip
    return rows


def text_rows(*command: str) -> list[Row]:
    """The message text of send and broadcast."""
    return [
        row(f"{command[0]}: empty text", r"message text is empty", *command, ""),
        row(f"{command[0]}: blank text", r"message text is empty", *command, " \n\t "),
        row(f"{command[0]}: over-long text", r"message is 20,001 characters; the maximum is 20,000",
            *command, LONG),
        row(f"{command[0]}: text with a control character",
            r"control character '\\x1b' at position 4", *command, "red \x1b[31m alert"),
        row(f"{command[0]}: text with a NUL", r"control character '\\x00' at position 1",
            *command, "a\x00b"),
        row(f"{command[0]}: text not UTF-8", r"argument \d is not UTF-8 \(byte 0xe9 at offset 3\)",
            *command, BAD_UTF8),
        row(f"{command[0]}: stdin not UTF-8",
            r"standard input is not UTF-8 \(byte 0xff at offset 6\)", command[0], "-",
            *command[1:], stdin=b"hello \xff"),
        row(f"{command[0]}: stdin empty", r"message text is empty", command[0], "-",
            *command[1:], stdin=b""),
    ]  # fmt: skip


def option_rows(what: str, option: str, line: str, *command: str) -> list[Row]:
    """A free-text option: empty, blank, over-long, a control character, not UTF-8."""
    return [
        row(f"{what}: empty {option}", line, *command, option, ""),
        row(f"{what}: blank {option}", line, *command, option, "   "),
        row(f"{what}: over-long {option}", line, *command, option, "y" * 300),
        row(f"{what}: {option} with a new line", line, *command, option, "x\ny[C2A]"),
        row(f"{what}: {option} with a control character", line, *command, option, "a\x07b"),
        row(f"{what}: {option} not UTF-8", r"argument \d+ is not UTF-8", *command, option,
            BAD_UTF8),
    ]  # fmt: skip


def message_id_rows(what: str, *command: str, option: str | None = None) -> list[Row]:
    flag = (option,) if option else ()
    return [
        row(f"{what}: empty message id", r"no message with id ''", *command, *flag, ""),
        row(f"{what}: blank message id", r"no message with id '  '", *command, *flag, "  "),
        row(f"{what}: unknown message id", r"no message with id 'nope'", *command, *flag, "nope"),
        row(f"{what}: path-like message id", r"no message with id '\.\./x'", *command, *flag,
            "../x"),
        row(f"{what}: message id with a control character", r"no message with id 'a\\x07'",
            *command, *flag, "a\x07"),
        row(f"{what}: over-long message id", r"no message with id 'iii", *command, *flag,
            "i" * 300),
        row(f"{what}: message id not UTF-8", r"argument \d+ is not UTF-8", *command, *flag,
            BAD_UTF8),
    ]  # fmt: skip


SEND = ("send", "hello", "--to", "Agent-1")
ROWS: list[Row] = [
    # -- init, agents
    *home_rows("init"),
    *home_rows("agents"),
    row("agents: --json given a value", r"Got unexpected extra argument", "agents", "--json",
        "yes"),
    # -- send
    *text_rows("send", "--to", "Agent-1"),
    row("send: no --to", r"Missing option '--to'", "send", "hello"),
    *agent_rows("send", "send", "hello", option="--to"),
    row("send: empty priority", r"unknown priority ''; use one of: normal, urgent, critical",
        *SEND, "-p", ""),
    row("send: unknown priority", r"unknown priority 'loud'; use one of", *SEND, "-p", "loud"),
    row("send: priority with a new line", r"unknown priority 'urgent\\n'", *SEND,
        "--priority", "urgent\n"),
    row("send: empty type", r"unknown message type ''; use one of: operator-to-agent", *SEND,
        "--type", ""),
    row("send: unknown type", r"unknown message type 'gossip'", *SEND, "--type", "gossip"),
    *option_rows("send", "--sender", r"sender .* is not allowed; use one line", *SEND),
    *option_rows("send", "--key", r"idempotency key .* one line of 1 to 200 printable", *SEND),
    row("send: a used key with another text", r"key 'k1' was already used by message", *SEND,
        "--key", "k1"),
    row("send: a used key with other recipients", r"key 'k1' was already used", "send",
        "first message", "--to", "Agent-2", "--key", "k1"),
    *agent_rows("send --from", *SEND, option="--from"),
    *message_id_rows("send --reply-to", *SEND, option="--reply-to"),
    *home_rows(*SEND),
    row("send: --home without a home in it", r"coordinates file .* not found; run `cellphone init`",
        *SEND, "--home", "{home}/nothing-here"),
    # -- broadcast
    *text_rows("broadcast"),
    *agent_rows("broadcast --exclude", "broadcast", "hello", option="--exclude"),
    row("broadcast: everyone excluded", r"every active agent is excluded", "broadcast", "hi",
        *[arg for n in range(1, 9) for arg in ("-x", f"Agent-{n}")]),
    row("broadcast: unknown priority", r"unknown priority 'loud'", "broadcast", "hi",
        "-p", "loud"),
    *option_rows("broadcast", "--key", r"idempotency key .* one line of 1 to 200", "broadcast",
                 "hi"),
    *home_rows("broadcast", "hi"),
    # -- retry, history, status, deliver
    *message_id_rows("retry", "retry"),
    row("retry: no message id", r"Missing argument 'message_id'", "retry"),
    *home_rows("retry", "nope"),
    *agent_rows("history --agent", "history", option="--agent"),
    row("history: --limit 0", r"Invalid value for '--limit'", "history", "--limit", "0"),
    row("history: --limit -1", r"Invalid value for '--limit'", "history", "--limit", "-1"),
    row("history: --limit 1001", r"Invalid value for '--limit'", "history", "--limit", "1001"),
    row("history: --limit empty", r"Invalid value for '--limit'", "history", "--limit", ""),
    row("history: --limit not a number", r"Invalid value for '--limit'", "history", "--limit",
        "ten"),
    row("history: --search with a control character", r"search 'a\\x07' holds a control",
        "history", "--search", "a\x07"),
    row("history: --search over-long", r"search 'sss.*' is 1001 characters; use at most 1000",
        "history", "--search", "s" * 1001),
    row("history: --search not UTF-8", r"argument 3 is not UTF-8", "history", "--search",
        BAD_UTF8),
    *message_id_rows("history --thread", "history", option="--thread"),
    *home_rows("history"),
    *home_rows("status"),
    *home_rows("deliver"),
    # -- pause, resume, ack
    *option_rows("pause", "--reason", r"pause reason .* one line of 1 to 200 printable",
                 "pause"),
    *home_rows("pause"),
    *home_rows("resume"),
    *message_id_rows("ack", "ack", "--agent", "Agent-1"),
    *agent_rows("ack --agent", "ack", "nope", option="--agent"),
    row("ack: no message id", r"Missing argument 'message_ids'", "ack", "--agent", "Agent-1"),
    *home_rows("ack", "nope", "--agent", "Agent-1"),
    # -- onboard, demo, bot
    *agent_rows("onboard", "onboard"),
    row("onboard: an agent and --all", r"name one AGENT or pass --all", "onboard", "Agent-1",
        "--all"),
    row("onboard: neither agent nor --all", r"name one AGENT or pass --all", "onboard"),
    *home_rows("onboard", "--all"),
    *home_rows("demo"),
    row("demo: placeholder points", r"chat points of Agent-1.*are placeholders", "demo"),
    *home_rows("bot"),
    row("bot: no token", r"DISCORD_TOKEN is not set; put DISCORD_TOKEN=", "bot"),
    # -- coords (headless here: each command first reads the monitors, and says there are none)
    *home_rows("coords", "check"),
    row("coords check: no display", r"no display", "coords", "check"),
    *[r for r in agent_rows("coords calibrate", "coords", "calibrate") if "UTF-8" in r.what],
    row("coords calibrate: an unknown agent, no display", r"no display", "coords",
        "calibrate", "Agent-99"),
    row("coords calibrate: an agent and --all", r"name one AGENT or pass --all", "coords",
        "calibrate", "Agent-1", "--all"),
    row("coords calibrate: --timeout 0", r"Invalid value for '--timeout'", "coords",
        "calibrate", "Agent-1", "--timeout", "0"),
    row("coords calibrate: --timeout not a number", r"Invalid value for '--timeout'", "coords",
        "calibrate", "Agent-1", "--timeout", "soon"),
    *home_rows("coords", "calibrate", "Agent-1"),
    row("coords show: no --png", r"Missing option '--png'", "coords", "show"),
    row("coords show: no display", r"no display", "coords", "show", "--png", "{home}/l.png"),
    *home_rows("coords", "show", "--png", "{home}/l.png"),
    # -- the command itself
    row("no such command", r"No such command 'sned'", "sned", "hi"),
    row("no such option", r"No such option: --bogus", *SEND, "--bogus"),
]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home made by ``cellphone init`` holding one message sent with key ``k1``."""
    root = tmp_path_factory.mktemp("template") / "swarm"
    with headless():
        assert cellphone.main(["init", "--home", str(root)]) == 0
        sent = ["send", "first message", "--to", "Agent-1", "--key", "k1", "--home", str(root)]
        assert cellphone.main(sent) == 0
    (root / "notes.txt").write_text("a plain file, not a home\n")
    return root


@contextlib.contextmanager
def headless():
    display = os.environ.pop("DISPLAY", None)
    try:
        yield
    finally:
        if display is not None:
            os.environ["DISPLAY"] = display


def state(home: Path) -> dict[str, object]:
    """Every file of the home by content (the database by its rows)."""
    files: dict[str, object] = {}
    for path in sorted(home.rglob("*")):
        name = str(path.relative_to(home))
        if path.is_dir() or name.startswith("var/cellphone.db"):
            continue
        files[name] = path.read_bytes()
    with contextlib.closing(sqlite3.connect(home / "var" / "cellphone.db")) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            files[f"table {table}"] = sorted(map(repr, db.execute(f'SELECT * FROM "{table}"')))
    return files


@pytest.mark.parametrize("case", ROWS, ids=str)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    case: Row,
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "swarm"
    shutil.copytree(template, home, symlinks=True)
    before = state(home)
    argv = [
        arg.replace("{home}", str(home)).replace("{file}", str(home / "notes.txt"))
        for arg in case.argv
    ]
    if "--home" not in argv:
        argv += ["--home", str(home)]
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # a command that took the current folder as home shows here
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(case.stdin), encoding="utf-8"))
    try:
        code = cellphone.main(argv)
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert (code, len(lines)) == (case.code, 1), captured.err
    assert lines[0].startswith("error: "), lines[0]
    assert re.search(case.line, lines[0]), lines[0]
    assert captured.out == ""
    assert state(home) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["swarm"]

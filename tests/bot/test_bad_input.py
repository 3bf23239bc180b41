"""Bad input to every option of every Discord command, through the Discord double: one row
per input, each answered privately with one line saying what is wrong, and nothing changed:
the store holds the same messages and deliveries, the home's files (inbox folders,
coordinates, pause flag) are the same bytes. The audit log gains its row for the command:
every command is audited, refused ones too.

Discord sends text as JSON, so "not UTF-8" arrives as a lone surrogate (``\\ud800``) or as an
attached file whose bytes are not UTF-8. Devlog and backup commands have tables of their own.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import Swarm
from tests.discord_double import Upload

LONG = "x" * 20_001  # one over messaging.max_message_length
PATHS = ["../x", "/etc", "Agent-1/../.."]
SURROGATE = "caf\ud800"


@dataclass(frozen=True)
class Row:
    what: str
    command: str
    options: dict[str, Any]
    line: str  # a regular expression the one line of the answer must match
    admin: bool = False
    files: dict[str, Upload] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.what


def agents(command: str, option: str, admin: bool = False, **others: Any) -> list[Row]:
    bad = ["", "  ", "Agent-99", "Agent-1\n", "A" * 300, "Agent\x07", SURROGATE, *PATHS]
    return [
        Row(f"/{command} {option}={value!r:.20}", command, {option: value, **others},
            r"unknown agent|no agent", admin)
        for value in bad
    ]  # fmt: skip


def texts(command: str, option: str, line: str, admin: bool = False, **others: Any) -> list[Row]:
    bad = {"blank": " \n ", "over-long": LONG, "an escape": "red \x1b[31m", "a NUL": "a\x00",
           "a lone surrogate": SURROGATE}  # fmt: skip
    return [
        Row(f"/{command} {option} {name}", command, {option: value, **others}, line, admin)
        for name, value in bad.items()
    ]


def message_ids(command: str, option: str, admin: bool = False) -> list[Row]:
    bad = ["", "  ", "nope", "../x", "a\x07", "i" * 300, SURROGATE]
    return [
        Row(f"/{command} {option}={value!r:.20}", command, {option: value},
            r"no message with id", admin)
        for value in bad
    ]  # fmt: skip


MESSAGE_LINE = r"message text is empty|message is 20,001 characters|control character"
ROWS: list[Row] = [
    *agents("send", "agent", message="hello"),
    *texts("send", "message", MESSAGE_LINE, agent="Agent-1"),
    Row("/send priority loud", "send", {"agent": "Agent-1", "message": "hi", "priority": "loud"},
        r"unknown priority 'loud'"),
    Row("/send file not UTF-8", "send", {"agent": "Agent-1"}, r"not UTF-8",
        files={"file": Upload("brief.md", b"caf\xe9")}),
    Row("/send file of another kind", "send", {"agent": "Agent-1"}, r"not a \.md or \.txt",
        files={"file": Upload("brief.pdf", b"%PDF")}),
    *texts("broadcast", "message", MESSAGE_LINE, admin=True),
    *agents("broadcast", "exclude", admin=True, message="hello"),
    Row("/broadcast priority loud", "broadcast", {"message": "hi", "priority": "loud"},
        r"unknown priority 'loud'", admin=True),
    Row("/broadcast file not UTF-8", "broadcast", {}, r"not UTF-8", admin=True,
        files={"file": Upload("brief.txt", b"\xff\xfe", "text/plain")}),
    *message_ids("retry", "message_id", admin=True),
    *agents("history", "agent"),
    Row("/history search with a control character", "history", {"search": "a\x07"},
        r"search 'a\\x07' holds a control character"),
    Row("/history search over-long", "history", {"search": "s" * 1001},
        r"is 1001 characters; use at most 1000"),
    *message_ids("history", "thread"),
    *agents("role", "agent", admin=True, role="backend"),
    *texts("role", "role", r"role .* is not allowed; use one line", admin=True, agent="Agent-1"),
    *agents("onboard", "target", admin=True),
    *texts("pause", "reason", r"pause reason .* is not allowed; use one line"),
]  # fmt: skip


def state(home: Path) -> dict[str, object]:
    """Every file of the home by content; of the database, every table but the audit log."""
    files: dict[str, object] = {}
    for path in sorted(home.rglob("*")):
        name = str(path.relative_to(home))
        if path.is_dir() or name.startswith(("var/cellphone.db", "var/desk.lock")):
            continue
        files[name] = path.read_bytes()
    with contextlib.closing(sqlite3.connect(home / "var" / "cellphone.db")) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table != "audit" and not table.startswith("messages_fts"):
                files[f"table {table}"] = sorted(map(repr, db.execute(f'SELECT * FROM "{table}"')))
    return files


@pytest.mark.parametrize("case", ROWS, ids=str)
async def test_bad_input_is_one_private_line_and_changes_nothing(case: Row, swarm: Swarm) -> None:
    await swarm.rt.desk.until_idle()
    before = state(swarm.rt.home.root)
    user = swarm.people.admin if case.admin else swarm.people.operator
    sent = await swarm.run(case.command, user, **case.options, **case.files)
    app = swarm.double.application_id
    told = await swarm.double.wait_call(lambda c: sent.owns(c, app) and bool(c.content))
    acknowledged = await swarm.double.callback(sent)
    assert told.ephemeral or acknowledged.ephemeral  # told privately
    assert told.content.count("\n") == 0, told.content
    assert told.content.startswith("⚠️ "), told.content
    assert re.search(case.line, told.content), told.content
    await swarm.audited(f"/{case.command}")  # the command is over
    await swarm.rt.desk.until_idle()
    assert state(swarm.rt.home.root) == before
    assert swarm.screen.jobs == []

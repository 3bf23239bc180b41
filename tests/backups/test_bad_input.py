"""Bad input to the backup commands and the doctor: one row per input, each giving exit
code 2 and one line on standard error naming what is wrong, with the backups unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import ROOT, cellphone, headless

ROWS = [
    ("create: two kinds", r"--incremental and --differential exclude each other",
     ["backup", "create", "--incremental", "--differential"]),
    ("verify: nothing named", r"give a backup id or --all", ["backup", "verify"]),
    ("verify: an id and --all", r"give a backup id or --all \(not both\)",
     ["backup", "verify", "{id}", "--all"]),
    ("verify: unknown id", r"no backup '20990101T000000\.000Z' in .*backup list",
     ["backup", "verify", "20990101T000000.000Z"]),
    ("verify: path-like id", r"no backup '\.\./\.\./etc/passwd'",
     ["backup", "verify", "../../etc/passwd"]),
    ("verify: empty id", r"no backup ''", ["backup", "verify", ""]),
    ("restore: nothing named", r"give a backup id or --at TIME", ["backup", "restore"]),
    ("restore: an id and --at", r"give a backup id or --at TIME \(not both\)",
     ["backup", "restore", "{id}", "--at", "now"]),
    ("restore: --at no time", r"--at 'last tuesday' is not a time",
     ["backup", "restore", "--at", "last tuesday"]),
    ("restore: --at before every backup", r"no verified backup was made at or before",
     ["backup", "restore", "--at", "2001-01-01T00:00", "--to", "{new}"]),
    ("restore: the live home without --force", r"add --force",
     ["backup", "restore", "{id}"]),
    ("restore: --to a file", r"is a file; restore --to a folder",
     ["backup", "restore", "{id}", "--to", "{file}"]),
    ("restore: --to a folder that is not empty", r"add --force",
     ["backup", "restore", "{id}", "--to", "{home}/config"]),
    ("key: an existing file", r"exists; choose another path", ["backup", "key", "{file}"]),
    ("doctor: --home is a file", r"is a file, not a directory", ["doctor"]),
]  # fmt: skip


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("bad-input") / "swarm"
    assert cellphone("init", home=home).returncode == 0
    assert cellphone("broadcast", "hello", home=home).returncode == 0
    created = cellphone("backup", "create", "--json", home=home)
    assert created.returncode == 0, created.stderr
    (home / "plain.txt").write_text("a file")
    return home, json.loads(created.stdout)["id"]


@pytest.mark.parametrize(("what", "line", "argv"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    made: tuple[Path, str], tmp_path: Path, what: str, line: str, argv: list[str]
) -> None:
    home, backup_id = made
    names = {"id": backup_id, "file": str(home / "plain.txt"), "home": str(home),
             "new": str(tmp_path / "new")}  # fmt: skip
    args = [a.format(**names) for a in argv]
    target = home / "plain.txt" if what.startswith("doctor") else home
    before = fingerprint(home)
    if args[:2] == ["backup", "key"]:  # the one command without --home
        result = subprocess.run(
            [sys.executable, "-m", "cellphone", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=headless(os.environ),
            timeout=120,
        )
    else:
        result = cellphone(*args, home=target)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(line, lines[0]), lines[0]
    assert fingerprint(home) == before
    assert not (tmp_path / "new").exists()

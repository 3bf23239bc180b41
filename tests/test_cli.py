"""The ``cellphone`` command's contract: output, --json, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import messaging.store
from cellphone import main as cellphone_main

ROOT = Path(__file__).resolve().parents[1]
ALL = [f"Agent-{n}" for n in range(1, 9)]


def cellphone(
    *args: str, home: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cellphone", *args, "--home", str(home)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**headless(os.environ), "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def headless(environ: os._Environ[str]) -> dict[str, str]:
    """This process's environment without DISPLAY: the CLI as on a server with no screen,
    where every delivery goes to the inbox (the display tests set DISPLAY for the run)."""
    return {name: value for name, value in environ.items() if name != "DISPLAY"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "swarm"
    result = cellphone("init", home=root)
    assert result.returncode == 0, result.stderr
    return root


def inbox(home: Path, agent: str) -> list[Path]:
    return sorted((home / "agent_workspaces" / agent / "inbox").glob("*.md"))


def test_init_makes_a_home_and_keeps_an_existing_file(home: Path) -> None:
    coordinates = home / "config" / "coordinates.json"
    assert set(json.loads(coordinates.read_text())["agents"]) == set(ALL)
    assert (home / "config" / "cellphone.toml").exists()
    for agent in ALL:
        assert (home / "agent_workspaces" / agent / "outbox").is_dir()
    coordinates.write_text('{"agents": {"Agent-1": {}}}')
    again = cellphone("init", home=home)
    assert again.returncode == 0 and "kept existing" in again.stdout
    assert json.loads(coordinates.read_text()) == {"agents": {"Agent-1": {}}}


def test_broadcast_reaches_every_inbox_and_says_so(home: Path) -> None:
    result = cellphone("broadcast", "Hello, swarm", home=home)
    assert result.returncode == 0, result.stderr
    for agent in ALL:
        assert agent in result.stdout
        [letter] = inbox(home, agent)
        assert "Hello, swarm" in letter.read_text()
    assert result.stdout.count("delivered via inbox") == 8
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["agent", "outcome", "via", "detail"]
    assert [line.split()[0] for line in lines[2:10]] == ALL
    assert {line.index("delivered") for line in lines[2:10]} == {lines[1].index("outcome")}
    assert "\x1b[" not in result.stdout  # no colors when the output is no terminal


def test_text_that_looks_like_markup_is_shown_as_it_is(home: Path) -> None:
    # brackets in a message, a devlog title, a pause reason or an error are data; rich took
    # them for markup, and `history`, `pause`, `status` and `resume` ended in a traceback
    # ("closing tag '[/]' ... has nothing to close")
    text = "fix [/] then [red]warn[/red] [bold"
    assert cellphone("send", text, "--to", "Agent-1", home=home).returncode == 0
    history = cellphone("history", home=home)
    assert history.returncode == 0, history.stderr
    assert "fix [/] then [red]warn[/red] [bold" in history.stdout
    devlog = cellphone(
        "devlog", "create", "-a", "Agent-2", "--title", "[/] done", "-", stdin="body", home=home
    )
    assert devlog.returncode in (0, 1), devlog.stderr
    recent = cellphone("devlog", "recent", home=home)
    assert recent.returncode == 0 and "[/] done" in recent.stdout, recent.stderr
    paused = cellphone("pause", "--reason", "back at [/]10", home=home)
    assert paused.returncode == 0 and "back at [/]10" in paused.stdout, paused.stderr
    status = cellphone("status", home=home)
    assert status.returncode == 0 and "paused (back at [/]10)" in status.stdout, status.stderr
    resumed = cellphone("resume", home=home)
    assert resumed.returncode == 0 and "was paused: back at [/]10" in resumed.stdout


def test_send_json_and_stdin(home: Path) -> None:
    body = "line one\nline two ✓ 🚀\n"
    result = cellphone(
        "send",
        "-",
        "--to",
        "Agent-3",
        "--to",
        "Agent-4",
        "-p",
        "urgent",
        "--json",
        home=home,
        stdin=body,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["created"] is True
    assert [(o["agent"], o["state"], o["method"]) for o in data["outcomes"]] == [
        ("Agent-3", "delivered", "inbox"),
        ("Agent-4", "delivered", "inbox"),
    ]
    [letter] = inbox(home, "Agent-3")
    assert data["message_id"] in letter.name
    assert body.strip() in letter.read_text()


def test_key_makes_a_retried_command_send_once(home: Path) -> None:
    first = cellphone("send", "deploy now", "--to", "Agent-2", "--key", "k-1", "--json", home=home)
    again = cellphone("send", "deploy now", "--to", "Agent-2", "--key", "k-1", "--json", home=home)
    assert first.returncode == again.returncode == 0
    assert json.loads(again.stdout)["created"] is False
    assert json.loads(again.stdout)["message_id"] == json.loads(first.stdout)["message_id"]
    assert len(inbox(home, "Agent-2")) == 1
    human = cellphone("send", "deploy now", "--to", "Agent-2", "--key", "k-1", home=home)
    assert "nothing new sent" in human.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (
            ["send", "hi", "--to", "Agent-42"],
            None,
            "unknown agent 'Agent-42'; known agents: Agent-1",
        ),
        (["send", "hi", "--to", "../x"], None, "unknown agent '../x'"),
        (["send", "hi", "--to", "Agent-1/../../etc"], None, "unknown agent 'Agent-1/../../etc'"),
        (["send", "", "--to", "Agent-1"], None, "message text is empty"),
        (["send", "-", "--to", "Agent-1"], "   \n", "message text is empty"),
        (
            ["send", "x" * 20_001, "--to", "Agent-1"],
            None,
            "20,001 characters; the maximum is 20,000",
        ),
        (["send", "hi", "--to", "Agent-1", "-p", "asap"], None, "unknown priority 'asap'"),
        (["send", "hi", "--to", "Agent-1", "--type", "memo"], None, "unknown message type 'memo'"),
        (["broadcast", "hi", "--exclude", "Agent-0"], None, "unknown agent 'Agent-0'"),
        (["history", "--agent", "nobody"], None, "unknown agent 'nobody'"),
        (["retry", "0000"], None, "no message with id '0000'"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(
    home: Path, args: list[str], stdin: str | None, words: str
) -> None:
    result = cellphone(*args, home=home, stdin=stdin)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not list((home / "agent_workspaces").glob("*/inbox/*.md"))
    assert not (home / "agent_workspaces" / "x").exists()


def test_missing_and_corrupt_coordinates_file(tmp_path: Path, home: Path) -> None:
    missing = cellphone("send", "hi", "--to", "Agent-1", home=tmp_path / "nowhere")
    assert missing.returncode == 2
    assert "not found; run `cellphone init`" in " ".join(missing.stderr.split())
    (home / "config" / "coordinates.json").write_text('{"agents": {"Agent-1": {"chat_input')
    corrupt = cellphone("broadcast", "hi", home=home)
    assert corrupt.returncode == 2
    assert "not valid JSON" in corrupt.stderr and "Traceback" not in corrupt.stderr


def test_bad_setting_stops_start_up(home: Path) -> None:
    result = cellphone(
        "broadcast", "hi", home=home, env={"CELLPHONE_MESSAGING__DELIVERY_MODE": "carrier-pigeon"}
    )
    assert result.returncode == 2
    line = " ".join(result.stderr.split())
    assert "messaging.delivery_mode = 'carrier-pigeon'" in line
    assert "CELLPHONE_MESSAGING__DELIVERY_MODE" in line


def test_unwritable_inbox_exits_1_then_deliver_finishes(home: Path) -> None:
    box = home / "agent_workspaces" / "Agent-6" / "inbox"
    shutil.rmtree(box)
    box.write_text("not a folder")
    sent = cellphone("send", "ping", "--to", "Agent-6", "--to", "Agent-7", "--json", home=home)
    assert sent.returncode == 1
    outcomes = {o["agent"]: o for o in json.loads(sent.stdout)["outcomes"]}
    assert outcomes["Agent-7"]["state"] == "delivered"
    assert outcomes["Agent-6"]["state"] == "queued"
    assert str(box) in outcomes["Agent-6"]["reason"]
    status = json.loads(cellphone("status", "--json", home=home).stdout)
    six = next(a for a in status["agents"] if a["agent"] == "Agent-6")
    assert six["queued"] == 1 and str(box) in six["last"]["last_error"]
    box.unlink()
    box.mkdir()
    # `deliver` delivers what is due and leaves what waits on its retry time: wait for it
    # (the commands before take less time than the first retry's 0.5 s now and then)
    with sqlite3.connect(home / "var" / "cellphone.db") as db:
        [(due,)] = db.execute("SELECT next_attempt_at FROM deliveries WHERE agent = 'Agent-6'")
    time.sleep(max(0.0, due - time.time()) + 0.05)
    deliver = cellphone("deliver", home=home)
    assert deliver.returncode == 0, deliver.stdout + deliver.stderr
    assert len(inbox(home, "Agent-6")) == 1
    history = json.loads(cellphone("history", "--agent", "Agent-6", "--json", home=home).stdout)
    assert history[0]["deliveries"][0]["state"] == "delivered"
    assert history[0]["deliveries"][0]["verified"] is None  # written to the inbox: no screen


def test_paused_desk_reports_at_once_and_resume_delivers(home: Path) -> None:
    # gui mode without a display: the screen worker takes these deliveries (and, once
    # resumed, writes them to the inbox: the points of `init` are placeholders), so the pause
    # holds them back.
    env = {
        "CELLPHONE_MESSAGING__DELIVERY_MODE": "gui",
        "CELLPHONE_MESSAGING__WAIT_TIMEOUT_S": "600",
    }
    paused = cellphone("pause", "--reason", "moving windows", home=home)
    assert paused.returncode == 0 and "desk paused: moving windows" in paused.stdout
    sent = cellphone("send", "hold on", "--to", "Agent-1", "--json", home=home, env=env)
    assert sent.returncode == 1, sent.stdout + sent.stderr  # at once, not after 600 s
    data = json.loads(sent.stdout)
    assert data["desk_paused"] == "moving windows"
    assert [(o["agent"], o["state"]) for o in data["outcomes"]] == [("Agent-1", "queued")]
    assert inbox(home, "Agent-1") == []
    status = cellphone("status", home=home)
    assert "the desk is paused (moving windows)" in " ".join(status.stdout.split())
    waiting = cellphone("deliver", home=home, env=env)
    assert waiting.returncode == 1 and "1 deliveries still pending" in waiting.stdout
    resumed = cellphone("resume", home=home)
    assert "was paused: moving windows" in resumed.stdout
    delivered = cellphone("deliver", home=home, env=env)
    assert delivered.returncode == 0, delivered.stdout + delivered.stderr
    [letter] = inbox(home, "Agent-1")
    assert "hold on" in letter.read_text() and "not calibrated" in letter.read_text()


def test_history_search_limit_and_status(home: Path) -> None:
    cellphone("send", "refactor the parser", "--to", "Agent-1", home=home)
    cellphone("send", "write docs", "--to", "Agent-2", home=home)
    cellphone("broadcast", "parser freeze at noon", home=home)
    found = json.loads(cellphone("history", "--search", "parser", "--json", home=home).stdout)
    assert [e["body"] for e in found] == ["parser freeze at noon", "refactor the parser"]
    limited = json.loads(cellphone("history", "--limit", "1", "--json", home=home).stdout)
    assert len(limited) == 1
    table = cellphone("history", home=home)
    assert table.returncode == 0 and "8 delivered via inbox" in table.stdout
    assert limited[0]["id"] in table.stdout  # ids are shown whole, for retry
    status = cellphone("status", home=home)
    assert status.returncode == 0 and "desk: not running; 0 deliveries pending" in status.stdout


def test_agents_lists_roles_and_points(home: Path) -> None:
    rows = json.loads(cellphone("agents", "--json", home=home).stdout)
    assert [r["id"] for r in rows] == ALL
    assert rows[0]["chat_point"] == [480, 480] and rows[0]["active"] is True


def test_home_from_environment(tmp_path: Path) -> None:
    root = tmp_path / "env-home"
    result = subprocess.run(
        [sys.executable, "-m", "cellphone", "init"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, "CELLPHONE_HOME": str(root)},
    )
    assert result.returncode == 0, result.stderr
    assert (root / "config" / "coordinates.json").exists()


def test_init_force_keeps_every_replaced_file(home: Path) -> None:
    coordinates = home / "config" / "coordinates.json"
    coordinates.write_text('{"agents": {"Agent-1": {"description": "mine"}}}')
    first = cellphone("init", "--force", home=home)
    second = cellphone("init", "--force", home=home)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    backups = sorted((home / "config").glob("coordinates.json.*.before-init"))
    assert len(backups) == 2
    assert json.loads(backups[0].read_text()) == {"agents": {"Agent-1": {"description": "mine"}}}
    assert set(json.loads(backups[1].read_text())["agents"]) == set(ALL)


def test_a_damaged_database_is_one_line_and_the_command_ends(home: Path) -> None:
    (home / "var" / "cellphone.db").write_bytes(b"this is no database" * 500)
    result = subprocess.run(
        [sys.executable, "-m", "cellphone", "history", "--home", str(home)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=headless(os.environ),
        timeout=30,  # it used to print the error, then hang on an open connection
    )
    assert result.returncode == 2
    line = " ".join(result.stderr.split())
    assert "is damaged (file is not a database); move it away" in line
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_locked_database_is_one_line_exit_2(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(messaging.store, "BUSY_TIMEOUT_S", 0.2)
    monkeypatch.delenv("DISPLAY", raising=False)
    other = sqlite3.connect(home / "var" / "cellphone.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program writing, for longer than we wait
    try:
        code = cellphone_main(["send", "hi", "--to", "Agent-1", "--home", str(home)])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is locked: another process kept it busy" in err and "try again" in err
    assert "Traceback" not in err


def test_blank_search_and_bad_sender(home: Path) -> None:
    cellphone("send", "hello", "--to", "Agent-1", home=home)
    blank = cellphone("history", "--search", "  ", "--json", home=home)
    assert blank.returncode == 0, blank.stderr
    assert [e["body"] for e in json.loads(blank.stdout)] == ["hello"]
    forged = cellphone("send", "hi", "--to", "Agent-1", "--sender", "Ops\nto: Agent-9", home=home)
    assert forged.returncode == 2
    assert "sender 'Ops\\nto: Agent-9' is not allowed" in forged.stderr
    assert len(inbox(home, "Agent-1")) == 1

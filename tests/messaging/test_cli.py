"""``cellphone send --from / --reply-to / --ack-required``, ``history --thread``, ``ack``
and the unread and overdue counts of ``status``, run as the user runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from messaging.lockfile import ProcessLock
from tests.test_cli import ROOT, cellphone, headless
from tests.test_cli import home as home  # the fixture: a home made by `cellphone init`


def sent_id(result_stdout: str) -> str:
    return str(json.loads(result_stdout)["message_id"])


def test_an_agent_sends_checked_against_the_known_agents(home: Path) -> None:
    ok = cellphone("send", "done", "--to", "Agent-1", "--from", "Agent-3", "--json", home=home)
    assert ok.returncode == 0, ok.stderr
    [entry] = json.loads(cellphone("history", "--json", home=home).stdout)
    assert (entry["sender"], entry["type"]) == ("Agent-3", "agent-to-agent")
    bad = cellphone("send", "hi", "--to", "Agent-1", "--from", "Agent-42", home=home)
    assert bad.returncode == 2
    assert "Agent-42" in bad.stderr and "Agent-1" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    both = cellphone(
        "send", "x", "-t", "Agent-1", "--from", "Agent-3", "--sender", "Bob", home=home
    )
    assert both.returncode == 2 and "not both" in both.stderr


def test_replies_show_as_one_thread(home: Path) -> None:
    first = sent_id(cellphone("send", "Which port?", "-t", "Agent-2", "--json", home=home).stdout)
    answer = cellphone(
        "send",
        "8080",
        "-t",
        "Agent-1",
        "--from",
        "Agent-2",
        "--reply-to",
        first,
        "--json",
        home=home,
    )
    assert answer.returncode == 0, answer.stderr
    cellphone("send", "unrelated", "-t", "Agent-2", home=home)
    thread = json.loads(cellphone("history", "--thread", first, "--json", home=home).stdout)
    assert [e["body"] for e in thread] == ["Which port?", "8080"]
    assert thread[1]["reply_to"] == first
    missing = cellphone("send", "x", "-t", "Agent-1", "--reply-to", "ffffffffffffffff", home=home)
    assert missing.returncode == 2 and "ffffffffffffffff" in missing.stderr


def test_ack_and_the_unread_count(home: Path) -> None:
    asked = sent_id(
        cellphone("send", "ack me", "-t", "Agent-1", "--ack-required", "--json", home=home).stdout
    )
    status = json.loads(cellphone("status", "--json", home=home).stdout)
    [agent1] = [a for a in status["agents"] if a["agent"] == "Agent-1"]
    assert (agent1["unread"], agent1["overdue"]) == (1, 0)
    acked = cellphone("ack", asked, "--agent", "Agent-1", home=home)
    assert acked.returncode == 0 and f"Agent-1 acknowledged {asked}" in acked.stdout
    again = cellphone("ack", asked, "--agent", "Agent-1", home=home)
    assert "already acknowledged" in again.stdout
    status = json.loads(cellphone("status", "--json", home=home).stdout)
    [agent1] = [a for a in status["agents"] if a["agent"] == "Agent-1"]
    assert agent1["unread"] == 0 and agent1["last"]["acked_at"] is not None
    unknown = cellphone("ack", "0000000000000000", "--agent", "Agent-1", home=home)
    assert unknown.returncode == 2 and "0000000000000000" in unknown.stderr


def test_status_shows_a_stalled_agent(home: Path) -> None:
    cellphone("status", home=home)  # makes the database
    with sqlite3.connect(home / "var" / "cellphone.db") as db:
        db.execute(
            "INSERT INTO agent_status (agent, last_seen_at, stalled_at)"
            " VALUES ('Agent-4', '2026-11-01T09:00:00+00:00', '2026-11-01T10:00:00+00:00')"
        )
    status = json.loads(cellphone("status", "--json", home=home).stdout)
    stalled = {a["agent"]: a["stalled_since"] for a in status["agents"]}
    assert stalled["Agent-4"] == "2026-11-01 10:00:00+00:00"
    assert stalled["Agent-1"] is None
    table = cellphone("status", home=home).stdout
    [row] = [line for line in table.splitlines() if "Agent-4" in line]
    assert "stalled since" in row


def test_a_send_whose_desk_ran_elsewhere_is_delivered_once_that_desk_stops(home: Path) -> None:
    """Another process runs the desk when the message is sent (this test holds its lock) and
    stops before taking it, as a `cellphone send` to another agent does after its own
    message: the waiting send starts its own desk and delivers it, well within its wait."""
    other_desk = ProcessLock(home / "var" / "desk.lock")
    assert other_desk.acquire()
    args = [sys.executable, "-m", "cellphone", "send", "while another desk ran", "-t", "Agent-2"]
    sending = subprocess.Popen(
        [*args, "--home", str(home)],
        cwd=ROOT,
        env=headless(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not _stored(home):
            assert time.monotonic() < deadline and sending.poll() is None
            time.sleep(0.05)
    finally:
        other_desk.release()
    out, err = sending.communicate(timeout=30)
    assert sending.returncode == 0, out + err
    assert "Agent-2  delivered via inbox" in out


def _stored(home: Path) -> bool:
    database = home / "var" / "cellphone.db"
    if not database.exists():
        return False
    with sqlite3.connect(database) as db:
        try:
            return bool(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        except sqlite3.OperationalError:  # the schema not made yet
            return False

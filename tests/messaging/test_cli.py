"""``cellphone send --from / --reply-to / --ack-required``, ``history --thread``, ``ack``
and the unread and overdue counts of ``status``, run as the user runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.test_cli import cellphone
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

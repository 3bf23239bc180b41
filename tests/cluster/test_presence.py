"""Whether a desk is there, over a real redis-server and desk processes: a desk killed with
SIGKILL is gone once its heartbeat expires in Redis (ten times its ``away_after_s``: 3 s
here), nothing more is handed to it, what waited for it and what comes after goes to the
inbox at the coordinator saying which desk stopped answering, and `cellphone agents` shows
each agent of another machine with its desk and whether that desk is alive."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agents import UnknownAgentError
from config import Home, load_settings
from messaging.cluster.coordinator import Coordinator
from messaging.cluster.presence import Presence
from messaging.cluster.wire import desk_stream
from messaging.model import DeliveryMethod, DeliveryState, Outcome
from messaging.runtime import Runtime, open_runtime
from tests.cluster.conftest import ROOT, DeskProcess, RedisServer, desk_home, free_port
from tests.cluster.helpers import coordinator_home, copies, until
from tests.conftest import make_home

SHORT_LIVED = "away_after_s = 0.3\n"  # the desk's heartbeat lives 10 x 0.3 = 3 s in Redis


def cluster_of(rt: Runtime) -> Coordinator:
    assert isinstance(rt.desk.remote, Coordinator)
    return rt.desk.remote


async def sent_and_settled(rt: Runtime, agents: list[str], text: str) -> tuple[str, Outcome]:
    sent = await rt.service.send(agents, text)
    outcomes = await rt.desk.wait_for(sent.message.id, 30)
    return sent.message.id, outcomes[agents[0]]


def gone_reason(outcome: Outcome, message_id: str) -> bool:
    reason = outcome.reason or ""
    return (
        outcome.state is DeliveryState.FALLBACK
        and outcome.method is DeliveryMethod.INBOX
        and "desk pc-1 stopped answering (no heartbeat for over 3 s)" in reason
        and f"`cellphone retry {message_id}` hands it to pc-1 once it is back" in reason
    )


async def test_a_desk_killed_without_a_word_is_gone_and_nothing_more_is_handed_to_it(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    home_1 = desk_home(tmp_path / "pc-1", 1, 2, SHORT_LIVED)
    desks.append(DeskProcess("pc-1", home_1, redis_server.url))
    desks[0].start()
    home, settings = coordinator_home(
        tmp_path / "coordinator", redis_server.url, away_after_s=0.5, resend_after_s=1.0
    )
    async with open_runtime(home, settings) as rt:
        cluster = cluster_of(rt)
        await until(lambda: "Agent-2" in rt.registry.current(), 30, "pc-1 announced")
        _, delivered = await sent_and_settled(rt, ["Agent-1"], "while pc-1 is there")
        assert delivered.state is DeliveryState.DELIVERED

        desks[0].kill()  # SIGKILL: no goodbye
        waited = await rt.service.send(["Agent-1", "Agent-2"], "sent as pc-1 died")
        outcomes = await rt.desk.wait_for(waited.message.id, 30)
        assert all(gone_reason(o, waited.message.id) for o in outcomes.values()), outcomes
        assert cluster.presence("pc-1") is Presence.GONE
        assert "[desk pc-1, gone]" in rt.registry.current().get("Agent-1").description
        later, after = await sent_and_settled(rt, ["Agent-1"], "after pc-1 went")
        assert gone_reason(after, later)
        assert await cluster.redis.xlen(desk_stream("pc-1")) == 0  # nothing waits for it
        for message_id in (waited.message.id, later):
            assert copies(home, "Agent-1", message_id) == 1  # the inbox here

        desks[0].start()  # the same home and name, a new process
        await until(lambda: cluster.presence("pc-1") is Presence.ALIVE, 30, "pc-1 back")
        back, delivered = await sent_and_settled(rt, ["Agent-1"], "pc-1 is back")
        assert delivered.state is DeliveryState.DELIVERED
    assert copies(home_1, "Agent-1", back) == 1
    # what went to the inbox at the coordinator was not delivered by pc-1 once back too
    assert copies(home_1, "Agent-1", waited.message.id) == 0
    assert copies(home_1, "Agent-1", later) == 0


def agents_listed(home: Home, *options: str) -> subprocess.CompletedProcess[str]:
    return cellphone(home, "agents", *options)


def cellphone(home: Home, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cellphone", *arguments, "--home", str(home.root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "250"},
        timeout=60,
    )


async def listed(home: Home) -> dict[str, Any]:
    done = await asyncio.to_thread(agents_listed, home, "--json")
    assert done.returncode == 0, done.stderr
    return {row["id"]: row["desk"] for row in json.loads(done.stdout)}


async def test_agents_shows_each_agent_of_another_desk_with_its_desk_and_whether_it_is_alive(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    for name, first in (("pc-1", 1), ("pc-2", 3)):
        home_n = desk_home(tmp_path / name, first, 2, SHORT_LIVED)
        desks.append(DeskProcess(name, home_n, redis_server.url))
        desks[-1].start()
    home = make_home(tmp_path / "coordinator", {"agents": {"Agent-9": {"description": "local"}}})
    home.settings_file.write_text(
        f'[messaging]\ndelivery_mode = "inbox"\n[cluster]\nredis_url = "{redis_server.url}"\n'
        "heartbeat_s = 0.2\naway_after_s = 0.5\n",
        encoding="utf-8",
    )
    async with open_runtime(home, load_settings(home)) as rt:
        cluster = cluster_of(rt)
        await until(lambda: len(rt.registry.current()) == 5, 30, "4 agents announced")
        alive = await listed(home)
        assert alive["Agent-9"] is None  # this machine's
        assert {a: (d["name"], d["presence"]) for a, d in alive.items() if d} == {
            "Agent-1": ("pc-1", "alive"),
            "Agent-2": ("pc-1", "alive"),
            "Agent-3": ("pc-2", "alive"),
            "Agent-4": ("pc-2", "alive"),
        }

        desks[1].kill()
        await until(lambda: cluster.presence("pc-2") is Presence.GONE, 30, "pc-2 gone")
        after = await listed(home)
        assert after["Agent-1"]["presence"] == "alive"
        assert after["Agent-3"] == after["Agent-4"]
        assert after["Agent-3"] == {
            "name": "pc-2",
            "presence": "gone",
            "silent_s": None,
            "gone_after_s": 3.0,
        }
        table = await asyncio.to_thread(agents_listed, home)
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if "Agent-3" in line)
    assert "pc-2: gone, no heartbeat for over 3 s" in line and "on desk pc-2" in line
    assert "pc-1: alive" in next(ln for ln in table.stdout.splitlines() if "Agent-1" in ln)


async def test_a_coordinator_started_after_a_desk_died_names_its_agents_as_gone(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    """The roster keeps the last beat of every desk seen: a coordinator started again after
    pc-1's heartbeat expired knows Agent-1 as pc-1's, gone, instead of as no agent at all,
    until `cellphone desk --forget` drops pc-1."""
    home_1 = desk_home(tmp_path / "pc-1", 1, 2, SHORT_LIVED)
    desks.append(DeskProcess("pc-1", home_1, redis_server.url))
    desks[0].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    home.settings_file.write_text(f'[cluster]\nredis_url = "{redis_server.url}"\n')
    async with open_runtime(home, settings) as rt:
        await until(lambda: "Agent-2" in rt.registry.current(), 30, "pc-1 announced")
        desks[0].kill()
        await until(lambda: cluster_of(rt).presence("pc-1") is Presence.GONE, 30, "pc-1 gone")
    async with open_runtime(home, settings) as rt:  # a new coordinator process, in effect
        assert "[desk pc-1, gone]" in rt.registry.current().get("Agent-2").description
        message_id, outcome = await sent_and_settled(rt, ["Agent-2"], "to a gone desk's agent")
        forgot = await asyncio.to_thread(cellphone, home, "desk", "--forget", "--name", "pc-1")
        await until(lambda: "Agent-2" not in rt.registry.current(), 30, "pc-1 forgotten")
        with pytest.raises(UnknownAgentError):
            await rt.service.send(["Agent-2"], "to no one")
    again = await asyncio.to_thread(cellphone, home, "desk", "--forget", "--name", "pc-1")
    assert gone_reason(outcome, message_id), outcome
    assert forgot.returncode == 0 and "desk pc-1 forgotten" in forgot.stdout, forgot.stderr
    assert again.returncode == 2 and "no desk 'pc-1' is known" in again.stderr, again.stderr
    assert await listed(home) == {}  # no agent left on any desk


def test_agents_says_in_one_line_when_the_coordinators_redis_does_not_answer(
    tmp_path: Path,
) -> None:
    home = make_home(tmp_path / "coordinator", {"agents": {"Agent-9": {}}})
    url = f"redis://127.0.0.1:{free_port()}"  # nothing listens there
    home.settings_file.write_text(f'[cluster]\nredis_url = "{url}"\n', encoding="utf-8")
    done = agents_listed(home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot reach Redis at {url} (cluster.redis_url)" in done.stderr

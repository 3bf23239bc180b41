"""The kill drills with typed lanes: 24 agents in tmux panes on three desk processes, each
pane a terminal chat input (tests/cluster/pane_chat.py) that appends every message it is
sent to a witness file. A desk killed with SIGKILL mid-broadcast and started again, and
redis-server killed and started again from its append-only file: every delivery ends
delivered or in the agent's inbox on its desk, none reaches a pane twice, and every one the
coordinator reports "delivered via tmux" reached its pane once.

A desk killed between a paste and its Enter leaves the text in the pane's input; the desk
started again clears it (the lane noted it as its own before the paste) and reports that
delivery a possible repeat. Every message recorded as typed has its inbox copy: the desk
writes the copy before it records the delivery."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import Home
from messaging.model import DeliveryMethod, DeliveryState
from messaging.runtime import Runtime, open_runtime
from tests.agent_clis.tmux import TmuxServer
from tests.cluster.conftest import PANE_CHAT, DeskProcess, RedisServer
from tests.cluster.helpers import coordinator_home, copies, until
from tests.cluster.test_drills import settled_all
from tests.conftest import inbox_files, make_home

DESK_SETTINGS = "[cluster]\nheartbeat_s = 0.2\n[tmux]\nhold_max_s = 2.0\nhold_retry_s = 0.2\n"
FAST = {"resend_after_s": 1.0}


@dataclass
class TypedDesk:
    home: Home
    panes: TmuxServer
    witness: Path

    def received(self, agent_id: str) -> list[str]:
        """What the pane of ``agent_id`` was sent, in order."""
        path = self.witness / f"{agent_id}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def typed(tmp_path: Path) -> Iterator[list[TypedDesk]]:
    """Three desk homes of 8 agents each, every agent in a pane of its desk's tmux server."""
    made: list[TypedDesk] = []
    try:
        for n in range(1, 4):
            root = tmp_path / f"pc-{n}"
            panes, witness = TmuxServer(tmp_path), root / "witness"
            witness.mkdir(parents=True)
            agents = {}
            for number in range(8 * (n - 1) + 1, 8 * n + 1):
                agent = f"Agent-{number}"
                chat = f"{sys.executable} {PANE_CHAT} {witness}/{agent}.jsonl"
                target = panes.window(agent, chat)
                agents[agent] = {"tmux": {"target": target, "socket": panes.socket}}
            made.append(TypedDesk(make_home(root, {"agents": agents}), panes, witness))
            made[-1].home.settings_file.write_text(DESK_SETTINGS, encoding="utf-8")
            for agent in agents.values():
                panes.wait_for(str(agent["tmux"]["target"]), "❯", 30)  # type: ignore[index]
        yield made
    finally:
        for desk in made:
            desk.panes.kill()


def start(typed: list[TypedDesk], url: str, desks: list[DeskProcess]) -> None:
    for n, desk in enumerate(typed, 1):
        desks.append(DeskProcess(f"pc-{n}", desk.home, url))
        desks[-1].start()


async def assert_typed_once(rt: Runtime, typed: list[TypedDesk], sent: dict[str, str]) -> None:
    """``sent``: message id -> its body (unique, no body a part of another)."""
    for n, desk in enumerate(typed):
        typed_here = 0
        for agent in (f"Agent-{number}" for number in range(8 * n + 1, 8 * n + 9)):
            received = desk.received(agent)
            for message_id, body in sent.items():
                [row] = [d for d in await rt.store.deliveries(message_id) if d.agent_id == agent]
                times = sum(1 for text in received if f"\n{body}\n" in text)
                letters = copies(desk.home, agent, message_id)
                where = f"{agent}, {body}: {row.state} {row.method} {row.last_error}"
                assert times <= 1, f"typed twice: {where}"
                if row.state is DeliveryState.DELIVERED:
                    assert row.method is DeliveryMethod.TMUX and row.verified, where
                    assert times == 1, f"reported delivered, never reached the pane: {where}"
                    assert letters == 1, f"no inbox copy: {where}"
                    typed_here += 1
                else:
                    assert row.state is DeliveryState.FALLBACK, where
                    assert times == 0 or row.possible_repeat, f"typed, not reported: {where}"
                    assert letters == 1, f"lost: neither typed nor in the inbox: {where}"
            assert len(received) <= len(sent)
        assert typed_here > 0, f"nothing was typed into the panes of pc-{n + 1}"


async def test_typed_desk_killed_mid_broadcast_types_nothing_twice_and_loses_nothing(
    tmp_path: Path,
    redis_server: RedisServer,
    desks: list[DeskProcess],
    typed: list[TypedDesk],
) -> None:
    start(typed, redis_server.url, desks)
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url, **FAST)
    async with open_runtime(home, settings) as rt:
        await until(lambda: len(rt.registry.current()) == 24, 30, "24 agents announced")
        sent: dict[str, str] = {}
        for n in range(20):
            body = f"typed drill {n:02d}"
            sent[(await rt.service.broadcast(body)).message.id] = body
            if n == 6:
                desks[1].kill()  # pc-2, SIGKILL, whatever it was typing
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        desks[1].start()
        await settled_all(rt, list(sent), 90)
        await assert_typed_once(rt, typed, sent)
    for desk in desks:
        assert "Traceback" not in desk.log()


async def test_typed_desks_through_redis_killed_and_started_from_its_aof(
    tmp_path: Path,
    redis_server: RedisServer,
    desks: list[DeskProcess],
    typed: list[TypedDesk],
) -> None:
    start(typed, redis_server.url, desks)
    home, settings = coordinator_home(
        tmp_path / "coordinator", redis_server.url, {"retry_backoff_max_s": 1.0}, **FAST
    )
    async with open_runtime(home, settings) as rt:
        await until(lambda: len(rt.registry.current()) == 24, 30, "24 agents announced")
        sent: dict[str, str] = {}
        for n in range(16):
            body = f"typed drill {n:02d}"
            sent[(await rt.service.broadcast(body)).message.id] = body
            if n == 6:
                redis_server.kill()
            if n == 10:
                redis_server.start()
            await asyncio.sleep(0.05)
        await settled_all(rt, list(sent), 90)
        await assert_typed_once(rt, typed, sent)


async def test_a_desk_killed_between_paste_and_enter_reports_a_possible_repeat(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    """The agent takes no Enter while ``hold`` exists, so the desk waits with the text pasted
    in the pane (``tmux.submit_timeout_s`` 10 s here) and is killed there; started again, it
    pastes nothing more and reports the delivery as a possible repeat, in the inbox."""
    panes, hold, witness = TmuxServer(tmp_path), tmp_path / "hold", tmp_path / "Agent-1.jsonl"
    hold.touch()
    try:
        target = panes.window("Agent-1", f"{sys.executable} {PANE_CHAT} {witness} {hold}")
        panes.wait_for(target, "❯", 30)
        home_1 = make_home(
            tmp_path / "pc-1",
            {"agents": {"Agent-1": {"tmux": {"target": target, "socket": panes.socket}}}},
        )
        home_1.settings_file.write_text(
            DESK_SETTINGS + "submit_timeout_s = 10.0\n", encoding="utf-8"
        )
        desks.append(DeskProcess("pc-1", home_1, redis_server.url))
        desks[0].start()
        home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url, **FAST)
        async with open_runtime(home, settings) as rt:
            await until(lambda: "Agent-1" in rt.registry.current(), 30, "pc-1 announced")
            sent = await rt.service.send(["Agent-1"], "caught mid-typing")
            await asyncio.to_thread(panes.wait_for, target, "caught mid-typing", 30)
            desks[0].kill()  # SIGKILL with the text in the pane's input, Enter not taken
            desks[0].start()
            outcome = (await rt.desk.wait_for(sent.message.id, 60))["Agent-1"]
            [row] = await rt.store.deliveries(sent.message.id)
            shown = panes.capture(target)
            # the next message: the text the killed desk left in the input is its own, noted
            # before the paste, so it is cleared and the message typed, not held as a draft
            hold.unlink()
            after = await rt.service.send(["Agent-1"], "after the restart")
            next_outcome = (await rt.desk.wait_for(after.message.id, 60))["Agent-1"]
    finally:
        panes.kill()
    assert outcome.state is DeliveryState.FALLBACK and outcome.possible_repeat, outcome
    assert row.possible_repeat and row.method is DeliveryMethod.INBOX, row
    assert shown.count("caught mid-typing") == 1, shown  # pasted once, never again
    assert next_outcome.state is DeliveryState.DELIVERED, next_outcome
    assert next_outcome.method is DeliveryMethod.TMUX, next_outcome
    received = json.loads(witness.read_text(encoding="utf-8"))  # one line: one message sent
    assert "after the restart" in received and "caught mid-typing" not in received
    [letter] = [f for f in inbox_files(home_1, "Agent-1") if sent.message.id in f.name]
    assert "possible_repeat: true" in letter.read_text(encoding="utf-8")

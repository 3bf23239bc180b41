"""`cellphone retry` of a remote delivery, over a real redis-server and desk processes: a
delivery the desk settled as a fallback is tried again on that desk (not answered with the
old outcome from its journal), and one that went to the inbox at the coordinator while its
desk was gone is handed to the desk once it is back. A delivery handed over again without
a retry is still never delivered twice (tests/cluster/test_drills.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from messaging.cluster.coordinator import Coordinator
from messaging.cluster.presence import Presence
from messaging.model import DeliveryMethod, DeliveryState
from messaging.runtime import open_runtime
from tests.agent_clis.tmux import TmuxServer
from tests.cluster.conftest import PANE_CHAT, DeskProcess, RedisServer, desk_home
from tests.cluster.helpers import coordinator_home, copies, until
from tests.conftest import inbox_files, make_home


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[TmuxServer]:
    server = TmuxServer(tmp_path)  # not started: no server answers on its socket yet
    yield server
    server.kill()


async def test_a_remote_fallback_retried_is_tried_again_on_its_desk(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess], tmux: TmuxServer
) -> None:
    """Agent-1's pane on pc-1 is on a tmux server that does not run at first (a fallback
    naming its socket); before the retry the server runs with the agent's chat input in
    the pane, so a retry really tried again types it there."""
    home_1 = make_home(
        tmp_path / "pc-1",
        {"agents": {"Agent-1": {"tmux": {"target": "swarm:Agent-1", "socket": tmux.socket}}}},
    )
    home_1.settings_file.write_text("[cluster]\nheartbeat_s = 0.2\n", encoding="utf-8")
    desks.append(DeskProcess("pc-1", home_1, redis_server.url))
    desks[0].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    witness = tmp_path / "Agent-1.jsonl"
    async with open_runtime(home, settings) as rt:
        await until(lambda: "Agent-1" in rt.registry.current(), 30, "pc-1 announced")
        sent = await rt.service.send(["Agent-1"], "try me again")
        first = (await rt.desk.wait_for(sent.message.id, 30))["Agent-1"]

        pane = tmux.window("Agent-1", f"{sys.executable} {PANE_CHAT} {witness}")  # runs now
        tmux.wait_for(pane, "❯", timeout=30)
        assert await rt.service.retry(sent.message.id) == ["Agent-1"]
        again = (await rt.desk.wait_for(sent.message.id, 30))["Agent-1"]
        [row] = await rt.store.deliveries(sent.message.id)
    assert first.state is DeliveryState.FALLBACK, first
    assert tmux.socket in (first.reason or ""), first
    assert again.state is DeliveryState.DELIVERED, again
    assert again.method is DeliveryMethod.TMUX and again.verified, again
    assert row.attempts == 2, row
    [typed] = [json.loads(line) for line in witness.read_text(encoding="utf-8").splitlines()]
    assert "\ntry me again\n" in typed
    assert copies(home_1, "Agent-1", sent.message.id) == 1  # the same letter, kept once


async def test_a_delivery_that_went_to_the_inbox_here_while_its_desk_was_gone_is_retried_there(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    home_1 = desk_home(tmp_path / "pc-1", 1, 2, "away_after_s = 0.3\n")  # gone after 3 s
    desks.append(DeskProcess("pc-1", home_1, redis_server.url))
    desks[0].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    async with open_runtime(home, settings) as rt:
        cluster = rt.desk.remote
        assert isinstance(cluster, Coordinator)
        await until(lambda: "Agent-2" in rt.registry.current(), 30, "pc-1 announced")
        desks[0].kill()
        await until(lambda: cluster.presence("pc-1") is Presence.GONE, 30, "pc-1 gone")
        sent = await rt.service.send(["Agent-1", "Agent-2"], "wait for pc-1")
        here = await rt.desk.wait_for(sent.message.id, 30)
        await rt.service.retry(sent.message.id)  # still gone: the same fallback, saying so
        still = await rt.desk.wait_for(sent.message.id, 30)

        desks[0].start()
        await until(lambda: cluster.presence("pc-1") is Presence.ALIVE, 30, "pc-1 back")
        assert sorted(await rt.service.retry(sent.message.id)) == ["Agent-1", "Agent-2"]
        there = await rt.desk.wait_for(sent.message.id, 30)
    for outcomes in (here, still):
        assert {o.state for o in outcomes.values()} == {DeliveryState.FALLBACK}
        assert all("desk pc-1 stopped answering" in (o.reason or "") for o in outcomes.values())
    assert {(o.state, o.method) for o in there.values()} == {
        (DeliveryState.DELIVERED, DeliveryMethod.INBOX)
    }
    for agent in ("Agent-1", "Agent-2"):
        assert copies(home_1, agent, sent.message.id) == 1
        assert len(inbox_files(home, agent)) == 1  # the copy here, written once

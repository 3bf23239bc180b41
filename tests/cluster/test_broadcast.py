"""One coordinator and three desk processes over a real redis-server: a broadcast reaches
each of 24 agents exactly once, and the registry is the union of the desks' agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from messaging.cluster.wire import ClusterError
from messaging.model import DeliveryMethod, DeliveryState
from messaging.runtime import open_runtime
from tests.cluster.conftest import DeskProcess, RedisServer, desk_home, free_port
from tests.cluster.helpers import coordinator_home, copies, until


async def test_broadcast_to_24_agents_on_3_desks_exactly_once(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    homes = [desk_home(tmp_path / f"pc-{n}", 8 * (n - 1) + 1, 8) for n in (1, 2, 3)]
    for n, home in enumerate(homes, 1):
        desks.append(DeskProcess(f"pc-{n}", home, redis_server.url))
        desks[-1].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    async with open_runtime(home, settings) as rt:
        await until(lambda: len(rt.registry.current()) == 24, 30, "24 agents announced")
        described = rt.registry.current().get("Agent-9").description
        assert described.startswith("[desk pc-2]")

        submission = await rt.service.broadcast("all hands: report your branch")
        outcomes = await rt.desk.wait_for(submission.message.id, 60)

    assert len(outcomes) == 24
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert {o.method for o in outcomes.values()} == {DeliveryMethod.INBOX}
    for n, desk_home_ in enumerate(homes):
        for agent in range(8 * n + 1, 8 * n + 9):
            assert copies(desk_home_, f"Agent-{agent}", submission.message.id) == 1
    for desk in desks:
        assert "Traceback" not in desk.log()


async def test_a_desk_cannot_take_an_agent_another_desk_announced(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    first = desk_home(tmp_path / "pc-1", 1, 2)
    second = desk_home(tmp_path / "pc-2", 2, 2)  # names Agent-2 too, and Agent-3
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    desks.append(DeskProcess("pc-1", first, redis_server.url))
    desks[0].start()
    async with open_runtime(home, settings) as rt:
        cluster = rt.desk.remote
        await until(lambda: "Agent-2" in rt.registry.current(), 30, "pc-1 announced")
        desks.append(DeskProcess("pc-2", second, redis_server.url))
        desks[1].start()
        await until(lambda: "Agent-3" in rt.registry.current(), 30, "pc-2 announced")
        assert cluster is not None
        assert cluster.desk_of("Agent-2") == "pc-1"  # type: ignore[attr-defined]
        submission = await rt.service.send(["Agent-2", "Agent-3"], "who has it?")
        outcomes = await rt.desk.wait_for(submission.message.id, 60)
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert copies(first, "Agent-2", submission.message.id) == 1
    assert copies(second, "Agent-2", submission.message.id) == 0
    assert copies(second, "Agent-3", submission.message.id) == 1


async def test_a_coordinator_without_its_redis_says_so_without_the_password(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    home, settings = coordinator_home(
        tmp_path / "coordinator", f"redis://ops:pw-9@127.0.0.1:{port}"
    )
    with pytest.raises(ClusterError) as caught:
        async with open_runtime(home, settings):
            pass
    assert f"cannot reach Redis at redis://ops:***@127.0.0.1:{port}" in str(caught.value)
    assert "pw-9" not in str(caught.value)

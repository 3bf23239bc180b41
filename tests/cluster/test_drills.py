"""Kill and cut drills over a real redis-server and desk processes: a desk killed with
SIGKILL mid-broadcast and started again, redis-server killed and started again from its
append-only file, a desk killed while typing. Nothing is lost and nothing is delivered twice.

The coordinator hands a delivery over again when no outcome came within
``cluster.resend_after_s``; these tests shorten it to 1 s (30 s by default) and the
coordinator's retry backoff to 1 s, so the drills take seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path

from config import Home
from messaging.cluster.coordinator import Coordinator
from messaging.model import DeliveryMethod, DeliveryState, Lane, Message
from messaging.runtime import Runtime, open_runtime
from messaging.store import Store
from tests.cluster.conftest import DeskProcess, RedisServer, desk_home
from tests.cluster.helpers import coordinator_home, copies, until
from tests.cluster.proxy import Relay
from tests.conftest import inbox_files, make_home

FAST = {"resend_after_s": 1.0}


def start_desks(tmp_path: Path, url: str, desks: list[DeskProcess], count: int = 3) -> list[Home]:
    homes = [desk_home(tmp_path / f"pc-{n}", 8 * (n - 1) + 1, 8) for n in range(1, count + 1)]
    for n, home in enumerate(homes, 1):
        desks.append(DeskProcess(f"pc-{n}", home, url))
        desks[-1].start()
    return homes


async def settled_all(rt: Runtime, ids: list[str], timeout: float) -> None:
    async def unsettled() -> list[tuple[str, str, str, str | None]]:
        return [
            (message_id, d.agent_id, d.state.value, d.last_error)
            for message_id in ids
            for d in await rt.store.deliveries(message_id)
            if not d.state.is_final
        ]

    deadline = asyncio.get_running_loop().time() + timeout
    while left := await unsettled():
        assert asyncio.get_running_loop().time() < deadline, f"{len(left)} unsettled: {left[:5]}"
        await asyncio.sleep(0.1)


async def assert_each_once(rt: Runtime, homes: list[Home], ids: list[str]) -> None:
    for message_id in ids:
        deliveries = await rt.store.deliveries(message_id)
        assert len(deliveries) == 8 * len(homes)
        assert {d.state for d in deliveries} == {DeliveryState.DELIVERED}, [
            (d.agent_id, d.state, d.last_error)
            for d in deliveries
            if d.state is not DeliveryState.DELIVERED
        ]
    for n, home in enumerate(homes):
        for agent in range(8 * n + 1, 8 * n + 9):
            for message_id in ids:
                assert copies(home, f"Agent-{agent}", message_id) == 1
            assert len(inbox_files(home, f"Agent-{agent}")) == len(ids)


async def test_a_desk_killed_mid_broadcast_loses_nothing_and_doubles_nothing(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    homes = start_desks(tmp_path, redis_server.url, desks)
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url, **FAST)
    async with open_runtime(home, settings) as rt:
        await until(lambda: len(rt.registry.current()) == 24, 30, "24 agents announced")
        ids = []
        for n in range(30):
            ids.append((await rt.service.broadcast(f"broadcast {n}")).message.id)
            if n == 10:
                desks[1].kill()  # pc-2, SIGKILL, whatever it was doing
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        desks[1].start()  # the same home and name, a new process
        await settled_all(rt, ids, 60)
        await assert_each_once(rt, homes, ids)
    for desk in desks:
        assert "Traceback" not in desk.log()


async def test_redis_killed_and_started_from_its_aof_loses_nothing(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    homes = start_desks(tmp_path, redis_server.url, desks)
    home, settings = coordinator_home(
        tmp_path / "coordinator", redis_server.url, {"retry_backoff_max_s": 1.0}, **FAST
    )
    async with open_runtime(home, settings) as rt:
        await until(lambda: len(rt.registry.current()) == 24, 30, "24 agents announced")
        ids = []
        for n in range(20):
            ids.append((await rt.service.broadcast(f"broadcast {n}")).message.id)
            if n == 8:
                redis_server.kill()
            if n == 12:
                redis_server.start()  # the same folder: it loads its append-only file
            await asyncio.sleep(0.05)
        await settled_all(rt, ids, 60)
        await assert_each_once(rt, homes, ids)
    assert (redis_server.folder / "appendonlydir").is_dir()


async def test_a_desk_killed_while_typing_reports_a_possible_repeat_and_types_nothing_again(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    """The kill is made at the one moment that matters, by leaving the desk's journal as a
    desk killed between "about to type" and the outcome leaves it (no display here)."""
    [desk] = start_desks(tmp_path, redis_server.url, desks, count=1)
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url, **FAST)
    async with open_runtime(home, settings) as rt:
        await until(lambda: "Agent-1" in rt.registry.current(), 30, "pc-1 announced")
        desks[0].kill()
        sent = await rt.service.send(["Agent-1"], "type me once")
        [row] = await rt.store.deliveries(sent.message.id)
        seq = await _seq(rt.store, sent.message.id)
        journal = await Store.open(desk.database)
        try:
            local = Message(
                sender=sent.message.sender,
                recipients=("Agent-1",),
                body=sent.message.body,
                id=sent.message.id,
                created_at=sent.message.created_at,
                key=f"cluster:{seq}",
            )
            await journal.insert(local, {"Agent-1": Lane.SCREEN})
            [claimed] = await journal.claim(Lane.SCREEN, 1)
            await journal.mark_typing(claimed.seq, "Agent-1")
        finally:
            await journal.close()
        desks[0].start()
        outcome = (await rt.desk.wait_for(sent.message.id, 60))["Agent-1"]
        [after] = await rt.store.deliveries(sent.message.id)
    assert row.lane is Lane.REMOTE
    assert outcome.state is DeliveryState.FALLBACK and outcome.possible_repeat
    assert after.possible_repeat
    [letter] = inbox_files(desk, "Agent-1")
    assert "possible_repeat: true" in letter.read_text()


async def _seq(store: Store, message_id: str) -> int:
    [row] = await store.rows("SELECT seq FROM messages WHERE id = ?", (message_id,))
    return int(row[0])


async def test_a_desk_cut_off_keeps_what_it_holds_and_reports_once_back(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    """Cut off for 3 s here (``cluster.away_after_s`` shortened from 30 s to 1.5 s): the
    coordinator reports the desk away, what is sent meanwhile waits in its stream, and the
    outcomes of what the desk took come once it is back."""
    relay = Relay(redis_server.port)
    try:
        [home_1] = start_desks(tmp_path, relay.url, desks, count=1)
        home, settings = coordinator_home(
            tmp_path / "coordinator", redis_server.url, away_after_s=1.5, **FAST
        )
        async with open_runtime(home, settings) as rt:
            cluster = rt.desk.remote
            assert isinstance(cluster, Coordinator)
            await until(lambda: "Agent-1" in rt.registry.current(), 30, "pc-1 announced")
            before = await rt.service.broadcast("before the cut")
            await rt.desk.wait_for(before.message.id, 30)
            relay.cut_off()
            await until(lambda: cluster.desks().get("pc-1"), 30, "pc-1 reported away")
            assert "away" in rt.registry.current().get("Agent-1").description
            during = await rt.service.broadcast("while cut off")
            await asyncio.sleep(3)
            [waiting] = {d.state for d in await rt.store.deliveries(during.message.id)}
            assert waiting is DeliveryState.DELIVERING  # handed over, no outcome yet
            relay.restore()
            outcomes = await rt.desk.wait_for(during.message.id, 60)
            assert cluster.desks()["pc-1"] is False  # back
        assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
        for agent in range(1, 9):
            assert copies(home_1, f"Agent-{agent}", during.message.id) == 1
            assert copies(home_1, f"Agent-{agent}", before.message.id) == 1
        log = desks[0].log()
        assert log.count("cut off from Redis") == 1 and log.count("answers again") == 1
    finally:
        relay.close()


async def test_messages_that_waited_for_an_away_desk_go_to_the_inbox_by_setting(
    tmp_path: Path, redis_server: RedisServer, desks: list[DeskProcess]
) -> None:
    """``cluster.when_desk_away = "inbox"`` at the desk (``away_after_s`` 1.5 s here): what
    waited longer than that for it is written to the inbox, not typed. Agent-1's lane here
    is a tmux pane on a server that does not run, so a message typed the usual way comes
    back as a fallback saying so; one that waited is delivered to the inbox at once."""
    home_1 = make_home(
        tmp_path / "pc-1",
        {"agents": {"Agent-1": {"tmux": {"target": "s:1", "socket": str(tmp_path / "no.sock")}}}},
    )
    home_1.settings_file.write_text(
        '[cluster]\nheartbeat_s = 0.2\nwhen_desk_away = "inbox"\naway_after_s = 1.5\n',
        encoding="utf-8",
    )
    desks.append(DeskProcess("pc-1", home_1, redis_server.url))
    desks[0].start()
    home, settings = coordinator_home(tmp_path / "coordinator", redis_server.url)
    async with open_runtime(home, settings) as rt:
        await until(lambda: "Agent-1" in rt.registry.current(), 30, "pc-1 announced")
        typed = await rt.service.send(["Agent-1"], "while the desk is here")
        usual = (await rt.desk.wait_for(typed.message.id, 30))["Agent-1"]
        desks[0].kill()
        waited = await rt.service.send(["Agent-1"], "while the desk is away")
        await asyncio.sleep(2.0)
        desks[0].start()
        away = (await rt.desk.wait_for(waited.message.id, 30))["Agent-1"]
    # the tmux lane tried (its wording varies with what tmux said: no server, or exited)
    assert usual.state is DeliveryState.FALLBACK, usual
    assert str(tmp_path / "no.sock") in (usual.reason or ""), usual
    assert away.state is DeliveryState.DELIVERED and away.method is DeliveryMethod.INBOX

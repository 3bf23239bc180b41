"""The desk's routing, ordering, fallback, retry and recovery.

The screen here is a recording stand-in so these run anywhere; typing into real windows on
a real X display is covered in tests/gui.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from agents.home import prepare_home
from config import Home, Settings, load_settings
from coordinates import Point, load_coordinates, save_coordinates
from messaging.deliver import Job, NotDeliverable
from messaging.model import DeliveryMethod, DeliveryState, Lane, Message
from messaging.pause import PauseFlag
from messaging.runtime import Runtime, open_runtime
from messaging.store import Store
from tests.conftest import inbox_files, make_home


class RecordingScreen:
    """Stands in for the GUI deliverer: records jobs; refuses agents listed in ``refuse``."""

    def __init__(self, refuse: dict[str, NotDeliverable] | None = None) -> None:
        self.jobs: list[Job] = []
        self.refuse = refuse or {}

    def unavailable_reason(self) -> str | None:
        return None

    async def deliver(self, job: Job) -> None:
        if job.agent.agent_id in self.refuse:
            raise self.refuse[job.agent.agent_id]
        self.jobs.append(job)


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_screen_deliveries_follow_priority_then_fifo(home: Home, settings: Settings) -> None:
    screen = RecordingScreen()
    async with open_runtime(home, settings, screen) as rt:
        rt.desk.pause("building a backlog")
        ids = {}
        for name, priority in [
            ("n1", "normal"),
            ("u1", "urgent"),
            ("n2", "normal"),
            ("c1", "critical"),
            ("u2", "urgent"),
        ]:
            ids[name] = (await rt.service.send(["Agent-1"], name, priority=priority)).message.id
        assert screen.jobs == []
        rt.desk.resume()
        outcomes = await rt.desk.wait_for(ids["n2"], 10)
        await rt.desk.wait_for(ids["n1"], 10)
    assert [job.message.body for job in screen.jobs] == ["c1", "u1", "u2", "n1", "n2"]
    assert outcomes["Agent-1"].method is DeliveryMethod.GUI
    assert screen.jobs[0].text.startswith("[C2A] Captain → Agent-1\nPriority: CRITICAL")
    assert inbox_files(home, "Agent-1") == []


async def test_refused_screen_falls_back_to_inbox_with_reason(
    home: Home, settings: Settings
) -> None:
    screen = RecordingScreen({"Agent-2": NotDeliverable("point (2500, 300) is on no monitor")})
    async with open_runtime(home, settings, screen) as rt:
        sub = await rt.service.send(["Agent-1", "Agent-2"], "hello")
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-1"].state is DeliveryState.DELIVERED
    assert outcomes["Agent-2"].state is DeliveryState.FALLBACK
    assert outcomes["Agent-2"].method is DeliveryMethod.INBOX
    assert outcomes["Agent-2"].reason == "point (2500, 300) is on no monitor"
    [letter] = inbox_files(home, "Agent-2")
    assert "screen_skipped: point (2500, 300) is on no monitor" in letter.read_text()


async def test_fail_safe_pauses_the_desk_and_keeps_the_queue(
    home: Home, settings: Settings
) -> None:
    refusal = NotDeliverable("fail-safe: mouse in a screen corner", pause_desk=True)
    screen = RecordingScreen({"Agent-1": refusal})
    async with open_runtime(home, settings, screen) as rt:
        first = await rt.service.send(["Agent-1"], "one", priority="urgent")
        await rt.desk.wait_for(first.message.id, 10)
        assert rt.desk.paused and "fail-safe" in (rt.desk.pause_reason or "")
        assert "fail-safe" in (PauseFlag.of(home).reason() or "")  # holds for the next process
        second = await rt.service.send(["Agent-3"], "two")
        outcomes = await rt.desk.wait_for(second.message.id, 0.5)
        assert outcomes["Agent-3"].state is DeliveryState.QUEUED
        assert screen.jobs == []
        rt.desk.resume()
        outcomes = await rt.desk.wait_for(second.message.id, 10)
    assert outcomes["Agent-3"].state is DeliveryState.DELIVERED
    assert [job.message.body for job in screen.jobs] == ["two"]
    assert PauseFlag.of(home).reason() is None


async def test_a_pause_outlives_the_process_and_another_process_lifts_it(
    home: Home, settings: Settings
) -> None:
    async with open_runtime(home, settings, RecordingScreen()) as first:
        first.desk.pause("moving windows")
    screen = RecordingScreen()
    async with open_runtime(home, settings, screen) as rt:
        sub = await rt.service.send(["Agent-2", "Agent-8"], "after the restart")
        held = await rt.desk.wait_for(sub.message.id, 1.0)
        assert rt.desk.pause_reason == "moving windows"
        assert {o.state for o in held.values()} == {DeliveryState.QUEUED}
        assert screen.jobs == []
        PauseFlag.of(home).clear()  # what `cellphone resume` in another process does
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
        assert not rt.desk.paused
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert sorted(job.agent.agent_id for job in screen.jobs) == ["Agent-2", "Agent-8"]


async def test_a_pause_made_elsewhere_stops_a_running_desk(home: Home, settings: Settings) -> None:
    screen = RecordingScreen()
    async with open_runtime(home, settings, screen) as rt:
        warm_up = await rt.service.send(["Agent-1"], "before")
        await rt.desk.wait_for(warm_up.message.id, 10)
        PauseFlag.of(home).set("the operator ran `cellphone pause`")
        await until(lambda: _paused(rt))
        sub = await rt.service.send(["Agent-1"], "during")
        held = await rt.desk.wait_for(sub.message.id, 1.0)
        assert held["Agent-1"].state is DeliveryState.QUEUED
        rt.desk.resume()
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-1"].state is DeliveryState.DELIVERED
    assert [job.message.body for job in screen.jobs] == ["before", "during"]


async def _paused(rt: Runtime) -> bool:
    return rt.desk.paused


async def test_agent_without_point_goes_to_inbox_lane(tmp_path: Path) -> None:
    home = make_home(
        tmp_path, {"agents": {"Agent-1": {"chat_input_coordinates": [5, 5]}, "Agent-2": {}}}
    )
    screen = RecordingScreen()
    async with open_runtime(home, load_settings(home), screen) as rt:
        sub = await rt.service.send(["Agent-1", "Agent-2"], "hi")
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
        [d1, d2] = await rt.store.deliveries(sub.message.id)
    assert (d1.lane, d2.lane) == (Lane.SCREEN, Lane.INBOX)
    assert outcomes["Agent-2"].state is DeliveryState.DELIVERED
    assert outcomes["Agent-2"].method is DeliveryMethod.INBOX


async def test_unwritable_inbox_stays_queued_then_delivers(home: Home, settings: Settings) -> None:
    inbox = home.workspaces_dir / "Agent-5" / "inbox"
    shutil.rmtree(inbox)
    inbox.write_text("a file where the inbox folder should be")  # root ignores permissions
    async with open_runtime(home, settings) as rt:
        sub = await rt.service.send(["Agent-5"], "are you there?")
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
        assert outcomes["Agent-5"].state is DeliveryState.QUEUED
        assert outcomes["Agent-5"].reason is not None
        assert str(inbox) in outcomes["Agent-5"].reason
        [row] = await rt.store.deliveries(sub.message.id)
        assert row.last_error == outcomes["Agent-5"].reason and row.attempts == 1
        inbox.unlink()
        inbox.mkdir()

        async def delivered() -> bool:
            [row] = await rt.store.deliveries(sub.message.id)
            return row.state is DeliveryState.DELIVERED

        await until(delivered)
    [letter] = inbox_files(home, "Agent-5")
    assert "are you there?" in letter.read_text()


async def test_agent_removed_from_file_fails_with_reason(home: Home, settings: Settings) -> None:
    async with open_runtime(home, settings, start_desk=False) as rt:
        sub = await rt.service.send(["Agent-8"], "bye")
    home.coordinates_file.write_text('{"agents": {"Agent-1": {}}}')
    async with open_runtime(home, settings) as rt:
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-8"].state is DeliveryState.FAILED
    assert "unknown agent 'Agent-8'" in (outcomes["Agent-8"].reason or "")


async def test_crash_while_typing_goes_to_inbox_as_possible_repeat(
    home: Home, settings: Settings
) -> None:
    store = await Store.open(home.database)
    message = Message(sender="Captain", recipients=("Agent-1",), body="typed or not?")
    await store.insert(message, {"Agent-1": Lane.SCREEN})
    [claimed] = await store.claim(Lane.SCREEN, 1)
    await store.mark_typing(claimed.seq, "Agent-1")
    await store.close()  # the process dies here, keys maybe sent
    screen = RecordingScreen()
    async with open_runtime(home, settings, screen) as rt:
        assert rt.desk.recovered == (1, 1)
        outcomes = await rt.desk.wait_for(message.id, 10)
    assert screen.jobs == []  # never typed a second time
    assert outcomes["Agent-1"].state is DeliveryState.FALLBACK
    assert outcomes["Agent-1"].possible_repeat
    [letter] = inbox_files(home, "Agent-1")
    assert "possible_repeat: true" in letter.read_text()


async def test_one_desk_per_home(home: Home, settings: Settings) -> None:
    async with open_runtime(home, settings) as first, open_runtime(home, settings) as second:
        assert first.desk_here and not second.desk_here
        sub = await second.service.send(["Agent-1"], "via the other desk")
        outcomes = await second.desk.wait_for(sub.message.id, 10)
    assert outcomes["Agent-1"].state is DeliveryState.DELIVERED


async def test_outcomes_are_published_to_subscribers(home: Home, settings: Settings) -> None:
    seen = []
    async with open_runtime(home, settings) as rt:
        rt.desk.subscribe(seen.append)
        sub = await rt.service.broadcast("hi", exclude=[f"Agent-{n}" for n in range(4, 9)])
        await rt.desk.wait_for(sub.message.id, 10)
    assert sorted(o.agent_id for o in seen) == ["Agent-1", "Agent-2", "Agent-3"]
    assert {o.message_id for o in seen} == {sub.message.id}


async def test_placeholder_points_of_init_are_never_typed_into(tmp_path: Path) -> None:
    home = Home(tmp_path / "fresh")
    prepare_home(home)  # the example coordinates of `cellphone init`, not calibrated
    screen = RecordingScreen()
    async with open_runtime(home, load_settings(home), screen) as rt:
        sub = await rt.service.send(["Agent-1"], "are you there?")
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
        assert outcomes["Agent-1"].state is DeliveryState.FALLBACK
        assert outcomes["Agent-1"].reason is not None
        assert outcomes["Agent-1"].reason.startswith(
            "the chat point of Agent-1 is a placeholder, not calibrated: run "
            "`cellphone coords calibrate Agent-1`"
        )
        assert screen.jobs == []
        [letter] = inbox_files(home, "Agent-1")
        assert "are you there?" in letter.read_text(encoding="utf-8")
        calibrated = load_coordinates(home.coordinates_file).with_point(
            "Agent-1", "chat", Point(470, 490)
        )
        save_coordinates(calibrated)
        again = await rt.service.send(["Agent-1"], "now?")
        outcomes = await rt.desk.wait_for(again.message.id, 10)
        assert outcomes["Agent-1"].state is DeliveryState.DELIVERED
        [onboarding] = await rt.service.onboard({"Agent-1": "welcome"})
        outcomes = await rt.desk.wait_for(onboarding.message.id, 10)
        assert "`cellphone coords calibrate --onboarding Agent-1`" in (
            outcomes["Agent-1"].reason or ""
        )
    assert [(job.message.body, job.agent.chat_point) for job in screen.jobs] == [
        ("now?", Point(470, 490))
    ]

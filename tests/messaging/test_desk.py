"""The desk's routing, ordering, fallback, retry and recovery.

The screen here is a recording stand-in so these run anywhere; typing into real windows on
a real X display is covered in tests/gui.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import messaging.desk
import messaging.store
from agents.home import example_coordinates, prepare_home
from config import Home, Settings, load_settings
from coordinates import Point, load_coordinates, save_coordinates
from messaging.deliver import (
    AloneAtTheScreen,
    DraftPresent,
    Job,
    NotDeliverable,
    Pressed,
    Typed,
)
from messaging.desk import retry_delay
from messaging.model import DeliveryMethod, DeliveryState, Lane, Message
from messaging.pause import PauseFlag
from messaging.runtime import Runtime, open_runtime
from messaging.store import Store
from tests.conftest import inbox_files, make_home


class RecordingScreen(AloneAtTheScreen):
    """Stands in for the GUI deliverer: records jobs; refuses agents listed in ``refuse``."""

    def __init__(self, refuse: dict[str, NotDeliverable] | None = None) -> None:
        self.jobs: list[Job] = []
        self.refuse = refuse or {}

    def unavailable_reason(self) -> str | None:
        return None

    async def deliver(self, job: Job) -> Typed:
        if job.agent.agent_id in self.refuse:
            raise self.refuse[job.agent.agent_id]
        self.jobs.append(job)
        return Typed(verified=job.agent.typing.verify)


class WatchedPress(Pressed):
    def __init__(self, job: Job) -> None:
        self.job = job


class WatchingScreen(RecordingScreen):
    """Stands in for a deliverer that leaves each submission of a batch to watch while it
    types into the next window: records what was typed and what was watched, in order;
    the submissions to agents in ``stays`` are seen not to leave their input."""

    def __init__(self, stays: set[str] | None = None) -> None:
        super().__init__()
        self.stays = stays or set()
        self.events: list[str] = []
        self.on_press: dict[str, object] = {}  # agent id: called once it is pressed

    async def deliver(self, job: Job) -> Typed:
        self.events.append(f"typed {job.agent.agent_id}")
        return await super().deliver(job)

    async def deliver_going_on(self, job: Job) -> Typed | Pressed:
        self.jobs.append(job)
        self.events.append(f"pressed {job.agent.agent_id}")
        then = self.on_press.pop(job.agent.agent_id, None)
        if callable(then):
            then()
        return WatchedPress(job)

    async def confirm(self, pressed: Sequence[Pressed]) -> list[Typed | NotDeliverable]:
        jobs = [p.job for p in pressed if isinstance(p, WatchedPress)]
        self.events.append("watched " + " ".join(job.agent.agent_id for job in jobs))
        return [
            NotDeliverable("typed but not submitted: the text stays in the chat input")
            if job.agent.agent_id in self.stays
            else Typed(verified=True)
            for job in jobs
        ]


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


async def test_every_typed_message_leaves_a_copy_in_the_inbox(
    home: Home, settings: Settings
) -> None:
    screen = RecordingScreen()
    async with open_runtime(home, settings, screen) as rt:
        sent = [(await rt.service.send(["Agent-1"], f"note {n}")).message.id for n in range(5)]
        for message_id in sent:
            outcomes = await rt.desk.wait_for(message_id, 10)
            assert outcomes["Agent-1"].method is DeliveryMethod.GUI
    assert len(screen.jobs) == 5
    copies = inbox_files(home, "Agent-1")
    assert [path.name.split("_")[1] for path in copies] == [f"{i}.md" for i in sent]
    text = copies[0].read_text()
    assert "delivered_via: gui, verified on screen\n" in text
    assert text.endswith(screen.jobs[0].text + "\n")


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
    assert "delivered_via: inbox\n" in letter.read_text()


async def test_verification_is_kept_per_delivery_and_told_in_every_outcome(
    tmp_path: Path,
) -> None:
    document = json.loads(example_coordinates(calibrated=True))
    document["agents"]["Agent-2"]["verify"] = False  # an app whose input shows no change
    home = make_home(tmp_path / "home", document)
    screen = RecordingScreen()
    async with open_runtime(home, load_settings(home), screen) as rt:
        sub = await rt.service.send(["Agent-1", "Agent-2"], "are you there?")
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
        [entry] = await rt.store.history(limit=1)
    assert outcomes["Agent-1"].verified is True
    assert outcomes["Agent-1"].summary == "delivered via gui, verified on screen"
    assert outcomes["Agent-2"].verified is False
    assert outcomes["Agent-2"].summary == (
        "delivered via gui, unverified (verify is off for this agent)"
    )
    assert {d.agent_id: d.verified for d in entry.deliveries} == {
        "Agent-1": True,
        "Agent-2": False,
    }


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


class LockingScreen(RecordingScreen):
    """Types, then another process holds the database's write lock for ``hold`` seconds
    (a long backup, another program), so recording what was typed fails at first."""

    def __init__(self, database: Path, hold: float) -> None:
        super().__init__()
        self.database = database
        self.hold = hold

    async def deliver(self, job: Job) -> Typed:
        typed = await super().deliver(job)
        other = sqlite3.connect(self.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(self.hold, _end_and_close, other)
        return typed


def _end_and_close(connection: sqlite3.Connection) -> None:
    connection.execute("ROLLBACK")
    connection.close()


async def test_an_outcome_that_cannot_be_recorded_is_put_back_and_never_typed_twice(
    home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messaging.store, "BUSY_TIMEOUT_S", 0.2)
    screen = LockingScreen(home.database, hold=1.0)
    async with open_runtime(home, settings, screen) as rt:
        sub = await rt.service.send(["Agent-1"], "typed, then the database was locked")

        async def reached_the_inbox() -> bool:
            [row] = await rt.store.deliveries(sub.message.id)
            return row.state is DeliveryState.FALLBACK

        await until(reached_the_inbox)
        [row] = await rt.store.deliveries(sub.message.id)
    assert row.possible_repeat and row.method is DeliveryMethod.INBOX
    assert len(screen.jobs) == 1  # typed once
    # one letter: the inbox copy, written before the outcome failed to be recorded, saying
    # the message was typed into the chat (the fallback keeps it, it writes no second one)
    [letter] = inbox_files(home, "Agent-1")
    text = letter.read_text()
    assert "delivered_via: gui" in text and text.count("the database was locked") == 1


async def test_the_desk_is_idle_when_the_database_stays_locked(
    home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what `cellphone deliver` (no --watch) waits for: it must end, reporting what is left
    monkeypatch.setattr(messaging.store, "BUSY_TIMEOUT_S", 0.2)
    async with open_runtime(home, settings) as rt:
        other = sqlite3.connect(home.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await rt.service.store.history()  # reads go on
            sub_time = time.monotonic()
            await asyncio.wait_for(rt.desk.until_idle(), 10)
            assert time.monotonic() - sub_time < 10
        finally:
            _end_and_close(other)
        assert await rt.store.due() == 0


async def test_many_failed_attempts_wait_the_longest_backoff(
    home: Home, settings: Settings
) -> None:
    inbox = home.workspaces_dir / "Agent-5" / "inbox"
    shutil.rmtree(inbox)
    inbox.write_text("a file where the inbox folder should be")
    async with open_runtime(home, settings, start_desk=False) as rt:
        sub = await rt.service.send(["Agent-5"], "still there?")
    with sqlite3.connect(home.database) as db:
        db.execute("UPDATE deliveries SET attempts = 1500")  # failing for days
    async with open_runtime(home, settings) as rt:
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
        next_retry = await rt.store.next_retry_at(Lane.INBOX)
    assert outcomes["Agent-5"].state is DeliveryState.QUEUED
    assert str(inbox) in (outcomes["Agent-5"].reason or "")
    assert next_retry is not None
    assert next_retry - time.time() == pytest.approx(settings.messaging.retry_backoff_max_s, abs=5)
    assert retry_delay(10**6, 60.0) == 60.0 and retry_delay(1, 60.0) == 0.5


class SlowScreen(RecordingScreen):
    """Typing takes ``seconds`` in a thread, as pyautogui does."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.started: list[str] = []

    async def deliver(self, job: Job) -> Typed:
        self.started.append(job.message.body)
        await asyncio.to_thread(time.sleep, self.seconds)
        self.jobs.append(job)
        return Typed(verified=True)


async def test_stopping_lets_the_delivery_being_typed_finish_and_be_recorded(
    home: Home, settings: Settings
) -> None:
    screen = SlowScreen(0.5)
    async with open_runtime(home, settings, screen, start_desk=False) as rt:
        for n in range(3):  # stored by a process that runs no desk
            await rt.service.send(["Agent-2"], f"backlog {n}")
    async with open_runtime(home, settings, screen, start_desk=False) as rt:
        # queued before the desk starts: a desk started first could take "backlog 0" first
        own = await rt.service.send(["Agent-1"], "mine", priority="critical")
        assert await rt.desk.start()
        await rt.desk.wait_for(own.message.id, 10)
        await until(lambda: _started(screen, 2))  # typing "backlog 0" as `send` exits
    assert [job.message.body for job in screen.jobs] == ["mine", "backlog 0"]
    async with open_runtime(home, settings, start_desk=False) as rt:
        rows = {e.message.body: e.deliveries[0] for e in await rt.store.history()}
    assert rows["backlog 0"].state is DeliveryState.DELIVERED
    assert rows["backlog 0"].method is DeliveryMethod.GUI
    assert {rows[f"backlog {n}"].state for n in (1, 2)} == {DeliveryState.QUEUED}
    async with open_runtime(home, settings, RecordingScreen()) as rt:
        assert rt.desk.recovered == (0, 0)  # nothing marked as a possible repeat


async def test_stopping_gives_up_on_a_hung_delivery_after_the_grace(
    home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messaging.desk, "STOP_GRACE_S", 0.3)
    screen = HungScreen()
    async with open_runtime(home, settings, screen) as rt:
        sub = await rt.service.send(["Agent-1"], "never finishes")
        await until(lambda: _started(screen, 1))
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3
    async with open_runtime(home, settings, start_desk=False) as rt:
        [row] = await rt.store.deliveries(sub.message.id)
    # keys may have been sent: put back for the inbox, as a possible repeat, not typed again
    assert (row.state, row.lane, row.possible_repeat) == (DeliveryState.QUEUED, Lane.INBOX, True)


class HungScreen(SlowScreen):
    def __init__(self) -> None:
        super().__init__(0)

    async def deliver(self, job: Job) -> Typed:
        self.started.append(job.message.body)
        await asyncio.Event().wait()
        raise AssertionError("never reached: the desk cancels it")


async def _started(screen: SlowScreen, count: int) -> bool:
    return len(screen.started) >= count


async def test_a_paused_desk_with_typing_due_does_not_spin(home: Home, settings: Settings) -> None:
    async with open_runtime(home, settings, RecordingScreen()) as rt:
        rt.desk.pause("moving windows")
        await rt.service.send(["Agent-1"], "held by the pause")
        await asyncio.sleep(0.2)
        cpu = time.process_time()
        await asyncio.sleep(1.5)  # measuring: what the idle desk costs over this time
        used = time.process_time() - cpu
    assert used < 0.5, f"an idle desk used {used:.2f} s of CPU in 1.5 s"


async def test_a_symlinked_workspace_receives_its_letters(
    tmp_path: Path, home: Home, settings: Settings
) -> None:
    project = tmp_path / "projects" / "backend"
    (project / "inbox").mkdir(parents=True)
    workspace = home.workspaces_dir / "Agent-3"
    shutil.rmtree(workspace)
    workspace.symlink_to(project, target_is_directory=True)
    async with open_runtime(home, settings) as rt:
        sub = await rt.service.send(["Agent-3", "Agent-4"], "through the link")
        outcomes = await rt.desk.wait_for(sub.message.id, 10)
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    [letter] = (project / "inbox").glob("*.md")
    assert "through the link" in letter.read_text()


async def test_retrying_a_possible_repeat_never_types_it(home: Home, settings: Settings) -> None:
    store = await Store.open(home.database)
    message = Message(sender="Captain", recipients=("Agent-1",), body="typed or not?")
    await store.insert(message, {"Agent-1": Lane.SCREEN})
    [claimed] = await store.claim(Lane.SCREEN, 1)
    await store.mark_typing(claimed.seq, "Agent-1")
    await store.close()  # the process dies while typing
    screen = RecordingScreen()
    async with open_runtime(home, settings, screen) as rt:
        await rt.desk.wait_for(message.id, 10)
        assert await rt.service.retry(message.id) == ["Agent-1"]

        async def done_again() -> bool:
            [row] = await rt.store.deliveries(message.id)
            return row.state is DeliveryState.FALLBACK

        await until(done_again)
        [row] = await rt.store.deliveries(message.id)
    assert screen.jobs == []
    assert row.possible_repeat and row.lane is Lane.INBOX


class BusyOperatorScreen(RecordingScreen):
    """The operator used mouse or keyboard ``idle`` seconds ago, for as long as the test
    says (the X server's idle time stands in a test without a display)."""

    def __init__(self) -> None:
        super().__init__()
        self.idle: float | None = 0.1

    def operator_idle_s(self) -> float | None:
        return self.idle


async def test_a_critical_message_goes_first_while_others_wait_for_the_operator(
    home: Home, settings: Settings
) -> None:
    screen = BusyOperatorScreen()
    async with open_runtime(home, settings, screen) as rt:
        normal = (await rt.service.send(["Agent-1"], "when you can")).message
        await until(lambda: _true(rt.desk.waiting is not None))
        critical = await rt.service.send(["Agent-2"], "now", priority="critical")
        got = await rt.desk.wait_for(critical.message.id, 10)
        assert got["Agent-2"].state is DeliveryState.DELIVERED
        assert [job.message.body for job in screen.jobs] == ["now"]
        await until(lambda: _true(rt.desk.waiting is not None))  # the normal one waits on
        assert not await _delivered(rt, normal.id)
        screen.idle = 60.0  # the operator's hands rest
        await until(lambda: _delivered(rt, normal.id))
    assert [job.message.body for job in screen.jobs] == ["now", "when you can"]


async def _true(value: bool) -> bool:
    return value


async def _delivered(rt: Runtime, message_id: str) -> bool:
    outcomes = await rt.desk.store.deliveries(message_id)
    return all(d.state is DeliveryState.DELIVERED for d in outcomes)


class DraftScreen(RecordingScreen):
    """Stands in for a screen where the listed agents' inputs hold a draft; counts how often
    each input is looked at."""

    def __init__(self, drafts: set[str]) -> None:
        super().__init__()
        self.drafts = drafts
        self.looks: dict[str, int] = {}

    def draft(self, job: Job) -> DraftPresent | None:
        agent_id = job.agent.agent_id
        self.looks[agent_id] = self.looks.get(agent_id, 0) + 1
        if agent_id in self.drafts:
            return DraftPresent(f"the chat input of {agent_id} holds a draft")
        return None


def holding(home: Home, **gui: float) -> Settings:
    return load_settings(home, gui=gui)


async def test_held_deliveries_never_keep_another_agent_waiting_and_go_in_order(
    home: Home,
) -> None:
    screen = DraftScreen({"Agent-1"})
    settings = holding(home, draft_retry_s=0.2, draft_hold_max_s=60)
    async with open_runtime(home, settings, screen) as rt:
        held = [(await rt.service.send(["Agent-1"], f"held {n}")).message.id for n in range(20)]
        await until(lambda: _all_held(rt, held))
        looked = screen.looks["Agent-1"]
        free = (await rt.service.send(["Agent-2"], "to a free pane")).message.id
        outcome = (await rt.desk.wait_for(free, 10))["Agent-2"]
        assert outcome.state is DeliveryState.DELIVERED
        # a draft is looked at once a round, not once a held delivery: the others join it
        await asyncio.sleep(1.0)  # five rounds of retries
        assert screen.looks["Agent-1"] - looked <= 6
        # still held: each queued, or being tried again at this very moment
        states = [(await rt.store.deliveries(m))[0].state for m in held]
        assert set(states) <= {DeliveryState.QUEUED, DeliveryState.DELIVERING}, states
        screen.drafts.clear()  # the operator sent the draft
        await until(lambda: _all_delivered(rt, held))
    bodies = [job.message.body for job in screen.jobs if job.agent.agent_id == "Agent-1"]
    assert bodies == [f"held {n}" for n in range(20)]


async def _all_delivered(rt: Runtime, message_ids: list[str]) -> bool:
    for message_id in message_ids:
        [delivery] = await rt.store.deliveries(message_id)
        if delivery.state is not DeliveryState.DELIVERED:
            return False
    return True


async def _all_held(rt: Runtime, message_ids: list[str]) -> bool:
    for message_id in message_ids:
        [delivery] = await rt.store.deliveries(message_id)
        if delivery.state is not DeliveryState.QUEUED or not (delivery.last_error or "").startswith(
            "held: "
        ):
            return False
    return True


async def test_a_hold_counts_from_the_message_whichever_process_tries_it(home: Home) -> None:
    """A delivery held by one process and tried again by the next (`cellphone send` after
    `cellphone send`) is not held afresh: the limit counts from when the message was sent."""
    settings = holding(home, draft_retry_s=0.2, draft_hold_max_s=1.5)
    async with open_runtime(home, settings, DraftScreen({"Agent-1"})) as rt:
        message_id = (await rt.service.send(["Agent-1"], "held, then to the inbox")).message.id
        await until(lambda: _all_held(rt, [message_id]))
    await asyncio.sleep(1.6)  # no process runs meanwhile
    screen = DraftScreen({"Agent-1"})
    async with open_runtime(home, settings, screen) as rt:

        async def settled() -> bool:
            [delivery] = await rt.store.deliveries(message_id)
            return delivery.state not in (DeliveryState.QUEUED, DeliveryState.DELIVERING)

        await until(settled)
        [delivery] = await rt.store.deliveries(message_id)
    assert delivery.state is DeliveryState.FALLBACK
    assert screen.looks == {"Agent-1": 1}  # looked at once more, not held afresh
    assert "for 1.5 s (gui.draft_hold_max_s); written to the inbox instead" in (
        delivery.last_error or ""
    )


async def run_of_three(
    rt: Runtime, screen: WatchingScreen, on_first_press: Callable[[], object] | None = None
) -> str:
    """A message to Agent-1, -2 and -3, due together (one run of the screen worker);
    ``on_first_press`` is called once Agent-1's submission is pressed. The message id."""
    rt.desk.pause("building a backlog")
    sub = await rt.service.send(["Agent-1", "Agent-2", "Agent-3"], "to three")
    if on_first_press is not None:
        screen.on_press["Agent-1"] = on_first_press
    rt.desk.resume()
    return sub.message.id


async def test_a_batch_types_each_window_while_the_last_submissions_are_watched(
    home: Home, settings: Settings
) -> None:
    screen = WatchingScreen(stays={"Agent-2"})
    async with open_runtime(home, settings, screen) as rt:
        message_id = await run_of_three(rt, screen)
        outcomes = await rt.desk.wait_for(message_id, 10)
        single = await rt.service.send(["Agent-4"], "to one")
        await rt.desk.wait_for(single.message.id, 10)
    assert screen.events == [
        "pressed Agent-1",
        "pressed Agent-2",
        "pressed Agent-3",
        "watched Agent-1 Agent-2 Agent-3",
        "typed Agent-4",  # a batch of one is watched as it is typed
    ]
    for agent_id in ("Agent-1", "Agent-3"):
        assert (outcomes[agent_id].state, outcomes[agent_id].verified) == (
            DeliveryState.DELIVERED,
            True,
        )
        [copy] = inbox_files(home, agent_id)
        assert "delivered_via: gui, verified on screen\n" in copy.read_text()
    assert outcomes["Agent-2"].state is DeliveryState.FALLBACK
    assert outcomes["Agent-2"].reason == "typed but not submitted: the text stays in the chat input"
    [letter] = inbox_files(home, "Agent-2")
    assert "delivered_via: inbox\n" in letter.read_text()


async def test_a_pause_during_a_batch_records_what_was_typed_and_keeps_the_rest(
    home: Home, settings: Settings
) -> None:
    screen = WatchingScreen()
    async with open_runtime(home, settings, screen) as rt:
        message_id = await run_of_three(rt, screen, lambda: rt.desk.pause("operator's pause"))

        async def first_recorded() -> bool:
            states = {d.agent_id: d.state for d in await rt.store.deliveries(message_id)}
            return states["Agent-1"] is DeliveryState.DELIVERED

        await until(first_recorded)
        await asyncio.sleep(0.3)
        states = {d.agent_id: d.state for d in await rt.store.deliveries(message_id)}
        assert states == {
            "Agent-1": DeliveryState.DELIVERED,
            "Agent-2": DeliveryState.QUEUED,
            "Agent-3": DeliveryState.QUEUED,
        }
        assert screen.events == ["pressed Agent-1", "watched Agent-1"]
        rt.desk.resume()
        outcomes = await rt.desk.wait_for(message_id, 10)
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert screen.events[2:] == ["pressed Agent-2", "pressed Agent-3", "watched Agent-2 Agent-3"]


class WatchingBusyOperatorScreen(BusyOperatorScreen, WatchingScreen):
    """A :class:`WatchingScreen` whose operator rests (``idle`` None: it cannot be told)
    until the test says otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.idle = None


async def test_submissions_left_to_watch_are_recorded_before_waiting_for_the_operator(
    home: Home, settings: Settings
) -> None:
    screen = WatchingBusyOperatorScreen()
    async with open_runtime(home, settings, screen) as rt:
        # the operator's hands move once the first is pressed
        message_id = await run_of_three(rt, screen, lambda: setattr(screen, "idle", 0.1))
        await until(lambda: _true(rt.desk.waiting is not None))
        states = {d.agent_id: d.state for d in await rt.store.deliveries(message_id)}
        assert states["Agent-1"] is DeliveryState.DELIVERED  # watched and recorded first
        assert screen.events == ["pressed Agent-1", "watched Agent-1"]
        screen.idle = 60.0  # the operator's hands rest
        outcomes = await rt.desk.wait_for(message_id, 10)
    assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
    assert screen.events[2:] == ["pressed Agent-2", "pressed Agent-3", "watched Agent-2 Agent-3"]
